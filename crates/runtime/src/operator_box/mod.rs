//! One OperatorBox per CRD: its own watch, queue, workers and health, so that a panic or a
//! flood in one box never slows another.
//!
//! An [`OperatorBox`] is a pipeline that reads top to bottom:
//!
//! 1. the **primary watch** (`primary.rs`) lists and watches the CRD's objects into a
//!    reflector store and queues the key of every object whose spec or metadata changed;
//! 2. one **child watch** per kind the CRD produces, shared with every other box of the process
//!    that produces the kind ([`child_watches::ChildWatches`]), watches the objects labelled
//!    `orkestra.orkspace.io/managed=true` into one cache the box reads through its
//!    [`children::ChildIndex`] view (which the reconcile reads instead of listing, and which
//!    shows only the box's own children), and queues the *owner* of a changed or deleted
//!    child, so drift is corrected within a second;
//! 3. a **resync** tick queues every cached object again;
//! 4. the [`Queue`] dedupes and rate-limits, and the [`Workers`] run [`Reconcile::reconcile`]
//!    on the object as cached (never a GET), catching panics; after a primary watch error
//!    they wait until the watch has listed again (`relist.rs`), so no reconcile decides on
//!    an object older than the API server's;
//! 5. [`Health`] and [`CrdMetrics`] observe every reconcile.
//!
//! Beside the pipeline, when the primary watch learns that a CR is gone, an active box
//! deletes the children it caches for it (and those its reconcile wrote that the cache has not
//! seen yet) at once ([`cleanup`]), in a task of its own, instead of waiting for the garbage
//! collector; a reconcile still running then reports the CR gone again when it ends.
//!
//! Nothing mutable is shared between boxes but the child watches and their cache: each has its
//! own primary watch, store, queue, workers, health and series.

pub mod autoscale;
pub mod child_watches;
pub mod children;
pub mod cleanup;
mod event_gate;
pub mod gate;
mod primary;
mod relist;
pub mod watch_gate;

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kube::Client;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::{self, Store};
use tokio::task::JoinSet;

use crate::discovery::Discovery;
use crate::metrics::CrdMetrics;
use crate::observe::{Cross, Dependent, Primary, Secondary, Source, Sources, secondary};
use crate::work::{
    Action, ActiveWorkers, Behaviour, Health, Intake, Key, Queue, QueueConfig, Rule, Workers,
    WorkersConfig, workers,
};
use autoscale::{Autoscaler, Baseline, Plan, Scale, Stats};
use child_watches::ChildWatches;
use children::ChildCache;

/// Errors of stopping a box.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Some reconciles outlived the stop timeout and were aborted.
    #[error("stopping the workers of {crd}")]
    StopFailed {
        /// The CRD's name in the Katalog.
        crd: String,
        /// Why.
        #[source]
        source: workers::Error,
    },
}

