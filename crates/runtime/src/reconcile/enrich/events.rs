//! `_warnings`: the Warning Events about a child, as `{reason, message, count,
//! lastTimestamp}`, newest first. A workload's (Deployment, StatefulSet, ReplicaSet, Job)
//! also include its Pods' Events, where container failures (`BackOff`, `Failed`) are
//! recorded.

use k8s_openapi::api::core::v1::Event;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};

use super::{Reads, namespace_of, pods};

/// The Warning Events of `object`, a child of `kind`.
pub(super) async fn warnings(
    reads: &mut Reads,
    kind: &str,
    object: &Value,
) -> Result<Value, kube::Error> {
    let namespace = namespace_of(object).to_owned();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let pod_names: Vec<String> =
        if matches!(kind, "Deployment" | "StatefulSet" | "ReplicaSet" | "Job") {
            match object["_pods"].as_array() {
                Some(p) => p
                    .iter()
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect(),
                None => pods::owned(&reads.client, kind, object)
                    .await?
                    .into_iter()
                    .filter_map(|p| p.metadata.name)
                    .collect(),
            }
        } else {
            Vec::new()
        };
    if !reads.warnings.contains_key(&namespace) {
        let api: Api<Event> = Api::namespaced(reads.client.clone(), &namespace);
        let list = api
            .list(&ListParams::default().fields("type=Warning"))
            .await?
            .items;
        reads.warnings.insert(namespace.clone(), list);
    }
    let mut about: Vec<&Event> = reads.warnings[&namespace]
        .iter()
        .filter(|e| {
            let o = &e.involved_object;
            let n = o.name.as_deref().unwrap_or_default();
            match o.kind.as_deref() {
                Some(k) if k == kind => n == name,
                Some("Pod") => pod_names.iter().any(|p| p == n),
                _ => false,
            }
        })
        .collect();
    about.sort_by_key(|e| std::cmp::Reverse(last_seen(e)));
    Ok(Value::Array(
        about
            .into_iter()
            .map(|e| {
                json!({
                    "reason": e.reason.clone().unwrap_or_default(),
                    "message": e.message.clone().unwrap_or_default(),
                    "count": count(e),
                    "lastTimestamp": last_seen(e),
                    "object": e.involved_object.name.clone().unwrap_or_default(),
                })
            })
            .collect(),
    ))
}

/// When the Event was last seen, RFC 3339 (Events written through `events.k8s.io` carry
/// `eventTime` and `series` instead of `lastTimestamp`).
fn last_seen(e: &Event) -> String {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .or_else(|| {
            e.series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_ref())
                .map(|t| t.0.to_string())
        })
        .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
        .or_else(|| {
            e.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
        })
        .unwrap_or_default()
}

fn count(e: &Event) -> i64 {
    e.count
        .or_else(|| e.series.as_ref().and_then(|s| s.count))
        .map_or(1, i64::from)
}
