//! Server-side apply of children under one field manager (spec §9.3, §9.4).
//!
//! Each child is prepared ([`prepare`]: ownerReference or owner-uid annotation, undeclared
//! replica counts left out) and then written:
//! - [`Apply::Converge`] children by server-side apply with `force` as planned;
//! - [`Apply::CreateIfAbsent`] children by a create when the owned-object list does not have
//!   them (a 409 AlreadyExists is success).
//!
//! No write in a steady state: a server-side apply that changes nothing still counts as a
//! PATCH request, so the [`Memo`] remembers, per child, what was last applied and the apply
//! entry the API server recorded for ork's field manager. When the desired object is the
//! same and the live object (from the owned-object list) still shows that very entry, no
//! field ork owns has changed and the apply is skipped. Anyone editing a field ork owns
//! takes it over, which changes the entry, so drift is still corrected; fields of other
//! managers (an HPA's `replicas`) do not touch it.
//!
//! After a restart (or a leader change) the memo is empty; and ork's entry can change without
//! any value changing (an apply whose answer was lost to a cut connection, someone applying
//! the same value). Every applied child carries the
//! annotation [`APPLIED`], a digest of the intent it was last applied with (written in the
//! apply itself, so it costs no request). A child is then left alone when three things hold:
//! its digest is the digest of the new intent (nothing was added to or removed from the
//! intent while ork was away), ork still has its apply entry on it, and every field of the
//! intent has the same value on the live object ([`carries`]). The digest alone would miss a
//! hand edit made after the last apply (the digest is ork's own, nobody else changes it); the
//! field comparison alone would miss a field dropped from the intent (still on the live
//! object). A value the API server normalises (a quantity `0.5` stored as `500m`) compares
//! unequal: that child is applied once, as before, and the memo covers it from then on.
//!
//! A child the memo knows but the owned-object list lacks is read before it is written: a
//! lagging children cache (re-listing after an API server restart) then costs a GET, not a
//! PATCH.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use katalog::build::{Apply, Child, ObjectRef, add_owner_reference};
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use serde_json::Value;

use super::owned::{self, OWNER_UID};
use crate::discovery::Resolved;

/// Annotation on every child ork applies: a digest of the intent (the object as prepared,
/// without this annotation, plus the `force` flag), in hexadecimal.
pub const APPLIED: &str = "orkestra.orkspace.io/applied";

