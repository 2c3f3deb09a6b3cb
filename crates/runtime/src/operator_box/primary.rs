//! The primary watch of one box (its CRs, whole objects) turned into keys in its queue, the
//! resync tick and the gauges; and [`Watch`], the handles every watch loop of the box shares
//! (the child watches are in [`child_watches`](super::child_watches)).
//!
//! What the primary watch queues and forgets is decided by [`Seen`], a pure state machine
//! with its own tests; this loop only carries its effects out. Every loop here runs until the
//! box aborts it. Watch errors (API server unreachable, kind not served yet, access denied)
//! are retried with backoff, logged, and recorded in the box's [`Health`]; they never end a
//! loop. Child watches use kube's default backoff (0.8 s doubling to 30 s, with jitter); the
//! primary watch caps at 10 s, so a CRD created after `ork run` started is picked up within
//! about 10 s, as Orkestra's local-mode `retryMissingCRDs` does.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject, ObjectMeta};
use kube::runtime::reflector::{Store, store::Writer};
use kube::runtime::watcher::{self, Event};

use super::BoxConfig;
use super::relist::relisting;
use crate::managed_fields::compact_all;
use crate::metrics::CrdMetrics;
use crate::seen::{Effect, Seen};
use crate::work::{ActiveWorkers, Added, Fired, Health, Intake, Key};
use serde_json::{Map, Value};

/// How often the gauges (queue depth, active workers, cached objects) are refreshed.
const GAUGE_PERIOD: Duration = Duration::from_secs(1);

/// The primary watch's retry delays: 0.5 s doubling to 10 s, reset after a success.
#[derive(Clone, Copy, Debug)]
struct MissingCrdBackoff {
    next: Duration,
}

impl MissingCrdBackoff {
    const FIRST: Duration = Duration::from_millis(500);
    const MAX: Duration = Duration::from_secs(10);
}

impl Default for MissingCrdBackoff {
    fn default() -> Self {
        Self { next: Self::FIRST }
    }
}

impl Iterator for MissingCrdBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.next;
        self.next = (delay * 2).min(Self::MAX);
        Some(delay)
    }
}

