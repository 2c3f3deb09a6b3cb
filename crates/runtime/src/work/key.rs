//! [`Key`]: the identity of one CR in a box's queue.
//!
//! The queue and the workers are generic over their key; a box's key is the CR's namespace
//! and name. It knows two things of Kubernetes: how to read itself from an object's
//! metadata, and how to name the object in a reflector store.

use std::fmt;

use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::ObjectRef;

/// The identity of one CR in a box's queue: namespace (for namespaced CRDs) and name, and
/// an event number that is 0 except for event-aware gating.
///
/// Keys of one CR with event 0 are equal, so the queue coalesces them. With
/// `reconcileGate.eventAware: true` each watch event gets a key of its own number
/// ([`Key::for_event`]), so no event is merged into another (Orkestra's `EventID`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// The namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
    /// The event this key stands for; 0 for any change of the CR.
    pub event: u64,
}

impl Key {
    /// The key of an object as its metadata names it; `None` when it has no name.
    pub fn of(meta: &kube::api::ObjectMeta) -> Option<Self> {
        Some(Self {
            namespace: meta.namespace.clone(),
            name: meta.name.clone()?,
            event: 0,
        })
    }

    /// The same CR's key for event number `event` (never merged with another event's).
    #[must_use]
    pub fn for_event(mut self, event: u64) -> Self {
        self.event = event;
        self
    }

    /// The key of the CR itself, whatever event it stands for.
    #[must_use]
    pub fn object(&self) -> Self {
        Self {
            event: 0,
            ..self.clone()
        }
    }

    /// The reflector reference of this key for objects of `resource`.
    pub fn object_ref(&self, resource: &ApiResource) -> ObjectRef<DynamicObject> {
        let reference = ObjectRef::new_with(&self.name, resource.clone());
        match &self.namespace {
            Some(namespace) => reference.within(namespace),
            None => reference,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{namespace}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_print_namespace_and_name() {
        let meta = kube::api::ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            ..kube::api::ObjectMeta::default()
        };
        let key = Key::of(&meta).unwrap();
        assert_eq!(key.to_string(), "default/web");
        let cluster = Key {
            event: 0,
            namespace: None,
            name: "global".into(),
        };
        assert_eq!(format!("{cluster:?}"), "global");
    }
}
