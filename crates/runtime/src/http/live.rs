//! [`LiveView`]: the [`RuntimeView`] of a running `ork run` process, read from its
//! OperatorBoxes (health, cache, queue, workers), its [`Metrics`] and its leadership.
//!
//! The boxes come and go with leadership: [`LiveView::set_boxes`] when this replica starts
//! leading, [`LiveView::clear_boxes`] when it stops. Without boxes every CRD reports
//! `pending`, as a follower's do.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DynamicObject, ListParams};
use kube::runtime::reflector::Store;
use time::OffsetDateTime;

use super::children::Children;
use super::settings::CrdSettings;
use super::view::{ChildView, CrdView, EventView, KatalogView, Probes, RuntimeView};
use crate::Metrics;
use crate::go_format::format_go_duration;
use crate::operator_box::OperatorBox;
use crate::operator_box::autoscale::Stats;
use crate::operator_box::children::{ChildCache, ChildIndex};
use crate::work::{ActiveWorkers, Health, Intake};

/// What the view reads of one running box.
#[derive(Clone)]
struct BoxHandle {
    health: Health,
    store: Store<DynamicObject>,
    queue: Intake,
    active: ActiveWorkers,
    stats: Stats,
    /// The box's watch cache of its CRs' children: presence as fresh as its watches.
    children: ChildIndex,
}

/// The static part of one CRD.
#[derive(Clone, Debug)]
struct CrdStatic {
    name: String,
    gvk: String,
    /// apiVersion and kind of its CRs, as Events refer to them.
    api_version: String,
    kind: String,
    enabled: bool,
    namespace: String,
    workers: usize,
    workers_source: String,
    resync: std::time::Duration,
    failure_threshold: u32,
    rbac: Vec<serde_json::Value>,
    settings: CrdSettings,
    /// The kinds of children its templates declare (apiVersion, kind).
    child_kinds: Vec<(String, String)>,
}

/// The view of a running process. Cheap to share behind an `Arc`.
pub struct LiveView {
    katalog: KatalogView,
    crds: Vec<CrdStatic>,
    metrics: Metrics,
    client: Option<kube::Client>,
    children: Option<Children>,
    boxes: RwLock<BTreeMap<String, BoxHandle>>,
    leading: AtomicBool,
    started: AtomicBool,
    shutting_down: AtomicBool,
}

impl LiveView {
    /// A view of `loaded`, with no box running yet and boot not finished. `client` is used
    /// for children and Events (none are shown without it).
    pub fn new(
        loaded: &katalog::Loaded,
        metrics: Metrics,
        client: Option<kube::Client>,
        gateway_endpoint: &str,
    ) -> Self {
        let katalog = &loaded.katalog;
        let needs = katalog::rbac::Needs::from_katalog(katalog);
        let rules = katalog::rbac::runtime_rules(&needs);
        let crds: Vec<CrdStatic> = katalog
            .crds
            .iter()
            .map(|crd| {
                let group = crd.gvk().group.clone();
                let rbac = rules
                    .iter()
                    .filter(|r| {
                        r.api_groups.contains(&group)
                            && r.resources
                                .iter()
                                .any(|x| x == &crd.plural || *x == format!("{}/status", crd.plural))
                    })
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .collect();
                CrdStatic {
                    name: crd.name.clone(),
                    gvk: crd.gvk().to_string(),
                    api_version: crd.gvk().api_version(),
                    kind: crd.gvk().kind.clone(),
                    enabled: crd.enabled,
                    namespace: crd.entry.namespace.clone().unwrap_or_default(),
                    workers: usize::try_from(crd.settings.workers).unwrap_or(usize::MAX),
                    workers_source: format!("{:?}", crd.settings.workers_source).to_lowercase(),
                    resync: crd.settings.resync,
                    failure_threshold: crd.settings.failure_threshold,
                    rbac,
                    settings: CrdSettings::of(katalog, crd),
                    child_kinds: crate::reconcile::child_kinds_of(crd),
                }
            })
            .collect();
        let enriched_crds: BTreeMap<String, serde_json::Value> =
            crds.iter().map(|c| (c.name.clone(), enriched(c))).collect();
        let view = KatalogView {
            name: katalog.name.clone(),
            version: katalog
                .document
                .metadata
                .version
                .clone()
                .unwrap_or_default(),
            raw: loaded.raw.clone(),
            enriched: serde_json::json!({
                "name": katalog.name,
                "crds": enriched_crds,
            }),
            raw_crds: BTreeMap::new(),
            enriched_crds,
            gateway_endpoint: gateway_endpoint.to_owned(),
        };
        Self {
            katalog: view,
            crds,
            metrics,
            children: client.clone().map(Children::new),
            client,
            boxes: RwLock::default(),
            leading: AtomicBool::new(false),
            started: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
        }
    }

