//! Deleting children a CR no longer declares (spec §6.5 and pruning).
//!
//! Two kinds of deletion happen after the apply pass, both only of objects the CR owns
//! ([`owned::is_owned`]):
//! - the plan's `deletions`: declarations with `reconcile: true` or under `onReconcile` whose
//!   conditions failed this cycle (delete-if-owned);
//! - pruning: owned objects of the child kinds that ork converged (server-side applied) before
//!   and that the plan no longer produces — a spec change renamed them, a `forEach` shrank, a
//!   declaration was removed. Objects created once (`onCreate` without `reconcile`, Jobs,
//!   `once` Secrets) are never pruned: Orkestra keeps them until the CR goes.
//!
//! What a CR owns is read from the cluster ([`owned::list`]), never remembered: a restart
//! finds the same set.

use std::collections::{BTreeMap, HashMap, HashSet};

use katalog::build::ObjectRef;
use kube::api::DynamicObject;

use super::owned;
use crate::discovery::Resolved;

/// Owned objects found for one CR, by reference.
#[derive(Debug, Default)]
pub struct Observed {
    /// The objects, keyed by reference.
    pub objects: BTreeMap<ObjectRef, (Resolved, DynamicObject)>,
}

/// The reference of a listed object.
pub fn object_ref(kind: &Resolved, object: &DynamicObject) -> ObjectRef {
    ObjectRef {
        api_version: kind.resource.api_version.clone(),
        kind: kind.resource.kind.clone(),
        namespace: object
            .metadata
            .namespace
            .clone()
            .filter(|_| kind.namespaced),
        name: object.metadata.name.clone().unwrap_or_default(),
    }
}

/// Lists, for each (kind, namespace) scope, the objects the CR owns (from `cache` when it
/// holds the kind).
///
/// # Errors
/// A list request failed.
pub async fn observe(
    client: &kube::Client,
    cache: Option<&dyn owned::ChildCache>,
    scopes: &[(Resolved, Option<String>)],
    owner_label: &str,
    uid: &str,
) -> owned::Result<Observed> {
    let mut seen = HashSet::new();
    let mut observed = Observed::default();
    for (kind, namespace) in scopes {
        let key = (
            kind.resource.api_version.clone(),
            kind.resource.kind.clone(),
            namespace.clone(),
        );
        if !seen.insert(key) {
            continue;
        }
        for object in
            owned::list(client, cache, kind, namespace.as_deref(), owner_label, uid).await?
        {
            observed
                .objects
                .insert(object_ref(kind, &object), (kind.clone(), object));
        }
    }
    Ok(observed)
}

/// What to delete: the plan's deletions that exist and are owned, then every converged
/// object the plan no longer produces. Returns the references, in that order.
pub fn doomed(
    observed: &Observed,
    declared: &HashSet<ObjectRef>,
    deletions: &[ObjectRef],
    manager: &str,
) -> Vec<ObjectRef> {
    let mut out: Vec<ObjectRef> = deletions
        .iter()
        .filter(|r| observed.objects.contains_key(*r) && !declared.contains(*r))
        .cloned()
        .collect();
    let listed: HashSet<ObjectRef> = out.iter().cloned().collect();
    for (r, (_, object)) in &observed.objects {
        if !declared.contains(r)
            && !listed.contains(r)
            && object.metadata.deletion_timestamp.is_none()
            && owned::is_applied_by(object, manager)
        {
            out.push(r.clone());
        }
    }
    out
}

/// Deletes the doomed objects (background propagation, uid precondition).
///
/// # Errors
/// The first delete the API server refused.
pub async fn delete_all(
    client: &kube::Client,
    observed: &Observed,
    doomed: &[ObjectRef],
) -> owned::Result<usize> {
    let mut deleted = 0;
    let by_ref: HashMap<&ObjectRef, &(Resolved, DynamicObject)> = observed.objects.iter().collect();
    for r in doomed {
        if let Some((kind, object)) = by_ref.get(r) {
            owned::delete(client, kind, object, false).await?;
            tracing::info!(object = %r, "deleted a child no longer declared");
            deleted += 1;
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::{ApiResource, GroupVersionKind};
    use serde_json::json;

    fn config_maps() -> Resolved {
        Resolved {
            resource: ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("", "v1", "ConfigMap"),
                "configmaps",
            ),
            namespaced: true,
        }
    }

    fn observed(items: &[(&str, &str)]) -> Observed {
        let kind = config_maps();
        let mut o = Observed::default();
        for (name, op) in items {
            let obj: DynamicObject = serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": "ns",
                    "managedFields": [{"manager": "orkestra", "operation": op, "apiVersion": "v1"}]}
            }))
            .unwrap();
            o.objects
                .insert(object_ref(&kind, &obj), (kind.clone(), obj));
        }
        o
    }

    fn r(name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("ns".into()),
            name: name.into(),
        }
    }

    #[test]
    fn converged_objects_no_longer_declared_are_pruned_but_created_once_objects_stay() {
        let o = observed(&[("keep", "Apply"), ("gone", "Apply"), ("once", "Update")]);
        let declared = HashSet::from([r("keep")]);
        assert_eq!(doomed(&o, &declared, &[], "orkestra"), [r("gone")]);
    }

    #[test]
    fn plan_deletions_are_deleted_only_when_owned_and_listed() {
        let o = observed(&[("a", "Update")]);
        let d = doomed(
            &o,
            &HashSet::from([r("a")]),
            &[r("a"), r("absent")],
            "orkestra",
        );
        assert!(d.is_empty(), "a declared object is never deleted: {d:?}");
        let d = doomed(&o, &HashSet::new(), &[r("a"), r("absent")], "orkestra");
        assert_eq!(d, [r("a")]);
    }
}
