//! Reconciling a CR again once the status its reconcile wrote is in the cache, as Orkestra
//! does: there the status patch is a watch event of the CR like any other, so a template or a
//! condition that reads `.status` sees what the previous reconcile wrote at once (a state
//! machine moves a step per reconcile; a `when:` on `status.signedImage` lets the Deployment
//! follow the signing call). ork's primary watch queues nothing for a status-only change
//! (`operator_box/primary.rs`), so a reconcile says here that its status write is worth one
//! more reconcile, and the watch asks when the write arrives.
//!
//! The reconcile marks the CR before it patches (the watch may deliver the patch before the
//! reconcile has returned) and unmarks it when no patch was made. The watch takes the mark
//! once. The next reconcile that changes nothing ends the streak; it writes nothing, since
//! the apply memo and the status comparison make a steady reconcile free of requests.
//!
//! A status that changes on every reconcile (a declared field rendering the time) would never
//! rest: after [`LIMIT`] reconciles in a row that each changed the status, the CR waits for
//! its next change or resync instead.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Reconciles in a row, each changing the status, that are followed by another.
pub const LIMIT: u8 = 10;

/// The CRs whose status write is worth a reconcile, and their streaks.
#[derive(Debug, Default)]
pub struct Again {
    streaks: Mutex<HashMap<String, Streak>>,
}

#[derive(Debug, Default)]
struct Streak {
    /// Reconciles in a row that changed the status.
    count: u8,
    /// The last status write has not reached the cache yet, and is worth a reconcile.
    marked: bool,
}

impl Again {
    /// A reconcile of the CR `uid` is about to patch a changed status.
    pub fn writing(&self, uid: &str) {
        let mut streaks = self.lock();
        let streak = streaks.entry(uid.to_owned()).or_default();
        streak.count = streak.count.saturating_add(1);
        streak.marked = streak.count <= LIMIT;
    }

    /// The patch [`Again::writing`] announced was not made (it failed, or found the status
    /// as it would write it).
    pub fn not_written(&self, uid: &str) {
        if let Some(streak) = self.lock().get_mut(uid) {
            streak.marked = false;
        }
    }

    /// A reconcile of the CR ended without changing its status: the streak is over.
    pub fn rested(&self, uid: &str) {
        self.lock().remove(uid);
    }

    /// The status write of the CR reached the cache: whether to reconcile it again (true once
    /// per marked write).
    pub fn take(&self, uid: &str) -> bool {
        self.lock()
            .get_mut(uid)
            .is_some_and(|streak| std::mem::take(&mut streak.marked))
    }

    /// The CR is gone.
    pub fn forget(&self, uid: &str) {
        self.lock().remove(uid);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Streak>> {
        self.streaks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_is_taken_once_and_an_unwritten_one_never() {
        let again = Again::default();
        assert!(!again.take("a"), "nothing written");
        again.writing("a");
        assert!(again.take("a"));
        assert!(!again.take("a"), "taken once");
        again.writing("a");
        again.not_written("a");
        assert!(!again.take("a"));
    }

    #[test]
    fn a_status_that_never_rests_stops_being_followed_after_the_limit() {
        let again = Again::default();
        for _ in 0..LIMIT {
            again.writing("a");
            assert!(again.take("a"));
        }
        again.writing("a");
        assert!(!again.take("a"), "the streak is over the limit");
        again.rested("a");
        again.writing("a");
        assert!(again.take("a"), "a rest starts a new streak");
    }

    #[test]
    fn a_forgotten_cr_is_not_taken() {
        let again = Again::default();
        again.writing("a");
        again.forget("a");
        assert!(!again.take("a"));
    }
}