    /// Boot finished: `/startup` and `/ready` answer 200 from now on.
    pub fn mark_started(&self) {
        self.started.store(true, Ordering::SeqCst);
    }

    /// Shutdown began: `/ready` answers 503 from now on.
    pub fn mark_shutting_down(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether this replica leads (shown as `isKonductor`).
    pub fn set_leading(&self, leading: bool) {
        self.leading.store(leading, Ordering::SeqCst);
    }

    /// The boxes now running.
    pub fn set_boxes(&self, boxes: &[OperatorBox]) {
        let handles = boxes
            .iter()
            .map(|b| {
                (
                    b.name().to_owned(),
                    BoxHandle {
                        health: b.health().clone(),
                        stats: b.stats().clone(),
                        store: b.store().clone(),
                        queue: b.intake().clone(),
                        active: b.active(),
                        children: b.children().clone(),
                    },
                )
            })
            .collect();
        *self.boxes.write().unwrap_or_else(|p| p.into_inner()) = handles;
    }

    /// No box runs any more (this replica stopped leading, or is shutting down).
    pub fn clear_boxes(&self) {
        self.boxes
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn handle(&self, crd: &str) -> Option<BoxHandle> {
        self.boxes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(crd)
            .cloned()
    }
}

/// The `/katalog/{crd}/enriched` entry: the settings in force, defaults applied.
fn enriched(crd: &CrdStatic) -> serde_json::Value {
    serde_json::json!({
        "name": crd.name,
        "gvk": crd.gvk,
        "enabled": crd.enabled,
        "namespace": crd.namespace,
        "workers": crd.workers,
        "resync": format_go_duration(crd.resync),
        "failureThreshold": crd.failure_threshold,
    })
}

impl RuntimeView for LiveView {
    fn katalog(&self) -> KatalogView {
        self.katalog.clone()
    }

    fn probes(&self) -> Probes {
        Probes {
            started: self.started.load(Ordering::SeqCst),
            shutting_down: self.shutting_down.load(Ordering::SeqCst),
            fatal: false,
        }
    }

    fn is_konductor(&self) -> bool {
        self.leading.load(Ordering::SeqCst)
    }

    fn crds(&self) -> Vec<CrdView> {
        self.crds
            .iter()
            .map(|crd| {
                let handle = self.handle(&crd.name);
                let mut health = match &handle {
                    Some(h) => h.health.snapshot(&crd.name),
                    None => Health::new(crd.failure_threshold).snapshot(&crd.name),
                };
                let mut settings = crd.settings.clone();
                let (mut workers, mut workers_source) = (crd.workers, crd.workers_source.clone());
                if let Some(h) = &handle {
                    health.queue_depth = h.queue.len();
                    health.resource_count = h.store.len();
                    if h.stats.scale_active() {
                        settings.autoscaler.active = true;
                        workers = h.stats.workers();
                        workers_source = "autoscaler".to_owned();
                    }
                }
                health.is_konductor = self.is_konductor();
                let (rollback_total, rollback_active) = self.metrics.crd(&crd.name).rollbacks();
                CrdView {
                    name: crd.name.clone(),
                    gvk: crd.gvk.clone(),
                    enabled: crd.enabled,
                    namespace: crd.namespace.clone(),
                    workers,
                    workers_source,
                    resync: crd.resync,
                    rbac: crd.rbac.clone(),
                    health,
                    rollback_total,
                    rollback_active,
                    settings,
                }
            })
            .collect()
    }

    fn objects(&self, crd: &str) -> Option<Vec<serde_json::Value>> {
        if !self.crds.iter().any(|c| c.name == crd) {
            return None;
        }
        let Some(handle) = self.handle(crd) else {
            return Some(Vec::new());
        };
        Some(
            handle
                .store
                .state()
                .iter()
                .filter_map(|o| serde_json::to_value(o.as_ref()).ok())
                .collect(),
        )
    }

    async fn children(
        &self,
        crd: &str,
        cr: &serde_json::Value,
    ) -> BTreeMap<String, Vec<ChildView>> {
        let (Some(children), Some(found)) =
            (&self.children, self.crds.iter().find(|c| c.name == crd))
        else {
            return BTreeMap::new();
        };
        let index = self.handle(crd).map(|h| h.children);
        children
            .of(
                crd,
                cr,
                &found.child_kinds,
                index.as_ref().map(|i| i as &dyn ChildCache),
            )
            .await
    }

    async fn events(&self, crd: &str, namespace: &str, name: &str) -> Vec<EventView> {
        let (Some(client), Some(found)) = (&self.client, self.crds.iter().find(|c| c.name == crd))
        else {
            return Vec::new();
        };
        let api: Api<Event> = if namespace.is_empty() {
            Api::all(client.clone())
        } else {
            Api::namespaced(client.clone(), namespace)
        };
        // Only this CR's Events: the server filters on name and kind; the apiVersion and
        // namespace are checked below (a child of the same name and kind elsewhere, or of
        // another group, is not this CR).
        let params = ListParams::default().fields(&format!(
            "regarding.name={name},regarding.kind={}",
            found.kind
        ));
        let list = match api.list(&params).await {
            Ok(list) => list,
            Err(error) => {
                let hint = match &error {
                    kube::Error::Api(e) if e.code == 403 => {
                        "forbidden: the runtime's role needs list on events.events.k8s.io"
                    }
                    _ => "the API server refused the list",
                };
                tracing::warn!(crd, namespace, name, error = %error, hint,
                    "Events not shown");
                return Vec::new();
            }
        };
        let now = OffsetDateTime::now_utc();
        let mut events: Vec<(i128, EventView)> = list
            .items
            .into_iter()
            .filter(|e| {
                e.regarding.as_ref().is_some_and(|r| {
                    r.name.as_deref() == Some(name)
                        && r.kind.as_deref() == Some(found.kind.as_str())
                        && r.api_version.as_deref() == Some(found.api_version.as_str())
                        && r.namespace.as_deref().unwrap_or_default() == namespace
                })
            })
            .map(|e| {
                let at = e
                    .series
                    .as_ref()
                    .map(|s| s.last_observed_time.0)
                    .or_else(|| e.event_time.as_ref().map(|t| t.0))
                    .or_else(|| e.deprecated_last_timestamp.as_ref().map(|t| t.0))
                    .map_or(0, |t| t.as_nanosecond());
                let age = OffsetDateTime::from_unix_timestamp_nanos(at)
                    .ok()
                    .and_then(|t| std::time::Duration::try_from(now - t).ok())
                    .unwrap_or_default();
                (
                    at,
                    EventView {
                        type_: e.type_.unwrap_or_default(),
                        reason: e.reason.unwrap_or_default(),
                        message: e.note.unwrap_or_default(),
                        age: format_go_duration(age),
                    },
                )
            })
            .collect();
        events.sort_by_key(|e| std::cmp::Reverse(e.0));
        events.into_iter().map(|(_, e)| e).take(100).collect()
    }

    fn metrics(&self) -> String {
        for (name, handle) in self.boxes.read().unwrap_or_else(|p| p.into_inner()).iter() {
            let crd = self.metrics.crd(name);
            crd.set_queue_depth(handle.queue.len());
            crd.set_workers_active(handle.active.get());
            crd.set_resource_count(handle.store.len());
        }
        self.metrics.encode()
    }
}
