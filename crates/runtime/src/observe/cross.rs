//! Cross-CRD reads (`cross:`, spec §11.2): the `.cross.<as>` map of one CR, read from the
//! reflector stores of the other boxes of this process (no API call), and the CRs to queue
//! again when an object they read changes.
//!
//! # What a declaration reads
//!
//! - **Which CRD**: `crd:` names a key of `spec.crds`; `labelSelector:` picks the first
//!   enabled CRD (declaration order) whose own `labelSelector` holds every pair (compared
//!   case-insensitively, as Orkestra's registry does).
//! - **Which CR**, first that applies: `selector.matchLabels` (values templated; every pair
//!   must match; across all namespaces, since it overrides name and namespace), then
//!   `selector.name` (templated; `selector.namespace` templated, defaulting to the reading
//!   CR's namespace; ignored for cluster-scoped CRDs), then, for a CRD picked by
//!   `labelSelector`, the CRs carrying those labels. Nothing else selects nothing. Label
//!   matches are ordered by namespace and name, so "first" is deterministic.
//! - **`strategy: all`** adds `.items`, the list of every match, to the first match's keys.
//!
//! # Shape
//!
//! A match is `found: "true"`, `name`, `namespace`, `spec` and `status` (empty maps when
//! absent), `labels` and `annotations` (when any), as Orkestra's code builds it, plus
//! `metadata` (the object's metadata without `managedFields`) so the metadata notes (`name`,
//! `labels`, `resourceUID`, …) work on it too. No match is `found: "false"`, the selected
//! `name`/`namespace` (when a name selected it), empty `spec` and `status`, and
//! `_placeholder: true`, the runtime's mark for "not there", so `resourceExists` is false.
//! A CRD with `crossAccess: false` (or the Katalog-wide `crossAccess: false` without a
//! per-CRD override) always reads as no match. A declaration with a remote `source:` that
//! finds nothing here is then read over HTTP ([`super::remote`]).
//!
//! # Health and metrics of a same-process source
//!
//! When the CRD read runs in this process and is readable, every read of it (found or not)
//! also carries `health` (what `GET /katalog/<crd>/health` answers, without the leadership
//! and dependency fields) and `metrics` (the box's live numbers, as its own templates see
//! `.metrics`: `queueDepth`, `workers`, `resourceCount`, `errorRate`, …), so
//! `.cross.<as>.health.healthy` and `.cross.<as>.metrics.queueDepth` read alike whether the
//! source is local or remote. They are read when the reader reconciles: a change of the
//! source box's numbers does not queue its readers (their resync or next change does).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use katalog::render::{Render, render_text};
use katalog::{Crd, Katalog};
use kube::api::{ApiResource, DynamicObject, ObjectMeta};
use kube::runtime::reflector::Store;
use serde_json::{Map, Value};

use crate::work::Key;

/// The cache of one box as cross reads see it.
#[derive(Clone)]
pub struct Source {
    /// The box's reflector store.
    pub store: Store<DynamicObject>,
    /// The resource the store was built for (its object references carry it).
    pub resource: ApiResource,
    /// The box's health and live numbers, when it shows them (`.cross.<as>.health`,
    /// `.metrics`).
    pub vitals: Option<Arc<dyn Vitals>>,
}

/// What a box shows of itself to the cross reads of other boxes, beside its CRs.
pub trait Vitals: Send + Sync {
    /// Its health, as `/katalog/<crd>/health` reports it.
    fn health(&self) -> Value;
    /// Its live numbers, as its own templates see `.metrics`.
    fn metrics(&self) -> Value;
}

/// A box whose CRs read other CRDs: what a change of an object it reads queues again.
#[derive(Clone)]
pub struct Dependent {
    /// The box's CRD (its key in `spec.crds`).
    pub crd: String,
    /// The box's cross declarations.
    pub cross: Arc<Cross>,
    /// The box's cache of its own CRs.
    pub store: Store<DynamicObject>,
    /// Queues one of the box's CRs.
    pub enqueue: Arc<dyn Fn(Key) + Send + Sync>,
}

