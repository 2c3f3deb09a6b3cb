//! The named Events of `emit.events` (newest layout, spec §15.3): each is emitted at the
//! lifecycle points it names (`reconcile`: a successful reconcile, `error`: a failed one,
//! `delete`: the delete path) when its conditions hold, with its message rendered against the
//! CR as templates see it (`.children` after a reconcile, `.error` after a failure).
//!
//! An Event says something happened, not that nothing changed: it is emitted when its point
//! is reached with its conditions holding and it was not emitted at the previous outcome of
//! that CR, or its rendered message differs from the one it last said. A resync of an
//! unchanged CR therefore writes no Event. What was said is remembered in memory, per CR and
//! declaration, so a restarted ork says it once more.

use std::collections::HashMap;
use std::sync::Mutex;

use katalog::condition::{Conditions, Env};
use katalog::render::{Text, render_text};
use kube::api::DynamicObject;
use serde_json::Value;

use super::Reconciler;
use crate::events::EventType;

/// A lifecycle point of `emit.events[].on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Point {
    /// A successful reconcile.
    Reconcile,
    /// A failed reconcile.
    Error,
    /// The delete path.
    Delete,
}

impl Point {
    fn as_str(self) -> &'static str {
        match self {
            Point::Reconcile => "reconcile",
            Point::Error => "error",
            Point::Delete => "delete",
        }
    }
}

/// What each declaration last said per CR: uid → name → message.
#[derive(Debug, Default)]
pub(super) struct Said(Mutex<HashMap<String, HashMap<String, String>>>);

impl Said {
    /// Records `message` for (`uid`, `name`); whether it differs from what was said last.
    fn say(&self, uid: &str, name: &str, message: &str) -> bool {
        let Ok(mut said) = self.0.lock() else {
            return true;
        };
        let of_cr = said.entry(uid.to_owned()).or_default();
        if of_cr.get(name).is_some_and(|m| m == message) {
            return false;
        }
        of_cr.insert(name.to_owned(), message.to_owned());
        true
    }

    /// Forgets what (`uid`, `name`) said: the next time it holds, it is emitted.
    fn quiet(&self, uid: &str, name: &str) {
        if let Ok(mut said) = self.0.lock()
            && let Some(of_cr) = said.get_mut(uid)
        {
            of_cr.remove(name);
        }
    }

    /// Forgets a CR.
    pub(super) fn forget(&self, uid: &str) {
        if let Ok(mut said) = self.0.lock() {
            said.remove(uid);
        }
    }
}

impl Reconciler {
    /// Emits the declared Events of `point` for `cr`, `data` being the CR as templates see it.
    /// Never waits for the API server (the Events are published off the reconcile's path).
    pub(super) fn emit_named(&self, cr: &DynamicObject, point: Point, data: &Value) {
        let Some(events) = &self.crd.operator_box().events else {
            return;
        };
        let uid = cr.metadata.uid.as_deref().unwrap_or_default();
        for (name, event) in &events.value {
            let event = &event.value;
            let message = event
                .points()
                .contains(&point.as_str())
                .then(|| self.named_message(name, event, data))
                .flatten();
            let Some(message) = message else {
                self.said.quiet(uid, name);
                continue;
            };
            if !self.said.say(uid, name, &message) {
                continue;
            }
            let type_ = if event.is_warning() {
                EventType::Warning
            } else {
                EventType::Normal
            };
            self.events
                .publish_later(self.reference(cr), type_, &event.reason_for(name), message);
        }
    }

    /// The message of `event` when its conditions hold for `data` (None when they do not, or
    /// cannot be evaluated or rendered: logged).
    fn named_message(
        &self,
        name: &str,
        event: &katalog::model::EmitEvent,
        data: &Value,
    ) -> Option<String> {
        let env = Env::new(data, &*self.render, self.now());
        match Conditions::new(&event.when, &event.or).evaluate(&env) {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                tracing::warn!(event = name, error = %e, "emit.events conditions cannot be evaluated");
                return None;
            }
        }
        let Some(template) = &event.message else {
            return Some(event.reason_for(name));
        };
        match render_text(&*self.render, &Text::new(template.value.clone()), data) {
            Ok(text) => Some(text.into_owned()),
            Err(e) => {
                tracing::warn!(event = name, error = %e, "emit.events message cannot be rendered");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_said_again_only_after_a_change_or_a_quiet_outcome() {
        let said = Said::default();
        assert!(said.say("u", "up", "1 replica"));
        assert!(!said.say("u", "up", "1 replica"));
        assert!(said.say("u", "up", "2 replicas"));
        said.quiet("u", "up");
        assert!(said.say("u", "up", "2 replicas"));
        said.forget("u");
        assert!(said.say("u", "up", "2 replicas"));
    }
}
