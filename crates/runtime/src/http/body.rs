//! The JSON bodies of the `/katalog` endpoints, field names exactly as §14.2 (the Control
//! Center, the gateway's `unique` rule and remote `cross` reads depend on them).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::settings::{AdmissionView, AutoscalerView, Toggle};
use super::view::{ChildView, CrdView, EventView, KatalogView};
use crate::State;
use crate::go_format::format_go_duration;

/// `GET /katalog`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KatalogSummary {
    /// The Katalog's name.
    pub name: String,
    /// The Katalog's version.
    pub version: String,
    /// No enabled CRD is degraded.
    pub healthy: bool,
    /// Every enabled CRD started and none is degraded.
    #[serde(rename = "OrkReady")]
    pub ork_ready: bool,
    /// The HTTP status of this answer: 503 when any CRD is degraded.
    pub status: u16,
    /// Which CRDs are degraded, or empty.
    pub degraded_reason: String,
    /// CRDs in the Katalog.
    pub total: usize,
    /// Enabled CRDs.
    pub total_enabled: usize,
    /// Degraded CRDs.
    pub total_degraded: usize,
    /// CRDs per state.
    pub status_counts: StatusCounts,
    /// Enabled CRD names per watched namespace (`*` for all namespaces), except CRDs whose
    /// routes are hidden (`endpoints.enabled: false`).
    pub namespaces: BTreeMap<String, Vec<String>>,
    /// The gateway URL advertised, or empty.
    pub gateway_endpoint: String,
    /// Whether this replica holds the Lease.
    pub is_konductor: bool,
    /// Every CRD whose routes are not hidden (`endpoints.enabled: false`), as
    /// `GET /katalog/{crd}` shows it.
    pub crds: Vec<CrdInfo>,
}

/// `statusCounts` of [`KatalogSummary`].
#[derive(Debug, Default, Serialize)]
pub struct StatusCounts {
    /// Started and below the failure threshold.
    pub healthy: usize,
    /// At or above the failure threshold.
    pub degraded: usize,
    /// Not started (or gated).
    pub pending: usize,
}

/// `GET /katalog/{crd}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrdInfo {
    /// The CRD name in the Katalog.
    pub name: String,
    /// `group/version, Kind=Kind`.
    pub gvk: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Its health state.
    pub state: State,
    /// Whether this replica holds the Lease.
    pub is_konductor: bool,
    /// Workers now. A number, as Orkestra's handler serves it (and upstream's E2E files read
    /// with `jq: workers`); spec §14.2's `{"current", "source"}` object is an older shape.
    pub workers: usize,
    /// Where the count comes from: `default`, `katalog`, `profile` or `autoscaler`.
    pub workers_source: String,
    /// Resync period, as a Go duration.
    pub resync: String,
    /// Queue depth and failure threshold.
    pub queue: QueueInfo,
    /// RBAC rules this CRD needs.
    pub rbac: Vec<serde_json::Value>,
    /// Whether the gateway's admission webhooks handle this CRD.
    pub admission: AdmissionView,
    /// Whether its CRs are protected from deletion.
    pub deletion_protection: Toggle,
    /// Whether namespace protection checks its CRs.
    pub namespace_protection: Toggle,
    /// Whether the gateway converts between its versions.
    pub conversion: Toggle,
    /// The declared `autoscale:` block.
    pub autoscaler: AutoscalerView,
    /// The numbers the autoscaler and `cross` `metrics` reads use.
    pub metrics: MetricsInfo,
}

/// `queue` of [`CrdInfo`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueInfo {
    /// Keys waiting.
    pub depth: usize,
    /// Consecutive failures that degrade the CRD.
    pub failure_threshold: u32,
}

/// `metrics` of [`CrdInfo`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsInfo {
    /// Workers now.
    pub workers: usize,
    /// Keys waiting.
    pub queue_depth: usize,
    /// Failed over all reconciles.
    pub error_rate: f64,
    /// `1 - errorRate`.
    pub success_rate: f64,
    /// Rollbacks to a CR's last successful spec since start (spec §12.7).
    pub rollback_total: u64,
    /// CRs held at their last successful spec now.
    pub rollback_active: i64,
}

/// `GET /katalog/{crd}/cr`.
#[derive(Debug, Serialize)]
pub struct CrList {
    /// The CRD name.
    pub crd: String,
    /// The CRs, sorted by namespace and name.
    pub items: Vec<CrItem>,
}