/// Errors writing a child.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The built object is not a valid Kubernetes object.
    #[error("{path}: {object} is not a valid object")]
    InvalidObject {
        /// The declaration.
        path: String,
        /// The object.
        object: ObjectRef,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// Server-side apply was refused (e.g. a field conflict without `force`).
    #[error("{path}: applying {object}")]
    ApplyFailed {
        /// The declaration.
        path: String,
        /// The object.
        object: ObjectRef,
        /// The API failure.
        #[source]
        source: kube::Error,
    },
    /// A create-if-absent child could not be created.
    #[error("{path}: creating {object}")]
    CreateFailed {
        /// The declaration.
        path: String,
        /// The object.
        object: ObjectRef,
        /// The API failure.
        #[source]
        source: kube::Error,
    },
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What was last applied to one child.
#[derive(Debug, Clone, PartialEq)]
struct Applied {
    desired: u64,
    /// Fingerprint of ork's managedFields entry (a hash: entries of large objects run to
    /// kilobytes, and thousands of children are remembered).
    entry: Option<u64>,
}

/// What ork last wrote to one child.
#[derive(Debug, Clone, PartialEq)]
enum Written {
    /// Applied (or found as intended): what [`Memo::get`] compares against.
    Applied(Applied),
    /// Created (a create-if-absent child): nothing to compare, only a child to know of.
    Created,
}

/// Per CR uid and child, the last apply (see the module docs), and every child ork created:
/// what ork wrote for each CR, which the OperatorBox's cleanup of a gone CR reads (see
/// [`Memo::forget_owner`]). Shared by a Reconciler's workers; entries go when the child is
/// pruned or the CR released.
#[derive(Debug, Default)]
pub struct Memo {
    applied: Mutex<HashMap<(String, ObjectRef), Written>>,
}

impl Memo {
    fn get(&self, uid: &str, r: &ObjectRef) -> Option<Applied> {
        match self
            .applied
            .lock()
            .ok()?
            .get(&(uid.to_owned(), r.clone()))?
        {
            Written::Applied(applied) => Some(applied.clone()),
            Written::Created => None,
        }
    }

    fn put(&self, uid: &str, r: ObjectRef, applied: Applied) {
        self.insert(uid, r, Written::Applied(applied));
    }

    fn put_created(&self, uid: &str, r: ObjectRef) {
        self.insert(uid, r, Written::Created);
    }

    fn insert(&self, uid: &str, r: ObjectRef, written: Written) {
        if let Ok(mut m) = self.applied.lock() {
            m.insert((uid.to_owned(), r), written);
        }
    }

    /// Forgets one child of a CR.
    pub fn forget(&self, uid: &str, r: &ObjectRef) {
        if let Ok(mut m) = self.applied.lock() {
            m.remove(&(uid.to_owned(), r.clone()));
        }
    }

    /// Forgets every child of a CR, and returns them: each child ork applied or created for
    /// it since it was last forgotten (and not pruned since).
    ///
    /// # Guarantees
    ///
    /// A child is remembered before the write that created or changed it returns, so every
    /// child written for `uid` is in the answer of the first call after that write.
    pub fn forget_owner(&self, uid: &str) -> Vec<ObjectRef> {
        let Ok(mut m) = self.applied.lock() else {
            return Vec::new();
        };
        let mut forgotten = Vec::new();
        m.retain(|(u, r), _| {
            let keep = u != uid;
            if !keep {
                forgotten.push(r.clone());
            }
            keep
        });
        forgotten
    }

    /// Number of remembered children.
    pub fn len(&self) -> usize {
        self.applied.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The owner a child is written for.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    /// The CR as JSON (apiVersion, kind, metadata).
    pub cr: &'a Value,
    /// The CR's uid.
    pub uid: &'a str,
    /// The CR's namespace; `None` for a cluster-scoped CR.
    pub namespace: Option<&'a str>,
}

impl Owner<'_> {
    /// Whether a child in `namespace` (`None`: cluster-scoped) may carry an ownerReference
    /// to this CR: a cluster-scoped CR can own anything; a namespaced CR only objects in its
    /// own namespace.
    pub fn can_own(&self, namespace: Option<&str>) -> bool {
        match self.namespace {
            None => true,
            Some(own) => namespace == Some(own),
        }
    }
}

/// The reference of `child` with the scope discovery reported (a cluster-scoped kind has no
/// namespace, whatever the declaration said).
pub fn object_ref(child: &Child, namespaced: bool) -> ObjectRef {
    let mut r = child.object_ref();
    if !namespaced {
        r.namespace = None;
    }
    r
}

/// The object to write for `child` (of a kind `namespaced` or not): with the CR's
/// ownerReference when it can have one, otherwise with the [`OWNER_UID`] annotation.
///
/// Only what the builder rendered is sent, so fields the Katalog does not declare (an
/// undeclared `replicas`, left to an autoscaler) stay with whoever owns them.
pub fn prepare(child: &Child, namespaced: bool, owner: Owner<'_>) -> Value {
    let mut object = child.object.clone();
    let namespace = object_ref(child, namespaced).namespace;
    if !namespaced && let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("namespace");
    }
    if owner.can_own(namespace.as_deref()) {
        add_owner_reference(&mut object, owner.cr, owner.uid);
    } else if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(a) = annotations {
            a.insert(OWNER_UID.into(), owner.uid.into());
        }
    }
    object
}

fn entry_fingerprint(object: &DynamicObject, manager: &str) -> Option<u64> {
    owned::applied_entry(object, manager).map(|e| fingerprint(&e, false))
}

