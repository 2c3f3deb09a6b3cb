//! The watches of one box turned into keys in its queue: the primary watch, one metadata-only
//! watch per child kind, the resync tick and the gauges.
//!
//! Every loop here runs until the box aborts it. Watch errors (API server unreachable, kind
//! not served yet, access denied) are retried with backoff, logged, and recorded in the box's
//! [`Health`]; they never end a loop. Child watches use kube's default backoff (0.8 s doubling
//! to 30 s, with jitter); the primary watch caps at 10 s, so a CRD created after `ork run`
//! started is picked up within about 10 s, as Orkestra's local-mode `retryMissingCRDs` does.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ObjectMeta};
use kube::discovery::{self, Scope};
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{Store, store::Writer};
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Client, Resource};

use super::BoxConfig;
use crate::metrics::CrdMetrics;
use crate::work::{ActiveWorkers, Added, Health, Intake, Key};

/// How often the gauges (queue depth, active workers, cached objects) are refreshed.
const GAUGE_PERIOD: Duration = Duration::from_secs(1);
/// The longest wait between two discovery attempts of a child kind.
const DISCOVERY_BACKOFF_MAX: Duration = Duration::from_secs(30);

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

/// What every watch loop of a box shares (all handles; cloning is cheap).
#[derive(Clone)]
pub(super) struct Watch {
    pub(super) client: Client,
    pub(super) config: Arc<BoxConfig>,
    pub(super) intake: Intake,
    pub(super) health: Health,
    /// Turns true once the primary list is complete in the store (and stays true).
    pub(super) synced: Arc<tokio::sync::watch::Sender<bool>>,
    /// The resync period in force (the autoscaler may change it; zero: no resync).
    pub(super) resync_period: tokio::sync::watch::Receiver<Duration>,
    /// The children the child watches keep for the reconcile.
    pub(super) children: super::children::ChildIndex,
    /// The sentinels of queued keys, for the reconcile gate.
    pub(super) pending: super::gate::Pending,
    /// Renders the enqueue gate's templated fields (the reconcile's engine).
    pub(super) render: Arc<katalog::build::EngineRender>,
    pub(super) store: Store<DynamicObject>,
    /// Told the uid of each CR that is gone, so the reconcile can forget it.
    pub(super) gone: Arc<dyn Fn(&str) + Send + Sync>,
}