/// One entry of [`CrList`].
#[derive(Debug, Serialize)]
pub struct CrItem {
    /// Its name.
    pub name: String,
    /// Its namespace (empty when cluster-scoped).
    pub namespace: String,
    /// `status.phase`, or empty.
    pub phase: String,
    /// Whether its `Ready` condition is `True`.
    pub ready: bool,
    /// Time since creation, as a Go duration.
    pub age: String,
    /// `metadata.generation`.
    pub generation: i64,
    /// The `?field=` value, only when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `GET /katalog/{crd}/cr/{ns}/{name}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrDetail {
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// `status.phase`, or empty.
    pub phase: String,
    /// Whether its `Ready` condition is `True`.
    pub ready: bool,
    /// `metadata.generation`.
    pub generation: i64,
    /// Its whole status.
    pub status: serde_json::Value,
    /// Its children by kind.
    pub children: BTreeMap<String, Vec<ChildView>>,
    /// Where its Events are served.
    pub events_endpoint: String,
}

/// `GET /katalog/{crd}/cr/{ns}/{name}/events`.
#[derive(Debug, Serialize)]
pub struct CrEvents {
    /// The CR's name.
    pub name: String,
    /// The CR's namespace.
    pub namespace: String,
    /// Newest first, at most 100.
    pub events: Vec<EventView>,
}

/// The summary of `katalog` with `crds`, as seen by a replica that leads or not.
pub fn summary(katalog: &KatalogView, crds: &[CrdView], is_konductor: bool) -> KatalogSummary {
    let enabled: Vec<&CrdView> = crds.iter().filter(|c| c.enabled).collect();
    let mut counts = StatusCounts::default();
    let mut degraded = Vec::new();
    let mut namespaces: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for crd in &enabled {
        match crd.health.state {
            State::Healthy | State::Started => counts.healthy += 1,
            State::Degraded => {
                counts.degraded += 1;
                degraded.push(crd.name.as_str());
            }
            State::Pending | State::Gated => counts.pending += 1,
        }
        if !crd.settings.endpoints.enabled {
            continue;
        }
        let namespace = if crd.namespace.is_empty() {
            "*".to_owned()
        } else {
            crd.namespace.clone()
        };
        namespaces
            .entry(namespace)
            .or_default()
            .push(crd.name.clone());
    }
    let healthy = degraded.is_empty();
    KatalogSummary {
        name: katalog.name.clone(),
        version: katalog.version.clone(),
        healthy,
        ork_ready: healthy && enabled.iter().all(|c| c.health.started),
        status: if healthy { 200 } else { 503 },
        degraded_reason: if healthy {
            String::new()
        } else {
            format!("degraded: {}", degraded.join(", "))
        },
        total: crds.len(),
        total_enabled: enabled.len(),
        total_degraded: degraded.len(),
        status_counts: counts,
        namespaces,
        gateway_endpoint: katalog.gateway_endpoint.clone(),
        is_konductor,
        crds: crds
            .iter()
            .filter(|c| c.settings.endpoints.enabled)
            .map(|c| info(c, is_konductor))
            .collect(),
    }
}

/// The `GET /katalog/{crd}` body of `crd`.
pub fn info(crd: &CrdView, is_konductor: bool) -> CrdInfo {
    let health = &crd.health;
    CrdInfo {
        name: crd.name.clone(),
        gvk: crd.gvk.clone(),
        enabled: crd.enabled,
        state: health.state,
        is_konductor,
        workers: crd.workers,
        workers_source: crd.workers_source.clone(),
        resync: format_go_duration(crd.resync),
        queue: QueueInfo {
            depth: health.queue_depth,
            failure_threshold: health.failure_threshold,
        },
        rbac: crd.rbac.clone(),
        admission: crd.settings.admission.clone(),
        deletion_protection: crd.settings.deletion_protection.clone(),
        namespace_protection: crd.settings.namespace_protection.clone(),
        conversion: crd.settings.conversion.clone(),
        autoscaler: crd.settings.autoscaler.clone(),
        metrics: MetricsInfo {
            workers: crd.workers,
            queue_depth: health.queue_depth,
            error_rate: health.error_rate,
            success_rate: 1.0 - health.error_rate,
            rollback_total: crd.rollback_total,
            rollback_active: crd.rollback_active,
        },
    }
}

