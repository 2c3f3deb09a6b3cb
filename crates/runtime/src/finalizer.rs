//! Finalizers and tracking metadata on CRs (spec §9.2 steps 3–4, §9.6 step 5, §24).
//!
//! The pure half computes the one JSON merge patch that brings a CR's `metadata` to what ork
//! needs, or `None` when nothing is missing, so a steady state writes nothing. Every patch
//! carries the `resourceVersion` it was computed from: the API server refuses it with 409 when
//! the CR changed meanwhile, so a finalizer added or removed by someone else is never lost.
//! [`update`] sends such patches, re-reading the CR and recomputing after a conflict.

use std::collections::BTreeMap;

use katalog::labels;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Map, Value, json};

/// How many times a conflicting metadata patch is recomputed and retried.
const CONFLICT_ATTEMPTS: usize = 5;

/// Errors patching a CR's metadata.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The patch was refused (other than by a conflict), or the CR could not be re-read.
    #[error("patching the metadata of {name}")]
    PatchFailed {
        /// The CR.
        name: String,
        /// The API failure.
        #[source]
        source: kube::Error,
    },
    /// The CR kept changing under every attempt.
    #[error("the metadata of {name} kept changing ({attempts} conflicting attempts)")]
    KeptConflicting {
        /// The CR.
        name: String,
        /// Attempts made.
        attempts: usize,
    },
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What ork keeps on every CR it manages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tracking {
    /// Finalizers the CR must carry, in order.
    pub finalizers: Vec<String>,
    /// The Katalog's name (`managed-by`, written once).
    pub katalog: String,
    /// Labels the CR must carry: the managed label and the CRD entry's rendered `labels:`.
    pub labels: BTreeMap<String, String>,
    /// RFC 3339 UTC time for `managed-since` when it is absent.
    pub now: String,
}

impl Tracking {
    /// The finalizers of a CRD: `orkestra.orkspace.io/cleanup` always; when the Katalog
    /// declares finalizers of its own, also `orkestra.orkspace.io/finalizer` and those.
    pub fn finalizers_of(declared: &[String]) -> Vec<String> {
        let mut out = vec![labels::CLEANUP_FINALIZER.to_owned()];
        let own: Vec<&String> = declared
            .iter()
            .filter(|f| f.as_str() != labels::CLEANUP_FINALIZER)
            .collect();
        if !own.is_empty() {
            out.push(labels::FINALIZER.to_owned());
        }
        for f in own {
            if !out.contains(f) {
                out.push(f.clone());
            }
        }
        out
    }
}

