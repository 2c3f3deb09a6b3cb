//! The child watches of a box and [`ChildIndex`], the cache of the objects its CRs own they
//! fill, which its reconcile reads (as a [`ChildCache`]) instead of one LIST request per child
//! kind and reconcile.
//!
//! One watch per kind the CRD produces watches the objects labelled
//! `orkestra.orkspace.io/managed=true` (whole objects, not metadata) and queues the *owner* of
//! each one that changes or goes away, unless ork's own field manager wrote it last. The
//! watches see every managed object of a kind; only those whose controller
//! ownerReference is of the box's own kind (or that have none: cluster-scoped children and
//! children in other namespaces) are cached, so boxes do not each hold the children of every
//! other CRD.
//! Each child watch keeps the managed objects of its kind, indexed by the value of their
//! `orkestra-owner` label, so a reconcile finds its CR's children without scanning the
//! others. A kind answers only once its first list is complete, and only for the namespaces
//! its watch covers; anything else (a kind not watched, a templated kind, a namespace outside
//! the box's) falls back to a LIST, as before. To keep the cache small, each object keeps
//! only the managed-fields entry of ork's own field manager (the one the reconcile reads) and
//! drops kubectl's last-applied annotation.
//!
//! What a lagging cache costs is bounded by [`ChildCache`]'s contract: an extra (no-op) apply,
//! or a deletion noticed one reconcile later, never a wrong deletion.

use std::collections::HashMap;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use futures::StreamExt;
use kube::Resource;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ObjectMeta};
use kube::discovery::{self, Scope};
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::Store;
use kube::runtime::watcher::{self, Event, watcher};

use super::BoxConfig;
use super::primary::Watch;
use crate::work::Key;

/// Child objects the OperatorBox already holds (its watch caches), read instead of a LIST
/// request per child kind and reconcile.
///
/// A cache may lag behind the API server. That costs at most an extra (no-op) apply or a
/// deletion noticed one reconcile later, never a wrong deletion: ownership is still checked
/// on every object, and deletes carry a uid precondition. Objects must be complete (not
/// metadata-only): they feed `.children` in status expressions when no apply happened.
pub trait ChildCache: Send + Sync {
    /// The cached objects of `resource` in `namespace` (`None`: cluster-wide) labelled as
    /// children of `owner_label` (at least those; more are filtered out), or `None` when this
    /// kind or namespace is not cached (the Reconciler then lists from the API server).
    fn objects(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        owner_label: &str,
    ) -> Option<Vec<DynamicObject>>;

    /// Whether cluster-wide questions are answered (the box watches every namespace), so
    /// looking for a CR's children in all namespaces costs no request.
    fn covers_all_namespaces(&self) -> bool {
        false
    }
}

/// The longest wait between two discovery attempts of a child kind.
const DISCOVERY_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// The annotation `kubectl apply` leaves on objects; the reconcile never reads it.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `(namespace, name)` of one cached object.
type ObjectKey = (Option<String>, String);

/// The index of each child kind, by `(apiVersion, kind)`.
type Kinds = HashMap<(String, String), Arc<KindIndex>>;

/// The children of one box, per kind. Cloning gives another handle to the same index.
#[derive(Clone, Debug, Default)]
pub struct ChildIndex {
    kinds: Arc<RwLock<Kinds>>,
    /// The only namespace the box's watches cover (`None`: all).
    namespace: Option<String>,
    /// Only this manager's managed-fields entry is kept.
    field_manager: Option<String>,
    /// Questions answered from the cache, and questions left to a LIST.
    answered: Arc<AtomicU64>,
    declined: Arc<AtomicU64>,
}

/// The cached objects of one kind, by owner label.
#[derive(Debug, Default)]
pub(super) struct KindIndex {
    synced: AtomicBool,
    entries: RwLock<Entries>,
    /// Filled during a (re)list, swapped in when it is complete.
    listing: RwLock<Entries>,
}

