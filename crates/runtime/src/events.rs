//! Kubernetes Events on CRs (spec §15.3), with dedupe: an Event identical to one sent in the
//! last ten minutes (same object, type, reason and message) is aggregated into the first one's
//! `series` instead of piling up as a new object.
//!
//! kube's own `Recorder` keys its dedupe on reason and action but not on the message, so a new
//! error text would be folded into an Event showing the old one; this recorder keys on the
//! message too.
//!
//! [`Recorder::publish_later`] publishes off the caller's path (a task of its own), for Events
//! nothing waits on; [`Recorder::settled`] waits for those in flight.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};

/// How long an Event is aggregated into before a new one is created.
const AGGREGATE_FOR: Duration = Duration::from_secs(600);
/// Longest message the API server accepts (1 kB).
const MAX_NOTE: usize = 1024;

/// Errors publishing an Event.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API server refused to create or update the Event.
    #[error("publishing Event {reason} on {object}")]
    PublishFailed {
        /// The Event's reason.
        reason: String,
        /// The object it is about.
        object: String,
        /// The API failure.
        #[source]
        source: kube::Error,
    },
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Severity of an Event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Something happened as expected.
    Normal,
    /// Something needs attention.
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// What identifies an Event for dedupe.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    namespace: String,
    uid: String,
    name: String,
    kind: String,
    type_: EventType,
    reason: String,
    note: String,
}

/// An Event already sent.
#[derive(Debug, Clone)]
struct Sent {
    name: String,
    count: i32,
    first: Instant,
}

/// Publishes Events as one reporting controller; one per Reconciler, shared by its workers.
pub struct Recorder {
    client: kube::Client,
    controller: String,
    instance: String,
    sent: Mutex<HashMap<Key, Sent>>,
    /// Events of [`Recorder::publish_later`] not published yet.
    in_flight: AtomicUsize,
    idle: tokio::sync::Notify,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("controller", &self.controller)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder reporting as `controller` (e.g. `orkestra`), instance `instance`.
    pub fn new(client: kube::Client, controller: &str, instance: &str) -> Self {
        Recorder {
            client,
            controller: controller.to_owned(),
            instance: instance.to_owned(),
            sent: Mutex::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
            idle: tokio::sync::Notify::new(),
        }
    }

    /// Publishes an Event as [`Recorder::publish`] does, in a task of its own: the caller does
    /// not wait for the request. A failure is logged (at debug level when the namespace is
    /// terminating: nothing can be created there any more).
    pub fn publish_later(
        self: &Arc<Self>,
        regarding: ObjectReference,
        type_: EventType,
        reason: &str,
        note: String,
    ) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let recorder = Arc::clone(self);
        let reason = reason.to_owned();
        tokio::spawn(async move {
            if let Err(e) = recorder.publish(&regarding, type_, &reason, &note).await {
                if crate::refusal::is_namespace_terminating(&e) {
                    tracing::debug!(reason, "event dropped: the namespace is terminating");
                } else {
                    tracing::warn!(error = %crate::error_chain(&e), reason, "event not published");
                }
            }
            if recorder.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
                recorder.idle.notify_waiters();
            }
        });
    }

    /// Waits until every Event of [`Recorder::publish_later`] sent so far is published (or
    /// failed).
    pub async fn settled(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Publishes an Event about `regarding`, or aggregates it into an identical recent one.
    ///
    /// # Errors
    /// The API server refused the Event. Callers log this; an Event is never worth failing a
    /// reconcile for.
    pub async fn publish(
        &self,
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        note: &str,
    ) -> Result<()> {
        let note = truncate(note, MAX_NOTE);
        let namespace = regarding
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let key = Key {
            namespace: namespace.clone(),
            uid: regarding.uid.clone().unwrap_or_default(),
            name: regarding.name.clone().unwrap_or_default(),
            kind: regarding.kind.clone().unwrap_or_default(),
            type_,
            reason: reason.to_owned(),
            note: note.clone(),
        };
        let previous = self.previous(&key);
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let failed = |source| Error::PublishFailed {
            reason: reason.to_owned(),
            object: format!(
                "{}/{}",
                key.kind,
                regarding.name.as_deref().unwrap_or_default()
            ),
            source,
        };
        if let Some(sent) = previous {
            let count = sent.count + 1;
            let patch = serde_json::json!({"series": EventSeries {
                count,
                last_observed_time: MicroTime(Timestamp::now()),
            }});
            match api
                .patch(&sent.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    self.remember(key, Sent { count, ..sent });
                    return Ok(());
                }
                // Expired or deleted by someone: start a new one.
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(failed(e)),
            }
        }
        let now = Timestamp::now();
        let name = format!(
            "{}.{:x}",
            key.name,
            now.as_nanosecond().unsigned_abs() as u64
        );
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace),
                ..ObjectMeta::default()
            },
            event_time: Some(MicroTime(now)),
            action: Some(reason.to_owned()),
            reason: Some(reason.to_owned()),
            note: Some(note),
            regarding: Some(regarding.clone()),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            type_: Some(type_.as_str().to_owned()),
            ..Event::default()
        };
        api.create(&PostParams::default(), &event)
            .await
            .map_err(failed)?;
        self.remember(
            key,
            Sent {
                name,
                count: 1,
                first: Instant::now(),
            },
        );
        Ok(())
    }

    /// The recent identical Event, forgetting expired ones.
    fn previous(&self, key: &Key) -> Option<Sent> {
        let mut sent = self.sent.lock().ok()?;
        sent.retain(|_, s| s.first.elapsed() < AGGREGATE_FOR);
        sent.get(key).cloned()
    }

    fn remember(&self, key: Key, sent: Sent) {
        if let Ok(mut map) = self.sent.lock() {
            map.insert(key, sent);
        }
    }

    /// Forgets every Event about the object with this uid (it is gone).
    pub fn forget(&self, uid: &str) {
        if let Ok(mut map) = self.sent.lock() {
            map.retain(|k, _| k.uid != uid);
        }
    }
}

/// `s` cut to at most `max` bytes on a character boundary, ending in `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let ellipsis = '…';
    let mut end = max.saturating_sub(ellipsis.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ellipsis}", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_and_long_text_is_cut_with_an_ellipsis() {
        assert_eq!(truncate("abc", 3), "abc");
        let cut = truncate("abcdef", 5);
        assert_eq!(cut, "ab…");
        assert!(cut.len() <= 5);
    }

    #[test]
    fn truncation_never_splits_a_character() {
        let cut = truncate("ééééé", 6);
        assert!(cut.len() <= 6);
        assert!(cut.ends_with('…'));
    }
}
