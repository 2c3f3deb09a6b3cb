//! [`Seen`]: what one watch has seen, as a pure state machine that turns each watcher event
//! into [`Effect`]s.
//!
//! A watch reports objects in two ways. Outside a (re)list, an `Apply` or a `Delete` is one
//! change of one object. A (re)list (`Init`, `InitApply`…, `InitDone`) reports the objects as
//! they are, after the watch was down for an unknown time: only a comparison with what was
//! seen before tells what changed meanwhile and what went away. [`Seen::step`] keeps that
//! record, per [`Key`], as each object's uid and a fingerprint of what a reconcile reacts
//! to (generation, labels, annotations, finalizers, owners, deletion), and says:
//!
//! - for an `Apply`: whether the object is new under its uid ([`Effect::Created`]), changed
//!   in what a reconcile reacts to ([`Effect::Changed`]) or not ([`Effect::Unchanged`]: a
//!   status write);
//! - for a `Delete`: [`Effect::Deleted`];
//! - at the end of a relist: each listed object that is new or differs from what was seen
//!   ([`Effect::Relisted`]), each seen object the list no longer has under its uid
//!   ([`Effect::Missed`], once), then [`Effect::Listed`].
//!
//! The box's primary watch queues created, changed and relisted CRs and forgets deleted and
//! missed ones; a secondary watch turns the same effects into creates, updates and deletes of
//! the object it watches (a relist is neither a create nor an update). Objects without a name
//! are not tracked (the API server never sends one).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use kube::Resource;
use kube::api::ObjectMeta;
use kube::runtime::watcher::Event;

use crate::work::Key;

/// What is remembered of one object: its fingerprint and uid.
type Identity = (u64, Option<String>);

/// What a watch has seen: each object's uid and fingerprint, by key, and the objects of a
/// relist in progress.
#[derive(Debug, Default)]
pub struct Seen {
    known: HashMap<Key, Identity>,
    listing: HashMap<Key, Identity>,
}

/// What one watcher event stands for (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// An `Apply` of an object not seen under its uid: new, or recreated under its name.
    Created(Key),
    /// An `Apply` of a seen object whose fingerprint changed.
    Changed(Key),
    /// An `Apply` of a seen object whose fingerprint did not change (a status write).
    Unchanged(Key),
    /// A `Delete`.
    Deleted {
        /// The object's key.
        key: Key,
        /// The deleted object's uid.
        uid: Option<String>,
    },
    /// A relist has the object new, or different from what was seen: it changed while the
    /// watch was down.
    Relisted(Key),
    /// A relist no longer has a seen object under its uid: it went away (or was replaced by
    /// another of its name) while the watch was down.
    Missed {
        /// The object's key.
        key: Key,
        /// The uid it was seen with.
        uid: Option<String>,
    },
    /// A (re)list is complete; always the last effect of its `InitDone`.
    Listed,
}

impl Seen {
    /// The effects of one watcher event, in order; updates what was seen.
    pub fn step<T: Resource>(&mut self, event: &Event<T>) -> Vec<Effect> {
        match event {
            Event::Init => {
                self.listing.clear();
                Vec::new()
            }
            Event::InitApply(object) => {
                if let Some(key) = Key::of(object.meta()) {
                    self.listing.insert(key, identity(object.meta()));
                }
                Vec::new()
            }
            Event::InitDone => self.listed(),
            Event::Apply(object) => {
                let meta = object.meta();
                let Some(key) = Key::of(meta) else {
                    return Vec::new();
                };
                let now = identity(meta);
                let effect = match self.known.get(&key) {
                    Some(before) if *before == now => return vec![Effect::Unchanged(key)],
                    Some((_, uid)) if *uid == now.1 => Effect::Changed(key.clone()),
                    _ => Effect::Created(key.clone()),
                };
                self.known.insert(key, now);
                vec![effect]
            }
            Event::Delete(object) => {
                let meta = object.meta();
                let Some(key) = Key::of(meta) else {
                    return Vec::new();
                };
                self.known.remove(&key);
                vec![Effect::Deleted {
                    key,
                    uid: meta.uid.clone(),
                }]
            }
        }
    }

    /// The end of a relist: what changed and what went away meanwhile.
    fn listed(&mut self) -> Vec<Effect> {
        let listing = std::mem::take(&mut self.listing);
        let relisted = listing
            .iter()
            .filter(|(key, now)| self.known.get(*key) != Some(*now))
            .map(|(key, _)| Effect::Relisted(key.clone()));
        let missed = self
            .known
            .iter()
            .filter(|(key, (_, uid))| listing.get(*key).map(|(_, u)| u) != Some(uid))
            .map(|(key, (_, uid))| Effect::Missed {
                key: key.clone(),
                uid: uid.clone(),
            });
        let effects = relisted
            .chain(missed)
            .chain([Effect::Listed])
            .collect::<Vec<_>>();
        self.known = listing;
        effects
    }

    /// How many objects are seen (outside a relist in progress).
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// True when no object is seen.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }
}

