//! [`ChildIndex`], a box's view of the children cache its reconcile reads (as a
//! [`ChildCache`]) instead of one LIST request per child kind and reconcile, and the routing of
//! a child to the CRs that own it.
//!
//! The cache is filled by the process's child watches ([`ChildWatches`](super::child_watches)):
//! one watch per child kind (and namespace the boxes cover), shared by every box that produces
//! that kind, of the objects labelled `orkestra.orkspace.io/managed=true` (whole objects, not
//! metadata). Each kind's [`KindIndex`] keeps those objects indexed by their controller
//! ownerReference's `(apiVersion, kind)` and the value of their `orkestra-owner` label, so a
//! box finds its CR's children without scanning the others, and sees only children whose
//! controller is of its own kind, or that have none (cluster-scoped children and children in
//! other namespaces, tracked by label): the children of another CRD that produces the same
//! kind stay out of its view even when the CR names are the same.
//!
//! A kind answers only once its first list is complete, and only for the namespaces its watch
//! covers; anything else (a kind not watched, a templated kind, a namespace outside the box's)
//! falls back to a LIST, as before. To keep the cache small, each object keeps only the
//! managed-fields entry of ork's own field manager (the one the reconcile reads), with a
//! digest in place of its fields, drops kubectl's last-applied annotation, and is held as its
//! JSON text, decoded when read.
//!
//! What a lagging cache costs is bounded by [`ChildCache`]'s contract: an extra (no-op) apply,
//! or a deletion noticed one reconcile later, never a wrong deletion.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use kube::api::{ApiResource, DynamicObject, ObjectMeta};
use kube::runtime::reflector::Store;

use super::BoxConfig;
use crate::managed_fields;
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

/// The annotation `kubectl apply` leaves on objects; the reconcile never reads it.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `(namespace, name)` of one cached object.
type ObjectKey = (Option<String>, String);

/// `(apiVersion, kind)` of a type.
type TypeKey = (String, String);

/// Where a child belongs: its controller's `(apiVersion, kind)` (`None`: no controller, so
/// any box may own it by label), and its `orkestra-owner` label.
type OwnerKey = (Option<TypeKey>, String);

/// The index of each child kind, by `(apiVersion, kind)`.
type Kinds = HashMap<TypeKey, Arc<KindIndex>>;

/// One box's view of the children cache: the kinds its CRs produce, and of each only the
/// objects its CRs may own. Cloning gives another handle to the same view.
#[derive(Clone, Debug)]
pub struct ChildIndex {
    kinds: Arc<RwLock<Kinds>>,
    /// `(apiVersion, kind)` of the box's CRs: the controller its children name.
    owner: TypeKey,
    /// The only namespace the box's watches cover (`None`: all).
    namespace: Option<String>,
    /// Questions answered from the cache, and questions left to a LIST.
    answered: Arc<AtomicU64>,
    declined: Arc<AtomicU64>,
}

/// The cached managed objects of one kind (of every box's CRs), by owner, filled by its one
/// watch.
#[derive(Debug, Default)]
pub(super) struct KindIndex {
    /// Only this manager's managed-fields entry is kept.
    field_manager: Option<String>,
    synced: AtomicBool,
    entries: RwLock<Entries>,
    /// Filled during a (re)list, swapped in when it is complete.
    listing: RwLock<Entries>,
    /// The kind's resource, once its watch discovered it (what deleting a child needs).
    resource: OnceLock<ApiResource>,
}

/// Objects by owner, and the owner of each object.
#[derive(Debug, Default)]
struct Entries {
    by_owner: HashMap<OwnerKey, HashMap<ObjectKey, Packed>>,
    owner_of: HashMap<ObjectKey, OwnerKey>,
}

impl Entries {
    fn insert(&mut self, object: DynamicObject) {
        let key = key_of(&object);
        self.remove(&key);
        if let Some(label) = owner_label(&object) {
            let owner = (controller_of(&object.metadata), label);
            self.owner_of.insert(key.clone(), owner.clone());
            self.by_owner
                .entry(owner)
                .or_default()
                .insert(key, Packed::new(&object));
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

    /// The objects labelled `label` whose controller is `controller` or that have none.
    fn of<'a>(
        &'a self,
        controller: &TypeKey,
        label: &str,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Packed)> {
        [Some(controller.clone()), None]
            .into_iter()
            .filter_map(move |c| self.by_owner.get(&(c, label.to_owned())))
            .flatten()
    }
}

/// A cached object as its JSON text: a decoded `DynamicObject` takes four to six times the
/// memory (a map node per JSON object, label and annotation map), and every read hands out an
/// owned copy anyway, so decoding on read costs about what cloning did.
#[derive(Debug)]
struct Packed(Box<[u8]>);

impl Packed {
    fn new(object: &DynamicObject) -> Self {
        Self(
            serde_json::to_vec(object)
                .unwrap_or_default()
                .into_boxed_slice(),
        )
    }

