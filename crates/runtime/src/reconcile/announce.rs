//! The `Reconciled` Event (spec §9.2 step 9), written only when it says something: on a CR's
//! first success, when a reconcile wrote or deleted a child (a spec change, drift put back),
//! and when the CR becomes Ready again after a failure. A reconcile whose only write is the
//! status (a declared status field following a child) emits none. Orkestra emits it on every
//! successful reconcile.
//!
//! It is published off the reconcile's path: the worker moves on while the Event is written.

use kube::api::DynamicObject;

use super::Reconciler;
use crate::events::EventType;

/// Whether the CR's status says `Ready=True`.
fn was_ready(cr: &DynamicObject) -> bool {
    cr.data
        .get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(|c| c.as_array())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

impl Reconciler {
    /// Emits `Reconciled` after a successful reconcile of `cr` (as read before it) that
    /// `wrote` children or changed the status, when the module docs say so.
    pub(super) fn announce_reconciled(
        &self,
        cr: &DynamicObject,
        wrote: bool,
        status_changed: bool,
    ) {
        if !(wrote || status_changed && !was_ready(cr)) {
            return;
        }
        let gvk = self.crd.gvk().to_string();
        self.events.publish_later(
            self.reference(cr),
            EventType::Normal,
            "Reconciled",
            format!("reconciled {gvk}"),
        );
    }

    /// Waits until the Events this Reconciler publishes off its path are written.
    pub async fn events_settled(&self) {
        self.events.settled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cr(status: serde_json::Value) -> DynamicObject {
        serde_json::from_value(json!({"apiVersion": "x.io/v1", "kind": "X",
            "metadata": {"name": "a"}, "status": status}))
        .unwrap()
    }

    #[test]
    fn only_a_true_ready_condition_counts_as_ready() {
        assert!(was_ready(&cr(
            json!({"conditions": [{"type": "Ready", "status": "True"}]})
        )));
        assert!(!was_ready(&cr(
            json!({"conditions": [{"type": "Ready", "status": "False"}]})
        )));
        assert!(!was_ready(&cr(json!({}))));
    }
}