fn string_map(meta: &Value, key: &str) -> Map<String, Value> {
    meta.get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn finalizers(meta: &Value) -> Vec<String> {
    meta.get("finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The merge patch adding what `want` asks for and `cr` lacks, or `None` when nothing is
/// missing. Existing finalizers, labels and annotations are kept; `managed-by` and
/// `managed-since` are only written when absent.
pub fn ensure_patch(cr: &DynamicObject, want: &Tracking) -> Option<Value> {
    let meta = serde_json::to_value(&cr.metadata).unwrap_or(Value::Null);
    let mut patch = Map::new();

    let mut list = finalizers(&meta);
    let before = list.len();
    for f in &want.finalizers {
        if !list.contains(f) {
            list.push(f.clone());
        }
    }
    if list.len() != before {
        patch.insert("finalizers".into(), json!(list));
    }

    let have = string_map(&meta, "labels");
    let changed: Map<String, Value> = want
        .labels
        .iter()
        .filter(|(k, v)| have.get(*k).and_then(Value::as_str) != Some(v.as_str()))
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    if !changed.is_empty() {
        patch.insert("labels".into(), Value::Object(changed));
    }

    let have = string_map(&meta, "annotations");
    let mut annotations = Map::new();
    for (key, value) in [
        (labels::MANAGED_BY, &want.katalog),
        (labels::MANAGED_SINCE, &want.now),
    ] {
        if !have.contains_key(key) {
            annotations.insert(key.into(), json!(value));
        }
    }
    if !annotations.is_empty() {
        patch.insert("annotations".into(), Value::Object(annotations));
    }
    with_version(cr, patch)
}

/// The merge patch removing `ours` from the CR's finalizers (others stay, in order), or
/// `None` when it carries none of them.
pub fn release_patch(cr: &DynamicObject, ours: &[String]) -> Option<Value> {
    let meta = serde_json::to_value(&cr.metadata).unwrap_or(Value::Null);
    let list = finalizers(&meta);
    let kept: Vec<&String> = list.iter().filter(|f| !ours.contains(f)).collect();
    if kept.len() == list.len() {
        return None;
    }
    let mut patch = Map::new();
    patch.insert("finalizers".into(), json!(kept));
    with_version(cr, patch)
}

/// Wraps metadata changes into `{"metadata": {..., "resourceVersion": rv}}`; `None` if empty.
fn with_version(cr: &DynamicObject, mut meta: Map<String, Value>) -> Option<Value> {
    if meta.is_empty() {
        return None;
    }
    if let Some(rv) = &cr.metadata.resource_version {
        meta.insert("resourceVersion".into(), json!(rv));
    }
    Some(json!({ "metadata": meta }))
}

/// Applies the patch `compute` derives from the CR, recomputing it from a fresh read after a
/// conflict. Returns the updated CR, or `None` when no patch was needed.
///
/// # Errors
/// A refused patch, a failed re-read, or conflicts on every attempt.
pub async fn update(
    api: &Api<DynamicObject>,
    cr: &DynamicObject,
    manager: &str,
    compute: impl Fn(&DynamicObject) -> Option<Value>,
) -> Result<Option<DynamicObject>> {
    // Written under ork's field manager, so the box recognises its own change and does not
    // queue the CR again for it.
    let params = PatchParams {
        field_manager: Some(manager.to_owned()),
        ..PatchParams::default()
    };
    let name = cr.metadata.name.clone().unwrap_or_default();
    let failed = |source| Error::PatchFailed {
        name: name.clone(),
        source,
    };
    let mut current = std::borrow::Cow::Borrowed(cr);
    for _ in 0..CONFLICT_ATTEMPTS {
        let Some(patch) = compute(&current) else {
            return Ok(None);
        };
        match api.patch(&name, &params, &Patch::Merge(&patch)).await {
            Ok(updated) => return Ok(Some(updated)),
            Err(kube::Error::Api(e)) if e.code == 409 => {
                current = std::borrow::Cow::Owned(api.get(&name).await.map_err(failed)?);
            }
            Err(e) => return Err(failed(e)),
        }
    }
    Err(Error::KeptConflicting {
        name,
        attempts: CONFLICT_ATTEMPTS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cr(meta: Value) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "x.io/v1", "kind": "X", "metadata": meta
        }))
        .unwrap()
    }

    fn want() -> Tracking {
        Tracking {
            finalizers: Tracking::finalizers_of(&[]),
            katalog: "demo".into(),
            labels: BTreeMap::from([(labels::MANAGED.to_owned(), "true".to_owned())]),
            now: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_new_cr_gets_finalizer_label_and_annotations_in_one_patch_with_its_version() {
        let p = ensure_patch(&cr(json!({"name": "a", "resourceVersion": "7"})), &want()).unwrap();
        assert_eq!(
            p["metadata"]["finalizers"],
            json!(["orkestra.orkspace.io/cleanup"])
        );
        assert_eq!(p["metadata"]["labels"][labels::MANAGED], "true");
        assert_eq!(p["metadata"]["annotations"][labels::MANAGED_BY], "demo");
        assert_eq!(p["metadata"]["resourceVersion"], "7");
    }

    #[test]
    fn a_fully_tracked_cr_needs_no_patch() {
        let c = cr(json!({"name": "a", "resourceVersion": "7",
            "finalizers": ["other", "orkestra.orkspace.io/cleanup"],
            "labels": {labels::MANAGED: "true", "x": "y"},
            "annotations": {labels::MANAGED_BY: "old-name", labels::MANAGED_SINCE: "2020-01-01T00:00:00Z"}}));
        assert_eq!(ensure_patch(&c, &want()), None);
    }

    #[test]
    fn missing_finalizers_are_appended_after_foreign_ones() {
        let c = cr(json!({"name": "a", "finalizers": ["other"]}));
        let p = ensure_patch(&c, &want()).unwrap();
        assert_eq!(
            p["metadata"]["finalizers"],
            json!(["other", "orkestra.orkspace.io/cleanup"])
        );
    }

    #[test]
    fn declared_finalizers_bring_the_orkestra_finalizer_along() {
        assert_eq!(
            Tracking::finalizers_of(&["team.io/backup".into()]),
            [
                "orkestra.orkspace.io/cleanup",
                "orkestra.orkspace.io/finalizer",
                "team.io/backup"
            ]
        );
        assert_eq!(
            Tracking::finalizers_of(&["orkestra.orkspace.io/cleanup".into()]),
            ["orkestra.orkspace.io/cleanup"]
        );
    }

    #[test]
    fn release_keeps_foreign_finalizers_and_is_none_when_ours_are_gone() {
        let ours = Tracking::finalizers_of(&[]);
        let c = cr(json!({"name": "a", "resourceVersion": "9",
            "finalizers": ["other", "orkestra.orkspace.io/cleanup"]}));
        let p = release_patch(&c, &ours).unwrap();
        assert_eq!(p["metadata"]["finalizers"], json!(["other"]));
        assert_eq!(p["metadata"]["resourceVersion"], "9");
        let done = cr(json!({"name": "a", "finalizers": ["other"]}));
        assert_eq!(release_patch(&done, &ours), None);
    }
}
