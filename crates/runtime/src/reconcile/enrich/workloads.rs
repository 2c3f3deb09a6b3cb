//! Workload enrichment: `_replicaSets` on Deployments, `_owner` on ReplicaSets,
//! `_currentMetrics`/`_scaleTarget` on HorizontalPodAutoscalers and `_activeJobs`,
//! `_lastJob`, `_lastSuccessfulJob` on CronJobs.

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};

use super::{json, namespace_of, selector};

fn uid_of(object: &Value) -> &str {
    object["metadata"]["uid"].as_str().unwrap_or_default()
}

fn owned_by(
    refs: Option<&Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>>,
    uid: &str,
) -> bool {
    refs.into_iter().flatten().any(|o| o.uid == uid)
}

/// The ReplicaSets a Deployment owns (selected by its `matchLabels`, kept by owner uid),
/// newest revision first.
pub(super) async fn replica_sets(
    client: &kube::Client,
    object: &Value,
) -> Result<Value, kube::Error> {
    let Some(selector) = selector(&object["spec"]["selector"]["matchLabels"]) else {
        return Ok(Value::Array(Vec::new()));
    };
    let uid = uid_of(object);
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace_of(object));
    let mut sets: Vec<ReplicaSet> = api
        .list(&ListParams::default().labels(&selector))
        .await?
        .items
        .into_iter()
        .filter(|r| owned_by(r.metadata.owner_references.as_ref(), uid))
        .collect();
    let revision = |r: &ReplicaSet| -> i64 {
        r.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    sets.sort_by_key(|r| std::cmp::Reverse(revision(r)));
    Ok(Value::Array(sets.iter().map(json).collect()))
}

/// `{name, kind, uid}` of the controller ownerReference (the first one without a
/// controller).
pub(super) fn owner(object: &Value) -> Option<Value> {
    let refs = object["metadata"]["ownerReferences"].as_array()?;
    let r = refs
        .iter()
        .find(|r| r["controller"] == true)
        .or_else(|| refs.first())?;
    Some(json!({"name": r["name"], "kind": r["kind"], "uid": r["uid"]}))
}

/// `_currentMetrics` (`status.currentMetrics` as `{type, name, current}` for the four
/// source types) and `_scaleTarget` (`{name, kind, apiVersion}`).
pub(super) fn autoscaler(object: &Value) -> Vec<(&'static str, Value)> {
    let metrics: Vec<Value> = object["status"]["currentMetrics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let t = m["type"].as_str().unwrap_or_default();
            let source = match t {
                "Resource" => &m["resource"],
                "ContainerResource" => &m["containerResource"],
                "Pods" => &m["pods"],
                "Object" => &m["object"],
                "External" => &m["external"],
                _ => &Value::Null,
            };
            let name = source["name"]
                .as_str()
                .or_else(|| source["metric"]["name"].as_str())
                .unwrap_or_default();
            json!({"type": t, "name": name, "current": source["current"]})
        })
        .collect();
    let target = &object["spec"]["scaleTargetRef"];
    vec![
        ("_currentMetrics", Value::Array(metrics)),
        (
            "_scaleTarget",
            json!({"name": target["name"], "kind": target["kind"], "apiVersion": target["apiVersion"]}),
        ),
    ]
}

/// `_activeJobs` (`status.active`), and of the Jobs the CronJob owns (newest first)
/// `_lastJob` and `_lastSuccessfulJob` (absent when there is none).
pub(super) async fn cron_job_runs(
    client: &kube::Client,
    object: &Value,
) -> Result<Vec<(&'static str, Value)>, kube::Error> {
    let uid = uid_of(object);
    let api: Api<Job> = Api::namespaced(client.clone(), namespace_of(object));
    let mut jobs: Vec<Job> = api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|j| owned_by(j.metadata.owner_references.as_ref(), uid))
        .collect();
    jobs.sort_by_key(|j| {
        std::cmp::Reverse(
            j.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0)
                .unwrap_or_default(),
        )
    });
    let active = object["status"]["active"].clone();
    let mut out = vec![(
        "_activeJobs",
        if active.is_array() {
            active
        } else {
            Value::Array(Vec::new())
        },
    )];
    if let Some(last) = jobs.first() {
        out.push(("_lastJob", json(last)));
    }
    if let Some(ok) = jobs
        .iter()
        .find(|j| j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0) > 0)
    {
        out.push(("_lastSuccessfulJob", json(ok)));
    }
    Ok(out)
}