impl kube::runtime::utils::Backoff for MissingCrdBackoff {
    fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

/// What the primary watch tells of a gone CR: its key and its uid.
pub(super) type Gone = dyn Fn(&Key, &str) + Send + Sync;

/// Asked, with its uid, of a CR whose status alone the box itself changed: whether to
/// reconcile it again ([`Reconcile::again_after_status`](super::Reconcile::again_after_status)).
pub(super) type Again = dyn Fn(&str) -> bool + Send + Sync;

/// What every watch loop of a box shares (all handles; cloning is cheap).
#[derive(Clone)]
pub(super) struct Watch {
    pub(super) client: Client,
    pub(super) config: Arc<BoxConfig>,
    pub(super) intake: Intake,
    pub(super) health: Health,
    /// Turns true once the primary list is complete in the store (and stays true).
    pub(super) synced: Arc<tokio::sync::watch::Sender<bool>>,
    /// True while the store is current: a list is complete and no watch error came since
    /// (see [`relist`](super::relist)). Workers wait for it before they read the store.
    pub(super) current: Arc<tokio::sync::watch::Sender<bool>>,
    /// The resync period in force (the autoscaler may change it; zero: no resync).
    pub(super) resync_period: tokio::sync::watch::Receiver<Duration>,
    /// The sentinels of queued keys, for the reconcile gate.
    pub(super) pending: super::gate::Pending,
    /// Renders the enqueue gate's templated fields (the reconcile's engine).
    pub(super) render: Arc<katalog::build::EngineRender>,
    pub(super) store: Store<DynamicObject>,
    /// Told the key and uid of each CR that is gone, so the reconcile can forget it and the
    /// box delete its children.
    pub(super) gone: Arc<Gone>,
    /// Asked whether a status-only change is the box's own write and worth another
    /// reconcile.
    pub(super) again: Arc<Again>,
    /// Counts the items `queue.behaviour` drops.
    pub(super) metrics: CrdMetrics,
    /// The last event number given out (`reconcileGate.eventAware`).
    pub(super) events: Arc<AtomicU64>,
}

impl Watch {
    /// Lists and watches the CRD's objects into the store, queueing each object whose spec or
    /// metadata changed.
    ///
    /// Keys of a (re)list are queued once the list is complete and in the store. A change of
    /// status alone queues the CR only when the box wrote it and its reconcile asked for
    /// another look ([`Reconcile::again_after_status`](super::Reconcile::again_after_status)):
    /// anyone else's status write changes nothing a reconcile reacts to (resync still visits
    /// every object). After a watch error the store is
    /// not current until the next list is complete (see [`relist`](super::relist)).
    pub(super) async fn primary(self, mut writer: Writer<DynamicObject>) {
        let resource = &self.config.resource;
        let api: Api<DynamicObject> = match &self.config.namespace {
            Some(namespace) if self.config.namespaced => {
                Api::namespaced_with(self.client.clone(), namespace, resource)
            }
            _ => Api::all_with(self.client.clone(), resource),
        };
        let mut config = watcher::Config::default();
        if let Some(labels) = &self.config.label_selector {
            config = config.labels(labels);
        }
        if let Some(fields) = &self.config.field_selector {
            config = config.fields(fields);
        }
        let mut events = pin!(relisting(api, config, MissingCrdBackoff::default()));
        let mut seen = Seen::default();
        let mut failing = false;
        while let Some(event) = events.next().await {
            let event = match event {
                // Cached with digests for managed fields (see `managed_fields`).
                Ok(event) => event.modify(|cr| compact_all(&mut cr.metadata)),
                Err(error) => {
                    self.current.send_replace(false);
                    self.failed("primary", &error, &mut failing);
                    continue;
                }
            };
            // `Init` comes before the list request (see `relist`): only what follows it says
            // the API server answered.
            if !matches!(event, Event::Init) {
                self.recovered("primary", &mut failing);
            }
            // What the cache held before this event, for sentinels.
            let old = match &event {
                Event::Apply(object) if self.config.gates.has_sentinels() => {
                    Key::of(&object.metadata)
                        .and_then(|key| self.store.get(&key.object_ref(resource)))
                }
                _ => None,
            };
            writer.apply_watcher_event(&event);
            if let Event::Apply(object) | Event::Delete(object) = &event {
                // Cross readers see every change, status included.
                self.report_change(&object.metadata);
            }
            for effect in seen.step(&event) {
                match effect {
                    Effect::Created(key) | Effect::Changed(key) => {
                        // The reconcile's own metadata write (finalizers, tracking labels)
                        // needs no second reconcile: it went on with the object it wrote.
                        if let Event::Apply(object) = &event
                            && !self.is_own_write(&object.metadata)
                        {
                            self.add_gated(key, old.as_deref(), object);
                        }
                    }
                    // Changed while the watch was down: in the store since the list ended.
                    Effect::Relisted(key) => {
                        if let Some(object) = self.store.get(&key.object_ref(resource)) {
                            self.add_gated(key, None, &object);
                        }
                    }
                    Effect::Deleted {
                        key,
                        uid: Some(uid),
                    }
                    | Effect::Missed {
                        key,
                        uid: Some(uid),
                    } => (self.gone)(&key, &uid),
                    Effect::Listed => {
                        self.synced.send_replace(true);
                        self.current.send_replace(true);
                        if let Some(sources) = &self.config.sources {
                            sources.relisted(&self.config.name);
                        }
                    }
                    // A status write: the box's own may be worth another reconcile. Only
                    // the box marks a CR, just before its status patch; the managed fields
                    // cannot tell (their times have one-second resolution, and the CR's
                    // create is often in the same second).
                    Effect::Unchanged(key) => {
                        if let Event::Apply(object) = &event
                            && let Some(uid) = &object.metadata.uid
                            && (self.again)(uid)
                        {
                            // A CR event as Orkestra's, so the enqueue gate judges it (a
                            // `generationChanged` sentinel holds it).
                            self.add_gated(key, old.as_deref(), object);
                        }
                    }
                    Effect::Deleted { .. } | Effect::Missed { .. } => {}
                }
            }
        }
    }

