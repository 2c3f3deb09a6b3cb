//! `emit.events`: named Events a CRD's CRs get at points of their lifecycle (newest layout,
//! spec §5.2 and §15.3).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Condition;
use crate::de::Spanned;

/// The lifecycle points a named Event can be emitted at.
pub const EMIT_ON: &[&str] = &["reconcile", "error", "delete"];

/// The Event types Kubernetes accepts.
pub const EMIT_TYPES: &[&str] = &["Normal", "Warning"];

/// `emit.events`: declaration name → Event.
pub type EmitEvents = BTreeMap<String, Spanned<EmitEvent>>;

/// One named Event of `emit.events`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmitEvent {
    /// Where in the lifecycle: `reconcile` (a successful reconcile, the default), `error` (a
    /// failed one) and/or `delete` (deletion starts).
    #[serde(default)]
    pub on: Vec<Spanned<String>>,
    /// `Normal` (default) or `Warning`.
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    /// The Event's reason (default: the declaration name, first letter upper-cased).
    pub reason: Option<Spanned<String>>,
    /// The Event's message (a template over the CR; default: the reason).
    pub message: Option<Spanned<String>>,
    /// All must hold for the Event to be emitted.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// One must hold.
    #[serde(default)]
    pub or: Vec<Condition>,
}

impl EmitEvent {
    /// The lifecycle points it is emitted at (`reconcile` when none is written).
    pub fn points(&self) -> Vec<&str> {
        if self.on.is_empty() {
            vec!["reconcile"]
        } else {
            self.on.iter().map(|p| p.value.as_str()).collect()
        }
    }

    /// The reason: as written, else `name` with its first letter upper-cased.
    pub fn reason_for(&self, name: &str) -> String {
        if let Some(r) = &self.reason {
            return r.value.clone();
        }
        let mut chars = name.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }

    /// Whether the Event is a `Warning` (else `Normal`).
    pub fn is_warning(&self) -> bool {
        self.kind.as_ref().is_some_and(|k| k.value == "Warning")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_reconcile_normal_and_the_name_as_reason() {
        let e = EmitEvent::default();
        assert_eq!(e.points(), vec!["reconcile"]);
        assert_eq!(e.reason_for("scaledUp"), "ScaledUp");
        assert!(!e.is_warning());
    }
}