/// An object's fingerprint and uid.
fn identity(meta: &ObjectMeta) -> Identity {
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
    use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
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

    /// Object `name` (uid `u-<name>`) at `generation`.
    fn object(name: &str, generation: i64) -> DynamicObject {
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("example.com", "v1", "Web"));
        let mut object = DynamicObject::new(name, &resource).within("prod");
        object.metadata.uid = Some(format!("u-{name}"));
        object.metadata.generation = Some(generation);
        object
    }

    fn key(name: &str) -> Key {
        Key {
            event: 0,
            namespace: Some("prod".into()),
            name: name.into(),
        }
    }

    fn uid(name: &str) -> Option<String> {
        Some(format!("u-{name}"))
    }

    /// The effects of a whole relist of `objects`, sorted (a relist's order is a map's).
    fn relist(seen: &mut Seen, objects: &[DynamicObject]) -> Vec<Effect> {
        assert!(seen.step(&Event::<DynamicObject>::Init).is_empty());
        for object in objects {
            assert!(seen.step(&Event::InitApply(object.clone())).is_empty());
        }
        let mut effects = seen.step(&Event::<DynamicObject>::InitDone);
        assert_eq!(effects.pop(), Some(Effect::Listed), "a relist ends listed");
        effects.sort_by_key(|e| format!("{e:?}"));
        effects
    }

    #[test]
    fn the_first_list_relists_every_object() {
        let mut seen = Seen::default();
        let effects = relist(&mut seen, &[object("a", 1), object("b", 1)]);
        assert_eq!(
            effects,
            [Effect::Relisted(key("a")), Effect::Relisted(key("b"))]
        );
        assert_eq!(seen.len(), 2);
    }

    #[test]
    fn an_unchanged_object_in_a_relist_is_not_relisted_and_a_changed_one_is() {
        let mut seen = Seen::default();
        relist(&mut seen, &[object("a", 1), object("b", 1)]);
        let effects = relist(&mut seen, &[object("a", 1), object("b", 2)]);
        assert_eq!(effects, [Effect::Relisted(key("b"))]);
    }

    #[test]
    fn an_object_missing_from_a_relist_is_missed_once() {
        let mut seen = Seen::default();
        relist(&mut seen, &[object("a", 1), object("b", 1)]);
        let effects = relist(&mut seen, &[object("a", 1)]);
        assert_eq!(
            effects,
            [Effect::Missed {
                key: key("b"),
                uid: uid("b")
            }]
        );
        assert!(relist(&mut seen, &[object("a", 1)]).is_empty(), "once");
    }

    #[test]
    fn an_object_recreated_while_the_watch_was_down_is_relisted_and_its_old_uid_missed() {
        let mut seen = Seen::default();
        relist(&mut seen, &[object("a", 1)]);
        let mut again = object("a", 1);
        again.metadata.uid = Some("u-a-2".into());
        let effects = relist(&mut seen, &[again]);
        assert_eq!(
            effects,
            [
                Effect::Missed {
                    key: key("a"),
                    uid: uid("a")
                },
                Effect::Relisted(key("a")),
            ]
        );
    }

    #[test]
    fn an_interrupted_relist_starts_over() {
        let mut seen = Seen::default();
        relist(&mut seen, &[object("a", 1)]);
        seen.step(&Event::<DynamicObject>::Init);
        seen.step(&Event::InitApply(object("b", 1)));
        let effects = relist(&mut seen, &[object("a", 1)]);
        assert!(effects.is_empty(), "b was only in the abandoned list");
    }

    #[test]
    fn applies_are_created_changed_or_unchanged_by_uid_and_fingerprint() {
        let mut seen = Seen::default();
        assert_eq!(
            seen.step(&Event::Apply(object("a", 1))),
            [Effect::Created(key("a"))]
        );
        let mut status_only = object("a", 1);
        status_only.metadata.resource_version = Some("7".into());
        assert_eq!(
            seen.step(&Event::Apply(status_only)),
            [Effect::Unchanged(key("a"))]
        );
        assert_eq!(
            seen.step(&Event::Apply(object("a", 2))),
            [Effect::Changed(key("a"))]
        );
        let mut recreated = object("a", 2);
        recreated.metadata.uid = Some("u-a-2".into());
        assert_eq!(
            seen.step(&Event::Apply(recreated)),
            [Effect::Created(key("a"))]
        );
    }

    #[test]
    fn a_deleted_object_is_forgotten_so_a_relist_does_not_miss_it_again() {
        let mut seen = Seen::default();
        relist(&mut seen, &[object("a", 1), object("b", 1)]);
        assert_eq!(
            seen.step(&Event::Delete(object("b", 1))),
            [Effect::Deleted {
                key: key("b"),
                uid: uid("b")
            }]
        );
        assert!(relist(&mut seen, &[object("a", 1)]).is_empty());
        assert_eq!(
            seen.step(&Event::Apply(object("b", 1))),
            [Effect::Created(key("b"))],
            "back after its deletion: new"
        );
    }

    #[test]
    fn objects_without_a_name_are_not_tracked() {
        let mut seen = Seen::default();
        let mut nameless = object("a", 1);
        nameless.metadata.name = None;
        assert!(seen.step(&Event::Apply(nameless.clone())).is_empty());
        assert!(seen.step(&Event::Delete(nameless)).is_empty());
        assert!(seen.is_empty());
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
}
