//! `conversion:` of a CRD entry (spec §16.5; newest layout: `admission.conversion`).

use serde::Deserialize;
use serde_json::Value;

use crate::de::Spanned;

/// A CRD's `conversion:` block.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Conversion {
    /// The version objects are stored in. Required: `ork validate` refuses a block
    /// without it (it is optional here only so that every other problem is reported too).
    pub storage_version: Option<Spanned<String>>,
    /// Patch the CRD's `spec.conversion` to call the gateway, and keep it patched.
    #[serde(default, rename = "updateCRD")]
    pub update_crd: bool,
    /// Take part in conversion statistics without declaring paths.
    #[serde(default)]
    pub participant: bool,
    /// Declared paths; each direction is declared on its own.
    #[serde(default)]
    pub paths: Vec<ConversionPath>,
}

impl Conversion {
    /// The storage version, or `""` when the block does not name one (which validation
    /// refuses).
    pub fn storage_version(&self) -> &str {
        self.storage_version
            .as_ref()
            .map_or("", |s| s.value.as_str())
    }

    /// The path declared from `from` to `to`.
    pub fn path(&self, from: &str, to: &str) -> Option<&ConversionPath> {
        self.paths.iter().find(|p| p.from == from && p.to == to)
    }
}

/// One `from → to` path.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionPath {
    /// Source version (`v1alpha1`, not `group/v1alpha1`).
    pub from: String,
    /// Target version.
    pub to: String,
    /// The target's `spec`: values are templates over the source object. Without it the
    /// source spec is carried over unchanged.
    #[serde(default)]
    pub spec: Option<Value>,
}
