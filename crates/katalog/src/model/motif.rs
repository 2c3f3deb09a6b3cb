//! Motifs (spec §20.2): reusable resources, profiles and notes, imported with `with:` inputs.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Metadata, Notes, Profiles, Status};
use crate::de::Spanned;

/// One `imports:` entry (CRD level or `spec.imports`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MotifImport {
    /// Local path (relative to the importing file), `oci://` reference or short name.
    pub motif: Spanned<String>,
    /// The reference is an OCI artifact.
    pub oci: Option<bool>,
    /// Input bindings: input name → template over the CR.
    #[serde(default, rename = "with")]
    pub inputs: BTreeMap<String, String>,
}

/// A Motif file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MotifDocument {
    /// Must be `orkestra.orkspace.io/v1`.
    pub api_version: Option<Spanned<String>>,
    /// Must be `Motif`.
    pub kind: Option<Spanned<String>>,
    /// Name and version.
    #[serde(default)]
    pub metadata: Metadata,
    /// Declared inputs.
    #[serde(default)]
    pub inputs: Vec<MotifInput>,
    /// Profiles merged into the Katalog-wide registry.
    pub profiles: Option<Profiles>,
    /// Notes merged into the Katalog.
    pub notes: Option<Notes>,
    /// Resources: `onCreate:` plus resource lists that go to `onReconcile`.
    pub resources: Option<serde_json::Value>,
    /// Status fields added to the importing CRD.
    pub status: Option<Status>,
    /// Admission rules (kept as written).
    pub admission: Option<serde_json::Value>,
}

/// One Motif input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MotifInput {
    /// Name, read as `.inputs.<name>`.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Default; without one the input is required unless `required: false`.
    pub default: Option<String>,
    /// Whether an import must bind this input. Unset: required exactly when there is no
    /// `default`. `false` without a default binds the empty string; `true` with a default
    /// still falls back to the default (upstream's reading).
    pub required: Option<bool>,
    /// The kind of value the input takes; a literal binding or default that is not of this type
    /// is an error at load (a templated binding is checked when rendered, as any template).
    #[serde(rename = "type")]
    pub value_type: Option<InputType>,
}

/// The type of a Motif input (`type:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    /// Any text.
    String,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl InputType {
    /// Whether `value` (as written, not a template) is of this type.
    pub fn admits(self, value: &str) -> bool {
        match self {
            Self::String => true,
            Self::Integer => value.trim().parse::<i64>().is_ok(),
            Self::Number => value.trim().parse::<f64>().is_ok(),
            Self::Boolean => matches!(value.trim(), "true" | "false"),
        }
    }
}

impl MotifInput {
    /// The value an import that does not bind this input gets, or `None` when the input is
    /// required and has no default.
    pub fn fallback(&self) -> Option<&str> {
        match (self.default.as_deref(), self.required) {
            (Some(default), _) => Some(default),
            (None, Some(false)) => Some(""),
            (None, _) => None,
        }
    }
}