/// What a box runs for each CR: the per-CR reconcile (`reconcile::Reconciler`, or a stand-in
/// in tests).
pub trait Reconcile: Send + Sync + 'static {
    /// Why a reconcile failed.
    type Error: fmt::Display + Send + 'static;

    /// Drives one CR, as read from the box's cache, toward its declaration. `stats` are the
    /// box's live numbers (templates read them as `.metrics`).
    fn reconcile(
        &self,
        cr: Arc<DynamicObject>,
        stats: &Stats,
    ) -> impl Future<Output = Result<Action, Self::Error>> + Send;

    /// The `(apiVersion, kind)` of every kind of child this CRD produces; the box watches
    /// each for drift.
    fn child_kinds(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The box's cache of the children of its CRs, to read instead of listing them. Called
    /// once, when the box starts watching.
    fn use_child_cache(&self, cache: Arc<dyn ChildCache>) {
        let _ = cache;
    }

    /// The box's cache of its own CRs (what `unique` rules compare against). Called once,
    /// when the box starts watching.
    fn use_primary_store(&self, store: Store<DynamicObject>) {
        let _ = store;
    }

    /// The CR with this uid is gone (deleted, or missing from a relist): drop whatever is
    /// remembered of it, and return the children written for it since it was last forgotten
    /// (the box deletes them with the cached ones, see [`cleanup`]). Called once when the
    /// primary watch reports the CR gone, and again when a reconcile of the CR ends after
    /// that.
    fn forget(&self, uid: &str) -> Vec<katalog::build::ObjectRef> {
        let _ = uid;
        Vec::new()
    }

    /// A change of the status alone of the CR with this uid reached the box's cache:
    /// whether it is the reconcile's own write, and worth reconciling the CR again. Called
    /// once per such change.
    fn again_after_status(&self, uid: &str) -> bool {
        let _ = uid;
        false
    }

    /// Whether a failure is worth retrying with backoff; false leaves the CR until it
    /// changes (an invalid spec).
    fn retry(error: &Self::Error) -> bool {
        let _ = error;
        true
    }

    /// The CRD's `cross:` declarations, if any: the box binds them to its
    /// [`BoxConfig::sources`] and queues its CRs again when an object they read changes.
    fn cross(&self) -> Option<Arc<Cross>> {
        None
    }

    /// The CRD's `external:` calls, if any: the reconcile gate makes its own
    /// (`preReconcile.external` and `reconcileGate.external`) before it decides.
    fn calls(&self) -> Option<Arc<crate::outbound::Calls>> {
        None
    }

    /// The template engine of the reconcile (with the Katalog's notes), which the box's gates
    /// and autoscaler render with too; `None`: a plain engine.
    fn render(&self) -> Option<Arc<katalog::build::EngineRender>> {
        None
    }
}

/// What one box watches and how it works: built from a Katalog's CRD entry with
/// [`BoxConfig::from_crd`], or by hand in tests.
#[derive(Clone, Debug)]
pub struct BoxConfig {
    name: String,
    resource: ApiResource,
    namespaced: bool,
    namespace: Option<String>,
    label_selector: Option<String>,
    field_selector: Option<String>,
    queue: QueueConfig,
    workers: WorkersConfig,
    resync: Duration,
    failure_threshold: u32,
    field_manager: Option<String>,
    autoscale: Option<Plan>,
    gates: Arc<gate::Gates>,
    behaviour: Arc<Behaviour<gate::Gate>>,
    secondary: Vec<Secondary>,
    events: Vec<crate::observe::events::EventWatch>,
    sources: Option<Sources>,
    child_watches: Option<ChildWatches>,
}

impl BoxConfig {
    /// A box named `name` for the objects of `resource`, with Orkestra's defaults: three
    /// workers, the default queue, a 30 s resync and a failure threshold of 5.
    pub fn new(name: impl Into<String>, resource: ApiResource, namespaced: bool) -> Self {
        Self {
            name: name.into(),
            resource,
            namespaced,
            namespace: None,
            label_selector: None,
            field_selector: None,
            queue: QueueConfig::default(),
            workers: WorkersConfig::default(),
            resync: katalog::model::DEFAULT_RESYNC,
            failure_threshold: katalog::model::DEFAULT_FAILURE_THRESHOLD,
            field_manager: None,
            autoscale: None,
            gates: Arc::default(),
            behaviour: Arc::default(),
            secondary: Vec::new(),
            events: Vec::new(),
            sources: None,
            child_watches: None,
        }
    }