fn fingerprint(object: &Value, force: bool) -> u64 {
    let mut h = DefaultHasher::new();
    object.to_string().hash(&mut h);
    force.hash(&mut h);
    h.finish()
}

/// The digest stored in [`APPLIED`]: FNV-1a (64 bit) of the intent's JSON text (keys sorted)
/// and the `force` flag. Unlike `DefaultHasher`, its value never changes between builds, so
/// another ork version reads the same digest. Not a secret: whoever can read the annotation
/// can read the object it digests.
fn digest(object: &Value, force: bool) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let text = object.to_string();
    let bytes = text.as_bytes().iter().copied().chain([u8::from(force)]);
    let hash = bytes.fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    format!("{hash:016x}")
}

/// Sets `metadata.annotations[key]` on `object`.
fn annotate(object: &mut Value, key: &str, value: String) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(a) = annotations {
            a.insert(key.into(), value.into());
        }
    }
}

/// Whether `live` has every field of `want` with the same value: objects key by key (extra
/// live keys, such as defaults, are fine), lists element by element with the same length,
/// numbers by value (`1` and `1.0` are equal). A `null` in `want` asks for the field to be
/// absent.
pub fn carries(live: Option<&Value>, want: &Value) -> bool {
    match (want, live) {
        (Value::Null, None | Some(Value::Null)) => true,
        (Value::Object(w), Some(Value::Object(l))) => w.iter().all(|(k, v)| carries(l.get(k), v)),
        (Value::Array(w), Some(Value::Array(l))) => {
            w.len() == l.len() && w.iter().zip(l).all(|(w, l)| carries(Some(l), w))
        }
        (Value::Number(w), Some(Value::Number(l))) => w == l || w.as_f64() == l.as_f64(),
        (w, Some(l)) => w == l,
        (_, None) => false,
    }
}

/// Whether a child the memo cannot vouch for (ork restarted, or ork's managedFields entry
/// changed) is as the intent wants it: see the module docs.
fn as_intended(live: &DynamicObject, object: &Value, digest: &str, manager: &str) -> bool {
    let stored = live
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(APPLIED));
    if stored.map(String::as_str) != Some(digest) || !owned::is_applied_by(live, manager) {
        return false;
    }
    serde_json::to_value(live).is_ok_and(|l| carries(Some(&l), object))
}

/// Writes the children of one CR.
#[allow(missing_debug_implementations)]
#[derive(Clone, Copy)]
pub struct Writer<'a> {
    /// The client.
    pub client: &'a kube::Client,
    /// The field manager.
    pub manager: &'a str,
    /// What was applied before.
    pub memo: &'a Memo,
    /// The CR's uid.
    pub uid: &'a str,
}

