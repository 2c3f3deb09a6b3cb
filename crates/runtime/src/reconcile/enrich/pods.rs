//! `_pods` (a workload's Pods), `_backingPods` (a Service's) and `_node` (a Pod's Node), in
//! Orkestra's summary shape: `{name, ip, phase, ready, node, restartCount, ordinal, exitCode,
//! containers: [{name, image, state, reason, ready, restartCount, exitCode}]}`.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};

use super::{namespace_of, selector};

/// The Pods a workload controls, in the summary shape.
pub(super) async fn of_workload(
    client: &kube::Client,
    kind: &str,
    object: &Value,
) -> Result<Value, kube::Error> {
    let pods = owned(client, kind, object).await?;
    Ok(summaries(pods.iter()))
}

/// The Pods a workload controls: those its `spec.selector.matchLabels` selects whose
/// controller is the workload itself (a StatefulSet's, ReplicaSet's or Job's uid) or, for a
/// Deployment, its ReplicaSet `<deployment>-<pod-template-hash>`. Every workload of one CR
/// selects on the same owner label, so the selector alone returns its siblings' Pods too.
pub(super) async fn owned(
    client: &kube::Client,
    kind: &str,
    object: &Value,
) -> Result<Vec<Pod>, kube::Error> {
    let pods = list(client, object, &object["spec"]["selector"]["matchLabels"]).await?;
    Ok(pods
        .into_iter()
        .filter(|p| controlled_by(p, kind, object))
        .collect())
}

/// The Pods a Service's `spec.selector` selects; empty for a Service without one.
pub(super) async fn of_service(
    client: &kube::Client,
    object: &Value,
) -> Result<Value, kube::Error> {
    let pods = list(client, object, &object["spec"]["selector"]).await?;
    Ok(summaries(pods.iter()))
}

/// The Pods of `object`'s namespace that `labels` select (none for an empty selector).
async fn list(
    client: &kube::Client,
    object: &Value,
    labels: &Value,
) -> Result<Vec<Pod>, kube::Error> {
    let Some(selector) = selector(labels) else {
        return Ok(Vec::new());
    };
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace_of(object));
    let mut pods = api
        .list(&ListParams::default().labels(&selector))
        .await?
        .items;
    pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Ok(pods)
}

/// Whether `pod`'s controller ownerReference is `workload` (of `kind`), or for a
/// Deployment the ReplicaSet it names after itself and the Pod's template hash.
fn controlled_by(pod: &Pod, kind: &str, workload: &Value) -> bool {
    let Some(controller) = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    else {
        return false;
    };
    if kind != "Deployment" {
        return controller.kind == kind
            && Some(controller.uid.as_str()) == workload["metadata"]["uid"].as_str();
    }
    let hash = pod
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("pod-template-hash"));
    let name = workload["metadata"]["name"].as_str().unwrap_or_default();
    controller.kind == "ReplicaSet"
        && hash.is_some_and(|h| controller.name == format!("{name}-{h}"))
}

fn summaries<'a>(pods: impl Iterator<Item = &'a Pod>) -> Value {
    Value::Array(pods.map(summary).collect())
}

/// One Pod in the summary shape.
pub(super) fn summary(pod: &Pod) -> Value {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let statuses = status.container_statuses.clone().unwrap_or_default();
    let containers: Vec<Value> = statuses
        .iter()
        .map(|c| {
            let state = c.state.clone().unwrap_or_default();
            let (state_name, reason, exit_code) = if let Some(w) = &state.waiting {
                ("Waiting", w.reason.clone(), None)
            } else if let Some(t) = &state.terminated {
                ("Terminated", t.reason.clone(), Some(t.exit_code))
            } else if state.running.is_some() {
                ("Running", None, None)
            } else {
                ("", None, None)
            };
            // A restarted container's last exit tells why it crashed.
            let last = c.last_state.as_ref().and_then(|l| l.terminated.as_ref());
            let reason = reason.or_else(|| last.and_then(|t| t.reason.clone()));
            let mut out = json!({
                "name": c.name,
                "image": c.image,
                "state": state_name,
                "reason": reason.unwrap_or_default(),
                "ready": c.ready,
                "restartCount": c.restart_count,
            });
            if let Some(code) = exit_code.or_else(|| last.map(|t| t.exit_code)) {
                out["exitCode"] = json!(code);
            }
            out
        })
        .collect();
    let ready = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    let exit_code = containers
        .iter()
        .find_map(|c| c["exitCode"].as_i64())
        .unwrap_or(-1);
    json!({
        "name": name,
        "ip": status.pod_ip.unwrap_or_default(),
        "phase": status.phase.unwrap_or_default(),
        "ready": ready,
        "node": pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "restartCount": statuses.iter().map(|c| i64::from(c.restart_count)).sum::<i64>(),
        "ordinal": ordinal(&name),
        "exitCode": exit_code,
        "containers": containers,
    })
}

