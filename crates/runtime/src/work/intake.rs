//! [`Intake`]: where a box's watches put keys — its current queue while the box is active,
//! nowhere while it is not.
//!
//! A box keeps watching (and its cache warm) while it is inactive: on a follower, while its
//! dependencies are not satisfied, or after its replica lost the Lease. Keys that arrive then
//! are dropped on purpose: activation queues every cached object anyway, so nothing is lost,
//! and an inactive box holds no queue that could grow.

use std::sync::{Arc, PoisonError, RwLock};

use super::key::Key;
use super::queue::{Added, Queue};

/// A shared slot holding the queue of the box's current activation. Cloning gives another
/// handle to the same slot.
#[derive(Clone, Debug, Default)]
pub struct Intake {
    queue: Arc<RwLock<Option<Queue<Key>>>>,
}

impl Intake {
    /// Queues `key` when the box is active; `None` (dropped) when it is not.
    pub fn add(&self, key: Key) -> Option<Added> {
        self.current().map(|queue| queue.add(key))
    }

    /// The queue of the current activation, if the box is active.
    pub fn current(&self) -> Option<Queue<Key>> {
        self.queue
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Keys waiting in the current queue (0 while inactive).
    pub fn len(&self) -> usize {
        self.current().map_or(0, |queue| queue.len())
    }

    /// True when no key waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True while the box is active.
    pub fn is_open(&self) -> bool {
        self.current().is_some()
    }

    /// Routes keys to `queue` from now on.
    pub(crate) fn open(&self, queue: Queue<Key>) {
        *self.queue.write().unwrap_or_else(PoisonError::into_inner) = Some(queue);
    }

    /// Stops routing keys; returns the queue that took them.
    pub(crate) fn close(&self) -> Option<Queue<Key>> {
        self.queue
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::queue::QueueConfig;

    fn key(name: &str) -> Key {
        Key {
            event: 0,
            namespace: Some("ns".into()),
            name: name.into(),
        }
    }

    #[test]
    fn keys_are_dropped_while_closed_and_queued_while_open() {
        let intake = Intake::default();
        assert_eq!(intake.add(key("a")), None);
        let queue = Queue::new(QueueConfig::default());
        intake.open(queue.clone());
        assert_eq!(intake.add(key("b")), Some(Added::Queued));
        assert_eq!((intake.len(), queue.len()), (1, 1));
        let closed = intake.close().expect("the queue that was open");
        assert_eq!(closed.len(), 1);
        assert_eq!(intake.add(key("c")), None);
        assert!(!intake.is_open());
    }
}
