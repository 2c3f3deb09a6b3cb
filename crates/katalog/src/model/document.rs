//! The top level of a Katalog or Komposer file (spec §3, §20.1).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{CrdMap, Gateway, MotifImport, Notes, Profiles, Security};
use crate::de::Spanned;

/// The only `apiVersion` Katalog documents may declare.
pub const API_VERSION: &str = "orkestra.orkspace.io/v1";

/// A Katalog or Komposer file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Document {
    /// Must be [`API_VERSION`].
    pub api_version: Option<Spanned<String>>,
    /// `Katalog` or `Komposer`.
    pub kind: Option<Spanned<String>>,
    /// Name, version and descriptive fields.
    #[serde(default)]
    pub metadata: Metadata,
    /// Maturity and deprecation (tooling only, §20.6).
    pub lifecycle: Option<Lifecycle>,
    /// Komposer-level enforcement (`policy.lifecycle.minMaturity`).
    pub policy: Option<Policy>,
    /// Komposer imports (§20.1).
    pub imports: Option<KomposerImports>,
    /// Default cross-read policy for every CRD (default open).
    pub cross_access: Option<bool>,
    /// The gateway block (§16.9).
    pub gateway: Option<Gateway>,
    /// Signing and push gates (§20.5).
    pub publish: Option<Spanned<super::Publish>>,
    /// Notification teams (§16.8).
    pub notification: Option<Spanned<super::Notification>>,
    /// User-defined template functions (§8.5).
    pub notes: Option<Notes>,
    /// User profiles (§20.3).
    pub profiles: Option<Profiles>,
    /// External provider requirements (future), kept as written.
    pub providers: Option<Vec<serde_json::Value>>,
    /// The CRDs.
    pub spec: Option<Spec>,
    /// The security block (§17).
    pub security: Option<Security>,
}

/// `metadata:` of a Katalog, Komposer or Motif.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    /// The operator's name (required for Katalogs).
    pub name: Option<Spanned<String>>,
    /// Logical tenant (default `default`).
    pub namespace: Option<String>,
    /// Control Center cluster filter.
    pub cluster_name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Semantic version.
    pub version: Option<String>,
    /// Author.
    pub author: Option<String>,
    /// License.
    pub license: Option<String>,
    /// Registry discovery tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Control Center persona (`""`, `operator`, `orkdoctor`).
    pub created_by: Option<String>,
    /// Free-form, ignored.
    pub projects: Option<serde_json::Value>,
}

/// `spec:` of a Katalog or Komposer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    /// Motif imports whose profiles and notes go into the Katalog-wide registry.
    #[serde(default)]
    pub imports: Vec<MotifImport>,
    /// Finalizers applied to every CRD unless its operatorBox overrides them.
    #[serde(default)]
    pub finalizers: Vec<String>,
    /// The CRD entries, keyed by name, in document order.
    #[serde(default)]
    pub crds: CrdMap,
}

/// `lifecycle:` (§20.6).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Lifecycle {
    /// `alpha`, `beta`, `stable` or `deprecated`.
    pub maturity: Option<Spanned<String>>,
    /// Deprecation notice.
    pub deprecation: Option<Deprecation>,
    /// Version ranges this Katalog works with.
    pub compatibility: Option<BTreeMap<String, String>>,
    /// Komposer only: imports acknowledged despite their maturity.
    pub accept: Option<Spanned<serde_json::Value>>,
}

/// `lifecycle.deprecation`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Deprecation {
    /// Why, and what to do instead (required).
    pub message: Option<String>,
    /// The replacement.
    pub migrated_to: Option<String>,
    /// Dates (YYYY-MM-DD).
    pub timeline: Option<Timeline>,
}

/// `lifecycle.deprecation.timeline`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeline {
    /// Start of the deprecation window.
    pub from: Option<Spanned<String>>,
    /// End of life.
    pub to: Option<Spanned<String>>,
}

/// `policy:` (Komposer).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Policy {
    /// Lifecycle policy.
    pub lifecycle: Option<PolicyLifecycle>,
}

/// `policy.lifecycle`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyLifecycle {
    /// Imports below this maturity are errors.
    pub min_maturity: Option<Spanned<String>>,
}

/// `imports:` of a Komposer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KomposerImports {
    /// OCI registry patterns (not supported yet).
    #[serde(default)]
    pub registry: Vec<Spanned<serde_json::Value>>,
    /// Katalog files: local paths, `$ENV` references or URLs.
    #[serde(default)]
    pub files: Vec<Spanned<FileImport>>,
    /// Helm charts (not supported yet).
    #[serde(default)]
    pub helm: Vec<Spanned<serde_json::Value>>,
}

/// One `imports.files` entry: a path or `{url, auth}`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileImport {
    /// Path, `$ENV` reference or URL.
    pub url: String,
    /// Authentication for remote files (kept as written).
    pub auth: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileImportObject {
    url: String,
    auth: Option<serde_json::Value>,
}

impl<'de> Deserialize<'de> for FileImport {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = FileImport;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a path or {url, auth}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FileImport, E> {
                Ok(FileImport {
                    url: v.to_string(),
                    auth: None,
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<FileImport, A::Error> {
                let o = FileImportObject::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(FileImport {
                    url: o.url,
                    auth: o.auth,
                })
            }
        }
        d.deserialize_any(V)
    }
}
