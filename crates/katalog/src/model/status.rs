//! `status:` (spec §10) and `autoscale:` (spec §12.6).

use serde::Deserialize;

use super::Condition;
use crate::de::Spanned;

/// `status:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Status {
    /// Write the Ready condition (default true).
    pub conditions: Option<bool>,
    /// Declared fields, in order.
    #[serde(default)]
    pub fields: Vec<Spanned<StatusField>>,
}

/// One status field.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatusField {
    /// Dot path under `status`.
    pub path: Option<String>,
    /// Value (template or static).
    #[serde(default)]
    pub value: Spanned<String>,
    /// Cast: string, int, bool, float, auto, …
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    /// All must hold.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// One must hold.
    #[serde(default)]
    pub or: Vec<Condition>,
    /// Remove the field when the conditions stop holding.
    pub clear_on_false: Option<bool>,
}

/// `autoscale:` (operator self-scaling).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Autoscale {
    /// Named preset.
    pub profile: Option<Spanned<String>>,
    /// Evaluation interval.
    pub interval: Option<Spanned<String>>,
    /// Time before returning to baseline.
    pub cooldown: Option<Spanned<String>>,
    /// When to scale.
    pub conditions: Option<AutoscaleConditions>,
    /// What to scale to.
    #[serde(rename = "do")]
    pub action: Option<AutoscaleAction>,
    /// Lower bound of workers.
    pub min: Option<i64>,
    /// Upper bound of workers.
    pub max: Option<i64>,
}

/// `autoscale.conditions`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoscaleConditions {
    /// All must hold.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// One must hold.
    #[serde(default)]
    pub or: Vec<Condition>,
}

/// `autoscale.do`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoscaleAction {
    /// Workers while scaled.
    pub workers: Option<Spanned<i64>>,
    /// Queue depth while scaled.
    pub queue_depth: Option<i64>,
    /// Resync while scaled.
    pub resync: Option<Spanned<String>>,
}