    /// The box of a resolved CRD entry: its GVK and plural, scope, `namespace`,
    /// `labelSelector`, `fieldSelector`, and reconciler settings (`workers`, `resync`,
    /// `failureThreshold`, queue `maxDepth` and `retryBackoff`).
    pub fn from_crd(crd: &katalog::Crd) -> Self {
        let gvk = crd.gvk();
        let resource = ApiResource {
            group: gvk.group.clone(),
            version: gvk.version.clone(),
            api_version: gvk.api_version(),
            kind: gvk.kind.clone(),
            plural: crd.plural.clone(),
        };
        let settings = &crd.settings;
        let queue = QueueConfig::default()
            .base_delay(settings.retry.initial)
            .max_delay(settings.retry.max)
            .multiplier(settings.retry.multiplier)
            .max_attempts(settings.retry.max_attempts)
            .max_depth(usize::try_from(settings.max_depth).unwrap_or(usize::MAX));
        let workers = WorkersConfig::default().count(settings.workers as usize);
        let entry = &crd.entry;
        Self {
            namespace: entry.namespace.clone().filter(|n| !n.is_empty()),
            label_selector: entry.label_selector.as_ref().and_then(|l| selector(&l.0)),
            field_selector: entry.field_selector.as_ref().and_then(|f| selector(&f.0)),
            queue,
            workers,
            resync: settings.resync,
            failure_threshold: settings.failure_threshold,
            autoscale: Plan::of(crd, settings.workers as usize),
            gates: Arc::new(gate::Gates::of(crd)),
            behaviour: Arc::new(behaviour_of(settings.behaviour.as_ref())),
            secondary: Secondary::of_crd(crd),
            events: crate::observe::events::EventWatch::of_crd(crd),
            ..Self::new(crd.name.clone(), resource, crd.namespaced)
        }
    }

    /// Watch only this namespace (`None`: all).
    #[must_use]
    pub fn namespace(mut self, namespace: Option<String>) -> Self {
        self.namespace = namespace;
        self
    }

    /// Watch only objects matching this label selector (`a=b,c=d`).
    #[must_use]
    pub fn label_selector(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = Some(selector.into());
        self
    }

    /// The queue's limits.
    #[must_use]
    pub fn queue(mut self, queue: QueueConfig) -> Self {
        self.queue = queue;
        self
    }

    /// The worker pool's size and stop bound.
    #[must_use]
    pub fn workers(mut self, workers: WorkersConfig) -> Self {
        self.workers = workers;
        self
    }

    /// The field manager the reconcile writes with: changes of a CR or child whose newest
    /// managed-fields entry is this manager's are the reconcile's own and queue nothing (each
    /// watch event is judged alone, so a change by anyone else in between still queues).
    /// Unset (the default), every change queues.
    #[must_use]
    pub fn field_manager(mut self, manager: impl Into<String>) -> Self {
        self.field_manager = Some(manager.into());
        self
    }

    /// How long running reconciles get to finish when the box stops.
    #[must_use]
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.workers = self.workers.stop_timeout(timeout);
        self
    }

    /// How often every cached object is queued again.
    #[must_use]
    pub fn resync(mut self, resync: Duration) -> Self {
        self.resync = resync;
        self
    }

    /// What a full queue drops (`queue.behaviour`, see [`Behaviour`]); the default drops
    /// nothing.
    #[must_use]
    pub fn behaviour(mut self, behaviour: Behaviour<gate::Gate>) -> Self {
        self.behaviour = Arc::new(behaviour);
        self
    }

    /// Scale the box by `plan` (see [`autoscale`]).
    #[must_use]
    pub fn autoscale(mut self, plan: Plan) -> Self {
        self.autoscale = Some(plan);
        self
    }

    /// The secondary watches (`watch:` entries) whose changes queue this box's CRs
    /// ([`BoxConfig::from_crd`] takes the CRD's).
    #[must_use]
    pub fn secondary(mut self, entries: Vec<Secondary>) -> Self {
        self.secondary = entries;
        self
    }

    /// The process's cross-read registry: the box registers its cache there, reports every
    /// change of its objects to it, and reads other boxes' caches through it (its reconcile's
    /// [`Reconcile::cross`]). Unset (the default), the box takes no part in cross reads.
    #[must_use]
    pub fn sources(mut self, sources: Sources) -> Self {
        self.sources = Some(sources);
        self
    }

    /// The process's child watches: the box subscribes to the watch of each kind its CRs
    /// produce there, shared with every other box producing the kind. Unset (the default),
    /// the box watches its child kinds alone.
    #[must_use]
    pub fn child_watches(mut self, watches: ChildWatches) -> Self {
        self.child_watches = Some(watches);
        self
    }

    /// The child-watch registry the box subscribes to, when one was given.
    pub fn shared_child_watches(&self) -> Option<&ChildWatches> {
        self.child_watches.as_ref()
    }

    /// The CRD's name in the Katalog.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the CRs are namespaced.
    pub fn is_namespaced(&self) -> bool {
        self.namespaced
    }

    /// The secondary watches of the box.
    pub fn secondary_watches(&self) -> &[Secondary] {
        &self.secondary
    }

    /// The cross-read registry the box takes part in, if any.
    pub fn cross_sources(&self) -> Option<&Sources> {
        self.sources.as_ref()
    }

    /// The primary resource.
    pub fn resource(&self) -> &ApiResource {
        &self.resource
    }
}

