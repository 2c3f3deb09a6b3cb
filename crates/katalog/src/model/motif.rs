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
    /// Default; without one the input is required.
    pub default: Option<String>,
}
