//! What a CR owns in the cluster, read without any state of ork's own.
//!
//! Every child carries the labels `orkestra.orkspace.io/managed=true` and
//! `orkestra-owner=<cr>`; a label-selected list per child kind finds them. Labels alone are not
//! proof (two CRs of the same name in different namespaces or CRDs share the label value), so
//! an object counts as owned only when it also points at the CR's uid: through its
//! ownerReference (children in the CR's namespace) or through the annotation [`OWNER_UID`]
//! (cluster-scoped children and children in other namespaces, which cannot have an
//! ownerReference to a namespaced CR).
//!
//! The lists come from the OperatorBox's cache of its children when it holds the kind
//! ([`ChildCache`]), else from label-selected LIST requests (reads, never writes).

use katalog::labels;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Preconditions};
use serde_json::Value;

use crate::discovery::Resolved;
use crate::managed_fields;
pub use crate::operator_box::children::ChildCache;

/// Annotation on children without an ownerReference to their CR: the CR's uid.
pub const OWNER_UID: &str = "orkestra.orkspace.io/owner-uid";

/// Errors reading or deleting owned objects.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A label-selected list failed.
    #[error("listing {kind} owned by {owner}")]
    ListFailed {
        /// The kind listed.
        kind: String,
        /// The owner label value.
        owner: String,
        /// The API failure.
        #[source]
        source: kube::Error,
    },
    /// A delete failed (other than the object being gone already).
    #[error("deleting {object}")]
    DeleteFailed {
        /// The object.
        object: String,
        /// The API failure.
        #[source]
        source: kube::Error,
    },
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The label selector of a CR's children.
pub fn selector(owner_label: &str) -> String {
    format!(
        "{}={},{}={}",
        labels::MANAGED,
        labels::TRUE,
        labels::OWNER,
        owner_label
    )
}

/// Whether `object` belongs to the CR with `uid` (ownerReference or [`OWNER_UID`]).
pub fn is_owned(object: &DynamicObject, uid: &str) -> bool {
    let by_reference = object
        .metadata
        .owner_references
        .as_ref()
        .is_some_and(|refs| refs.iter().any(|r| r.uid == uid));
    let by_annotation = object
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(OWNER_UID))
        .is_some_and(|u| u == uid);
    by_reference || by_annotation
}

/// Whether `manager` wrote `object` by server-side apply (a converged child), as opposed to
/// creating it once (create-if-absent children are never pruned).
pub fn is_applied_by(object: &DynamicObject, manager: &str) -> bool {
    applied_entry(object, manager).is_some()
}

/// `manager`'s server-side-apply entry in `object`'s managedFields (main resource only), with
/// a digest in place of its fields, so a cached child (whose entry is compacted) and the same
/// child from the API server give the same answer.
pub fn applied_entry(object: &DynamicObject, manager: &str) -> Option<Value> {
    let mut entry = object
        .metadata
        .managed_fields
        .as_ref()?
        .iter()
        .find(|m| {
            m.manager.as_deref() == Some(manager)
                && m.operation.as_deref() == Some("Apply")
                && m.subresource.as_deref().unwrap_or("").is_empty()
        })?
        .clone();
    managed_fields::compact(&mut entry);
    serde_json::to_value(entry).ok()
}

/// An `Api` for a resolved kind in `namespace` (`None`: cluster-scoped, or every namespace).
pub fn api(client: &kube::Client, kind: &Resolved, namespace: Option<&str>) -> Api<DynamicObject> {
    match (kind.namespaced, namespace) {
        (true, Some(ns)) => Api::namespaced_with(client.clone(), ns, &kind.resource),
        _ => Api::all_with(client.clone(), &kind.resource),
    }
}

/// Whether `object` carries the labels of the CR's children.
fn is_labelled(object: &DynamicObject, owner_label: &str) -> bool {
    object.metadata.labels.as_ref().is_some_and(|l| {
        l.get(labels::MANAGED).map(String::as_str) == Some(labels::TRUE)
            && l.get(labels::OWNER).map(String::as_str) == Some(owner_label)
    })
}

/// The objects of one kind in `namespace` (`None`: cluster-wide) that carry the CR's labels
/// and point at its uid, from `cache` when it holds the kind, else by a label-selected list.
///
/// # Errors
/// The list request failed.
pub async fn list(
    client: &kube::Client,
    cache: Option<&dyn ChildCache>,
    kind: &Resolved,
    namespace: Option<&str>,
    owner_label: &str,
    uid: &str,
) -> Result<Vec<DynamicObject>> {
    let namespace = namespace.filter(|_| kind.namespaced);
    let items = match cache.and_then(|c| c.objects(&kind.resource, namespace, owner_label)) {
        Some(cached) => cached,
        None => {
            api(client, kind, namespace)
                .list(&ListParams::default().labels(&selector(owner_label)))
                .await
                .map_err(|source| Error::ListFailed {
                    kind: kind.resource.kind.clone(),
                    owner: owner_label.to_owned(),
                    source,
                })?
                .items
        }
    };
    Ok(items
        .into_iter()
        .filter(|o| is_labelled(o, owner_label) && is_owned(o, uid))
        .map(|mut o| {
            // Lists omit apiVersion/kind on items of some servers; keep them for callers.
            if o.types.is_none() {
                o.types = Some(kube::api::TypeMeta {
                    api_version: kind.resource.api_version.clone(),
                    kind: kind.resource.kind.clone(),
                });
            }
            o
        })
        .collect())
}

