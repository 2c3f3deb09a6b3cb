//! Secondary watches (`watch:`, spec §11.3): changes of other kinds as triggers for a box's
//! CRs.
//!
//! Each entry watches the metadata of one kind (optionally one namespace, optionally one
//! object by name) and turns each change it is told to react to (`on:`, default all of
//! create, update and delete) into the keys of primary CRs:
//!
//! 1. `keyFrom.label`: the object's label value, `namespace/name` or `name` (then in the
//!    object's namespace);
//! 2. `keyFrom.name` (with `keyFrom.namespace`, default the object's namespace);
//! 3. an ownerReference to the primary kind;
//! 4. otherwise every cached primary CR (broadcast).
//!
//! A step that yields nothing (the label is absent) falls through to the next. A (re)list
//! reports objects as they are, so it is neither a create nor an update; an object missing
//! from a relist that was there before counts as deleted. Each change is first offered to the
//! entry's `admit` (its `enqueueGate`, see `operator_box::watch_gate`): a change it refuses
//! queues nothing.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, ObjectMeta};
use kube::core::PartialObjectMeta;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::Store;
use kube::runtime::watcher::{self, Event, watcher};

use crate::discovery::Discovery;
use crate::seen::{Effect, Seen};
use crate::work::Health;
use crate::work::Key;

/// The longest wait between two discovery attempts of a watched kind.
const DISCOVERY_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// A kind of change a watch entry reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// An object appeared (not during a relist).
    Create,
    /// An object changed.
    Update,
    /// An object went away.
    Delete,
}

/// How a watched object names the CRs it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFrom {
    /// A label whose value is `namespace/name` or `name`.
    Label(String),
    /// A fixed CR.
    Name {
        /// The CR's name.
        name: String,
        /// Its namespace; `None`: the watched object's.
        namespace: Option<String>,
    },
    /// Neither: ownerReference, else broadcast.
    Owner,
}

/// One `watch:` entry of a CRD, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Secondary {
    /// apiVersion of the watched kind.
    pub api_version: String,
    /// The watched kind.
    pub kind: String,
    /// Only this object.
    pub name: Option<String>,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// The changes that queue keys.
    pub on: Vec<Change>,
    /// How keys are found.
    pub key_from: KeyFrom,
    /// The entry's own `enqueueGate` (evaluated by `operator_box::watch_gate`).
    pub enqueue_gate: Option<katalog::model::Gate>,
}

impl Secondary {
    /// The watch entries of `crd` (both layouts, normalized), skipping any without
    /// apiVersion or kind (validation rejects those).
    pub fn of_crd(crd: &katalog::Crd) -> Vec<Self> {
        crd.operator_box()
            .watch
            .iter()
            .filter_map(|spanned| {
                let w = &spanned.value;
                let on: Vec<Change> =
                    w.on.iter()
                        .filter_map(|o| match o.value.as_str() {
                            "create" => Some(Change::Create),
                            "update" => Some(Change::Update),
                            "delete" => Some(Change::Delete),
                            _ => None,
                        })
                        .collect();
                let key_from = match w.key_from.as_ref().map(|k| &k.value) {
                    Some(k) if k.label.as_deref().is_some_and(|l| !l.is_empty()) => {
                        KeyFrom::Label(k.label.clone().unwrap_or_default())
                    }
                    Some(k) if k.name.as_deref().is_some_and(|n| !n.is_empty()) => KeyFrom::Name {
                        name: k.name.clone().unwrap_or_default(),
                        namespace: k.namespace.clone().filter(|n| !n.is_empty()),
                    },
                    _ => KeyFrom::Owner,
                };
                Some(Secondary {
                    api_version: w.api_version.clone().filter(|a| !a.is_empty())?,
                    kind: w.kind.clone().filter(|k| !k.is_empty())?,
                    name: w.name.clone().filter(|n| !n.is_empty()),
                    namespace: w.namespace.clone().filter(|n| !n.is_empty()),
                    on: if on.is_empty() {
                        vec![Change::Create, Change::Update, Change::Delete]
                    } else {
                        on
                    },
                    key_from,
                    enqueue_gate: w.enqueue_gate.clone(),
                })
            })
            .collect()
    }

    /// Whether changes of this kind queue keys.
    pub fn reacts_to(&self, change: Change) -> bool {
        self.on.contains(&change)
    }

    /// A short name for logs and the box's health.
    pub fn describe(&self) -> String {
        format!("{}.{} watch", self.kind, self.api_version)
    }
}

