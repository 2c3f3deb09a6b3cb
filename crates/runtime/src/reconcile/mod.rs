//! The reconcile of one CR (spec §9.2): read from the cache, ensure finalizers and tracking
//! metadata, validate, render through the Katalog, apply children, delete what is no longer
//! declared, write status, emit Events.
//!
//! A [`Reconciler`] exists once per CRD and is shared by the OperatorBox's workers. Its
//! [`Reconciler::reconcile`] is level-triggered: it reads nothing of its own from the past
//! beyond what is in the cluster (a restart converges to the same state), and in a steady state
//! it makes no write request at all — metadata, children and status are each written only
//! when they differ from what is there (see [`apply`] for how children are compared).
//!
//! Metadata is written only when something needs it (see `tracking` for the write budget: a
//! finalizer only when the delete path has work).
//!
//! # Events
//! `Reconciled` on a CR's first success, when children were written or deleted, and when the
//! CR becomes Ready again, published off the reconcile's path (see `announce`), so a resync
//! of an unchanged CR costs no Event write. `ReconcileError` on every
//! failure (identical ones aggregate), `ValidationWarning` when the warning condition is
//! (re)written, `Deleting` once per CR and process when deletion starts.

mod again;
mod announce;
pub mod apply;
mod converge;
mod delete;
mod emit;
pub mod enrich;
mod in_box;
pub mod owned;
pub mod prune;
pub mod rollback;
pub mod secrets;
pub mod siblings;
pub mod status;
mod strip;
pub mod subresource;
mod tracking;
pub mod workload_scale;

#[cfg(test)]
mod fixtures;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::ObjectReference;
use katalog::build::{Builder, EngineRender, ProfileRegistry};
use katalog::condition::{Conditions, Env, parse_duration};
use katalog::render::{Text, render_text};
use katalog::{Crd, Katalog};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::Instrument;

use crate::discovery::{self, Discovery, Resolved};
use crate::events::{EventType, Recorder};
use crate::finalizer::{self, Tracking};
use crate::observe::Cross;
pub use crate::work::Action;
pub(crate) use tracking::{FinalizerNeed, Protection, child_kinds_of};

/// The `external:` calls a reconcile makes, in this order; the reconcile gate makes its own
/// (with `preReconcile.external`) before the reconcile, and the delete path `onDelete`'s.
const RECONCILE_CALLS: &[katalog::model::external::Place] = &[
    katalog::model::external::Place::PreReconcile,
    katalog::model::external::Place::Validation,
    katalog::model::external::Place::Mutation,
    katalog::model::external::Place::Hooks,
    katalog::model::external::Place::OnCreate,
    katalog::model::external::Place::OnReconcile,
];

/// The default field manager of server-side apply and every other write.
pub const DEFAULT_FIELD_MANAGER: &str = "orkestra";

