//! What the HTTP API reads: the [`RuntimeView`] trait the supervisor implements, and the plain
//! data it hands over. The handlers turn these into the JSON shapes of §14.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use super::settings::CrdSettings;
use crate::HealthSnapshot;

/// A read-only window on a running process, implemented by the supervisor (and by fixtures in
/// tests). Every method is cheap except [`RuntimeView::children`] and
/// [`RuntimeView::events`], which may call the API server and should cache.
pub trait RuntimeView: Send + Sync + 'static {
    /// The Katalog this process runs.
    fn katalog(&self) -> KatalogView;

    /// The process's own state for the probes.
    fn probes(&self) -> Probes;

    /// Whether this replica holds the Lease.
    fn is_konductor(&self) -> bool;

    /// Every CRD of the Katalog (enabled or not), in declaration order.
    fn crds(&self) -> Vec<CrdView>;

    /// The CRs of `crd` in the watch cache, as JSON objects; `None` for an unknown CRD.
    fn objects(&self, crd: &str) -> Option<Vec<serde_json::Value>>;

    /// The children of `cr` (one of [`RuntimeView::objects`] of `crd`), grouped by kind.
    fn children(
        &self,
        crd: &str,
        cr: &serde_json::Value,
    ) -> impl Future<Output = BTreeMap<String, Vec<ChildView>>> + Send;

    /// Events about one CR, newest first, at most 100.
    fn events(
        &self,
        crd: &str,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Vec<EventView>> + Send;

    /// The metrics in OpenMetrics text.
    fn metrics(&self) -> String;
}

/// The Katalog as the API shows it.
#[derive(Clone, Debug, Default)]
pub struct KatalogView {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.version` (or empty).
    pub version: String,
    /// The Katalog exactly as written (YAML text).
    pub raw: String,
    /// The Katalog with every default applied, as JSON.
    pub enriched: serde_json::Value,
    /// Per CRD name, its entry as written.
    pub raw_crds: BTreeMap<String, serde_json::Value>,
    /// Per CRD name, its entry with every default applied.
    pub enriched_crds: BTreeMap<String, serde_json::Value>,
    /// The gateway URL advertised (`ORK_GATEWAY_ENDPOINT`), or empty.
    pub gateway_endpoint: String,
}

/// What the probes report about the process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Probes {
    /// Boot finished: the Katalog loaded, caches synced, the election running.
    pub started: bool,
    /// Shutdown began: `/ready` answers 503 from then on.
    pub shutting_down: bool,
    /// Something broke that only a restart mends: `/health` answers 500.
    pub fatal: bool,
}

/// One CRD's settings and live state.
#[derive(Clone, Debug)]
pub struct CrdView {
    /// The name in the Katalog.
    pub name: String,
    /// `group/version, Kind=Kind`, as Go prints a GroupVersionKind.
    pub gvk: String,
    /// Whether the CRD is enabled in the Katalog.
    pub enabled: bool,
    /// The namespace its CRs are watched in; empty for all namespaces.
    pub namespace: String,
    /// Workers running (or configured, when not started).
    pub workers: usize,
    /// Where the worker count comes from: `default`, `katalog` or `autoscaler`.
    pub workers_source: String,
    /// Resync period.
    pub resync: Duration,
    /// The RBAC rules this CRD needs, as JSON policy rules.
    pub rbac: Vec<serde_json::Value>,
    /// The live health, with queue depth and resource count filled in.
    pub health: HealthSnapshot,
    /// Rollbacks to a CR's last successful spec since start (spec §12.7).
    pub rollback_total: u64,
    /// CRs held at their last successful spec now.
    pub rollback_active: i64,
    /// What the Katalog entry declares: visible routes, gateway features, autoscaler.
    pub settings: CrdSettings,
}

/// A child object of a CR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChildView {
    /// Its name.
    pub name: String,
    /// Its namespace (empty when cluster-scoped).
    pub namespace: String,
    /// Its uid: a child deleted and created again has a new one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// Whether it is ready, for kinds that have a readiness notion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
}

/// One Event about a CR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventView {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Its reason.
    pub reason: String,
    /// Its message.
    pub message: String,
    /// Time since it last happened, as a Go duration (`2s`).
    pub age: String,
}
