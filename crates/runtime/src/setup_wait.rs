//! `setup.wait` (dev mode, as upstream's `SetupWait`): before the operator starts, wait for
//! each listed object to exist and, with `ready: true`, to carry a `Ready`, `Available`,
//! `Established` or `Complete` condition that is `True`. The kind is found by API discovery
//! (its `kind`, case-insensitive, or its plural); `timeout` defaults to 30 s. An object not
//! there in time stops `ork run` with what was last seen.

use std::time::Duration;

use katalog::model::SetupWait;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::discovery::{Discovery, Scope};

/// How long an entry without `timeout` waits.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the object is looked at.
const POLL: Duration = Duration::from_millis(500);

/// Why a wait failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// API discovery failed.
    #[error("discovering the API server's kinds")]
    DiscoveryFailed(#[source] Box<kube::Error>),
    /// No served kind has this name.
    #[error("setup.wait: kind {0} is not served by the API server")]
    UnknownKind(String),
    /// The `timeout` is not a duration.
    #[error("setup.wait {kind}/{name}: timeout `{timeout}` is not a duration")]
    BadTimeout {
        /// The kind.
        kind: String,
        /// The name.
        name: String,
        /// As written.
        timeout: String,
    },
    /// The object was not there (or not ready) in time.
    #[error("setup.wait {kind}/{name}: not {what} after {waited:?} ({seen})")]
    TimedOut {
        /// The kind.
        kind: String,
        /// The name.
        name: String,
        /// `present` or `ready`.
        what: &'static str,
        /// How long ork waited.
        waited: Duration,
        /// What was last seen.
        seen: String,
    },
}

/// Waits for every entry of `waits`, in order.
///
/// # Errors
/// The first entry whose kind is unknown or whose object is not there (or ready) in time.
pub async fn wait_all(client: &kube::Client, waits: &[SetupWait]) -> Result<(), Error> {
    if waits.is_empty() {
        return Ok(());
    }
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .map_err(|e| Error::DiscoveryFailed(Box::new(e)))?;
    for w in waits {
        let (resource, namespaced) =
            find_kind(&discovery, &w.kind).ok_or_else(|| Error::UnknownKind(w.kind.clone()))?;
        let timeout = match &w.timeout {
            None => DEFAULT_TIMEOUT,
            Some(t) => katalog::condition::parse_duration(t.trim())
                .and_then(|d| Duration::try_from(d).ok())
                .ok_or_else(|| Error::BadTimeout {
                    kind: w.kind.clone(),
                    name: w.name.clone(),
                    timeout: t.clone(),
                })?,
        };
        let api: Api<DynamicObject> = match (&w.namespace, namespaced) {
            (Some(ns), true) => Api::namespaced_with(client.clone(), ns, &resource),
            (None, true) => Api::namespaced_with(client.clone(), "default", &resource),
            (_, false) => Api::all_with(client.clone(), &resource),
        };
        wait_one(&api, w, timeout).await?;
        tracing::info!(kind = %w.kind, name = %w.name, "setup.wait satisfied");
    }
    Ok(())
}

async fn wait_one(api: &Api<DynamicObject>, w: &SetupWait, timeout: Duration) -> Result<(), Error> {
    let started = tokio::time::Instant::now();
    loop {
        let seen = match api.get_opt(&w.name).await {
            Ok(Some(object)) if !w.ready || is_ready(&object) => return Ok(()),
            Ok(Some(_)) => "present, not ready".to_owned(),
            Ok(None) => "not found".to_owned(),
            Err(e) => crate::error_chain(&e),
        };
        if started.elapsed() >= timeout {
            return Err(Error::TimedOut {
                kind: w.kind.clone(),
                name: w.name.clone(),
                what: if w.ready { "ready" } else { "present" },
                waited: timeout,
                seen,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The served kind named `kind` (its kind, case-insensitive, or its plural).
fn find_kind(discovery: &Discovery, kind: &str) -> Option<(ApiResource, bool)> {
    let wanted = kind.to_ascii_lowercase();
    discovery.groups().find_map(|group| {
        group
            .recommended_resources()
            .into_iter()
            .find_map(|(ar, caps)| {
                (ar.kind.to_ascii_lowercase() == wanted || ar.plural == wanted)
                    .then(|| (ar, caps.scope == Scope::Namespaced))
            })
    })
}

/// Whether `object` carries a `Ready`, `Available`, `Established` or `Complete` condition
/// that is `True`.
pub fn is_ready(object: &DynamicObject) -> bool {
    object
        .data
        .get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(|c| c.as_array())
        .is_some_and(|conditions| {
            conditions.iter().any(|c| {
                ["Ready", "Available", "Established", "Complete"]
                    .contains(&c["type"].as_str().unwrap_or_default())
                    && c["status"] == "True"
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_true_ready_like_condition_is_ready() {
        let object = |conditions| -> DynamicObject {
            serde_json::from_value(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "a"}, "status": {"conditions": conditions}}))
            .unwrap()
        };
        assert!(is_ready(&object(
            json!([{"type": "Available", "status": "True"}])
        )));
        assert!(!is_ready(&object(
            json!([{"type": "Available", "status": "False"}])
        )));
        assert!(!is_ready(&object(
            json!([{"type": "Progressing", "status": "True"}])
        )));
    }
}