/// The runtime form of a CRD's `queue.behaviour` (none declared: drops nothing).
fn behaviour_of(declared: Option<&katalog::model::Behaviour>) -> Behaviour<gate::Gate> {
    let Some(declared) = declared else {
        return Behaviour::default();
    };
    let conditions = |rule: &katalog::model::QueueRule| {
        (!rule.when.is_empty() || !rule.or.is_empty())
            .then(|| gate::Gate::conditions(&rule.when, &rule.or))
    };
    let mut behaviour = Behaviour::default();
    if let Some(t) = &declared.on_threshold {
        let percent = t
            .value
            .value
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(100);
        behaviour = behaviour.on_threshold(percent, conditions(&t.value));
    }
    if let Some(l) = &declared.on_limit {
        let drop = l.value.drop.unwrap_or(true);
        behaviour = behaviour.on_limit(Rule::new(drop, conditions(&l.value)));
    }
    behaviour
}

/// `k=v,k2=v2` of a selector map, or `None` when it is empty.
fn selector(pairs: &std::collections::BTreeMap<String, String>) -> Option<String> {
    let text = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    (!text.is_empty()).then_some(text)
}

/// One CRD's running operator: watches, store, queue, workers, health, metrics.
///
/// A box has two layers with separate lifetimes:
///
/// - its **watches** (primary, children, resync, gauges) run from [`OperatorBox::watch`] until
///   [`OperatorBox::stop`], on every replica, so a follower's cache is warm when it takes over;
/// - its **work** (a queue and the workers draining it) exists only between
///   [`OperatorBox::activate`] and [`OperatorBox::deactivate`]: while this replica leads and
///   the box's dependencies are satisfied. Activation queues every cached object once.
///
/// Dropping it aborts everything at once; [`OperatorBox::stop`] is the graceful way.
pub struct OperatorBox {
    name: String,
    config: Arc<BoxConfig>,
    store: Store<DynamicObject>,
    intake: Intake,
    workers: Arc<Mutex<Option<Workers<Key>>>>,
    stats: Stats,
    children: children::ChildIndex,
    resync: Arc<tokio::sync::watch::Sender<Duration>>,
    spawn_workers: Box<dyn Fn(Queue<Key>) -> Workers<Key> + Send + Sync>,
    active: ActiveWorkers,
    synced: tokio::sync::watch::Receiver<bool>,
    health: Health,
    metrics: CrdMetrics,
    tasks: Mutex<JoinSet<()>>,
    /// The box's routes in its child watches; dropping them unsubscribes it.
    subscriptions: Mutex<Vec<child_watches::Subscription>>,
}

impl fmt::Debug for OperatorBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorBox")
            .field("name", &self.name)
            .field("objects", &self.store.len())
            .field("active", &self.is_active())
            .field("queue", &self.intake.current())
            .finish_non_exhaustive()
    }
}

impl OperatorBox {
    /// Starts the box's watches and activates it at once: what a single replica without
    /// dependencies does. See [`OperatorBox::watch`] and [`OperatorBox::activate`].
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn start<R: Reconcile>(
        client: Client,
        config: BoxConfig,
        reconcile: Arc<R>,
        metrics: CrdMetrics,
    ) -> Self {
        let operator_box = Self::watch(client, config, reconcile, metrics);
        operator_box.activate();
        operator_box
    }