    /// Queues every cached object again, every resync period (which may change while the
    /// box runs; zero turns resync off).
    pub(super) async fn resync(mut self) {
        let mut open = true;
        loop {
            let period = *self.resync_period.borrow_and_update();
            tokio::select! {
                () = tokio::time::sleep(period), if !period.is_zero() => {
                    for object in self.store.state() {
                        if let Some(key) = Key::of(&object.metadata) {
                            self.add_gated(key, Some(&object), &object);
                        }
                    }
                }
                changed = self.resync_period.changed(), if open => open = changed.is_ok(),
                else => return,
            }
        }
    }

    /// Keeps the box's gauges current.
    pub(super) async fn gauges(self, metrics: CrdMetrics, active: ActiveWorkers) {
        let mut tick = tokio::time::interval(GAUGE_PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            metrics.set_queue_depth(self.intake.len());
            metrics.set_workers_active(active.get());
            metrics.set_resource_count(self.store.len());
        }
    }

    /// Whether the box's field manager made the object's newest change (see
    /// [`BoxConfig::field_manager`]). A deletion in progress is never the box's own: deleting
    /// records no managed fields.
    pub(super) fn is_own_write(&self, meta: &ObjectMeta) -> bool {
        meta.deletion_timestamp.is_none()
            && self
                .config
                .field_manager
                .as_deref()
                .is_some_and(|manager| is_last_written_by(meta, manager))
    }

    /// Tells the boxes that read this CRD through `cross:` that one of its objects changed
    /// or went away (see [`BoxConfig::sources`]).
    fn report_change(&self, meta: &ObjectMeta) {
        if let Some(sources) = &self.config.sources {
            sources.changed(&self.config.name, meta);
        }
    }

    /// Queues `key` for a change of its CR from `old` (`None`: new to the cache) to `new`,
    /// unless the enqueue gate holds it back or `queue.behaviour` drops it; remembers the
    /// event's sentinels for the reconcile gate. A CR being deleted is never held.
    fn add_gated(&self, key: Key, old: Option<&DynamicObject>, new: &DynamicObject) {
        let gates = &self.config.gates;
        if gates.is_empty() && !gates.has_sentinels() {
            self.add(key, &Map::new());
            return;
        }
        let sentinels = gates.sentinels(old, new);
        if let Some(gate) = &gates.enqueue
            && new.metadata.deletion_timestamp.is_none()
        {
            let cr = serde_json::to_value(new).unwrap_or_default();
            if !gate.passes(&cr, &sentinels, &self.render) {
                tracing::debug!(crd = %self.config.name, %key, "the enqueue gate holds the CR");
                return;
            }
        }
        let key = if gates.event_aware {
            key.for_event(self.events.fetch_add(1, Ordering::Relaxed) + 1)
        } else {
            key
        };
        // Remembered before the key is queued, so a worker never takes it without them.
        if gates.reconcile.is_some() {
            self.pending.put(key.clone(), sentinels.clone());
        }
        if !self.add(key.clone(), &sentinels) && gates.reconcile.is_some() {
            self.pending.take(&key);
        }
    }

    /// Queues `key` for a trigger other than a change of its CR (a child's drift, a `watch:`
    /// or `cross` trigger), unless the CRD's enqueue gate holds the cached CR back (see
    /// [`Gate::passes_trigger`](super::gate::Gate::passes_trigger)). A CR being deleted, or
    /// not in the cache, is never held.
    pub(super) fn add_triggered(&self, key: Key) {
        if let Some(gate) = &self.config.gates.enqueue
            && let Some(cr) = self.store.get(&key.object_ref(&self.config.resource))
            && cr.metadata.deletion_timestamp.is_none()
        {
            let cr = serde_json::to_value(&*cr).unwrap_or_default();
            if !gate.passes_trigger(&cr, &self.render) {
                tracing::debug!(crd = %self.config.name, %key, "the enqueue gate holds the triggered CR");
                return;
            }
        }
        self.add(key, &Map::new());
    }