/// A reconcile failure. Each variant knows its condition reason, its Event reason and
/// whether the queue should retry it with backoff.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Katalog's notes could not be loaded into a template engine.
    #[error("preparing the template engine")]
    EngineFailed(#[source] gotmpl::NotesError),
    /// Finalizers or tracking metadata could not be written.
    #[error("ensuring finalizers and tracking metadata")]
    MetadataFailed(#[source] finalizer::Error),
    /// A validation rule with `action: deny` failed; retried only when the CR changes.
    #[error("validation failed: {0}")]
    ValidationDenied(String),
    /// A template or declaration could not be rendered for this CR; retried only when the CR
    /// changes.
    #[error("rendering children")]
    RenderFailed(#[source] katalog::build::Error),
    /// A Motif `with:` binding could not be rendered for this CR; retried only when the CR
    /// changes.
    #[error("rendering Motif inputs")]
    InputFailed(#[source] katalog::build::InputError),
    /// A child's kind is not served by the API server.
    #[error("resolving a child kind")]
    KindUnknown(#[source] discovery::Error),
    /// The objects the CR owns could not be listed, or one could not be deleted.
    #[error("reading or deleting owned children")]
    OwnedFailed(#[source] owned::Error),
    /// A child could not be applied or created.
    #[error("writing a child")]
    ApplyFailed(#[source] Box<apply::Error>),
    /// A Secret's or ConfigMap's data could not be copied or generated.
    #[error("preparing secret data")]
    SecretFailed(#[source] Box<secrets::Error>),
    /// The status could not be written.
    #[error("writing status")]
    StatusFailed(#[source] status::Error),
    /// An `external:` call without `continueOnError` failed; retried with backoff.
    #[error(transparent)]
    ExternalFailed(crate::outbound::Halted),
    /// The remote reconciler gave no usable answer, said `error`, or returned a kind outside
    /// its `managedResources` (then nothing was applied); retried with backoff.
    #[error("remote reconciler: {0}")]
    RemoteFailed(String),
    /// `onDelete` did not finish within its timeout; the finalizer stays.
    #[error("deletion did not finish within {timeout:?}; still waiting for {pending}")]
    DeletionTimedOut {
        /// The allowed time.
        timeout: Duration,
        /// What was still pending.
        pending: String,
    },
}

impl Error {
    /// Whether the queue should retry with backoff. Invalid CRs (denied, unrenderable) and a
    /// timed-out deletion wait for the next change of the CR instead.
    pub fn retry(&self) -> bool {
        !matches!(
            self,
            Error::ValidationDenied(_)
                | Error::RenderFailed(_)
                | Error::InputFailed(_)
                | Error::EngineFailed(_)
                | Error::DeletionTimedOut { .. }
        )
    }

    /// The reason of the `Ready=False` condition this error sets.
    pub fn condition_reason(&self) -> &'static str {
        "ReconcileError"
    }

    /// The reason of the Warning Event this error emits.
    pub fn event_reason(&self) -> &'static str {
        match self {
            Error::DeletionTimedOut { .. } => "DeletionTimedOut",
            _ => "ReconcileError",
        }
    }

    /// The message with every cause, as conditions and Events show it.
    pub fn message(&self) -> String {
        crate::error_chain(self)
    }
}

/// The clock reconciles read (`now` for conditions, `managed-since`, transition times).
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Settings of a [`Reconciler`], built with chained setters.
#[derive(Clone)]
pub struct ReconcilerConfig {
    field_manager: String,
    clock: Clock,
    instance: String,
    discovery: Option<Arc<Discovery>>,
    child_cache: Option<Arc<dyn owned::ChildCache>>,
    status_refresh: Duration,
    metrics: Option<crate::metrics::CrdMetrics>,
    stub_external: bool,
    notifier: Option<crate::outbound::notify::Notifier>,
}

impl std::fmt::Debug for ReconcilerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconcilerConfig")
            .field("field_manager", &self.field_manager)
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl Default for ReconcilerConfig {
    fn default() -> Self {
        ReconcilerConfig {
            field_manager: DEFAULT_FIELD_MANAGER.to_owned(),
            clock: Arc::new(OffsetDateTime::now_utc),
            instance: DEFAULT_FIELD_MANAGER.to_owned(),
            discovery: None,
            child_cache: None,
            status_refresh: subresource::REFRESH,
            metrics: None,
            stub_external: false,
            notifier: None,
        }
    }
}

impl ReconcilerConfig {
    /// The field manager of every write (default `orkestra`).
    #[must_use]
    pub fn field_manager(mut self, manager: impl Into<String>) -> Self {
        self.field_manager = manager.into();
        self
    }

    /// Answer `external:` calls with an empty success, and a remote reconciler with `ok`
    /// and nothing else, instead of sending them (default false; `ork simulate
    /// --skip-external`).
    #[must_use]
    pub fn stub_external(mut self, stub: bool) -> Self {
        self.stub_external = stub;
        self
    }

    /// The clock (default: the system clock, UTC).
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The reporting instance of Events (e.g. the pod name; default `orkestra`).
    #[must_use]
    pub fn instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = instance.into();
        self
    }

    /// Read children from this cache instead of a LIST per child kind and reconcile (default:
    /// none). See [`owned::ChildCache`] for what a lagging cache costs.
    #[must_use]
    pub fn child_cache(mut self, cache: Arc<dyn owned::ChildCache>) -> Self {
        self.child_cache = Some(cache);
        self
    }

    /// How long discovery's answer to "does the CRD serve a status subresource" is trusted
    /// before it is asked again (default [`subresource::REFRESH`], 30 s).
    #[must_use]
    pub fn status_refresh(mut self, every: Duration) -> Self {
        self.status_refresh = every;
        self
    }

    /// Where `orkestra_external_call_*` are recorded (default: nowhere).
    #[must_use]
    pub fn metrics(mut self, metrics: crate::metrics::CrdMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Where condition transitions are sent (default: nowhere; see
    /// [`crate::outbound::notify`]).
    #[must_use]
    pub fn notifier(mut self, notifier: crate::outbound::notify::Notifier) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// A discovery cache shared with other Reconcilers (default: one of its own).
    #[must_use]
    pub fn discovery(mut self, discovery: Arc<Discovery>) -> Self {
        self.discovery = Some(discovery);
        self
    }
}

/// What templates see beyond the CR: what the OperatorBox knows around it.
#[derive(Debug, Clone, Default)]
pub struct Surroundings {
    /// Cross-CRD reads, seen by templates as `.cross.<as>`.
    pub cross: Map<String, Value>,
    /// The box's live numbers, seen by templates as `.metrics` (null: none known).
    pub metrics: Value,
    /// The box's health, seen by templates as `.health` (null: none known).
    pub health: Value,
}

/// Reconciles the CRs of one CRD. `Send + Sync`; share it behind an `Arc`.
pub struct Reconciler {
    crd: Crd,
    katalog_name: String,
    render: Arc<EngineRender>,
    profiles: ProfileRegistry,
    client: kube::Client,
    resource: ApiResource,
    discovery: Arc<Discovery>,
    events: Arc<Recorder>,
    memo: apply::Memo,
    config: ReconcilerConfig,
    finalizers: Vec<String>,
    finalizer_need: FinalizerNeed,
    announced: Mutex<HashSet<String>>,
    /// The CRs whose status write is worth one more reconcile (see [`again`]).
    again: again::Again,
    /// What the `emit.events` declarations last said, per CR.
    said: emit::Said,
    /// The CRD's rollback policy and state, when it declares one.
    rollback: Option<rollback::Rollback>,
    /// Whether the CRD serves `/status`, as discovery says.
    status_subresource: subresource::StatusSubresource,
    protection: Protection,
    child_kinds: Vec<(String, String)>,
    /// The CRD's `cross:` declarations, when it has any.
    cross: Option<Arc<Cross>>,
    /// The CRD's `external:` calls, when it has any.
    calls: Option<Arc<crate::outbound::Calls>>,
    /// The CRD's `cross:` reads with a remote `source`, when it has any.
    remote_cross: Option<Arc<crate::observe::remote::RemoteCross>>,
    /// The CRD's status field conditions with `notify:`, when it has any.
    alerts: Option<crate::outbound::alerts::Alerts>,
    /// The CRD's remote reconciler, when it has one.
    remote: Option<Arc<crate::outbound::remote::Remote>>,
    /// The children cache its OperatorBox attached (see [`Reconciler::use_child_cache`]).
    box_cache: std::sync::OnceLock<Arc<dyn owned::ChildCache>>,
    /// The cache of this CRD's CRs its OperatorBox attached (for `unique` rules).
    primary_store: std::sync::OnceLock<kube::runtime::reflector::Store<DynamicObject>>,
}

impl std::fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciler")
            .field("crd", &self.crd.name)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

/// What the converge pass did.
struct Converged {
    /// What the plan applied, for `.children` in status fields.
    children: enrich::ChildrenView,
    /// Whether anything was written or deleted.
    wrote: bool,
    /// Status fields a remote reconciler returned, merged under ork's.
    status: Option<Map<String, Value>>,
    /// The delay a remote reconciler asked for.
    requeue: Option<Duration>,
}

impl Reconciler {
    /// A Reconciler for `crd`, one of `katalog`'s CRDs, writing through `client`.
    ///
    /// The template engine gets the Katalog's notes, the builder its profiles and the CRD's
    /// `forceConflict` and namespace guard.
    ///
    /// # Errors
    /// [`Error::EngineFailed`] when the Katalog's notes do not load (a validated Katalog's do).
    pub fn new(
        katalog: &Katalog,
        crd: &Crd,
        client: kube::Client,
        config: ReconcilerConfig,
    ) -> Result<Self, Error> {
        let engine = katalog::build::engine_for(katalog).map_err(Error::EngineFailed)?;
        let render = Arc::new(EngineRender::new(engine));
        let cross = (!crd.operator_box().cross.is_empty())
            .then(|| Arc::new(Cross::new(katalog, crd, render.clone())));
        let calls =
            crate::outbound::Calls::of(crd, render.clone(), client.clone(), config.metrics.clone())
                .map(|c| Arc::new(c.stubbed(config.stub_external)));
        let remote = crate::outbound::remote::Remote::of(
            crd,
            render.clone(),
            client.clone(),
            config.metrics.clone(),
        )
        .map(|r| Arc::new(r.stubbed(config.stub_external)));
        let remote_cross =
            crate::observe::remote::RemoteCross::of(crd, client.clone()).map(Arc::new);
        let alerts = crate::outbound::alerts::Alerts::of(crd);
        let gvk = crd.gvk();
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(&gvk.group, &gvk.version, &gvk.kind),
            &crd.plural,
        );
        let discovery = config
            .discovery
            .clone()
            .unwrap_or_else(|| Arc::new(Discovery::new(client.clone())));
        discovery.insert(
            &resource.api_version,
            &resource.kind,
            Resolved {
                resource: resource.clone(),
                namespaced: crd.namespaced,
            },
        );
        let status_subresource = subresource::StatusSubresource::new(
            GroupVersionKind::gvk(&gvk.group, &gvk.version, &gvk.kind),
            &crd.plural,
            config.status_refresh,
        );
        Ok(Reconciler {
            rollback: rollback::Rollback::of(crd, config.metrics.clone()),
            katalog_name: katalog.name.clone(),
            render,
            profiles: ProfileRegistry::from_katalog(katalog),
            events: Arc::new(Recorder::new(
                client.clone(),
                &config.field_manager,
                &config.instance,
            )),
            finalizers: Tracking::finalizers_of(&crd.finalizers),
            finalizer_need: FinalizerNeed::of(crd, Protection::of(katalog, crd), calls.as_deref()),
            crd: crd.clone(),
            client,
            resource,
            discovery,
            memo: apply::Memo::default(),
            config,
            announced: Mutex::new(HashSet::new()),
            again: again::Again::default(),
            said: emit::Said::default(),
            status_subresource,
            protection: Protection::of(katalog, crd),
            child_kinds: child_kinds_of(crd),
            cross,
            calls,
            remote_cross,
            alerts,
            remote,
            box_cache: std::sync::OnceLock::new(),
            primary_store: std::sync::OnceLock::new(),
        })
    }

    /// Reads children from `cache` (its OperatorBox's watches) from now on, unless the
    /// configuration named a cache of its own ([`ReconcilerConfig::child_cache`]). Only the
    /// first cache attached counts.
    pub fn use_child_cache(&self, cache: Arc<dyn owned::ChildCache>) {
        let _ = self.box_cache.set(cache);
    }

    /// Reads the CRD's other CRs from `store` (its OperatorBox's cache) for `unique` rules,
    /// instead of listing them. Only the first store attached counts.
    pub fn use_primary_store(&self, store: kube::runtime::reflector::Store<DynamicObject>) {
        let _ = self.primary_store.set(store);
    }

    /// The values `unique` rules compare against; `None` (they pass) when the CRD has none,
    /// or when the CRs cannot be listed (logged, as the gateway does).
    async fn siblings(&self, cr: &DynamicObject) -> Option<katalog::admission::Siblings> {
        let rules = &self.crd.entry.validation.as_ref()?.rules;
        let fields = katalog::admission::unique_fields(rules);
        if fields.is_empty() {
            return None;
        }
        let me = (
            cr.metadata.namespace.as_deref(),
            cr.metadata.name.as_deref().unwrap_or(""),
        );
        if let Some(store) = self.primary_store.get() {
            let crs = store.state();
            return Some(siblings::of(&fields, crs.iter().map(|c| &**c), me));
        }
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &self.resource);
        match api.list(&kube::api::ListParams::default()).await {
            Ok(list) => Some(siblings::of(&fields, &list.items, me)),
            Err(error) => {
                tracing::warn!(%error, "listing CRs for unique rules failed; unique passes");
                None
            }
        }
    }

    /// The cache children are read from, if any.
    fn child_cache(&self) -> Option<&dyn owned::ChildCache> {
        self.config
            .child_cache
            .as_deref()
            .or_else(|| self.box_cache.get().map(|c| c.as_ref()))
    }

    /// The primary resource (the CRD's kind).
    pub fn resource(&self) -> &ApiResource {
        &self.resource
    }

    /// The CRD this Reconciler serves.
    pub fn crd(&self) -> &Crd {
        &self.crd
    }

    /// The kinds of children this CRD can produce, as apiVersion and kind, for drift
    /// watches: every built-in kind with a declaration in `onCreate`, `onReconcile` or
    /// `onDelete`, and every `custom:` kind written without a template.
    pub fn child_kinds(&self) -> Vec<(String, String)> {
        self.child_kinds.clone()
    }

    /// The CRD's `external:` calls, when it has any.
    pub fn calls(&self) -> Option<&Arc<crate::outbound::Calls>> {
        self.calls.as_ref()
    }

    /// The template engine this reconcile renders with (the Katalog's notes included).
    pub fn render(&self) -> &Arc<EngineRender> {
        &self.render
    }

    /// The CRD's `cross:` declarations, when it has any: its box binds them to the process's
    /// caches and subscribes them to the changes of the CRDs they read.
    pub fn cross(&self) -> Option<&Arc<Cross>> {
        self.cross.as_ref()
    }

    /// What templates see beyond the CR: `.cross`, read from the other boxes' caches (no
    /// API call).
    pub fn surroundings(&self, cr: &DynamicObject) -> Surroundings {
        Surroundings {
            cross: self
                .cross
                .as_ref()
                .map(|c| c.read(&self.cr_json(cr)))
                .unwrap_or_default(),
            metrics: Value::Null,
            health: Value::Null,
        }
    }

    fn now(&self) -> OffsetDateTime {
        (self.config.clock)()
    }

    fn now_text(&self) -> String {
        let now = self.now();
        now.replace_nanosecond(0)
            .unwrap_or(now)
            .format(&Rfc3339)
            .unwrap_or_default()
    }

    fn builder(&self) -> Builder<'_> {
        Builder::new(&*self.render)
            .profiles(&self.profiles)
            .for_crd(&self.crd)
            .now(self.now())
    }

    fn api(&self, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace.filter(|_| self.crd.namespaced) {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &self.resource),
            None => Api::all_with(self.client.clone(), &self.resource),
        }
    }

    /// The CR as JSON with apiVersion and kind filled in.
    fn cr_json(&self, cr: &DynamicObject) -> Value {
        let mut v = serde_json::to_value(cr).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "apiVersion".into(),
                self.resource.api_version.clone().into(),
            );
            o.insert("kind".into(), self.resource.kind.clone().into());
        }
        v
    }

    /// The keys templates see beside the CR (`cr_json`): `.cross`, `.metrics` and the Motif
    /// `.inputs` rendered against the CR, as `ork template` assembles them, and `.health`
    /// (which `ork template`, without a running box, has not).
    fn template_keys(
        &self,
        cr_json: &Value,
        surroundings: &Surroundings,
    ) -> Result<Map<String, Value>, Error> {
        let metrics = Some(surroundings.metrics.clone()).filter(|m| !m.is_null());
        let mut keys = katalog::build::template_keys(
            &self.crd,
            &*self.render,
            cr_json,
            surroundings.cross.clone(),
            metrics,
        )
        .map_err(Error::InputFailed)?;
        if !surroundings.health.is_null() {
            keys.insert("health".into(), surroundings.health.clone());
        }
        Ok(keys)
    }

    fn reference(&self, cr: &DynamicObject) -> ObjectReference {
        ObjectReference {
            api_version: Some(self.resource.api_version.clone()),
            kind: Some(self.resource.kind.clone()),
            name: cr.metadata.name.clone(),
            namespace: cr.metadata.namespace.clone(),
            uid: cr.metadata.uid.clone(),
            resource_version: cr.metadata.resource_version.clone(),
            ..ObjectReference::default()
        }
    }

    async fn event(&self, cr: &DynamicObject, type_: EventType, reason: &str, note: &str) {
        if let Err(e) = self
            .events
            .publish(&self.reference(cr), type_, reason, note)
            .await
        {
            if crate::refusal::is_namespace_terminating(&e) {
                // Nothing can be created there any more; the CR goes with its namespace.
                tracing::debug!(reason, "event dropped: the namespace is terminating");
            } else {
                tracing::warn!(error = %crate::error_chain(&e), reason, "event not published");
            }
        }
    }

    /// Reconciles one CR as read from the watch cache (never re-read from the API server,
    /// except after a conflicting metadata patch).
    ///
    /// # Guarantees
    /// In a steady state (nothing changed in the CR, the Katalog's inputs or the children's
    /// fields ork owns) no write request is made. Objects ork does not own are never deleted.
    ///
    /// # Errors
    /// Any step that failed; the status says why (`Ready=False`) and a `ReconcileError`
    /// Event is emitted. [`Error::retry`] tells the queue whether to back off and retry.
    pub async fn reconcile(
        &self,
        cr: Arc<DynamicObject>,
        surroundings: &Surroundings,
    ) -> Result<Action, Error> {
        // `key`, not `name`: JSON logs use `name` for the span's own name.
        let name = cr.metadata.name.as_deref().unwrap_or_default();
        let key = match cr.metadata.namespace.as_deref() {
            Some(namespace) => format!("{namespace}/{name}"),
            None => name.to_owned(),
        };
        let span = tracing::info_span!("reconcile", crd = %self.crd.name, key);
        let started = std::time::Instant::now();
        let result = self
            .reconcile_in_span(cr, surroundings)
            .instrument(span.clone())
            .await;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        span.in_scope(|| match &result {
            Ok(action) => tracing::debug!(?action, elapsed_ms, "reconciled"),
            Err(error) => tracing::debug!(error = %error.message(), elapsed_ms, "reconcile failed"),
        });
        result
    }

    async fn reconcile_in_span(
        &self,
        cr: Arc<DynamicObject>,
        surroundings: &Surroundings,
    ) -> Result<Action, Error> {
        let mut cr = cr;
        if self.strips_finalizers() {
            match self.strip_finalizers(&cr).await {
                Ok(Some(updated)) => cr = Arc::new(updated),
                Ok(None) => {}
                Err(e) if crate::refusal::is_not_found(&e) => return Ok(Action::Done),
                Err(e) => return Err(self.fail(&cr, Error::MetadataFailed(e)).await),
            }
            if cr.metadata.deletion_timestamp.is_some() {
                return Ok(Action::Done);
            }
        }
        if cr.metadata.deletion_timestamp.is_some() {
            return self.finalize(&cr, surroundings).await;
        }
        if let Some(ns) = cr.metadata.namespace.as_deref()
            && !self.is_namespace_permitted(ns)
        {
            tracing::debug!(ns, "the namespace guard skips this CR");
            return Ok(Action::Done);
        }
        let api = self.api(cr.metadata.namespace.as_deref());
        let tracking = self.first_tracking(&cr);
        let cr = match finalizer::update(&api, &cr, &self.config.field_manager, |c| {
            tracking
                .as_ref()
                .and_then(|t| finalizer::ensure_patch(c, t))
        })
        .await
        {
            Ok(Some(updated)) => updated,
            Ok(None) => (*cr).clone(),
            Err(e) if crate::refusal::is_not_found(&e) => {
                // Deleted since the cache saw it: the watch reports the deletion.
                tracing::debug!("the CR is gone");
                return Ok(Action::Done);
            }
            Err(e) => return Err(self.fail(&cr, Error::MetadataFailed(e)).await),
        };
        let mut data = self.cr_json(&cr);
        let mut template_keys = match self.template_keys(&data, surroundings) {
            Ok(keys) => keys,
            Err(e) => return Err(self.fail(&cr, e).await),
        };
        if let Some(remote) = &self.remote_cross {
            let mut cross = match template_keys.remove("cross") {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            remote.complete(&*self.render, &data, &mut cross).await;
            template_keys.insert("cross".into(), Value::Object(cross));
        }
        if let Some(d) = data.as_object_mut() {
            d.extend(template_keys.clone());
        }
        let external = self.call_external(RECONCILE_CALLS, &mut data).await;
        // The CR (plus the keys beside it) as templates see it: mutated in memory when declared.
        let siblings = self.siblings(&cr).await;
        let admitted = katalog::admission::admit_at_reconcile(
            &self.crd,
            &data,
            &*self.render,
            self.now(),
            siblings.as_ref(),
        );
        let mut data = admitted.object;
        let findings_base = status::Findings {
            denied: admitted.denied,
            warned: admitted.warned,
            error: None,
        };
        let held = self.rolled_back_spec(&cr);
        let converged = match (&held, &findings_base.denied, external) {
            (Some(spec), _, _) => {
                self.converge_previous(&cr, &data, &template_keys, spec)
                    .await
            }
            (None, Some(denied), _) => Err(Error::ValidationDenied(denied.clone())),
            (None, None, Err(halted)) => Err(halted),
            (None, None, Ok(())) => self.converge(&cr, &data, &template_keys).await,
        };
        let (result, children, wrote, remote_status, remote_requeue) = match converged {
            Ok(c) => (Ok(()), c.children, c.wrote, c.status, c.requeue),
            Err(e) if crate::refusal::is_namespace_terminating(&e) => {
                // Nothing can be created there any more, and retrying cannot change that:
                // the namespace's deletion reaches this CR next and runs its deletion path.
                tracing::debug!("the namespace is terminating; only the deletion path runs");
                return Ok(Action::Done);
            }
            Err(e) => (Err(e), enrich::ChildrenView::default(), false, None, None),
        };
        let children = self.enrich(children, &data).await;
        if let Some(d) = data.as_object_mut() {
            d.insert("children".into(), Value::Object(children));
        }
        let findings = status::Findings {
            error: match &result {
                Ok(_) if held.is_some() => Some(self.rollback_message(&cr)),
                Err(Error::ValidationDenied(_)) | Ok(_) => None,
                Err(e) => Some(e.message()),
            },
            ..findings_base
        };
        let written = self
            .write_status(&api, &cr, &findings, &data, remote_status.as_ref())
            .await;
        let status_changed = matches!(written, Ok(true));
        if !status_changed {
            self.again
                .rested(cr.metadata.uid.as_deref().unwrap_or_default());
        }
        match (&result, written) {
            (Ok(_), Err(e)) => return Err(self.fail(&cr, e).await),
            (Err(_), Err(e)) => tracing::warn!(error = %e.message(), "status not written"),
            _ => {}
        }
        if status_changed && let Some(w) = &findings.warned {
            self.event(&cr, EventType::Warning, "ValidationWarning", w)
                .await;
        }
        match result {
            Err(e) => {
                self.event(&cr, EventType::Warning, e.event_reason(), &e.message())
                    .await;
                // Only failures the queue retries (the API server refused or failed): an
                // invalid spec (denied, unrenderable) applied nothing there is to roll back.
                if held.is_none() && e.retry() {
                    self.count_failure(&cr, &data, &template_keys).await;
                }
                self.emit_failed(&cr, data, &e);
                Err(e)
            }
            Ok(_) if held.is_some() => Ok(Action::Done),
            Ok(_) => {
                self.record_good(&cr).await;
                self.announce_reconciled(&cr, wrote, status_changed);
                self.emit_named(&cr, emit::Point::Reconcile, &data);
                let action = remote_requeue
                    .map(Action::RequeueAfter)
                    .unwrap_or_else(|| self.requeue(&data));
                Ok(self.poll_remote_cross(action))
            }
        }
    }

    /// Makes the CRD's `external:` calls of `places`, adding `.external` to `data`.
    async fn call_external(
        &self,
        places: &[katalog::model::external::Place],
        data: &mut Value,
    ) -> Result<(), Error> {
        let Some(calls) = &self.calls else {
            return Ok(());
        };
        let key = crate::outbound::key_of(data);
        calls
            .run(places, data, &key, self.now())
            .await
            .map_err(Error::ExternalFailed)
    }

    /// Sets `Ready=False` for an error outside the converge pass, emits the Event, returns it.
    async fn fail(&self, cr: &DynamicObject, e: Error) -> Error {
        let findings = status::Findings {
            error: Some(e.message()),
            ..status::Findings::default()
        };
        let api = self.api(cr.metadata.namespace.as_deref());
        let data = self.cr_json(cr);
        if let Err(se) = self.write_status(&api, cr, &findings, &data, None).await {
            tracing::warn!(error = %se.message(), "status not written");
        }
        self.event(cr, EventType::Warning, e.event_reason(), &e.message())
            .await;
        self.emit_failed(cr, data, &e);
        e
    }

    /// Emits the `emit.events` of the `error` point, `.error` being the failure's message.
    fn emit_failed(&self, cr: &DynamicObject, mut data: Value, e: &Error) {
        if let Some(d) = data.as_object_mut() {
            d.insert("error".into(), e.message().into());
        }
        self.emit_named(cr, emit::Point::Error, &data);
    }

    /// Computes and writes the status, with the fields of `merged` (a remote reconciler's
    /// answer) where ork writes none; returns whether it wrote.
    async fn write_status(
        &self,
        api: &Api<DynamicObject>,
        cr: &DynamicObject,
        findings: &status::Findings,
        data: &Value,
        merged: Option<&Map<String, Value>>,
    ) -> Result<bool, Error> {
        let entry = &self.crd.entry;
        if entry.ignore_status_patch == Some(true)
            || !self.status_subresource.present(&self.client).await
        {
            return Ok(false);
        }
        let declared = self.crd.operator_box().status.as_ref();
        let policy = status::Policy {
            conditions: declared.and_then(|s| s.conditions).unwrap_or(true),
            observed_generation: entry.ignore_observed_generation != Some(true),
        };
        let generation = cr
            .metadata
            .generation
            .filter(|_| policy.observed_generation);
        let mut body = Map::new();
        if let Some(g) = generation {
            body.insert("observedGeneration".into(), g.into());
        }
        let mut transitions = Vec::new();
        if policy.conditions {
            let previous = cr.data.get("status").and_then(|s| s.get("conditions"));
            let list = status::conditions(previous, findings, generation, &self.now_text());
            if self.config.notifier.is_some() {
                transitions = crate::outbound::notify::transitions(previous, &list);
            }
            body.insert("conditions".into(), Value::Array(list));
        }
        if let Some(declared) = declared {
            let fields: Vec<_> = declared.fields.iter().map(|f| &f.value).collect();
            let failed = findings.error.is_some() || findings.denied.is_some();
            status::declared_fields(&mut body, &fields, data, &*self.render, self.now(), failed);
            self.alert(cr, data);
        }
        for (k, v) in merged.into_iter().flatten() {
            body.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if body.is_empty() {
            return Ok(false);
        }
        let uid = cr.metadata.uid.as_deref().unwrap_or_default();
        let published = status::publish(api, cr, &self.config.field_manager, body, || {
            self.again.writing(uid);
        })
        .await;
        if !matches!(published, Ok(status::Published::Written)) {
            self.again.not_written(uid);
        }
        match published.map_err(Error::StatusFailed)? {
            status::Published::Written => {
                self.notify(cr, transitions);
                Ok(true)
            }
            status::Published::Unchanged => Ok(false),
            status::Published::NotFound => {
                // One 404 says nothing about the CRD: discovery tells whether the CR is gone
                // (the everyday case) or the subresource is.
                if self.status_subresource.after_not_found(&self.client).await {
                    tracing::debug!("the CR is gone; its status is not written");
                }
                Ok(false)
            }
        }
    }

    /// Queues a notice to its teams for each `notify:` condition that started to hold.
    fn alert(&self, cr: &DynamicObject, data: &Value) {
        let (Some(notifier), Some(alerts)) = (&self.config.notifier, &self.alerts) else {
            return;
        };
        let uid = cr.metadata.uid.as_deref().unwrap_or_default();
        for fired in alerts.fired(uid, data, &*self.render, self.now()) {
            notifier.send(crate::outbound::notify::Notice {
                crd: self.crd.name.clone(),
                name: cr.metadata.name.clone().unwrap_or_default(),
                namespace: cr.metadata.namespace.clone().unwrap_or_default(),
                condition: fired.condition,
                status: "True".into(),
                reason: "ConditionMet".into(),
                message: fired.message,
                teams: fired.teams,
            });
        }
    }

    /// Queues a notice per condition transition a status write made (never waits).
    fn notify(&self, cr: &DynamicObject, transitions: Vec<(String, String, String, String)>) {
        let Some(notifier) = &self.config.notifier else {
            return;
        };
        for (condition, status, reason, message) in transitions {
            notifier.send(crate::outbound::notify::Notice {
                crd: self.crd.name.clone(),
                name: cr.metadata.name.clone().unwrap_or_default(),
                namespace: cr.metadata.namespace.clone().unwrap_or_default(),
                condition,
                status,
                reason,
                message,
                teams: Vec::new(),
            });
        }
    }

    /// `action`, brought forward to the remote cross reads' `cacheFor` when there are any:
    /// nothing tells this process that a remote source changed.
    fn poll_remote_cross(&self, action: Action) -> Action {
        let Some(every) = self.remote_cross.as_ref().map(|r| r.poll_every()) else {
            return action;
        };
        match action {
            Action::RequeueAfter(d) if d <= every => action,
            _ => Action::RequeueAfter(every),
        }
    }

    /// `requeue.after` when declared and its conditions hold.
    fn requeue(&self, data: &Value) -> Action {
        let Some(requeue) = &self.crd.settings.requeue else {
            return Action::Done;
        };
        let Some(after) = &requeue.after else {
            return Action::Done;
        };
        let env = Env::new(data, &*self.render, self.now());
        match Conditions::new(&requeue.when, &requeue.or).evaluate(&env) {
            Ok(true) => {}
            Ok(false) => return Action::Done,
            Err(e) => {
                tracing::warn!(error = %e, "requeue conditions cannot be evaluated");
                return Action::Done;
            }
        }
        let text = match render_text(&*self.render, &Text::new(after.value.clone()), data) {
            Ok(t) => t.into_owned(),
            Err(e) => {
                tracing::warn!(error = %e, "requeue.after cannot be rendered");
                return Action::Done;
            }
        };
        match parse_duration(text.trim()).and_then(|d| Duration::try_from(d).ok()) {
            Some(d) if !d.is_zero() => Action::RequeueAfter(d),
            _ => Action::Done,
        }
    }

    /// The status a reconcile of the CR `uid` wrote has reached the cache: whether to
    /// reconcile the CR again, as Orkestra does after its status patch (see [`again`]).
    pub fn again_after_status(&self, uid: &str) -> bool {
        self.again.take(uid)
    }

    /// Forgets what is remembered of a CR (applied children, Events to aggregate), and returns
    /// the children written for it since it was last forgotten (see
    /// [`apply::Memo::forget_owner`]): the OperatorBox calls it when its watch reports the CR
    /// gone, and deletes those children (see `operator_box::cleanup`).
    pub fn forget(&self, uid: &str) -> Vec<katalog::build::ObjectRef> {
        self.forget_said(uid);
        self.memo.forget_owner(uid)
    }

    /// Forgets what is remembered of a CR except the children written for it: what the end
    /// of its deletion path drops, leaving the children to [`Reconciler::forget`].
    fn forget_said(&self, uid: &str) {
        self.events.forget(uid);
        self.again.forget(uid);
        self.said.forget(uid);
        if let Some(r) = &self.rollback {
            r.forget(uid);
        }
        if let Some(alerts) = &self.alerts {
            alerts.forget(uid);
        }
        if let Ok(mut a) = self.announced.lock() {
            a.remove(uid);
        }
    }

    /// References of the objects remembered as applied (for tests and health).
    pub fn remembered_children(&self) -> usize {
        self.memo.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send<T: Send>(_: &T) {}

    use super::fixtures::katalog;

    #[test]
    fn deletion_protection_labels_follow_the_security_block_and_the_crd_override() {
        let on = "security:\n  deletionProtection: {enabled: true}";
        let k = katalog(on, "");
        let p = Protection::of(&k, &k.crds[0]);
        assert_eq!(
            p,
            Protection {
                protect: true,
                exempt: false
            }
        );
        let k = katalog("", "");
        assert!(!Protection::of(&k, &k.crds[0]).protect);
        let k = katalog(
            on,
            "      deletionProtection: {protectCRs: false, strictMode: false}",
        );
        assert_eq!(
            Protection::of(&k, &k.crds[0]),
            Protection {
                protect: false,
                exempt: true
            }
        );
    }

    /// Workers run reconciles on a multi-threaded runtime: the future must be `Send`.
    #[allow(dead_code)]
    fn the_reconcile_future_is_send(
        r: &Reconciler,
        cr: Arc<DynamicObject>,
        surroundings: &Surroundings,
    ) {
        is_send(&r.reconcile(cr, surroundings));
    }

    #[test]
    fn invalid_crs_are_not_retried_but_api_failures_are() {
        assert!(!Error::ValidationDenied("x".into()).retry());
        let timeout = Error::DeletionTimedOut {
            timeout: Duration::from_secs(1),
            pending: "Job a".into(),
        };
        assert!(!timeout.retry());
        assert_eq!(timeout.event_reason(), "DeletionTimedOut");
        let api = Error::StatusFailed(status::Error::PatchFailed {
            name: "a".into(),
            source: kube::Error::LinesCodecMaxLineLengthExceeded,
        });
        assert!(api.retry());
        assert_eq!(api.condition_reason(), "ReconcileError");
        assert!(
            api.message()
                .starts_with("writing status: patching the status of a")
        );
    }
}
