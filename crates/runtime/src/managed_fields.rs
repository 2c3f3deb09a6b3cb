//! What ork's caches keep of an object's managedFields: every entry, with its `fieldsV1` (the
//! set of fields the manager owns, often larger than the object itself) replaced by a digest.
//!
//! Nothing in ork reads the fields an entry lists; it reads who wrote (manager, operation,
//! subresource, time) and whether an entry changed (the apply memo's fingerprint of ork's own
//! entry, the `managedFieldsChanged` gate). A digest answers both: equal fields give equal
//! digests, and compacting is idempotent, so a compacted cached object and a full object from
//! the API server (an apply's response) compare alike once both are compacted.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry};
use kube::api::ObjectMeta;
use serde_json::Value;

/// The prefix of a digested `fieldsV1` (a real one is a JSON object, never a string).
const DIGEST_PREFIX: &str = "fnv1a:";

/// Replaces the entry's `fieldsV1` by a digest of it (left alone when already one).
pub(crate) fn compact(entry: &mut ManagedFieldsEntry) {
    if let Some(FieldsV1(fields)) = &mut entry.fields_v1
        && !fields.is_string()
    {
        *fields = Value::String(digest(fields));
    }
}

/// [`compact`]s every managedFields entry of `meta`.
pub(crate) fn compact_all(meta: &mut ObjectMeta) {
    for entry in meta.managed_fields.iter_mut().flatten() {
        compact(entry);
    }
}

/// FNV-1a (64 bit) of the fields' JSON text (keys sorted), stable across processes and builds.
fn digest(fields: &Value) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let text = fields.to_string();
    let hash = text
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    format!("{DIGEST_PREFIX}{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(fields: Value) -> ManagedFieldsEntry {
        ManagedFieldsEntry {
            manager: Some("orkestra".into()),
            operation: Some("Apply".into()),
            fields_v1: Some(FieldsV1(fields)),
            ..ManagedFieldsEntry::default()
        }
    }

    #[test]
    fn compacting_keeps_who_wrote_and_digests_the_fields() {
        let mut e = entry(json!({"f:data": {"f:n": {}}}));
        compact(&mut e);
        assert_eq!(e.manager.as_deref(), Some("orkestra"));
        assert_eq!(e.operation.as_deref(), Some("Apply"));
        let Some(FieldsV1(Value::String(digest))) = &e.fields_v1 else {
            panic!("fieldsV1 is not a digest: {:?}", e.fields_v1);
        };
        assert!(digest.starts_with(DIGEST_PREFIX), "{digest}");
    }

    #[test]
    fn compacting_is_idempotent_and_tells_different_fields_apart() {
        let mut once = entry(json!({"f:data": {"f:n": {}}}));
        compact(&mut once);
        let mut twice = once.clone();
        compact(&mut twice);
        assert_eq!(once, twice);
        let mut other = entry(json!({"f:data": {"f:m": {}}}));
        compact(&mut other);
        assert_ne!(once, other);
        let mut same = entry(json!({"f:data": {"f:n": {}}}));
        compact(&mut same);
        assert_eq!(once, same);
    }

    #[test]
    fn every_entry_of_an_object_is_compacted_and_an_entry_without_fields_stays_so() {
        let mut meta = ObjectMeta {
            managed_fields: Some(vec![
                entry(json!({"f:spec": {}})),
                ManagedFieldsEntry::default(),
            ]),
            ..ObjectMeta::default()
        };
        compact_all(&mut meta);
        let fields = meta.managed_fields.unwrap();
        assert!(matches!(
            &fields[0].fields_v1,
            Some(FieldsV1(Value::String(_)))
        ));
        assert_eq!(fields[1].fields_v1, None);
    }
}