/// The primary side of a secondary watch: the box's kind and cache.
#[derive(Clone)]
pub struct Primary {
    /// The box's resource (for ownerReferences).
    pub resource: ApiResource,
    /// Whether its CRs are namespaced.
    pub namespaced: bool,
    /// The box's cache of its CRs (for broadcast and name lookups).
    pub store: Store<DynamicObject>,
}

impl Primary {
    /// The keys of the CRs a change of the watched object `object` concerns.
    pub fn keys(&self, entry: &Secondary, object: &ObjectMeta) -> Vec<Key> {
        let own_namespace = object.namespace.as_deref();
        if let KeyFrom::Label(label) = &entry.key_from
            && let Some(value) = object
                .labels
                .as_ref()
                .and_then(|l| l.get(label))
                .filter(|v| !v.is_empty())
        {
            return match value.split_once('/') {
                Some((namespace, name)) => self.named(Some(namespace), name),
                None => self.named(own_namespace, value),
            };
        }
        if let KeyFrom::Name { name, namespace } = &entry.key_from {
            return self.named(namespace.as_deref().or(own_namespace), name);
        }
        let owners: Vec<Key> = object
            .owner_references
            .iter()
            .flatten()
            .filter(|r| r.kind == self.resource.kind && r.api_version == self.resource.api_version)
            .map(|r| Key {
                event: 0,
                namespace: own_namespace.filter(|_| self.namespaced).map(str::to_owned),
                name: r.name.clone(),
            })
            .collect();
        if !owners.is_empty() {
            return owners;
        }
        self.store
            .state()
            .iter()
            .filter_map(|cr| Key::of(&cr.metadata))
            .collect()
    }

    /// The key of CR `name` in `namespace`; for a namespaced CRD without a known namespace,
    /// every cached CR of that name.
    fn named(&self, namespace: Option<&str>, name: &str) -> Vec<Key> {
        match (self.namespaced, namespace) {
            (false, _) => vec![Key {
                event: 0,
                namespace: None,
                name: name.to_owned(),
            }],
            (true, Some(namespace)) => vec![Key {
                event: 0,
                namespace: Some(namespace.to_owned()),
                name: name.to_owned(),
            }],
            (true, None) => self
                .store
                .state()
                .iter()
                .filter(|cr| cr.metadata.name.as_deref() == Some(name))
                .filter_map(|cr| Key::of(&cr.metadata))
                .collect(),
        }
    }
}

/// The changes of watched objects that one watcher event stands for, each with the object's
/// metadata.
fn changes(
    seen: &mut Seen,
    event: &Event<PartialObjectMeta<DynamicObject>>,
) -> Vec<(Change, ObjectMeta)> {
    let object = match event {
        Event::Apply(object) | Event::Delete(object) => Some(&object.metadata),
        _ => None,
    };
    seen.step(event)
        .into_iter()
        .filter_map(|effect| as_change(effect, object))
        .collect()
}

/// The change of the watched object that one effect of [`Seen::step`] stands for, with the
/// object's metadata: the event's own `object`, or, for an object a relist missed, its key and
/// the uid it had. A relist itself reports objects as they are: neither a create nor an
/// update.
fn as_change(effect: Effect, object: Option<&ObjectMeta>) -> Option<(Change, ObjectMeta)> {
    let change = match effect {
        Effect::Created(_) => Change::Create,
        Effect::Changed(_) | Effect::Unchanged(_) => Change::Update,
        Effect::Deleted { .. } => Change::Delete,
        Effect::Missed { key, uid } => {
            let meta = ObjectMeta {
                namespace: key.namespace,
                name: Some(key.name),
                uid,
                ..ObjectMeta::default()
            };
            return Some((Change::Delete, meta));
        }
        Effect::Relisted(_) | Effect::Listed => return None,
    };
    Some((change, object?.clone()))
}