/// The ordinal suffix of a StatefulSet Pod's name (`db-1` → 1); -1 for other names.
fn ordinal(name: &str) -> i64 {
    name.rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(-1)
}

/// `{name, zone, region, instanceType}` of the Node a Pod child runs on; `None` when not
/// scheduled. Each Node is read once per reconcile.
pub(super) async fn node(
    client: &kube::Client,
    seen: &mut HashMap<String, Value>,
    object: &Value,
) -> Result<Option<Value>, kube::Error> {
    let Some(name) = object["spec"]["nodeName"]
        .as_str()
        .filter(|n| !n.is_empty())
    else {
        return Ok(None);
    };
    if let Some(v) = seen.get(name) {
        return Ok(Some(v.clone()));
    }
    let api: Api<Node> = Api::all(client.clone());
    let Some(node) = api.get_opt(name).await? else {
        return Ok(None);
    };
    let labels = node.metadata.labels.unwrap_or_default();
    let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
    let v = json!({
        "name": name,
        "zone": label("topology.kubernetes.io/zone"),
        "region": label("topology.kubernetes.io/region"),
        "instanceType": label("node.kubernetes.io/instance-type"),
    });
    seen.insert(name.to_owned(), v.clone());
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(controller: Value, labels: Value) -> Pod {
        serde_json::from_value(json!({"metadata": {
            "name": "p", "labels": labels,
            "ownerReferences": [controller],
        }}))
        .unwrap()
    }

    #[test]
    fn a_workload_keeps_only_the_pods_it_controls_not_its_siblings() {
        let rs = |name: &str| {
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name,
                   "uid": "u-rs", "controller": true})
        };
        let hash = json!({"orkestra-owner": "pair", "pod-template-hash": "abc12"});
        let front = json!({"metadata": {"name": "front", "uid": "u-front"}});
        assert!(controlled_by(
            &pod(rs("front-abc12"), hash.clone()),
            "Deployment",
            &front
        ));
        assert!(!controlled_by(
            &pod(rs("back-abc12"), hash.clone()),
            "Deployment",
            &front
        ));
        // `front-api`'s Pods are not `front`'s.
        assert!(!controlled_by(
            &pod(rs("front-api-abc12"), hash.clone()),
            "Deployment",
            &front
        ));

        let worker = json!({"metadata": {"name": "worker", "uid": "u-worker"}});
        let sts = |uid: &str| {
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "worker",
                   "uid": uid, "controller": true})
        };
        assert!(controlled_by(
            &pod(sts("u-worker"), json!({})),
            "StatefulSet",
            &worker
        ));
        assert!(!controlled_by(
            &pod(sts("u-other"), json!({})),
            "StatefulSet",
            &worker
        ));
        // A ReplicaSet's own Pods are its by uid, whatever their kind's sibling Deployments do.
        let bare = json!({"metadata": {"name": "front-abc12", "uid": "u-rs"}});
        assert!(controlled_by(
            &pod(rs("front-abc12"), hash),
            "ReplicaSet",
            &bare
        ));
    }

    #[test]
    fn a_crashing_container_reports_its_waiting_reason_and_last_exit() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "db-1"},
            "spec": {"containers": [{"name": "db"}], "nodeName": "n1"},
            "status": {
                "phase": "Running", "podIP": "10.0.0.1",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{
                    "name": "db", "image": "pg", "ready": false, "restartCount": 3,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
                }],
            },
        }))
        .unwrap();
        let s = summary(&pod);
        assert_eq!(s["ordinal"], 1);
        assert_eq!(s["ready"], false);
        assert_eq!(s["restartCount"], 3);
        assert_eq!(s["exitCode"], 1);
        assert_eq!(s["containers"][0]["state"], "Waiting");
        assert_eq!(s["containers"][0]["reason"], "CrashLoopBackOff");
        assert_eq!(s["node"], "n1");
    }
}