    /// The object (`None` only if the text does not decode, which encoding it never makes).
    fn unpack(&self) -> Option<DynamicObject> {
        serde_json::from_slice(&self.0).ok()
    }
}

impl ChildIndex {
    /// An empty view for a box of `owner` watching `namespace` (`None`: all); its kinds are
    /// attached as the box subscribes to their watches.
    pub fn new(namespace: Option<String>, owner: &ApiResource) -> Self {
        Self {
            kinds: Arc::default(),
            owner: (owner.api_version.clone(), owner.kind.clone()),
            namespace,
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

    /// Reads the children of kind `api_version`/`kind` from `index` (the kind's shared watch).
    pub(super) fn attach(&self, api_version: &str, kind: &str, index: Arc<KindIndex>) {
        let key = (api_version.to_owned(), kind.to_owned());
        let mut kinds = self.kinds.write().unwrap_or_else(PoisonError::into_inner);
        kinds.insert(key, index);
    }

    /// The cached children (of every kind listed so far) whose controller ownerReference
    /// names the box's CR `name` with `uid`, each with its kind's resource: what the box
    /// deletes itself when that CR is gone (see [`cleanup`](super::cleanup)).
    pub(super) fn controlled_by(&self, name: &str, uid: &str) -> Vec<(ApiResource, DynamicObject)> {
        let kinds: Vec<Arc<KindIndex>> = {
            let kinds = self.kinds.read().unwrap_or_else(PoisonError::into_inner);
            kinds.values().cloned().collect()
        };
        let mut found = Vec::new();
        for kind in kinds {
            let Some(resource) = kind.resource.get() else {
                continue;
            };
            if !kind.synced.load(Ordering::Acquire) {
                continue;
            }
            let entries = kind.entries.read().unwrap_or_else(PoisonError::into_inner);
            let owned = entries
                .by_owner
                .iter()
                .filter(|((controller, label), _)| {
                    controller.as_ref() == Some(&self.owner) && is_label_of(label, name)
                })
                .flat_map(|(_, objects)| objects.values())
                .filter_map(Packed::unpack)
                .filter(|object| controller_uid(&object.metadata) == Some(uid));
            found.extend(owned.map(|o| (resource.clone(), o)));
        }
        found
    }

    /// The resource of the child kind `api_version`/`kind`, once its watch discovered it.
    pub(super) fn resource_of(&self, api_version: &str, kind: &str) -> Option<ApiResource> {
        let kinds = self.kinds.read().unwrap_or_else(PoisonError::into_inner);
        let index = kinds.get(&(api_version.to_owned(), kind.to_owned()))?;
        index.resource.get().cloned()
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
    /// An empty index keeping the managed fields of `field_manager` only.
    pub(super) fn new(field_manager: Option<String>) -> Self {
        Self {
            field_manager,
            ..Self::default()
        }
    }

    /// The object as it is cached: without other managers' managed fields, ork's own with a
    /// digest of its fields (see `managed_fields`), and without kubectl's last-applied
    /// annotation.
    pub(super) fn trimmed(&self, mut object: DynamicObject) -> DynamicObject {
        let meta = &mut object.metadata;
        if let Some(fields) = &mut meta.managed_fields {
            fields.retain(|f| f.manager.is_some() && f.manager == self.field_manager);
            fields.iter_mut().for_each(managed_fields::compact);
        }
        if let Some(annotations) = &mut meta.annotations {
            annotations.remove(LAST_APPLIED);
        }
        object
    }

    /// The kind's watch discovered its resource.
    pub(super) fn discovered(&self, resource: &ApiResource) {
        let _ = self.resource.set(resource.clone());
    }

    /// A (re)list begins: objects arrive with [`KindIndex::listed`] until
    /// [`KindIndex::list_done`].
    pub(super) fn list_begins(&self) {
        *write(&self.listing) = Entries::default();
    }

    /// One object of a (re)list (trimmed here).
    pub(super) fn listed(&self, object: DynamicObject) {
        let object = self.trimmed(object);
        write(&self.listing).insert(object);
    }

    /// The (re)list is complete: its objects replace the cache, which answers from now on.
    pub(super) fn list_done(&self) {
        let listed = std::mem::take(&mut *write(&self.listing));
        *write(&self.entries) = listed;
        self.synced.store(true, Ordering::Release);
    }

    /// The watch lists again from scratch: the cache answers no question until that list is
    /// complete.
    pub(super) fn unsynced(&self) {
        self.synced.store(false, Ordering::Release);
    }

    /// An object was created or changed (its owner may have changed too; trimmed here).
    pub(super) fn applied(&self, object: DynamicObject) {
        let object = self.trimmed(object);
        write(&self.entries).insert(object);
    }

    /// An object was deleted.
    pub(super) fn deleted(&self, object: &DynamicObject) {
        write(&self.entries).remove(&key_of(object));
    }

    /// How many objects the index holds (of every box).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.owner_of.len()
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
                .of(&self.owner, owner_label)
                .filter(|((ns, _), _)| namespace.is_none() || ns.as_deref() == namespace)
                .filter_map(|(_, packed)| packed.unpack())
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

fn owner_label(object: &DynamicObject) -> Option<String> {
    object
        .metadata
        .labels
        .as_ref()?
        .get(katalog::labels::OWNER)
        .cloned()
}

/// Whether `label` (an `orkestra-owner` value) names the CR `name`: `<name>`, or
/// `<name>.<serveTarget>`.
fn is_label_of(label: &str, name: &str) -> bool {
    label
        .strip_prefix(name)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// The uid of the child's controller ownerReference, if it has one.
fn controller_uid(child: &ObjectMeta) -> Option<&str> {
    child
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.as_str())
}

/// `(apiVersion, kind)` of the child's controller ownerReference, if it has one.
fn controller_of(child: &ObjectMeta) -> Option<TypeKey> {
    child
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .map(|r| (r.api_version.clone(), r.kind.clone()))
}

/// The CRs of the box `config` describes that own `child`: the controller ownerReference of
/// the box's kind, else (cluster-scoped children) the `orkestra-owner` label, matched by name
/// against the cached CRs.
pub(super) fn owners(
    config: &BoxConfig,
    store: &Store<DynamicObject>,
    child: &ObjectMeta,
) -> Vec<Key> {
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

/// Whether `child` may belong to a CR of `resource`: its controller ownerReference is of
/// that kind, or it has none (children in other namespaces and cluster-scoped children are
/// tracked by label and annotation). What routes a child's events to a box, and what a box's
/// view shows.
pub(super) fn may_own(resource: &ApiResource, child: &ObjectMeta) -> bool {
    controller_of(child).is_none_or(|(api_version, kind)| {
        kind == resource.kind && api_version == resource.api_version
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
        FieldsV1, ManagedFieldsEntry, OwnerReference,
    };
    use kube::api::GroupVersionKind;
    use kube::runtime::watcher::Event;

    #[test]
    fn only_children_of_the_box_kind_or_without_a_controller_are_routed_to_it() {
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

    fn web() -> ApiResource {
        ApiResource::from_gvk(&GroupVersionKind::gvk("example.com", "v1", "Web"))
    }

    /// A ConfigMap index, attached to `view`, keeping the managed fields of `orkestra`.
    fn attached(view: &ChildIndex) -> Arc<KindIndex> {
        let kind = Arc::new(KindIndex::new(Some("orkestra".into())));
        view.attach("v1", "ConfigMap", Arc::clone(&kind));
        kind
    }

    /// `child` with a controller ownerReference to a CR of `owner`.
    fn controlled(ns: &str, name: &str, label: &str, owner: &ApiResource) -> DynamicObject {
        let mut object = child(ns, name, label);
        object.metadata.owner_references = Some(vec![OwnerReference {
            api_version: owner.api_version.clone(),
            kind: owner.kind.clone(),
            name: label.into(),
            uid: format!("u-{label}"),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]);
        object
    }

    #[test]
    fn boxes_sharing_a_kind_each_see_only_their_own_children() {
        // Two CRDs of the same kind name in different groups, with CRs named alike.
        let other = ApiResource::from_gvk(&GroupVersionKind::gvk("other.com", "v1", "Web"));
        let (mine, theirs) = (ChildIndex::new(None, &web()), ChildIndex::new(None, &other));
        let kind = attached(&mine);
        theirs.attach("v1", "ConfigMap", Arc::clone(&kind));
        kind.list_begins();
        kind.listed(controlled("a", "site-web", "site", &web()));
        kind.listed(controlled("a", "site-other", "site", &other));
        kind.listed(child("a", "site-by-label", "site"));
        kind.list_done();
        kind.applied(controlled("a", "site-web-2", "site", &web()));
        let resource = config_maps();
        assert_eq!(
            names(mine.objects(&resource, Some("a"), "site")),
            Some(vec![
                "site-by-label".into(),
                "site-web".into(),
                "site-web-2".into()
            ])
        );
        assert_eq!(
            names(theirs.objects(&resource, Some("a"), "site")),
            Some(vec!["site-by-label".into(), "site-other".into()])
        );
        assert_eq!(kind.len(), 4);
        // A child handed to another controller leaves the first view.
        kind.applied(controlled("a", "site-web-2", "site", &other));
        assert_eq!(
            names(mine.objects(&resource, Some("a"), "site")),
            Some(vec!["site-by-label".into(), "site-web".into()])
        );
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
        let index = ChildIndex::new(None, &web());
        let resource = config_maps();
        assert_eq!(index.objects(&resource, Some("a"), "web"), None);
        let kind = attached(&index);
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
        let index = ChildIndex::new(Some("a".into()), &web());
        let resource = config_maps();
        let kind = attached(&index);
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
    fn a_gone_crs_children_are_those_its_uid_controls_once_the_kind_is_listed_and_discovered() {
        let index = ChildIndex::new(None, &web());
        let kind = attached(&index);
        kind.list_begins();
        kind.listed(controlled("a", "site-1", "site", &web()));
        let mut served = controlled("a", "site-2", "site.public", &web());
        served.metadata.owner_references.as_mut().unwrap()[0].uid = "u-site".into();
        kind.listed(served);
        // Same name and kind, another CR (uid), and a CRD of another group.
        let mut recreated = controlled("a", "site-3", "site", &web());
        recreated.metadata.owner_references.as_mut().unwrap()[0].uid = "u-new".into();
        kind.listed(recreated);
        let other = ApiResource::from_gvk(&GroupVersionKind::gvk("other.com", "v1", "Web"));
        kind.listed(controlled("a", "site-4", "site", &other));
        kind.listed(child("a", "site-5", "site"));
        kind.listed(controlled("a", "sitex-1", "sitex", &web()));
        let found = |index: &ChildIndex| {
            let mut names: Vec<String> = index
                .controlled_by("site", "u-site")
                .into_iter()
                .filter_map(|(_, o)| o.metadata.name)
                .collect();
            names.sort();
            names
        };
        assert!(found(&index).is_empty(), "answered mid-list");
        kind.list_done();
        assert!(found(&index).is_empty(), "answered before discovery");
        kind.discovered(&config_maps());
        assert_eq!(found(&index), ["site-1", "site-2"]);
    }

    #[test]
    fn a_packed_object_unpacks_to_itself() {
        let mut object = controlled("a", "web-1", "web", &web());
        object.data = serde_json::json!({"data": {"n": "1"}});
        assert_eq!(Packed::new(&object).unpack(), Some(object));
    }

    #[test]
    fn cached_objects_keep_only_the_managed_fields_of_ork() {
        let index = KindIndex::new(Some("orkestra".into()));
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

    #[test]
    fn a_cached_child_keeps_ork_s_entry_compacted() {
        let index = KindIndex::new(Some("orkestra".into()));
        let mut full = child("a", "web-1", "web");
        full.metadata.managed_fields = Some(vec![ManagedFieldsEntry {
            manager: Some("orkestra".into()),
            operation: Some("Apply".into()),
            fields_v1: Some(FieldsV1(serde_json::json!({"f:data": {"f:n": {}}}))),
            ..ManagedFieldsEntry::default()
        }]);
        let cached = index.trimmed(full.clone());
        let fields = &cached.metadata.managed_fields.as_ref().unwrap()[0].fields_v1;
        assert!(
            matches!(fields, Some(FieldsV1(serde_json::Value::String(_)))),
            "{fields:?}"
        );
        let mut compacted = full.metadata.managed_fields.unwrap();
        compacted.iter_mut().for_each(managed_fields::compact);
        assert_eq!(cached.metadata.managed_fields.unwrap(), compacted);
    }
}