/// Runs one secondary watch until aborted: resolves the kind (retrying until it is served),
/// watches its metadata and, through `(admit, enqueue)`, queues the keys of every change the
/// entry reacts to and `admit` lets through.
///
/// Watch errors are retried with kube's default backoff, logged, and recorded in `health`
/// (and cleared once the watch recovers), as the box's own watches do.
pub async fn run(
    client: Client,
    discovery: Arc<Discovery>,
    crd: String,
    entry: Secondary,
    primary: Primary,
    health: Health,
    (mut admit, enqueue): (
        impl FnMut(Change, &ObjectMeta) -> bool + Send,
        impl Fn(Key) + Send,
    ),
) {
    let what = entry.describe();
    let resolved = {
        let mut delay = Duration::from_millis(500);
        loop {
            match discovery.resolve(&entry.api_version, &entry.kind).await {
                Ok(resolved) => {
                    health.clear_watch_error(&what);
                    break resolved;
                }
                Err(error) => {
                    let message = format!("{what}: {error}");
                    tracing::warn!(%crd, error = %message, retry_in = ?delay, "secondary watch waits");
                    health.set_watch_error(&what, &message);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(DISCOVERY_BACKOFF_MAX);
                }
            }
        }
    };
    let api: Api<PartialObjectMeta<DynamicObject>> = match &entry.namespace {
        Some(namespace) if resolved.namespaced => {
            Api::namespaced_with(client, namespace, &resolved.resource)
        }
        _ => Api::all_with(client, &resolved.resource),
    };
    let mut config = watcher::Config::default();
    if let Some(name) = &entry.name {
        config = config.fields(&format!("metadata.name={name}"));
    }
    let mut events = pin!(watcher(api, config).default_backoff());
    let mut seen = Seen::default();
    let mut answers = health.watch(&crd, &what);
    while let Some(event) = events.next().await {
        let Some(event) = answers.check(event) else {
            continue;
        };
        for (change, meta) in changes(&mut seen, &event) {
            let passes = admit(change, &meta);
            if !passes {
                tracing::debug!(%crd, ?change, watch = %what, "the watch's enqueueGate holds the change");
            }
            if entry.reacts_to(change) && passes {
                for key in primary.keys(&entry, &meta) {
                    tracing::debug!(%crd, %key, ?change, watch = %what, "secondary change");
                    enqueue(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    use kube::core::PartialObjectMetaExt as _;

    fn resource() -> ApiResource {
        ApiResource {
            group: "example.com".into(),
            version: "v1".into(),
            api_version: "example.com/v1".into(),
            kind: "Web".into(),
            plural: "webs".into(),
        }
    }

    fn primary(namespaced: bool, crs: &[(&str, &str)]) -> Primary {
        let resource = resource();
        let mut writer = kube::runtime::reflector::store::Writer::new(resource.clone());
        writer.apply_watcher_event(&Event::Init);
        for (ns, name) in crs {
            let mut cr = DynamicObject::new(name, &resource);
            if namespaced {
                cr = cr.within(ns);
            }
            writer.apply_watcher_event(&Event::InitApply(cr));
        }
        writer.apply_watcher_event(&Event::InitDone);
        Primary {
            resource,
            namespaced,
            store: writer.as_reader(),
        }
    }

    fn entry(key_from: KeyFrom) -> Secondary {
        Secondary {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: None,
            namespace: None,
            on: vec![Change::Create, Change::Update, Change::Delete],
            key_from,
            enqueue_gate: None,
        }
    }

    fn meta(ns: &str, name: &str, labels: &[(&str, &str)]) -> ObjectMeta {
        ObjectMeta {
            namespace: Some(ns.into()),
            name: Some(name.into()),
            uid: Some(format!("uid-{name}")),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        }
    }

    fn key(ns: &str, name: &str) -> Key {
        Key {
            event: 0,
            namespace: Some(ns.into()),
            name: name.into(),
        }
    }

    #[test]
    fn a_label_names_the_cr_with_or_without_its_namespace() {
        let p = primary(true, &[("a", "web")]);
        let e = entry(KeyFrom::Label("owner".into()));
        assert_eq!(
            p.keys(&e, &meta("cfg", "x", &[("owner", "a/web")])),
            [key("a", "web")]
        );
        assert_eq!(
            p.keys(&e, &meta("cfg", "x", &[("owner", "site")])),
            [key("cfg", "site")]
        );
    }

    #[test]
    fn a_missing_label_falls_through_to_owner_references_then_broadcast() {
        let p = primary(true, &[("a", "one"), ("b", "two")]);
        let e = entry(KeyFrom::Label("owner".into()));
        let mut owned = meta("a", "x", &[]);
        owned.owner_references = Some(vec![OwnerReference {
            api_version: "example.com/v1".into(),
            kind: "Web".into(),
            name: "one".into(),
            uid: "u".into(),
            ..OwnerReference::default()
        }]);
        assert_eq!(p.keys(&e, &owned), [key("a", "one")]);
        let mut broadcast = p.keys(&e, &meta("a", "x", &[]));
        broadcast.sort();
        assert_eq!(broadcast, [key("a", "one"), key("b", "two")]);
    }

    #[test]
    fn a_fixed_name_uses_its_namespace_or_the_objects() {
        let p = primary(true, &[]);
        let fixed = entry(KeyFrom::Name {
            name: "web".into(),
            namespace: Some("prod".into()),
        });
        assert_eq!(p.keys(&fixed, &meta("cfg", "x", &[])), [key("prod", "web")]);
        let local = entry(KeyFrom::Name {
            name: "web".into(),
            namespace: None,
        });
        assert_eq!(p.keys(&local, &meta("cfg", "x", &[])), [key("cfg", "web")]);
    }

    #[test]
    fn a_cluster_scoped_object_finds_namespaced_crs_by_name() {
        let p = primary(true, &[("a", "web"), ("b", "web"), ("b", "api")]);
        let e = entry(KeyFrom::Label("owner".into()));
        let mut namespace = meta("", "team", &[("owner", "web")]);
        namespace.namespace = None;
        let mut keys = p.keys(&e, &namespace);
        keys.sort();
        assert_eq!(keys, [key("a", "web"), key("b", "web")]);
        let cluster = primary(false, &[]);
        assert_eq!(
            cluster.keys(&e, &namespace),
            [Key {
                event: 0,
                namespace: None,
                name: "web".into()
            }]
        );
    }

    /// The changes `event` stands for, by object name.
    fn names(seen: &mut Seen, event: Event<ObjectMeta>) -> Vec<(Change, String)> {
        let event = match event {
            Event::Init => Event::Init,
            Event::InitApply(m) => Event::InitApply(m.into_response_partial()),
            Event::InitDone => Event::InitDone,
            Event::Apply(m) => Event::Apply(m.into_response_partial()),
            Event::Delete(m) => Event::Delete(m.into_response_partial()),
        };
        changes(seen, &event)
            .into_iter()
            .map(|(c, m)| (c, m.name.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_relist_is_not_a_create_but_reveals_deletions() {
        let mut t = Seen::default();
        assert!(names(&mut t, Event::Init).is_empty());
        assert!(names(&mut t, Event::InitApply(meta("a", "one", &[]))).is_empty());
        assert!(names(&mut t, Event::InitApply(meta("a", "two", &[]))).is_empty());
        assert!(names(&mut t, Event::InitDone).is_empty());
        assert_eq!(
            names(&mut t, Event::Apply(meta("a", "one", &[]))),
            [(Change::Update, "one".into())]
        );
        assert_eq!(
            names(&mut t, Event::Apply(meta("a", "three", &[]))),
            [(Change::Create, "three".into())]
        );
        assert_eq!(
            names(&mut t, Event::Delete(meta("a", "three", &[]))),
            [(Change::Delete, "three".into())]
        );
        names(&mut t, Event::Init);
        names(&mut t, Event::InitApply(meta("a", "one", &[])));
        assert_eq!(
            names(&mut t, Event::InitDone),
            [(Change::Delete, "two".into())]
        );
    }

    #[test]
    fn a_recreated_object_is_a_create() {
        let mut t = Seen::default();
        names(&mut t, Event::Apply(meta("a", "one", &[])));
        let mut again = meta("a", "one", &[]);
        again.uid = Some("new".into());
        assert_eq!(names(&mut t, Event::Apply(again))[0].0, Change::Create);
    }

    #[test]
    fn entries_default_to_every_change_and_read_key_from() {
        let text = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: t}\nspec:\n  crds:\n    web:\n      apiTypes: {group: example.com, version: v1, kind: Web, plural: webs}\n      operatorBox:\n        observe:\n          watch:\n            - {apiVersion: v1, kind: ConfigMap, keyFrom: {label: owner}}\n            - {apiVersion: v1, kind: Secret, name: s, namespace: n, on: [delete]}\n";
        let k = katalog::load_text("/nonexistent/k.yaml", text)
            .unwrap_or_else(|d| panic!("{}", d.render()))
            .katalog;
        let entries = Secondary::of_crd(k.crd("web").unwrap());
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].key_from, KeyFrom::Label("owner".into()));
        assert!(entries[0].reacts_to(Change::Create) && entries[0].reacts_to(Change::Delete));
        assert_eq!(entries[1].key_from, KeyFrom::Owner);
        assert!(!entries[1].reacts_to(Change::Update));
        assert_eq!(entries[1].name.as_deref(), Some("s"));
    }
}