/// Objects by owner label, and the owner label of each object.
#[derive(Debug, Default)]
struct Entries {
    by_owner: HashMap<String, HashMap<ObjectKey, Arc<DynamicObject>>>,
    owner_of: HashMap<ObjectKey, String>,
}

impl Entries {
    fn insert(&mut self, object: DynamicObject) {
        let key = key_of(&object);
        self.remove(&key);
        if let Some(owner) = owner_of(&object) {
            self.owner_of.insert(key.clone(), owner.clone());
            self.by_owner
                .entry(owner)
                .or_default()
                .insert(key, Arc::new(object));
        }
    }

    fn remove(&mut self, key: &ObjectKey) {
        let Some(owner) = self.owner_of.remove(key) else {
            return;
        };
        if let Some(objects) = self.by_owner.get_mut(&owner) {
            objects.remove(key);
            if objects.is_empty() {
                self.by_owner.remove(&owner);
            }
        }
    }
}

impl ChildIndex {
    /// An empty index for a box watching `namespace` (`None`: all), keeping the managed
    /// fields of `field_manager`.
    pub fn new(namespace: Option<String>, field_manager: Option<String>) -> Self {
        Self {
            kinds: Arc::default(),
            namespace,
            field_manager,
            answered: Arc::default(),
            declined: Arc::default(),
        }
    }

    /// How many child look-ups were answered from the cache, and how many were left to a LIST
    /// request (kind not cached, not listed yet, or namespace not watched).
    pub fn lookups(&self) -> (u64, u64) {
        (
            self.answered.load(Ordering::Relaxed),
            self.declined.load(Ordering::Relaxed),
        )
    }

    /// The index of one kind, created on first use (by its child watch).
    pub(super) fn kind(&self, api_version: &str, kind: &str) -> Arc<KindIndex> {
        let key = (api_version.to_owned(), kind.to_owned());
        let mut kinds = self.kinds.write().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(kinds.entry(key).or_default())
    }

    /// The object as it is cached: without other managers' managed fields and without
    /// kubectl's last-applied annotation.
    pub(super) fn trimmed(&self, mut object: DynamicObject) -> DynamicObject {
        let meta = &mut object.metadata;
        if let Some(fields) = &mut meta.managed_fields {
            fields.retain(|f| f.manager.is_some() && f.manager == self.field_manager);
        }
        if let Some(annotations) = &mut meta.annotations {
            annotations.remove(LAST_APPLIED);
        }
        object
    }

    fn covers(&self, namespace: Option<&str>) -> bool {
        match (&self.namespace, namespace) {
            (None, _) => true,
            (Some(watched), Some(asked)) => watched == asked,
            // A cluster-wide question about a namespaced kind the box watches in one
            // namespace only.
            (Some(_), None) => false,
        }
    }
}

impl KindIndex {
    /// A (re)list begins: objects arrive with [`KindIndex::listed`] until
    /// [`KindIndex::list_done`].
    pub(super) fn list_begins(&self) {
        *write(&self.listing) = Entries::default();
    }

    /// One object of a (re)list.
    pub(super) fn listed(&self, object: DynamicObject) {
        write(&self.listing).insert(object);
    }

    /// The (re)list is complete: its objects replace the cache, which answers from now on.
    pub(super) fn list_done(&self) {
        let listed = std::mem::take(&mut *write(&self.listing));
        *write(&self.entries) = listed;
        self.synced.store(true, Ordering::Release);
    }

    /// An object was created or changed (its owner label may have changed too).
    pub(super) fn applied(&self, object: DynamicObject) {
        write(&self.entries).insert(object);
    }

    /// An object was deleted.
    pub(super) fn deleted(&self, object: &DynamicObject) {
        write(&self.entries).remove(&key_of(object));
    }
}