impl Writer<'_> {
    /// Writes one prepared child. `live` is the owned object of that name, if the
    /// owned-object list has it. Returns the object as stored and whether a write happened.
    ///
    /// # Errors
    /// The object is malformed, or the API server refused the apply or create.
    pub async fn write(
        &self,
        kind: &Resolved,
        child: &Child,
        r: ObjectRef,
        object: Value,
        live: Option<&DynamicObject>,
    ) -> Result<(Option<DynamicObject>, bool)> {
        let Writer {
            client,
            manager,
            memo,
            uid,
        } = *self;
        let api = owned::api(client, kind, r.namespace.as_deref());
        match child.apply {
            Apply::CreateIfAbsent => {
                if let Some(live) = live {
                    return Ok((Some(live.clone()), false));
                }
                // Not among the CR's own objects: an object of that name may still exist (not
                // ork's). A read keeps a steady state free of failing create requests.
                let failed = |source| Error::CreateFailed {
                    path: child.path.clone(),
                    object: r.clone(),
                    source,
                };
                if let Some(existing) = api.get_opt(&r.name).await.map_err(failed)? {
                    return Ok((Some(existing), false));
                }
                if let Some(d) = child.sleep {
                    tokio::time::sleep(d).await;
                }
                let obj: DynamicObject =
                    serde_json::from_value(object).map_err(|source| Error::InvalidObject {
                        path: child.path.clone(),
                        object: r.clone(),
                        source,
                    })?;
                let params = PostParams {
                    field_manager: Some(manager.to_owned()),
                    ..PostParams::default()
                };
                match api.create(&params, &obj).await {
                    Ok(created) => {
                        memo.put_created(uid, r.clone());
                        Ok((Some(created), true))
                    }
                    Err(kube::Error::Api(e)) if e.code == 409 => Ok((None, false)),
                    Err(source) => Err(failed(source)),
                }
            }
            Apply::Converge => {
                let mut object = object;
                let desired = fingerprint(&object, child.force);
                let digest = digest(&object, child.force);
                annotate(&mut object, APPLIED, digest.clone());
                // Applied before but not in the cache: the cache may lag (its watch re-listing
                // after an API server restart). A read, rather than a write, tells.
                let fetched = match live {
                    None if memo.get(uid, &r).is_some() => {
                        api.get_opt(&r.name).await.ok().flatten()
                    }
                    _ => None,
                };
                if let Some(live) = live.or(fetched.as_ref()) {
                    let entry = entry_fingerprint(live, manager);
                    let remembered = memo
                        .get(uid, &r)
                        .is_some_and(|last| last.desired == desired && last.entry == entry);
                    if remembered {
                        return Ok((Some(live.clone()), false));
                    }
                    // Not remembered (a restart), or ork's entry changed since (an apply whose
                    // answer was lost, someone taking a field over): the live object decides.
                    if as_intended(live, &object, &digest, manager) {
                        memo.put(uid, r.clone(), Applied { desired, entry });
                        return Ok((Some(live.clone()), false));
                    }
                }
                if let Some(d) = child.sleep {
                    tokio::time::sleep(d).await;
                }
                let mut params = PatchParams::apply(manager);
                params.force = child.force;
                let stored = api
                    .patch(&r.name, &params, &Patch::Apply(&object))
                    .await
                    .map_err(|source| Error::ApplyFailed {
                        path: child.path.clone(),
                        object: r.clone(),
                        source,
                    })?;
                memo.put(
                    uid,
                    r,
                    Applied {
                        desired,
                        entry: entry_fingerprint(&stored, manager),
                    },
                );
                Ok((Some(stored), true))
            }
        }
    }
}

