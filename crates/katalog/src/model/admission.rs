//! Admission and canonicalisation: `validation`, `mutation`, `webhooks`, `normalize`, and the
//! newest layout's `admission:` block (spec §16.3, §16.4, §4.3).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Condition, External, Fires};
use crate::de::Spanned;

/// `validation:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    /// Rules, in order.
    #[serde(default)]
    pub rules: Vec<Spanned<ValidationRule>>,
    /// File with more rules.
    pub include: Option<Spanned<String>>,
    /// Calls whose results rules may read.
    #[serde(default)]
    pub external: Vec<External>,
}

/// One validation rule: a field condition plus what to do when it fails.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValidationRule {
    /// Rule name.
    pub name: Option<String>,
    /// Dot path or template.
    pub field: Option<String>,
    /// Explicit operator.
    pub operator: Option<Spanned<String>>,
    /// Operand of the explicit operator.
    pub value: Option<serde_json::Value>,
    /// `string` (default), `int`, `float`, `bool`.
    pub value_type: Option<Spanned<String>>,
    /// Invert the result.
    pub negate: Option<bool>,
    /// Shorthand operators (one at most).
    pub equals: Option<serde_json::Value>,
    /// Shorthand.
    pub not_equals: Option<serde_json::Value>,
    /// Shorthand.
    pub contains: Option<serde_json::Value>,
    /// Shorthand.
    pub not_contains: Option<serde_json::Value>,
    /// Shorthand.
    pub prefix: Option<serde_json::Value>,
    /// Shorthand.
    pub not_prefix: Option<serde_json::Value>,
    /// Shorthand.
    pub suffix: Option<serde_json::Value>,
    /// Shorthand.
    pub not_suffix: Option<serde_json::Value>,
    /// Shorthand.
    pub regex: Option<serde_json::Value>,
    /// Shorthand.
    pub exists: Option<serde_json::Value>,
    /// Shorthand.
    pub not_exists: Option<serde_json::Value>,
    /// Shorthand.
    pub greater_than: Option<serde_json::Value>,
    /// Shorthand.
    pub less_than: Option<serde_json::Value>,
    /// Shorthand.
    pub greater_than_or_equal: Option<serde_json::Value>,
    /// Shorthand.
    pub less_than_or_equal: Option<serde_json::Value>,
    /// Shorthand.
    pub min: Option<serde_json::Value>,
    /// Shorthand.
    pub max: Option<serde_json::Value>,
    /// Shorthand.
    pub between: Option<serde_json::Value>,
    /// Shorthand.
    pub not_between: Option<serde_json::Value>,
    /// Shorthand.
    #[serde(rename = "in")]
    pub in_list: Option<serde_json::Value>,
    /// Shorthand.
    pub not_in: Option<serde_json::Value>,
    /// Shown when the rule fails.
    pub message: Option<String>,
    /// `deny` (default) or `warn`.
    pub action: Option<Spanned<String>>,
    /// Serve field this rule belongs to.
    pub link: Option<String>,
    /// Where the rule fires.
    pub fires: Option<Fires>,
    /// Rule applies only when these hold.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// One must hold.
    #[serde(default)]
    pub or: Vec<Condition>,
}

/// `mutation:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Mutation {
    /// At reconcile time, mutate before validating.
    pub mutate_first: Option<bool>,
    /// Rules, in order.
    #[serde(default)]
    pub rules: Vec<Spanned<MutationRule>>,
    /// File with more rules.
    pub include: Option<Spanned<String>>,
    /// Calls whose results rules may read.
    #[serde(default)]
    pub external: Vec<External>,
}

/// One mutation rule: exactly one of `default` and `override`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MutationRule {
    /// Rule name.
    pub name: Option<String>,
    /// Dot path.
    pub field: Option<String>,
    /// Value written when the field is absent.
    pub default: Option<serde_json::Value>,
    /// Value always written.
    #[serde(rename = "override")]
    pub override_value: Option<serde_json::Value>,
    /// `string` (default), `int`, `float`, `bool`.
    pub value_type: Option<Spanned<String>>,
    /// Apply only when these hold.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// One must hold.
    #[serde(default)]
    pub or: Vec<Condition>,
    /// Where the rule fires.
    pub fires: Option<Fires>,
}

/// `webhooks:` (per CRD).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhooks {
    /// Include in the validating webhook.
    pub validation: Option<bool>,
    /// Include in the mutating webhook.
    pub mutation: Option<bool>,
    /// Operations (default CREATE, UPDATE).
    #[serde(default)]
    pub operations: Vec<String>,
}

/// Newest layout: `admission:` on a CRD entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admission {
    /// Validation rules.
    pub validation: Option<Validation>,
    /// Mutation rules.
    pub mutation: Option<Mutation>,
    /// Conversion (§16.5).
    pub conversion: Option<Spanned<super::Conversion>>,
    /// Webhook settings.
    pub webhooks: Option<Webhooks>,
}

/// `normalize:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalize {
    /// Record what changed under `._normalizeChanges`.
    pub audit: Option<bool>,
    /// Spec path → template producing the canonical value.
    #[serde(default)]
    pub spec: BTreeMap<String, Spanned<String>>,
    /// Spec path → the type its rendered value is cast to (`int`, `integer`, `bool`,
    /// `boolean`, `float`, `number`, `string`) instead of being read as a YAML scalar.
    #[serde(default)]
    pub types: BTreeMap<String, Spanned<String>>,
    /// Metadata fields (labels/annotations) → template.
    pub metadata: Option<serde_json::Value>,
    /// Apply only when these hold.
    #[serde(default)]
    pub when: Vec<Condition>,
}