impl Watch {
    /// Lists and watches the CRD's objects into the store, queueing each object whose spec or
    /// metadata changed.
    ///
    /// Keys of a (re)list are queued once the list is complete and in the store. A change of
    /// status alone queues nothing: the reconcile wrote it, and reconciling again would
    /// change nothing (resync still visits every object).
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
        let mut events = pin!(watcher(api, config).backoff(MissingCrdBackoff::default()));
        // What each cached object looked like (fingerprint) and which object it was (uid).
        let mut seen: HashMap<Key, (u64, Option<String>)> = HashMap::new();
        let mut listing: HashMap<Key, (u64, Option<String>)> = HashMap::new();
        let mut failing = false;
        while let Some(event) = events.next().await {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    self.failed("primary", &error, &mut failing);
                    continue;
                }
            };
            self.recovered("primary", &mut failing);
            // What the cache held before this event, for sentinels.
            let old = match &event {
                Event::Apply(object) if !self.config.gates.is_empty() => Key::of(&object.metadata)
                    .and_then(|key| self.store.get(&key.object_ref(resource))),
                _ => None,
            };
            writer.apply_watcher_event(&event);
            match event {
                Event::Init => listing.clear(),
                Event::InitApply(object) => {
                    if let Some(key) = Key::of(&object.metadata) {
                        listing.insert(key, identity(&object.metadata));
                    }
                }
                Event::InitDone => {
                    for (key, now) in &listing {
                        if seen.get(key) != Some(now)
                            && let Some(object) = self.store.get(&key.object_ref(resource))
                        {
                            self.add_gated(key.clone(), None, &object);
                        }
                    }
                    // Objects that went away while the watch was down.
                    for (key, (_, uid)) in &seen {
                        if listing.get(key).map(|(_, u)| u) != Some(uid)
                            && let Some(uid) = uid
                        {
                            (self.gone)(uid);
                        }
                    }
                    seen = std::mem::take(&mut listing);
                    self.synced.send_replace(true);
                    if let Some(sources) = &self.config.sources {
                        sources.relisted(&self.config.name);
                    }
                }
                Event::Apply(object) => {
                    // Cross readers see every change, status included.
                    self.report_change(&object.metadata);
                    if let Some(key) = Key::of(&object.metadata) {
                        let now = identity(&object.metadata);
                        // The reconcile's own metadata write (finalizers, tracking labels) needs
                        // no second reconcile: it went on with the object it wrote.
                        if seen.get(&key) != Some(&now) {
                            seen.insert(key.clone(), now);
                            if !self.is_own_write(&object.metadata) {
                                self.add_gated(key, old.as_deref(), &object);
                            }
                        }
                    }
                }
                Event::Delete(object) => {
                    self.report_change(&object.metadata);
                    if let Some(key) = Key::of(&object.metadata) {
                        seen.remove(&key);
                    }
                    if let Some(uid) = &object.metadata.uid {
                        (self.gone)(uid);
                    }
                }
            }
        }
    }

    /// Watches the managed objects of one child kind into the box's [`ChildIndex`] and queues
    /// the owner of each one that changes or goes away.
    ///
    /// [`ChildIndex`]: super::children::ChildIndex
    pub(super) async fn children(self, api_version: String, kind: String) {
        let (resource, scope) = self.discover(&api_version, &kind).await;
        let index = self.children.kind(&api_version, &kind);
        let api: Api<DynamicObject> = match &self.config.namespace {
            Some(namespace) if scope == Scope::Namespaced => {
                Api::namespaced_with(self.client.clone(), namespace, &resource)
            }
            _ => Api::all_with(self.client.clone(), &resource),
        };
        let selector = format!("{}={}", katalog::labels::MANAGED, katalog::labels::TRUE);
        let config = watcher::Config::default().labels(&selector);
        let mut events = pin!(watcher(api, config).default_backoff());
        let mut failing = false;
        let watch = format!("{kind}.{api_version} children");
        while let Some(event) = events.next().await {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    self.failed(&watch, &error, &mut failing);
                    continue;
                }
            };
            self.recovered(&watch, &mut failing);
            match event {
                // A (re)list reports objects as they are, not changes; the primary list
                // already queued every owner.
                Event::Init => index.list_begins(),
                Event::InitApply(child) if self.may_own(child.meta()) => {
                    index.listed(self.children.trimmed(child));
                }
                Event::InitApply(_) => {}
                Event::InitDone => index.list_done(),
                Event::Apply(child) => {
                    // A child ork itself wrote last needs no reconcile: that reconcile is
                    // running or done. Anyone else's write (a user's edit, a controller's
                    // status) does.
                    let owners = if self.is_own_write(child.meta()) {
                        Vec::new()
                    } else {
                        owners(&self.config, &self.store, child.meta())
                    };
                    // Into the cache before the owner is queued, so its reconcile sees it.
                    if self.may_own(child.meta()) {
                        index.applied(self.children.trimmed(child));
                    } else {
                        index.deleted(&child);
                    }
                    for owner in owners {
                        self.add(owner);
                    }
                }
                Event::Delete(child) => {
                    index.deleted(&child);
                    for owner in owners(&self.config, &self.store, child.meta()) {
                        self.add(owner);
                    }
                }
            }
        }
    }

    /// Whether a managed object may be a child of this box's CRs, and so belongs in its
    /// cache: its controller ownerReference is of this box's kind, or it has none (children in
    /// other namespaces and cluster-scoped children are tracked by label and annotation). The
    /// children of other CRDs, which the label-selected watch also sees, are left out.
    fn may_own(&self, child: &ObjectMeta) -> bool {
        may_own(&self.config.resource, child)
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
    fn is_own_write(&self, meta: &ObjectMeta) -> bool {
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
    /// unless the enqueue gate holds it back; remembers the event's sentinels for the
    /// reconcile gate. A CR being deleted is never held.
    fn add_gated(&self, key: Key, old: Option<&DynamicObject>, new: &DynamicObject) {
        let gates = &self.config.gates;
        if gates.is_empty() {
            self.add(key);
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
        if gates.reconcile.is_some() {
            self.pending.put(key.clone(), sentinels);
        }
        self.add(key);
    }

    fn add(&self, key: Key) {
        if self.intake.add(key.clone()) == Some(Added::Dropped) {
            tracing::warn!(
                crd = %self.config.name,
                %key,
                "enqueue: queue depth limit reached — item dropped"
            );
        }
    }

    /// The resource and scope of a child kind, asking discovery until the kind is served.
    async fn discover(&self, api_version: &str, kind: &str) -> (ApiResource, Scope) {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let mut delay = Duration::from_millis(500);
        loop {
            match discovery::pinned_kind(&self.client, &gvk).await {
                Ok((resource, capabilities)) => return (resource, capabilities.scope),
                Err(error) => {
                    let message = format!("discovering {kind}.{api_version}: {error}");
                    tracing::warn!(crd = %self.config.name, error = %message, retry_in = ?delay, "child watch waits");
                    self.health.set_watch_error(&message);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(DISCOVERY_BACKOFF_MAX);
                }
            }
        }
    }

    fn failed(&self, watch: &str, error: &watcher::Error, failing: &mut bool) {
        let message = format!("{watch} watch: {error}");
        tracing::warn!(crd = %self.config.name, error = %message, "watch failed; retrying with backoff");
        self.health.set_watch_error(&message);
        *failing = true;
    }

    fn recovered(&self, watch: &str, failing: &mut bool) {
        if std::mem::take(failing) {
            tracing::info!(crd = %self.config.name, watch, "watch recovered");
            self.health.clear_watch_error();
        }
    }
}

/// The CRs of the box `config` describes that own `child`: the controller ownerReference of
/// the box's kind, else (cluster-scoped children) the `orkestra-owner` label, matched by name
/// against the cached CRs.
fn owners(config: &BoxConfig, store: &Store<DynamicObject>, child: &ObjectMeta) -> Vec<Key> {
    let resource = &config.resource;
    let controller = child.owner_references.iter().flatten().find(|r| {
        r.controller == Some(true)
            && r.kind == resource.kind
            && r.api_version == resource.api_version
    });
    if let Some(owner) = controller {
        return vec![Key {
            namespace: child.namespace.clone().filter(|_| config.namespaced),
            name: owner.name.clone(),
        }];
    }
    let Some(labels) = child.labels.as_ref() else {
        return Vec::new();
    };
    let Some(owner) = labels.get(katalog::labels::OWNER) else {
        return Vec::new();
    };
    // `<cr>.<target>` when the CR came through a serve target.
    let name = labels
        .get(katalog::labels::SERVE_TARGET_LABEL)
        .and_then(|target| owner.strip_suffix(target.as_str())?.strip_suffix('.'))
        .unwrap_or(owner);
    store
        .state()
        .iter()
        .filter(|cr| cr.metadata.name.as_deref() == Some(name))
        .filter_map(|cr| Key::of(&cr.metadata))
        .collect()
}

/// Whether `child` may belong to a CR of `resource` (see [`Watch::may_own`]).
fn may_own(resource: &ApiResource, child: &ObjectMeta) -> bool {
    child
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .is_none_or(|r| r.kind == resource.kind && r.api_version == resource.api_version)
}

/// Whether `manager` made the newest change recorded in the object's managed fields (strictly
/// newer than every other manager's; the times have one-second resolution, so a tie counts as
/// someone else's change).
fn is_last_written_by(meta: &ObjectMeta, manager: &str) -> bool {
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

/// An object's fingerprint and uid.
fn identity(meta: &ObjectMeta) -> (u64, Option<String>) {
    (fingerprint(meta), meta.uid.clone())
}

/// A hash of what a reconcile reacts to in an object's metadata: generation (the spec),
/// labels, annotations, finalizers, owners and deletion. Objects without a generation hash
/// their resource version, so every change counts.
fn fingerprint(meta: &ObjectMeta) -> u64 {
    let mut hasher = DefaultHasher::new();
    meta.uid.hash(&mut hasher);
    match meta.generation {
        Some(generation) => generation.hash(&mut hasher),
        None => meta.resource_version.hash(&mut hasher),
    }
    meta.labels.hash(&mut hasher);
    meta.annotations.hash(&mut hasher);
    meta.finalizers.hash(&mut hasher);
    meta.deletion_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .hash(&mut hasher);
    for owner in meta.owner_references.iter().flatten() {
        owner.uid.hash(&mut hasher);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_children_of_the_box_kind_or_without_a_controller_are_cached() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("example.com", "v1", "Web"));
        let owned_by = |api_version: &str, kind: &str| ObjectMeta {
            owner_references: Some(vec![OwnerReference {
                api_version: api_version.into(),
                kind: kind.into(),
                controller: Some(true),
                ..OwnerReference::default()
            }]),
            ..ObjectMeta::default()
        };
        assert!(may_own(&resource, &owned_by("example.com/v1", "Web")));
        assert!(!may_own(&resource, &owned_by("example.com/v1", "Db")));
        assert!(!may_own(&resource, &owned_by("other.com/v1", "Web")));
        assert!(may_own(&resource, &ObjectMeta::default()));
    }

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
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
        ManagedFieldsEntry, OwnerReference, Time,
    };
    use std::collections::BTreeMap;

    fn meta(generation: i64, labels: &[(&str, &str)]) -> ObjectMeta {
        ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            uid: Some("u1".into()),
            generation: Some(generation),
            resource_version: Some(format!("{generation}00")),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn a_status_only_change_keeps_the_fingerprint() {
        let before = meta(3, &[("a", "1")]);
        let mut after = before.clone();
        after.resource_version = Some("999".into());
        assert_eq!(fingerprint(&before), fingerprint(&after));
    }

    #[test]
    fn spec_labels_finalizers_and_deletion_change_the_fingerprint() {
        let base = meta(3, &[("a", "1")]);
        let print = fingerprint(&base);
        assert_ne!(print, fingerprint(&meta(4, &[("a", "1")])));
        assert_ne!(print, fingerprint(&meta(3, &[("a", "2")])));
        let mut finalized = base.clone();
        finalized.finalizers = Some(vec!["orkestra.orkspace.io/cleanup".into()]);
        assert_ne!(print, fingerprint(&finalized));
        let mut deleted = base;
        deleted.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
        ));
        assert_ne!(print, fingerprint(&deleted));
    }

    #[test]
    fn objects_without_a_generation_change_with_every_version() {
        let mut a = meta(1, &[]);
        a.generation = None;
        let mut b = a.clone();
        b.resource_version = Some("101".into());
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }

    fn web_box() -> (BoxConfig, Store<DynamicObject>) {
        let resource = ApiResource {
            group: "example.com".into(),
            version: "v1".into(),
            api_version: "example.com/v1".into(),
            kind: "Web".into(),
            plural: "webs".into(),
        };
        let mut writer = kube::runtime::reflector::store::Writer::new(resource.clone());
        let mut cr = DynamicObject::new("site", &resource).within("prod");
        cr.metadata.uid = Some("u-site".into());
        writer.apply_watcher_event(&Event::Init);
        writer.apply_watcher_event(&Event::InitApply(cr));
        writer.apply_watcher_event(&Event::InitDone);
        let store = writer.as_reader();
        (BoxConfig::new("web", resource, true), store)
    }

    fn owner_reference(kind: &str, api_version: &str, controller: bool) -> OwnerReference {
        OwnerReference {
            api_version: api_version.into(),
            kind: kind.into(),
            name: "site".into(),
            uid: "u-site".into(),
            controller: Some(controller),
            block_owner_deletion: Some(true),
        }
    }

    #[test]
    fn a_child_maps_to_its_controller_of_this_kind_only() {
        let (config, store) = web_box();
        let mut child = meta(1, &[]);
        child.namespace = Some("prod".into());
        child.owner_references = Some(vec![owner_reference("Web", "example.com/v1", true)]);
        let expected = Key {
            namespace: Some("prod".into()),
            name: "site".into(),
        };
        assert_eq!(owners(&config, &store, &child), [expected]);
        for other in [
            owner_reference("Web", "example.com/v1", false),
            owner_reference("Web", "other.com/v1", true),
            owner_reference("Api", "example.com/v1", true),
        ] {
            child.owner_references = Some(vec![other]);
            assert!(owners(&config, &store, &child).is_empty());
        }
    }

    #[test]
    fn a_cluster_scoped_child_maps_through_its_owner_label_and_serve_target() {
        let (config, store) = web_box();
        let child = meta(1, &[("orkestra-owner", "site")]);
        let owner = Key {
            namespace: Some("prod".into()),
            name: "site".into(),
        };
        assert_eq!(
            owners(&config, &store, &child),
            std::slice::from_ref(&owner)
        );
        let served = meta(
            1,
            &[
                ("orkestra-owner", "site.public"),
                ("orkestra-serve-target", "public"),
            ],
        );
        assert_eq!(owners(&config, &store, &served), [owner]);
        let stranger = meta(1, &[("orkestra-owner", "elsewhere")]);
        assert!(owners(&config, &store, &stranger).is_empty());
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
        let mut child = meta(1, &[]);
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

    #[test]
    fn keys_print_namespace_and_name() {
        let key = Key::of(&meta(1, &[])).unwrap();
        assert_eq!(key.to_string(), "default/web");
        let cluster = Key {
            namespace: None,
            name: "global".into(),
        };
        assert_eq!(format!("{cluster:?}"), "global");
    }
}