    /// Starts the box's watches, resync and gauges, without any work: the box is pending
    /// until [`OperatorBox::activate`].
    ///
    /// # Guarantees
    ///
    /// - A key is queued only once the object is in the store, so a reconcile always finds
    ///   the object it was queued for (or nothing, when it was deleted meanwhile: then the
    ///   reconcile is skipped).
    /// - A failing watch (API server unreachable, CRD not yet established, access denied) is
    ///   retried with backoff for as long as the box runs; it is logged and recorded in
    ///   [`Health`], never fatal. A CRD that appears later is picked up by the retry.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn watch<R: Reconcile>(
        client: Client,
        config: BoxConfig,
        reconcile: Arc<R>,
        metrics: CrdMetrics,
    ) -> Self {
        let writer = reflector::store::Writer::new(config.resource.clone());
        let store = writer.as_reader();
        let intake = Intake::default();
        let health = Health::new(config.failure_threshold);
        let active = ActiveWorkers::default();
        let stats = Stats {
            intake: intake.clone(),
            active: active.clone(),
            health: health.clone(),
            scale: Scale::new(config.workers.count_of()),
            store: store.clone(),
        };
        let pending = gate::Pending::default();
        let render = reconcile
            .render()
            .unwrap_or_else(|| Arc::new(katalog::build::EngineRender::new(gotmpl::Engine::new())));
        let children = children::ChildIndex::new(config.namespace.clone(), &config.resource);
        let (cleanup, cleanup_task) = cleanup::Cleanup::new(
            client.clone(),
            children.clone(),
            intake.clone(),
            metrics.clone(),
        );
        let gone: Arc<primary::Gone> = {
            let reconcile = Arc::clone(&reconcile);
            Arc::new(move |cr: &Key, uid: &str| {
                let written = reconcile.forget(uid);
                cleanup.gone(cr, uid, written);
            })
        };
        let again: Arc<primary::Again> = {
            let reconcile = Arc::clone(&reconcile);
            Arc::new(move |uid: &str| reconcile.again_after_status(uid))
        };
        let (current_tx, current) = tokio::sync::watch::channel(false);
        let spawn_workers = {
            let reconcile = Arc::clone(&reconcile);
            let gone = Arc::clone(&gone);
            let (store, resource) = (store.clone(), config.resource.clone());
            let (workers, health, metrics) =
                (config.workers.clone(), health.clone(), metrics.clone());
            let (active, stats) = (active.clone(), stats.clone());
            let gate = gate::AtDequeue {
                gates: Arc::clone(&config.gates),
                pending: pending.clone(),
                render: Arc::clone(&render),
                calls: reconcile.calls(),
            };
            Box::new(move |queue: Queue<Key>| {
                Workers::spawn_counted(
                    queue,
                    workers.clone(),
                    reconcile_from_store(
                        Arc::clone(&reconcile),
                        (store.clone(), current.clone()),
                        &resource,
                        stats.clone(),
                        (gate.clone(), Arc::clone(&gone)),
                    ),
                    ((health.clone(), metrics.clone()), R::retry),
                    active.clone(),
                )
            })
        };
        let (synced_tx, synced) = tokio::sync::watch::channel(false);
        let (resync, resync_period) = tokio::sync::watch::channel(config.resync);
        let resync = Arc::new(resync);
        let workers: Arc<Mutex<Option<Workers<Key>>>> = Arc::default();
        reconcile.use_child_cache(Arc::new(children.clone()));
        reconcile.use_primary_store(store.clone());
        let config = Arc::new(config);
        let mut tasks = JoinSet::new();
        let watch = primary::Watch {
            client,
            config: Arc::clone(&config),
            intake: intake.clone(),
            health: health.clone(),
            store: store.clone(),
            synced: Arc::new(synced_tx),
            current: Arc::new(current_tx),
            resync_period,
            pending,
            render: Arc::clone(&render),
            gone,
            again,
            metrics: metrics.clone(),
            events: Arc::default(),
        };
        tasks.spawn(watch.clone().primary(writer));
        tasks.spawn(cleanup_task);
        let registry = config.child_watches.clone().unwrap_or_default();
        let mut subscriptions = Vec::new();
        for (api_version, kind) in reconcile.child_kinds() {
            let (index, subscription) = registry.subscribe(&watch, &api_version, &kind);
            children.attach(&api_version, &kind, index);
            subscriptions.push(subscription);
        }
        attach(&mut tasks, &watch, reconcile.cross(), &stats);
        tasks.spawn(watch.clone().resync());
        tasks.spawn(watch.gauges(metrics.clone(), active.clone()));
        if let Some(plan) = &config.autoscale {
            let autoscaler = Autoscaler {
                name: config.name.clone(),
                plan: plan.clone(),
                stats: stats.clone(),
                workers: Arc::clone(&workers),
                resync: Arc::clone(&resync),
                baseline: Baseline::of(&config),
                metrics: metrics.clone(),
                render: Arc::clone(&render),
                sources: config.cross_sources().cloned(),
            };
            tasks.spawn(autoscaler.run());
        }
        Self {
            name: config.name.clone(),
            config,
            store,
            intake,
            workers,
            stats,
            children,
            resync,
            spawn_workers,
            active,
            synced,
            health,
            metrics,
            tasks: Mutex::new(tasks),
            subscriptions: Mutex::new(subscriptions),
        }
    }

    /// Starts the box's work: a fresh queue holding every cached object, and the workers.
    /// Does nothing when the box is active already.
    pub fn activate(&self) {
        let mut workers = self.lock_workers();
        if workers.is_some() {
            return;
        }
        let queue = Queue::new(self.config.queue.clone());
        self.intake.open(queue.clone());
        for object in self.store.state() {
            if let Some(key) = Key::of(&object.metadata) {
                queue.add(key);
            }
        }
        *workers = Some((self.spawn_workers)(queue));
        self.health.mark_started();
        tracing::info!(crd = %self.name, objects = self.store.len(), "OperatorBox active: workers started");
    }

    /// Ends the box's work, keeping its watches: no new key is taken, running reconciles get
    /// `waited` to finish (zero aborts them at once, as a replica that lost the Lease must),
    /// then the box is pending. Does nothing when the box is not active.
    ///
    /// # Errors
    ///
    /// [`Error::StopFailed`] when reconciles outlived `waited` (they were aborted).
    pub async fn deactivate(&self, waited: Duration) -> Result<(), Error> {
        let Some(workers) = self.lock_workers().take() else {
            return Ok(());
        };
        self.intake.close();
        // The next activation starts at the baseline.
        let baseline = Baseline::of(&self.config);
        self.stats.scale.reset(baseline.workers);
        self.resync.send_replace(baseline.resync);
        let stopped = workers.stop_within(waited).await;
        self.health.mark_stopped();
        tracing::info!(crd = %self.name, "OperatorBox inactive: workers stopped");
        stopped.map_err(|source| Error::StopFailed {
            crd: self.name.clone(),
            source,
        })
    }

    /// True between [`OperatorBox::activate`] and [`OperatorBox::deactivate`].
    pub fn is_active(&self) -> bool {
        self.lock_workers().is_some()
    }

    fn lock_workers(&self) -> std::sync::MutexGuard<'_, Option<Workers<Key>>> {
        // Nothing panics while holding this lock; a poisoned slot is still whole.
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// True once the box's first list of its CRs is complete in its cache (false while its
    /// CRD is missing or the API server unreachable).
    pub fn is_synced(&self) -> bool {
        *self.synced.borrow()
    }

    /// Waits until [`OperatorBox::is_synced`].
    pub async fn wait_synced(&self) {
        let mut synced = self.synced.clone();
        // The sender lives in the watch task; if that ended, the box is stopping anyway.
        let _ = synced.wait_for(|s| *s).await;
    }

    /// The CRD's name in the Katalog.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The box's configuration.
    pub fn config(&self) -> &BoxConfig {
        &self.config
    }

    /// The box's cache of its CRs' children.
    pub fn children(&self) -> &children::ChildIndex {
        &self.children
    }

    /// The box's live numbers (what templates read as `.metrics`).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The box's metric series.
    pub fn metrics(&self) -> &CrdMetrics {
        &self.metrics
    }

    /// The box's health record.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// The box's cache of its CRs.
    pub fn store(&self) -> &Store<DynamicObject> {
        &self.store
    }

    /// Where the box's keys go: its current queue while active.
    pub fn intake(&self) -> &Intake {
        &self.intake
    }

    /// How many reconciles run now.
    pub fn active(&self) -> ActiveWorkers {
        self.active.clone()
    }

    /// Stops gracefully: no new keys are taken in, running reconciles finish within the
    /// workers' stop timeout, then the watches end and the box is pending again.
    ///
    /// # Errors
    ///
    /// [`Error::StopFailed`] when reconciles outlived the timeout (they were aborted).
    pub async fn stop(&self) -> Result<(), Error> {
        let waited = self.config.workers.stop_timeout;
        let stopped = self.deactivate(waited).await;
        let mut tasks =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        // Its child watches stop too when no other box uses them.
        std::mem::take(
            &mut *self
                .subscriptions
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if let Some(sources) = &self.config.sources {
            sources.leave(&self.name);
        }
        stopped
    }
}