impl ChildCache for ChildIndex {
    fn objects(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        owner_label: &str,
    ) -> Option<Vec<DynamicObject>> {
        let found = self.lookup(resource, namespace, owner_label);
        let counter = if found.is_some() {
            &self.answered
        } else {
            &self.declined
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn covers_all_namespaces(&self) -> bool {
        self.covers(None)
    }
}

impl ChildIndex {
    fn lookup(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        owner_label: &str,
    ) -> Option<Vec<DynamicObject>> {
        if !self.covers(namespace) {
            return None;
        }
        let kind = {
            let kinds = self.kinds.read().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(kinds.get(&(resource.api_version.clone(), resource.kind.clone()))?)
        };
        if !kind.synced.load(Ordering::Acquire) {
            return None;
        }
        let entries = kind.entries.read().unwrap_or_else(PoisonError::into_inner);
        Some(
            entries
                .by_owner
                .get(owner_label)
                .into_iter()
                .flat_map(HashMap::values)
                .filter(|o| namespace.is_none() || o.metadata.namespace.as_deref() == namespace)
                .map(|o| DynamicObject::clone(o))
                .collect(),
        )
    }
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

fn key_of(object: &DynamicObject) -> ObjectKey {
    (
        object.metadata.namespace.clone(),
        object.metadata.name.clone().unwrap_or_default(),
    )
}

fn owner_of(object: &DynamicObject) -> Option<String> {
    object
        .metadata
        .labels
        .as_ref()?
        .get(katalog::labels::OWNER)
        .cloned()
}

/// The child watches of a box.
impl Watch {
    /// Watches the managed objects of one child kind (whole objects, trimmed as they enter
    /// `cache`) into the box's [`ChildIndex`] and queues the owner of each one that changes or
    /// goes away.
    pub(super) async fn children(self, cache: ChildIndex, api_version: String, kind: String) {
        let watch = format!("{kind}.{api_version} children");
        let (resource, scope) = self.discover(&watch, &api_version, &kind).await;
        let index = cache.kind(&api_version, &kind);
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
                    index.listed(cache.trimmed(child));
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
                        index.applied(cache.trimmed(child));
                    } else {
                        index.deleted(&child);
                    }
                    for owner in owners {
                        self.add_triggered(owner);
                    }
                }
                Event::Delete(child) => {
                    index.deleted(&child);
                    for owner in owners(&self.config, &self.store, child.meta()) {
                        self.add_triggered(owner);
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

    /// The resource and scope of a child kind, asking discovery until the kind is served.
    async fn discover(&self, watch: &str, api_version: &str, kind: &str) -> (ApiResource, Scope) {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let mut delay = Duration::from_millis(500);
        loop {
            match discovery::pinned_kind(&self.client, &gvk).await {
                Ok((resource, capabilities)) => {
                    self.health.clear_watch_error(watch);
                    return (resource, capabilities.scope);
                }
                Err(error) => {
                    let message = format!("discovering {kind}.{api_version}: {error}");
                    tracing::warn!(crd = %self.config.name, error = %message, retry_in = ?delay, "child watch waits");
                    self.health.set_watch_error(watch, &message);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(DISCOVERY_BACKOFF_MAX);
                }
            }
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
            event: 0,
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

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, OwnerReference};

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

    /// A child named `web` with `labels`.
    fn labelled(labels: &[(&str, &str)]) -> ObjectMeta {
        let labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        ObjectMeta {
            name: Some("web".into()),
            labels: Some(labels.collect()),
            ..ObjectMeta::default()
        }
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
        let mut child = labelled(&[]);
        child.namespace = Some("prod".into());
        child.owner_references = Some(vec![owner_reference("Web", "example.com/v1", true)]);
        let expected = Key {
            event: 0,
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
        let child = labelled(&[("orkestra-owner", "site")]);
        let owner = Key {
            event: 0,
            namespace: Some("prod".into()),
            name: "site".into(),
        };
        assert_eq!(
            owners(&config, &store, &child),
            std::slice::from_ref(&owner)
        );
        let served = labelled(&[
            ("orkestra-owner", "site.public"),
            ("orkestra-serve-target", "public"),
        ]);
        assert_eq!(owners(&config, &store, &served), [owner]);
        let stranger = labelled(&[("orkestra-owner", "elsewhere")]);
        assert!(owners(&config, &store, &stranger).is_empty());
    }

    fn config_maps() -> ApiResource {
        ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"))
    }

    fn child(ns: &str, name: &str, owner: &str) -> DynamicObject {
        let mut object = DynamicObject::new(name, &config_maps()).within(ns);
        object.metadata.labels =
            Some([(katalog::labels::OWNER.to_owned(), owner.to_owned())].into());
        object
    }

    fn names(found: Option<Vec<DynamicObject>>) -> Option<Vec<String>> {
        found.map(|objects| {
            let mut names: Vec<String> = objects
                .into_iter()
                .filter_map(|o| o.metadata.name)
                .collect();
            names.sort();
            names
        })
    }

    #[test]
    fn a_kind_answers_only_after_its_first_list_and_by_owner() {
        let index = ChildIndex::new(None, Some("orkestra".into()));
        let resource = config_maps();
        assert_eq!(index.objects(&resource, Some("a"), "web"), None);
        let kind = index.kind("v1", "ConfigMap");
        kind.list_begins();
        kind.listed(child("a", "web-1", "web"));
        kind.listed(child("a", "db-1", "db"));
        assert_eq!(
            index.objects(&resource, Some("a"), "web"),
            None,
            "answered mid-list"
        );
        kind.list_done();
        assert_eq!(
            names(index.objects(&resource, Some("a"), "web")),
            Some(vec!["web-1".into()])
        );
        kind.applied(child("a", "web-2", "web"));
        kind.applied(child("b", "web-1", "web"));
        assert_eq!(
            names(index.objects(&resource, Some("a"), "web")),
            Some(vec!["web-1".into(), "web-2".into()])
        );
        kind.deleted(&child("a", "web-1", "web"));
        assert_eq!(
            names(index.objects(&resource, Some("a"), "web")),
            Some(vec!["web-2".into()])
        );
        // A relabelled object moves to its new owner.
        kind.applied(child("a", "web-2", "db"));
        assert_eq!(
            names(index.objects(&resource, Some("a"), "web")),
            Some(vec![])
        );
        assert_eq!(
            names(index.objects(&resource, Some("a"), "db")),
            Some(vec!["db-1".into(), "web-2".into()])
        );
    }

    #[test]
    fn a_relist_replaces_the_cache_and_other_namespaces_fall_back_to_a_list() {
        let index = ChildIndex::new(Some("a".into()), None);
        let resource = config_maps();
        let kind = index.kind("v1", "ConfigMap");
        kind.list_begins();
        kind.listed(child("a", "web-1", "web"));
        kind.list_done();
        kind.list_begins();
        kind.listed(child("a", "web-2", "web"));
        kind.list_done();
        assert_eq!(
            names(index.objects(&resource, Some("a"), "web")),
            Some(vec!["web-2".into()])
        );
        assert_eq!(index.objects(&resource, Some("b"), "web"), None);
        assert_eq!(index.objects(&resource, None, "web"), None);
    }

    #[test]
    fn cached_objects_keep_only_the_managed_fields_of_ork() {
        let index = ChildIndex::new(None, Some("orkestra".into()));
        let mut object = child("a", "web-1", "web");
        let entry = |manager: &str| ManagedFieldsEntry {
            manager: Some(manager.into()),
            ..ManagedFieldsEntry::default()
        };
        object.metadata.managed_fields = Some(vec![entry("kubectl"), entry("orkestra")]);
        object.metadata.annotations = Some([(LAST_APPLIED.to_owned(), "{}".to_owned())].into());
        let trimmed = index.trimmed(object);
        let managers: Vec<_> = trimmed
            .metadata
            .managed_fields
            .unwrap()
            .into_iter()
            .filter_map(|f| f.manager)
            .collect();
        assert_eq!(managers, ["orkestra"]);
        assert!(trimmed.metadata.annotations.unwrap().is_empty());
    }
}