/// Writes a custom child's declared initial `status` once, right after ork created it (spec
/// §6.4 `status`/`hasStatus`). Skipped when `hasStatus: false`; a kind without a status
/// subresource (404) is skipped too.
///
/// # Errors
/// The API server refused the status patch.
pub async fn initial_status(
    client: &kube::Client,
    kind: &Resolved,
    child: &Child,
    r: &ObjectRef,
) -> Result<()> {
    let Some(status) = child
        .status
        .as_ref()
        .filter(|_| child.has_status != Some(false))
    else {
        return Ok(());
    };
    let api = owned::api(client, kind, r.namespace.as_deref());
    let body = serde_json::json!({ "status": status });
    match api
        .patch_status(&r.name, &PatchParams::default(), &Patch::Merge(&body))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(source) => Err(Error::ApplyFailed {
            path: child.path.clone(),
            object: r.clone(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use katalog::build::Phase;
    use katalog::resources::Kind;
    use serde_json::json;

    fn child(object: Value, cluster_scoped: bool) -> Child {
        Child {
            phase: Phase::OnReconcile,
            path: "deployments[0]".into(),
            kind: Kind::Deployment,
            object,
            apply: Apply::Converge,
            force: true,
            cluster_scoped,
            secret: None,
            sleep: None,
            has_status: None,
            status: None,
            scale: None,
        }
    }

    fn cr() -> Value {
        json!({"apiVersion": "x.io/v1", "kind": "X", "metadata": {"name": "o", "namespace": "ns"}})
    }

    /// A CR `o` with uid `u1` in namespace `ns`.
    fn owner(cr: &Value) -> Owner<'_> {
        Owner {
            cr,
            uid: "u1",
            namespace: Some("ns"),
        }
    }

    #[test]
    fn a_child_in_the_crs_namespace_gets_a_controller_owner_reference() {
        let cr = cr();
        let c = child(
            json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {"replicas": 1}}),
            false,
        );
        let owner = owner(&cr);
        let o = prepare(&c, true, owner);
        assert_eq!(o["metadata"]["ownerReferences"][0]["uid"], "u1");
        assert_eq!(o["metadata"]["ownerReferences"][0]["controller"], true);
        assert!(o["metadata"].get("annotations").is_none());
        assert_eq!(o["spec"]["replicas"], 1);
    }

    #[test]
    fn cluster_scoped_and_foreign_namespace_children_are_tracked_by_annotation() {
        let cr = cr();
        let owner = owner(&cr);
        for (c, namespaced) in [
            (
                child(json!({"metadata": {"name": "a", "namespace": "ns"}}), true),
                false,
            ),
            (
                child(
                    json!({"metadata": {"name": "a", "namespace": "other"}}),
                    false,
                ),
                true,
            ),
        ] {
            let o = prepare(&c, namespaced, owner);
            assert_eq!(o["metadata"].get("namespace").is_some(), namespaced);
            assert!(o["metadata"].get("ownerReferences").is_none());
            assert_eq!(o["metadata"]["annotations"][OWNER_UID], "u1");
        }
    }

    #[test]
    fn the_fingerprint_changes_with_the_object_and_the_force_flag() {
        let a = json!({"a": 1});
        assert_eq!(fingerprint(&a, true), fingerprint(&json!({"a": 1}), true));
        assert_ne!(fingerprint(&a, true), fingerprint(&json!({"a": 2}), true));
        assert_ne!(fingerprint(&a, true), fingerprint(&a, false));
    }

    #[test]
    fn the_digest_is_the_same_in_every_build_and_follows_the_intent() {
        // A fixed value (FNV-1a of `{"a":1}` and the byte 1): every build reads the same digest.
        assert_eq!(digest(&json!({"a": 1}), true), "49210e44f5c96310");
        assert_ne!(
            digest(&json!({"a": 1}), true),
            digest(&json!({"a": 1}), false)
        );
        assert_ne!(
            digest(&json!({"a": 1}), true),
            digest(&json!({"a": 2}), true)
        );
    }

    #[test]
    fn a_live_object_carries_the_intent_when_every_declared_field_has_its_value() {
        let live = json!({"metadata": {"name": "a", "uid": "x", "labels": {"k": "v", "other": "o"}},
            "spec": {"ports": [{"port": 80, "protocol": "TCP"}], "n": 1.0}});
        let want = json!({"metadata": {"name": "a", "labels": {"k": "v"}},
            "spec": {"ports": [{"port": 80}], "n": 1, "gone": null}});
        assert!(carries(Some(&live), &want));
        for drifted in [
            json!({"metadata": {"labels": {"k": "changed"}}}),
            json!({"spec": {"ports": [{"port": 80}, {"port": 81}]}}),
            json!({"spec": {"missing": "x"}}),
            json!({"spec": {"n": "1"}}),
            json!({"metadata": {"uid": null}}),
        ] {
            assert!(!carries(Some(&live), &drifted), "{drifted}");
        }
    }

    fn reference(name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("ns".into()),
            name: name.into(),
        }
    }

    #[test]
    fn forgetting_a_cr_returns_every_child_written_for_it_once() {
        let memo = Memo::default();
        let applied = Applied {
            desired: 1,
            entry: None,
        };
        memo.put("u1", reference("applied"), applied.clone());
        memo.put_created("u1", reference("created"));
        memo.put("u2", reference("other"), applied.clone());
        // A created child is known, but never taken for an apply to skip.
        assert_eq!(memo.get("u1", &reference("applied")), Some(applied));
        assert_eq!(memo.get("u1", &reference("created")), None);

        let mut forgotten = memo.forget_owner("u1");
        forgotten.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(forgotten, [reference("applied"), reference("created")]);
        assert!(memo.forget_owner("u1").is_empty());
        assert_eq!(memo.len(), 1);
    }
}