/// Joins a starting box to its process's observation: registers its cache in the config's
/// [`Sources`] (when set), binds its `cross` declarations to them and subscribes it to the
/// changes of the CRDs they read, and spawns one task per `watch:` entry into `tasks`. Keys
/// go to the box's intake through the CRD's enqueue gate ([`primary::Watch::add_triggered`]), so they
/// are dropped while the box is inactive, as its own watches' are.
fn attach(
    tasks: &mut JoinSet<()>,
    watch: &primary::Watch,
    cross: Option<Arc<Cross>>,
    stats: &Stats,
) {
    let primary::Watch {
        client,
        config,
        store,
        health,
        render,
        ..
    } = watch;
    let enqueue = {
        let watch = watch.clone();
        move |key: Key| watch.add_triggered(key)
    };
    if let Some(sources) = config.cross_sources() {
        sources.insert(
            config.name(),
            Source {
                store: store.clone(),
                resource: config.resource().clone(),
                vitals: Some(Arc::new(autoscale::Vitals {
                    name: config.name().to_owned(),
                    stats: stats.clone(),
                })),
            },
        );
        if let Some(cross) = cross {
            cross.bind(sources);
            sources.subscribe(Dependent {
                crd: config.name().to_owned(),
                cross,
                store: store.clone(),
                enqueue: Arc::new(enqueue.clone()),
            });
        }
    }
    let primary = Primary {
        resource: config.resource().clone(),
        namespaced: config.is_namespaced(),
        store: store.clone(),
    };
    if !config.events.is_empty() {
        tasks.spawn(crate::observe::events::run(
            client.clone(),
            config.name().to_owned(),
            config.events.clone(),
            primary.clone(),
            health.clone(),
            (event_gate::admit(&config.events, render), enqueue.clone()),
        ));
    }
    if config.secondary_watches().is_empty() {
        return;
    }
    // One discovery cache per box, as the reconcile's: boxes share nothing mutable.
    let discovery = Arc::new(Discovery::new(client.clone()));
    for entry in config.secondary_watches() {
        tasks.spawn(secondary::run(
            client.clone(),
            Arc::clone(&discovery),
            config.name().to_owned(),
            entry.clone(),
            primary.clone(),
            health.clone(),
            (watch_gate::admit(entry, render), enqueue.clone()),
        ));
    }
}