#[derive(Default)]
struct Registry {
    caches: BTreeMap<String, Source>,
    dependents: BTreeMap<String, Vec<Dependent>>,
}

/// The boxes of one process as sources of cross reads, by CRD name: their caches, and the
/// boxes that read each of them. Cloning shares it.
///
/// The supervisor fills it as boxes start; a box's primary watch reports each change of its
/// objects to [`Sources::changed`] and each completed relist to [`Sources::relisted`], which
/// queue the dependents' CRs that read them.
#[derive(Clone, Default)]
pub struct Sources(Arc<RwLock<Registry>>);

impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let registry = self.0.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Sources")
            .field("caches", &registry.caches.keys().collect::<Vec<_>>())
            .field("read", &registry.dependents.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Sources {
    /// Registers (or replaces) the cache of CRD `crd`.
    pub fn insert(&self, crd: &str, source: Source) {
        self.write().caches.insert(crd.to_owned(), source);
    }

    /// The cache of CRD `crd`, when its box runs.
    pub fn get(&self, crd: &str) -> Option<Source> {
        self.read().caches.get(crd).cloned()
    }

    /// Registers a box that reads other CRDs, under each CRD its declarations read.
    pub fn subscribe(&self, dependent: Dependent) {
        let mut registry = self.write();
        for crd in dependent.cross.sources() {
            registry
                .dependents
                .entry(crd.to_owned())
                .or_default()
                .push(dependent.clone());
        }
    }

    /// Forgets the box of CRD `crd` (it stopped): its cache and its subscriptions.
    pub fn leave(&self, crd: &str) {
        let mut registry = self.write();
        registry.caches.remove(crd);
        for dependents in registry.dependents.values_mut() {
            dependents.retain(|d| d.crd != crd);
        }
    }

    /// An object of CRD `crd` changed or went away: queues every CR of the dependents whose
    /// declarations read it (see [`Cross::dependents`]).
    pub fn changed(&self, crd: &str, object: &ObjectMeta) {
        for dependent in self.dependents_of(crd) {
            let crs = dependent.store.state();
            for key in dependent.cross.dependents(&crs, crd, object) {
                (dependent.enqueue)(key);
            }
        }
    }

    /// The cache of CRD `crd` was (re)listed: what changed meanwhile is unknown, so every CR
    /// of every dependent reading it is queued.
    pub fn relisted(&self, crd: &str) {
        for dependent in self.dependents_of(crd) {
            for cr in dependent.store.state() {
                if let Some(key) = Key::of(&cr.metadata) {
                    (dependent.enqueue)(key);
                }
            }
        }
    }

    fn dependents_of(&self, crd: &str) -> Vec<Dependent> {
        self.read().dependents.get(crd).cloned().unwrap_or_default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The CRD a declaration reads, as the Katalog describes it.
#[derive(Debug, Clone)]
struct Target {
    /// Its key in `spec.crds`.
    crd: String,
    namespaced: bool,
    /// `crossAccess` (per CRD, else Katalog-wide, else true).
    readable: bool,
    /// The CRD's own `labelSelector` (what its CRs carry), when the declaration picked the
    /// CRD by labels.
    labels: BTreeMap<String, String>,
}

/// One `cross:` declaration, ready to resolve.
#[derive(Debug)]
struct Read {
    alias: String,
    /// `None`: no CRD of this process matches.
    target: Option<Target>,
    name: Option<String>,
    namespace: Option<String>,
    match_labels: BTreeMap<String, String>,
    all: bool,
}

/// Which objects of the target a declaration selects for one CR.
#[derive(Debug, PartialEq)]
enum Selection {
    Name {
        namespace: Option<String>,
        name: String,
    },
    Labels(BTreeMap<String, String>),
    Nothing,
}

/// The `cross:` declarations of one CRD, resolved against its Katalog, reading through the
/// [`Sources`] it is bound to (its box binds it when it starts; unbound, every read finds
/// nothing).
pub struct Cross {
    reads: Vec<Read>,
    sources: OnceLock<Sources>,
    render: Arc<dyn Render>,
}

impl fmt::Debug for Cross {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cross")
            .field("reads", &self.reads)
            .finish_non_exhaustive()
    }
}

impl Cross {
    /// The declarations of `crd` (normalized: `operatorBox.cross` and `observe.cross`),
    /// with their targets looked up in `katalog`, rendering selectors with `render`.
    pub fn new(katalog: &Katalog, crd: &Crd, render: Arc<dyn Render>) -> Self {
        let default_access = katalog.document.cross_access.unwrap_or(true);
        let reads = crd
            .operator_box()
            .cross
            .iter()
            .map(|spanned| {
                let c = &spanned.value;
                let by_labels = c.label_selector.as_ref().map(|l| l.0.clone());
                let target = match (&c.crd, &by_labels) {
                    (Some(name), _) => katalog.crd(&name.value).filter(|t| t.enabled),
                    (None, Some(labels)) => {
                        katalog.enabled_crds().find(|t| labels_match(t, labels))
                    }
                    (None, None) => None,
                }
                .map(|t| Target {
                    crd: t.name.clone(),
                    namespaced: t.namespaced,
                    readable: t.entry.cross_access.unwrap_or(default_access),
                    labels: match (&c.crd, &t.entry.label_selector) {
                        (None, Some(own)) => own.0.clone(),
                        _ => BTreeMap::new(),
                    },
                });
                let alias = c
                    .alias
                    .clone()
                    .filter(|a| !a.is_empty())
                    .or_else(|| c.crd.as_ref().map(|n| n.value.clone()))
                    .or_else(|| target.as_ref().map(|t| t.crd.clone()))
                    .unwrap_or_default();
                let selector = c.selector.clone().unwrap_or_default();
                Read {
                    alias,
                    target,
                    name: selector.name.filter(|n| !n.is_empty()),
                    namespace: selector.namespace.filter(|n| !n.is_empty()),
                    match_labels: selector.match_labels.map(|l| l.0).unwrap_or_default(),
                    all: c.strategy.as_deref() == Some("all"),
                }
            })
            .collect();
        Cross {
            reads,
            sources: OnceLock::new(),
            render,
        }
    }

    /// Reads through `sources` from now on. Only the first binding counts: a Cross belongs
    /// to one process's boxes.
    pub fn bind(&self, sources: &Sources) {
        let _ = self.sources.set(sources.clone());
    }

    /// Whether the CRD declares no cross read.
    pub fn is_empty(&self) -> bool {
        self.reads.is_empty()
    }

    /// The CRDs of this process the declarations read (readable or not).
    pub fn sources(&self) -> BTreeSet<&str> {
        self.reads
            .iter()
            .filter_map(|r| r.target.as_ref().map(|t| t.crd.as_str()))
            .collect()
    }

    /// The `.cross` map of one CR, `cr` as templates see it (apiVersion, kind, metadata,
    /// spec, …): one entry per declaration, keyed by its `as`.
    pub fn read(&self, cr: &Value) -> Map<String, Value> {
        self.reads
            .iter()
            .map(|read| (read.alias.clone(), self.read_one(read, cr)))
            .collect()
    }

    /// The CRs among `crs` (this CRD's cached CRs) whose declarations read `object`, an
    /// object of CRD `crd` that changed or went away.
    ///
    /// A name selection matches exactly. A label selection counts every CR as a reader: the
    /// object may just have stopped matching, which a reader must see too (a deliberate
    /// over-approximation; the queue dedupes).
    pub fn dependents(
        &self,
        crs: &[Arc<DynamicObject>],
        crd: &str,
        object: &ObjectMeta,
    ) -> Vec<Key> {
        let reads: Vec<(&Read, &Target)> = self
            .reads
            .iter()
            .filter_map(|r| r.target.as_ref().map(|t| (r, t)))
            .filter(|(_, t)| t.crd == crd && t.readable)
            .collect();
        if reads.is_empty() {
            return Vec::new();
        }
        crs.iter()
            .filter(|cr| {
                let data = serde_json::to_value(cr.as_ref()).unwrap_or(Value::Null);
                reads
                    .iter()
                    .any(|(read, target)| match self.select(read, target, &data) {
                        Selection::Name { namespace, name } => {
                            object.name.as_deref() == Some(name.as_str())
                                && (!target.namespaced || object.namespace == namespace)
                        }
                        Selection::Labels(_) => true,
                        Selection::Nothing => false,
                    })
            })
            .filter_map(|cr| Key::of(&cr.metadata))
            .collect()
    }

    fn read_one(&self, read: &Read, cr: &Value) -> Value {
        let Some(target) = &read.target else {
            return missing(None, None);
        };
        let selection = self.select(read, target, cr);
        let (name, namespace) = match &selection {
            Selection::Name { namespace, name } => (Some(name.as_str()), namespace.as_deref()),
            _ => (None, None),
        };
        if !target.readable {
            return missing(name, namespace);
        }
        let Some(source) = self.sources.get().and_then(|s| s.get(&target.crd)) else {
            return missing(name, namespace);
        };
        let matches: Vec<Arc<DynamicObject>> = match &selection {
            Selection::Name { namespace, name } => {
                let key = Key {
                    event: 0,
                    namespace: namespace.clone(),
                    name: name.clone(),
                };
                source
                    .store
                    .get(&key.object_ref(&source.resource))
                    .into_iter()
                    .collect()
            }
            Selection::Labels(labels) => {
                let mut found: Vec<_> = source
                    .store
                    .state()
                    .into_iter()
                    .filter(|o| carries(&o.metadata, labels))
                    .collect();
                found.sort_by(|a, b| {
                    (&a.metadata.namespace, &a.metadata.name)
                        .cmp(&(&b.metadata.namespace, &b.metadata.name))
                });
                found
            }
            Selection::Nothing => Vec::new(),
        };
        let mut value = matches
            .first()
            .map_or_else(|| missing(name, namespace), |o| found(o));
        if let Some(map) = value.as_object_mut() {
            if read.all {
                map.insert(
                    "items".into(),
                    Value::Array(matches.iter().map(|o| found(o)).collect()),
                );
            }
            if let Some(vitals) = &source.vitals {
                map.insert("health".into(), vitals.health());
                map.insert("metrics".into(), vitals.metrics());
            }
        }
        value
    }

    /// What `read` selects for the CR `cr`.
    fn select(&self, read: &Read, target: &Target, cr: &Value) -> Selection {
        if !read.match_labels.is_empty() {
            let labels = read
                .match_labels
                .iter()
                .map(|(k, v)| (k.clone(), self.render(v, cr)))
                .collect();
            return Selection::Labels(labels);
        }
        if let Some(name) = read.name.as_deref().map(|n| self.render(n, cr))
            && !name.is_empty()
        {
            let namespace = target.namespaced.then(|| {
                read.namespace
                    .as_deref()
                    .map(|n| self.render(n, cr))
                    .filter(|n| !n.is_empty())
                    .or_else(|| {
                        cr.pointer("/metadata/namespace")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .unwrap_or_default()
            });
            return Selection::Name { namespace, name };
        }
        if !target.labels.is_empty() {
            return Selection::Labels(target.labels.clone());
        }
        Selection::Nothing
    }

    /// A selector template rendered against the CR; a failure selects by the empty string
    /// (nothing), as Orkestra does.
    fn render(&self, template: &str, cr: &Value) -> String {
        match render_text(self.render.as_ref(), template, cr) {
            Ok(text) => text.into_owned(),
            Err(error) => {
                tracing::debug!(template, %error, "cross: selector did not render");
                String::new()
            }
        }
    }
}

/// Whether the CRD entry's `labelSelector` holds every pair of `wanted` (case-insensitive).
fn labels_match(crd: &Crd, wanted: &BTreeMap<String, String>) -> bool {
    let Some(own) = crd.entry.label_selector.as_ref() else {
        return false;
    };
    !wanted.is_empty()
        && wanted.iter().all(|(k, v)| {
            own.0
                .iter()
                .any(|(ok, ov)| ok.eq_ignore_ascii_case(k) && ov.eq_ignore_ascii_case(v))
        })
}

/// Whether the object carries every label of `labels`.
fn carries(meta: &ObjectMeta, labels: &BTreeMap<String, String>) -> bool {
    let own = meta.labels.as_ref();
    labels
        .iter()
        .all(|(k, v)| own.and_then(|l| l.get(k)) == Some(v))
}

/// The read of a matched object.
pub(super) fn found(object: &DynamicObject) -> Value {
    let mut meta = object.metadata.clone();
    meta.managed_fields = None;
    let mut m = Map::new();
    m.insert("found".into(), "true".into());
    m.insert("name".into(), meta.name.clone().unwrap_or_default().into());
    m.insert(
        "namespace".into(),
        meta.namespace.clone().unwrap_or_default().into(),
    );
    for key in ["spec", "status"] {
        let part = object
            .data
            .get(key)
            .filter(|v| v.is_object())
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        m.insert(key.into(), part);
    }
    for (key, values) in [("labels", &meta.labels), ("annotations", &meta.annotations)] {
        if let Some(values) = values.as_ref().filter(|v| !v.is_empty()) {
            m.insert(key.into(), serde_json::to_value(values).unwrap_or_default());
        }
    }
    m.insert(
        "metadata".into(),
        serde_json::to_value(&meta).unwrap_or_default(),
    );
    Value::Object(m)
}

/// The read when nothing matched (or the CRD is not readable).
pub(super) fn missing(name: Option<&str>, namespace: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("found".into(), "false".into());
    if let Some(name) = name {
        m.insert("name".into(), name.into());
        m.insert("namespace".into(), namespace.unwrap_or_default().into());
    }
    m.insert("spec".into(), Value::Object(Map::new()));
    m.insert("status".into(), Value::Object(Map::new()));
    m.insert("_placeholder".into(), true.into());
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use katalog::render::RenderFailure;
    use kube::runtime::watcher::Event;
    use serde_json::json;
    use std::sync::Mutex;

    /// Renders `{{ .metadata.name }}`, `{{ .metadata.namespace }}` and `{{ .spec.<f> }}`
    /// placeholders by lookup; enough for selectors.
    struct Lookup;

    impl Render for Lookup {
        fn render(&self, src: &str, data: &Value) -> Result<String, RenderFailure> {
            let mut out = String::new();
            let mut rest = src;
            while let Some(start) = rest.find("{{") {
                out.push_str(&rest[..start]);
                let end = rest[start..].find("}}").expect("closed") + start;
                let path = rest[start + 2..end].trim().trim_start_matches('.');
                let pointer = format!("/{}", path.replace('.', "/"));
                out.push_str(data.pointer(&pointer).and_then(Value::as_str).unwrap_or(""));
                rest = &rest[end + 2..];
            }
            out.push_str(rest);
            Ok(out)
        }
    }

    fn katalog(crds: &str) -> Katalog {
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n{crds}"
        );
        katalog::load_text("/nonexistent/katalog.yaml", &text)
            .unwrap_or_else(|d| panic!("{}", d.render()))
            .katalog
    }

    const DATABASE: &str = "    database:\n      apiTypes: {group: example.com, version: v1, kind: Database, plural: databases}\n";

    fn app(cross: &str) -> String {
        format!(
            "    app:\n      apiTypes: {{group: example.com, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        cross:\n{cross}"
        )
    }

    fn resource(kind: &str, plural: &str) -> ApiResource {
        ApiResource {
            group: "example.com".into(),
            version: "v1".into(),
            api_version: "example.com/v1".into(),
            kind: kind.into(),
            plural: plural.into(),
        }
    }

    fn object(
        resource: &ApiResource,
        ns: &str,
        name: &str,
        labels: &[(&str, &str)],
        data: Value,
    ) -> DynamicObject {
        let mut o = DynamicObject::new(name, resource).within(ns).data(data);
        o.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        o
    }

    fn store_of(resource: &ApiResource, objects: Vec<DynamicObject>) -> Store<DynamicObject> {
        let mut writer = kube::runtime::reflector::store::Writer::new(resource.clone());
        writer.apply_watcher_event(&Event::Init);
        for o in objects {
            writer.apply_watcher_event(&Event::InitApply(o));
        }
        writer.apply_watcher_event(&Event::InitDone);
        writer.as_reader()
    }

    fn databases(objects: Vec<DynamicObject>) -> Sources {
        let resource = resource("Database", "databases");
        let sources = Sources::default();
        sources.insert(
            "database",
            Source {
                store: store_of(&resource, objects),
                resource,
                vitals: None,
            },
        );
        sources
    }

    fn db(ns: &str, name: &str, labels: &[(&str, &str)], host: &str) -> DynamicObject {
        object(
            &resource("Database", "databases"),
            ns,
            name,
            labels,
            json!({"spec": {"engine": "pg"}, "status": {"host": host}}),
        )
    }

    fn cross_of(k: &Katalog, sources: Sources) -> Cross {
        let cross = Cross::new(k, k.crd("app").unwrap(), Arc::new(Lookup));
        cross.bind(&sources);
        cross
    }

    fn cr(ns: &str, name: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": ns}, "spec": {"tenant": "acme"}})
    }

    #[test]
    fn a_name_selector_reads_spec_status_and_metadata_of_the_named_cr() {
        let k = katalog(&format!(
            "{DATABASE}{}",
            app(
                "          - crd: database\n            selector: {name: \"{{ .metadata.name }}-db\"}\n            as: db\n"
            )
        ));
        let sources = databases(vec![
            db("prod", "shop-db", &[("tier", "data")], "10.0.0.1"),
            db("dev", "shop-db", &[], "10.9.9.9"),
        ]);
        let read = cross_of(&k, sources).read(&cr("prod", "shop"));
        let db = &read["db"];
        assert_eq!(db["found"], "true");
        assert_eq!(db["status"]["host"], "10.0.0.1");
        assert_eq!(db["spec"]["engine"], "pg");
        assert_eq!(db["name"], "shop-db");
        assert_eq!(db["namespace"], "prod");
        assert_eq!(db["labels"]["tier"], "data");
        assert_eq!(db["metadata"]["name"], "shop-db");
        assert!(db.get("_placeholder").is_none());
    }

    #[test]
    fn a_missing_cr_reads_found_false_with_empty_maps_and_the_placeholder_mark() {
        let k = katalog(&format!(
            "{DATABASE}{}",
            app(
                "          - crd: database\n            selector: {name: other, namespace: data}\n"
            )
        ));
        let read = cross_of(&k, databases(vec![db("prod", "shop-db", &[], "h")]))
            .read(&cr("prod", "shop"));
        let value = &read["database"];
        assert_eq!(
            value,
            &json!({"found": "false", "name": "other", "namespace": "data", "spec": {}, "status": {}, "_placeholder": true})
        );
    }

    #[test]
    fn a_crd_closed_to_cross_access_reads_as_not_found() {
        let closed = DATABASE.replace("      apiTypes", "      crossAccess: false\n      apiTypes");
        let k = katalog(&format!(
            "{closed}{}",
            app(
                "          - crd: database\n            selector: {name: shop-db}\n            as: db\n"
            )
        ));
        let read = cross_of(&k, databases(vec![db("prod", "shop-db", &[], "h")]))
            .read(&cr("prod", "shop"));
        assert_eq!(read["db"]["found"], "false");
        assert_eq!(read["db"]["status"], json!({}));
    }

    #[test]
    fn the_katalog_wide_cross_access_is_the_default_and_a_crd_may_override_it() {
        let open = DATABASE.replace("      apiTypes", "      crossAccess: true\n      apiTypes");
        let crds = format!(
            "{open}{}",
            app(
                "          - crd: database\n            selector: {name: shop-db}\n            as: db\n"
            )
        );
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\ncrossAccess: false\nspec:\n  crds:\n{crds}"
        );
        let k = katalog::load_text("/nonexistent/k.yaml", &text)
            .unwrap()
            .katalog;
        let read = cross_of(&k, databases(vec![db("prod", "shop-db", &[], "h")]))
            .read(&cr("prod", "shop"));
        assert_eq!(read["db"]["found"], "true");
        let closed = text.replace("      crossAccess: true\n", "");
        let k = katalog::load_text("/nonexistent/k.yaml", &closed)
            .unwrap()
            .katalog;
        let read = cross_of(&k, databases(vec![db("prod", "shop-db", &[], "h")]))
            .read(&cr("prod", "shop"));
        assert_eq!(read["db"]["found"], "false");
    }

    #[test]
    fn match_labels_are_templated_override_the_name_and_take_the_first_in_order() {
        let k = katalog(&format!(
            "{DATABASE}{}",
            app(
                "          - crd: database\n            selector:\n              name: ignored\n              matchLabels: {tenant: \"{{ .spec.tenant }}\"}\n"
            )
        ));
        let sources = databases(vec![
            db("b", "z", &[("tenant", "acme")], "second"),
            db("a", "y", &[("tenant", "acme")], "first"),
            db("a", "x", &[("tenant", "other")], "wrong"),
        ]);
        let read = cross_of(&k, sources).read(&cr("prod", "shop"));
        assert_eq!(read["database"]["status"]["host"], "first");
        assert!(read["database"].get("items").is_none());
    }

    #[test]
    fn strategy_all_lists_every_match_under_items() {
        let k = katalog(&format!(
            "{DATABASE}{}",
            app(
                "          - crd: database\n            strategy: all\n            selector:\n              matchLabels: {tenant: acme}\n"
            )
        ));
        let sources = databases(vec![
            db("b", "z", &[("tenant", "acme")], "second"),
            db("a", "y", &[("tenant", "acme")], "first"),
        ]);
        let read = cross_of(&k, sources).read(&cr("prod", "shop"));
        let hosts: Vec<&Value> = read["database"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| &i["status"]["host"])
            .collect();
        assert_eq!(hosts, [&json!("first"), &json!("second")]);
        assert_eq!(read["database"]["found"], "true");
        let none = cross_of(&k, databases(vec![])).read(&cr("prod", "shop"));
        assert_eq!(none["database"]["items"], json!([]));
        assert_eq!(none["database"]["found"], "false");
    }

    #[test]
    fn a_label_selector_picks_the_crd_by_its_own_label_selector() {
        let labelled = DATABASE.replace(
            "      apiTypes",
            "      labelSelector: {Tier: Data}\n      apiTypes",
        );
        let k = katalog(&format!(
            "{labelled}{}",
            app("          - labelSelector: {tier: data}\n            as: store\n")
        ));
        let cross = cross_of(
            &k,
            databases(vec![
                db("a", "one", &[("Tier", "Data")], "h1"),
                db("a", "two", &[], "h2"),
            ]),
        );
        assert_eq!(cross.sources(), BTreeSet::from(["database"]));
        let read = cross.read(&cr("prod", "shop"));
        assert_eq!(read["store"]["status"]["host"], "h1");
    }

    #[test]
    fn a_box_not_started_and_an_unknown_remote_crd_read_as_not_found() {
        let k = katalog(&format!(
            "{DATABASE}{}",
            app(
                "          - crd: database\n            selector: {name: shop-db}\n          - crd: elsewhere\n            source: {host: \"http://remote:8080\"}\n"
            )
        ));
        let read = cross_of(&k, Sources::default()).read(&cr("prod", "shop"));
        assert_eq!(read["database"]["found"], "false");
        assert_eq!(read["elsewhere"]["found"], "false");
    }

    fn app_object(ns: &str, name: &str) -> Arc<DynamicObject> {
        Arc::new(object(
            &resource("App", "apps"),
            ns,
            name,
            &[],
            json!({"spec": {"tenant": "acme"}}),
        ))
    }

    #[test]
    fn a_change_queues_the_crs_whose_name_selector_resolves_to_the_object() {
        let k = katalog(&format!(
            "{DATABASE}{}",
            app(
                "          - crd: database\n            selector: {name: \"{{ .metadata.name }}-db\"}\n"
            )
        ));
        let cross = cross_of(&k, Sources::default());
        let crs = vec![
            app_object("prod", "shop"),
            app_object("dev", "shop"),
            app_object("prod", "blog"),
        ];
        let changed = db("prod", "shop-db", &[], "h").metadata;
        assert_eq!(
            cross.dependents(&crs, "database", &changed),
            [Key {
                event: 0,
                namespace: Some("prod".into()),
                name: "shop".into()
            }]
        );
        assert!(cross.dependents(&crs, "app", &changed).is_empty());
    }

    #[test]
    fn a_change_queues_every_reader_of_a_label_selection() {
        let k = katalog(&format!(
            "{DATABASE}{}",
            app(
                "          - crd: database\n            selector:\n              matchLabels: {tenant: acme}\n"
            )
        ));
        let cross = cross_of(&k, Sources::default());
        let crs = vec![app_object("prod", "shop"), app_object("dev", "blog")];
        let changed = db("x", "unlabelled-now", &[], "h").metadata;
        assert_eq!(cross.dependents(&crs, "database", &changed).len(), 2);
    }

    #[test]
    fn sources_route_changes_and_relists_to_the_dependents_that_read_them() {
        let k = katalog(&format!(
            "{DATABASE}{}",
            app(
                "          - crd: database\n            selector: {name: \"{{ .metadata.name }}-db\"}\n"
            )
        ));
        let sources = Sources::default();
        let queued: Arc<Mutex<Vec<Key>>> = Arc::default();
        let apps = store_of(
            &resource("App", "apps"),
            vec![
                object(&resource("App", "apps"), "prod", "shop", &[], json!({})),
                object(&resource("App", "apps"), "prod", "blog", &[], json!({})),
            ],
        );
        let sink = Arc::clone(&queued);
        sources.subscribe(Dependent {
            crd: "app".into(),
            cross: Arc::new(cross_of(&k, sources.clone())),
            store: apps,
            enqueue: Arc::new(move |key| sink.lock().unwrap().push(key)),
        });
        sources.changed("database", &db("prod", "shop-db", &[], "h").metadata);
        assert_eq!(queued.lock().unwrap().len(), 1);
        sources.changed("app", &db("prod", "shop-db", &[], "h").metadata);
        assert_eq!(queued.lock().unwrap().len(), 1);
        sources.relisted("database");
        assert_eq!(queued.lock().unwrap().len(), 3);
        sources.leave("app");
        sources.relisted("database");
        assert_eq!(queued.lock().unwrap().len(), 3);
    }
}