/// Deletes `object` unless it is already gone or was replaced (uid precondition).
/// `foreground` waits for its own dependents first.
///
/// # Errors
/// The API server refused the delete.
pub async fn delete(
    client: &kube::Client,
    kind: &Resolved,
    object: &DynamicObject,
    foreground: bool,
) -> Result<()> {
    let api = api(client, kind, object.metadata.namespace.as_deref());
    let name = object.metadata.name.clone().unwrap_or_default();
    let mut params = if foreground {
        DeleteParams::foreground()
    } else {
        DeleteParams::background()
    };
    params.preconditions = Some(Preconditions {
        uid: object.metadata.uid.clone(),
        resource_version: None,
    });
    match api.delete(&name, &params).await {
        Ok(_) => Ok(()),
        // Gone already, or a different object now has the name: not ours to delete.
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
        Err(source) => Err(Error::DeleteFailed {
            object: describe(kind, object),
            source,
        }),
    }
}

/// `Kind ns/name` or `Kind name`, for messages.
pub fn describe(kind: &Resolved, object: &DynamicObject) -> String {
    let name = object.metadata.name.as_deref().unwrap_or_default();
    match object.metadata.namespace.as_deref() {
        Some(ns) => format!("{} {ns}/{name}", kind.resource.kind),
        None => format!("{} {name}", kind.resource.kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(meta: Value) -> DynamicObject {
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}))
            .unwrap()
    }

    #[test]
    fn ownership_needs_the_owner_uid_not_just_the_label() {
        let by_ref = object(json!({"name": "a", "ownerReferences": [{
            "apiVersion": "x/v1", "kind": "X", "name": "o", "uid": "u1"}]}));
        assert!(is_owned(&by_ref, "u1"));
        assert!(!is_owned(&by_ref, "u2"));
        let by_annotation = object(json!({"name": "a", "annotations": {OWNER_UID: "u1"}}));
        assert!(is_owned(&by_annotation, "u1"));
        let labelled_only = object(json!({"name": "a",
            "labels": {"orkestra-owner": "o", "orkestra.orkspace.io/managed": "true"}}));
        assert!(!is_owned(&labelled_only, "u1"));
    }

    #[test]
    fn the_applied_entry_of_a_cached_child_is_that_of_the_full_child() {
        let full = object(json!({"name": "a", "managedFields": [
            {"manager": "orkestra", "operation": "Apply", "apiVersion": "v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:n": {}}}}]}));
        let mut cached = full.clone();
        managed_fields::compact_all(&mut cached.metadata);
        assert_ne!(cached, full);
        assert!(applied_entry(&full, "orkestra").is_some());
        assert_eq!(
            applied_entry(&cached, "orkestra"),
            applied_entry(&full, "orkestra")
        );
    }

    #[test]
    fn only_an_apply_entry_of_our_manager_marks_a_converged_child() {
        let created = object(json!({"name": "a", "managedFields": [
            {"manager": "orkestra", "operation": "Update", "apiVersion": "v1"}]}));
        assert!(!is_applied_by(&created, "orkestra"));
        let applied = object(json!({"name": "a", "managedFields": [
            {"manager": "other", "operation": "Apply", "apiVersion": "v1"},
            {"manager": "orkestra", "operation": "Apply", "apiVersion": "v1"}]}));
        assert!(is_applied_by(&applied, "orkestra"));
        assert!(!is_applied_by(&applied, "someone"));
    }

    #[test]
    fn cached_objects_count_only_with_both_labels() {
        let o = object(json!({"name": "a",
            "labels": {"orkestra-owner": "web", "orkestra.orkspace.io/managed": "true"}}));
        assert!(is_labelled(&o, "web"));
        assert!(!is_labelled(&o, "other"));
        let unmanaged = object(json!({"name": "a", "labels": {"orkestra-owner": "web"}}));
        assert!(!is_labelled(&unmanaged, "web"));
    }

    #[test]
    fn the_selector_names_both_labels() {
        assert_eq!(
            selector("web"),
            "orkestra.orkspace.io/managed=true,orkestra-owner=web"
        );
    }
}