/// How long a reconcile waits for the store to be current again after a primary watch error
/// (see [`relist`]) before it goes on with the store as it is. Longer than the primary
/// watch's longest retry delay (10 s), so a reachable API server is listed again first.
const STALE_PATIENCE: Duration = Duration::from_secs(30);

/// The workers' reconcile: wait until the store is `current` (at most [`STALE_PATIENCE`]),
/// look the key up in it, skip it when gone or held by the reconcile gate, else reconcile; a
/// CR gone by the time its reconcile ends is reported `gone` again ([`GoneAfter`]).
fn reconcile_from_store<R: Reconcile>(
    reconcile: Arc<R>,
    (store, current): (Store<DynamicObject>, tokio::sync::watch::Receiver<bool>),
    resource: &ApiResource,
    stats: Stats,
    (gate, gone): (gate::AtDequeue, Arc<primary::Gone>),
) -> impl Fn(Key) -> futures::future::BoxFuture<'static, Result<Action, R::Error>> + Send + Sync + 'static
{
    let resource = resource.clone();
    let per_object = gate::PerObject::default();
    move |key: Key| {
        let store = store.clone();
        let mut current = current.clone();
        let resource = resource.clone();
        let reconcile = Arc::clone(&reconcile);
        let stats = stats.clone();
        let gate = gate.clone();
        let per_object = per_object.clone();
        let gone = Arc::clone(&gone);
        Box::pin(async move {
            // Event-aware keys of one CR are distinct items: one reconcile of the CR at a time.
            let _serial = if key.event == 0 {
                None
            } else {
                Some(per_object.lock(&key).await)
            };
            if !*current.borrow_and_update() {
                tracing::debug!(%key, "waiting for the primary watch to list again");
                let listed = tokio::time::timeout(STALE_PATIENCE, current.wait_for(|c| *c));
                if listed.await.is_err() {
                    tracing::debug!(%key, "the primary watch has not listed again; reconciling from the cache as it is");
                }
            }
            let cr = store.get(&key.object_ref(&resource));
            let (held, sentinels) = match &cr {
                Some(cr) => gate.holds(&key, cr).await,
                None => (false, None),
            };
            match cr {
                Some(_) if held => {
                    tracing::debug!(%key, "the reconcile gate holds the CR");
                    Ok(Action::Gated)
                }
                Some(cr) => {
                    let _gone_after = GoneAfter {
                        uid: cr.metadata.uid.clone(),
                        object: key.object_ref(&resource),
                        key: key.clone(),
                        store: store.clone(),
                        gone,
                    };
                    let result = reconcile.reconcile(cr, &stats).await;
                    // A retry is judged with the sentinels of the event that queued it.
                    if let (Err(error), Some(sentinels)) = (&result, sentinels)
                        && R::retry(error)
                    {
                        gate.keep_for_retry(key.clone(), sentinels);
                    }
                    result
                }
                None => {
                    gate.forget(&key);
                    tracing::debug!(%key, "gone from the cache; nothing to reconcile");
                    Ok(Action::Done)
                }
            }
        })
    }
}

/// Reports a reconcile's CR gone when it is gone from the store by the time the reconcile
/// ends (returns, fails, panics or is aborted): checked when dropped.
///
/// The primary watch reports a CR gone once, and the box's cleanup then deletes its children;
/// a reconcile already running may write a child after that (re-create one the cleanup just
/// deleted). The reconcile remembers each child before its write returns, and the store loses
/// the CR before the watch reports it, so either the watch's report comes after the write
/// (and its [`Reconcile::forget`] returns the child), or this check, after every write of
/// the reconcile, sees the CR gone and reports it again (its `forget` returns what was
/// written since).
struct GoneAfter {
    uid: Option<String>,
    key: Key,
    object: kube::runtime::reflector::ObjectRef<DynamicObject>,
    store: Store<DynamicObject>,
    gone: Arc<primary::Gone>,
}

impl Drop for GoneAfter {
    fn drop(&mut self) {
        let Some(uid) = &self.uid else {
            return;
        };
        let live = self.store.get(&self.object);
        if live.and_then(|cr| cr.metadata.uid.clone()).as_ref() != Some(uid) {
            tracing::debug!(key = %self.key, "the CR went while it was reconciled");
            (self.gone)(&self.key, uid);
        }
    }
}