/// One [`CrItem`] from a cached object; `field` is a dot path whose value is added.
pub fn item(object: &serde_json::Value, field: Option<&str>, now: OffsetDateTime) -> CrItem {
    let common = Common::of(object);
    CrItem {
        age: age(object, now),
        value: field.map(|path| render(lookup(object, path))),
        name: common.name,
        namespace: common.namespace,
        phase: common.phase,
        ready: common.ready,
        generation: common.generation,
    }
}

/// The [`CrDetail`] of a cached object of `crd`.
pub fn detail(
    crd: &str,
    object: &serde_json::Value,
    children: BTreeMap<String, Vec<ChildView>>,
) -> CrDetail {
    let common = Common::of(object);
    let events_endpoint = if common.namespace.is_empty() {
        format!("/katalog/{crd}/cr/{}/events", common.name)
    } else {
        format!(
            "/katalog/{crd}/cr/{}/{}/events",
            common.namespace, common.name
        )
    };
    CrDetail {
        status: object
            .get("status")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({})),
        children,
        events_endpoint,
        name: common.name,
        namespace: common.namespace,
        phase: common.phase,
        ready: common.ready,
        generation: common.generation,
    }
}

/// The fields every CR view shares.
struct Common {
    name: String,
    namespace: String,
    phase: String,
    ready: bool,
    generation: i64,
}

impl Common {
    fn of(object: &serde_json::Value) -> Self {
        let text = |path: &str| {
            lookup(object, path)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let ready = lookup(object, "status.conditions")
            .and_then(|c| c.as_array())
            .is_some_and(|conditions| {
                conditions.iter().any(|c| {
                    c.get("type").and_then(|t| t.as_str()) == Some("Ready")
                        && c.get("status").and_then(|s| s.as_str()) == Some("True")
                })
            });
        Self {
            name: text("metadata.name"),
            namespace: text("metadata.namespace"),
            phase: text("status.phase"),
            ready,
            generation: lookup(object, "metadata.generation")
                .and_then(|g| g.as_i64())
                .unwrap_or(0),
        }
    }
}

/// The value at a dot path (`spec.email`) of `object`.
fn lookup<'a>(object: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(object, |v, segment| v.get(segment))
}

/// A value as the `?field=` text: strings bare, absent as empty, others as JSON.
fn render(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Time since `metadata.creationTimestamp`, as a Go duration; `0s` when unknown.
fn age(object: &serde_json::Value, now: OffsetDateTime) -> String {
    let created = lookup(object, "metadata.creationTimestamp")
        .and_then(|c| c.as_str())
        .and_then(|c| OffsetDateTime::parse(c, &Rfc3339).ok());
    let elapsed = created
        .map(|c| Duration::try_from(now - c).unwrap_or_default())
        .unwrap_or_default();
    format_go_duration(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn object() -> serde_json::Value {
        json!({
            "metadata": {"name": "site", "namespace": "web", "generation": 3,
                         "creationTimestamp": "2026-07-02T05:00:00Z"},
            "spec": {"email": "a@b.c", "replicas": 2},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        })
    }

    #[test]
    fn an_item_reads_phase_readiness_age_and_the_asked_field() {
        let item = item(
            &object(),
            Some("spec.email"),
            datetime!(2026-07-02 05:04:32 UTC),
        );
        assert_eq!(item.name, "site");
        assert_eq!(item.phase, "Running");
        assert!(item.ready);
        assert_eq!(item.age, "4m32s");
        assert_eq!(item.generation, 3);
        assert_eq!(item.value.as_deref(), Some("a@b.c"));
    }

    #[test]
    fn a_missing_or_structured_field_renders_as_text() {
        let now = datetime!(2026-07-02 05:00:00 UTC);
        assert_eq!(
            item(&object(), Some("spec.nope"), now).value.as_deref(),
            Some("")
        );
        assert_eq!(
            item(&object(), Some("spec.replicas"), now).value.as_deref(),
            Some("2")
        );
        assert_eq!(item(&object(), None, now).value, None);
    }

    #[test]
    fn a_cluster_scoped_detail_links_events_without_namespace() {
        let mut object = object();
        object["metadata"]["namespace"] = serde_json::Value::Null;
        let detail = detail("site", &object, BTreeMap::new());
        assert_eq!(detail.events_endpoint, "/katalog/site/cr/site/events");
    }
}