    /// Queues `key`, for an event with `sentinels`, unless `queue.behaviour` drops it (logged
    /// and counted; the next resync queues it again). False when it was dropped, or the box
    /// is inactive.
    pub(super) fn add(&self, key: Key, sentinels: &Map<String, Value>) -> bool {
        let Some(queue) = self.intake.current() else {
            return false;
        };
        let behaviour = &self.config.behaviour;
        // A key already waiting is merged: there is nothing to drop.
        if !behaviour.is_empty() && !queue.is_waiting(&key) {
            let (depth, limit) = (queue.len(), queue.max_depth());
            let mut cr = None;
            let fired = behaviour.drops(depth, limit, |conditions| {
                let cr = cr.get_or_insert_with(|| {
                    self.store
                        .get(&key.object_ref(&self.config.resource))
                        .and_then(|o| serde_json::to_value(&*o).ok())
                        .unwrap_or_default()
                });
                conditions.holds(cr, sentinels, &self.render)
            });
            if let Some(fired) = fired {
                let rule = match fired {
                    Fired::Threshold => "onThreshold",
                    Fired::Limit => "onLimit",
                };
                tracing::warn!(
                    crd = %self.config.name,
                    %key,
                    depth,
                    limit,
                    rule,
                    "enqueue: queue depth limit reached — item dropped"
                );
                self.metrics.record_queue_drop(rule);
                return false;
            }
        }
        queue.add(key) != Added::Closed
    }

    pub(super) fn failed(&self, watch: &str, error: &watcher::Error, failing: &mut bool) {
        let message = format!("{watch} watch: {error}");
        tracing::warn!(crd = %self.config.name, error = %message, "watch failed; retrying with backoff");
        self.health.set_watch_error(watch, &message);
        *failing = true;
    }

    pub(super) fn recovered(&self, watch: &str, failing: &mut bool) {
        if std::mem::take(failing) {
            tracing::info!(crd = %self.config.name, watch, "watch recovered");
            self.health.clear_watch_error(watch);
        }
    }
}

/// Whether `manager` made the newest change recorded in the object's managed fields (strictly
/// newer than every other manager's; the times have one-second resolution, so a tie counts as
/// someone else's change).
pub(super) fn is_last_written_by(meta: &ObjectMeta, manager: &str) -> bool {
    let newest = |ours: bool| {
        meta.managed_fields
            .iter()
            .flatten()
            .filter(|entry| (entry.manager.as_deref() == Some(manager)) == ours)
            .filter_map(|entry| entry.time.as_ref().map(|t| t.0))
            .max()
    };
    match (newest(true), newest(false)) {
        (Some(ours), Some(theirs)) => ours > theirs,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, Time};

    #[test]
    fn the_primary_backoff_doubles_to_ten_seconds_and_resets() {
        use kube::runtime::utils::Backoff as _;
        let mut backoff = MissingCrdBackoff::default();
        let delays: Vec<u64> = backoff
            .by_ref()
            .take(7)
            .map(|d| d.as_millis() as u64)
            .collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        backoff.reset();
        assert_eq!(backoff.next(), Some(Duration::from_millis(500)));
    }
    fn written(manager: &str, second: i64) -> ManagedFieldsEntry {
        ManagedFieldsEntry {
            manager: Some(manager.into()),
            operation: Some("Apply".into()),
            time: Some(Time(
                k8s_openapi::jiff::Timestamp::from_second(second).unwrap(),
            )),
            ..ManagedFieldsEntry::default()
        }
    }

    #[test]
    fn only_a_strictly_newest_change_of_our_own_counts_as_ours() {
        let mut child = ObjectMeta::default();
        assert!(!is_last_written_by(&child, "orkestra"));
        child.managed_fields = Some(vec![written("orkestra", 100)]);
        assert!(is_last_written_by(&child, "orkestra"));
        child.managed_fields = Some(vec![written("orkestra", 100), written("kubectl-edit", 90)]);
        assert!(is_last_written_by(&child, "orkestra"));
        child.managed_fields = Some(vec![written("orkestra", 100), written("kubectl-edit", 100)]);
        assert!(!is_last_written_by(&child, "orkestra"));
        child.managed_fields = Some(vec![
            written("orkestra", 100),
            written("kube-controller-manager", 101),
        ]);
        assert!(!is_last_written_by(&child, "orkestra"));
    }
}
