//! `security:` (spec §17) and `gateway:` (spec §16.9).

use serde::Deserialize;

use crate::de::Spanned;

/// `security:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Security {
    /// Webhook service name.
    pub service_name: Option<String>,
    /// Runtime → gateway URL.
    pub gateway_endpoint: Option<String>,
    /// Deletion protection of CRDs and CRs.
    pub deletion_protection: Option<Protection>,
    /// Namespace protection.
    pub namespace_protection: Option<NamespaceProtection>,
    /// Admission webhooks.
    pub webhooks: Option<SecurityWebhooks>,
    /// Conversion webhooks.
    pub conversion: Option<SecurityConversion>,
    /// Certificate rotation.
    pub cert_manager: Option<CertManager>,
    /// RBAC profile (kept as written).
    pub rbac: Option<serde_json::Value>,
    /// Container/pod security profiles (kept as written).
    pub profiles: Option<serde_json::Value>,
}

/// `security.deletionProtection`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Protection {
    /// Default true when the block is declared.
    pub enabled: Option<bool>,
    /// `Fail` or `Ignore`.
    pub failure_policy: Option<Spanned<String>>,
    /// Remove the webhook configuration on graceful shutdown.
    pub cleanup_on_shutdown: Option<bool>,
    /// Stricter checks.
    pub strict_mode: Option<bool>,
}

impl Protection {
    /// Whether deletion protection is on: declaring the block turns it on unless it says
    /// `enabled: false`. The gateway, validation and RBAC derivation all ask this.
    pub fn is_enabled(&self) -> bool {
        self.enabled != Some(false)
    }
}

/// `security.namespaceProtection`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespaceProtection {
    /// On or off.
    pub enabled: Option<bool>,
    /// Namespaces that may not be used (XOR allowed).
    #[serde(default)]
    pub restricted_namespaces: Vec<String>,
    /// The only namespaces that may be used (XOR restricted).
    #[serde(default)]
    pub allowed_namespaces: Vec<String>,
    /// `Fail` or `Ignore`.
    pub failure_policy: Option<Spanned<String>>,
    /// Remove on graceful shutdown.
    pub cleanup_on_shutdown: Option<bool>,
}

/// `security.webhooks`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecurityWebhooks {
    /// `admission: {enabled}`.
    pub admission: Option<Toggle>,
    /// `Fail` or `Ignore`.
    pub failure_policy: Option<Spanned<String>>,
    /// Webhook service name.
    pub service_name: Option<String>,
    /// Remove on graceful shutdown.
    pub cleanup_on_shutdown: Option<bool>,
}

/// `{enabled: bool}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toggle {
    /// On or off.
    pub enabled: Option<bool>,
}

/// `security.conversion`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecurityConversion {
    /// On or off.
    pub enabled: Option<bool>,
    /// Conversion window.
    pub conversion_window: Option<i64>,
}

/// `security.certManager`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CertManager {
    /// Rotate automatically.
    pub auto_rotate: Option<bool>,
    /// Rotate when this close to expiry.
    pub rotation_threshold: Option<Spanned<String>>,
    /// Certificate lifetime.
    pub valid_for: Option<Spanned<String>>,
}

/// `gateway:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Gateway {
    /// Gateway installed.
    pub enabled: Option<bool>,
    /// Gateway-only install.
    pub standalone: Option<bool>,
    /// Runtime → gateway URL.
    pub endpoint: Option<String>,
    /// The Gateway API.
    pub api: Option<GatewayApi>,
    /// Inbound intake webhooks (kept as written).
    pub webhooks: Option<serde_json::Value>,
    /// Remote clusters (kept as written; mixes `include` with cluster names).
    pub clusters: Option<serde_json::Value>,
}

/// `gateway.api`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayApi {
    /// Routes registered.
    pub enabled: Option<bool>,
    /// Token authentication.
    pub auth: Option<GatewayAuth>,
}

/// `gateway.api.auth`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayAuth {
    /// File with more tokens.
    pub include: Option<Spanned<String>>,
    /// Tokens.
    #[serde(default)]
    pub tokens: Vec<Spanned<GatewayToken>>,
}

/// One gateway token: exactly one credential source.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayToken {
    /// Token name.
    pub name: String,
    /// A Secret holding the token.
    pub secret_ref: Option<serde_json::Value>,
    /// An env reference (`${VAR}`); literals are rejected.
    pub token: Option<String>,
    /// GitHub Actions OIDC.
    #[serde(rename = "githubOIDC")]
    pub github_oidc: Option<serde_json::Value>,
    /// GitLab OIDC.
    #[serde(rename = "gitlabOIDC")]
    pub gitlab_oidc: Option<serde_json::Value>,
    /// Vault OIDC.
    #[serde(rename = "vaultOIDC")]
    pub vault_oidc: Option<serde_json::Value>,
    /// Generic OIDC.
    pub oidc: Option<serde_json::Value>,
}

/// A CRD entry's `deletionProtection:` override (spec §16.6): `false` turns protection off
/// for the CRD and its CRs; the map form tunes each part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrdProtection {
    /// `enabled` (default true); `deletionProtection: false` is `enabled: false`.
    pub enabled: Option<bool>,
    /// Deny deleting the CRD itself (default true).
    pub protect_crd: Option<bool>,
    /// Stamp the protection label on the CRs (default true).
    pub protect_crs: Option<bool>,
    /// `false` exempts this CRD's CRs from the global strict mode.
    pub strict_mode: Option<bool>,
}

/// The map form of [`CrdProtection`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CrdProtectionMap {
    enabled: Option<bool>,
    #[serde(rename = "protectCRD")]
    protect_crd: Option<bool>,
    #[serde(rename = "protectCRs")]
    protect_crs: Option<bool>,
    strict_mode: Option<bool>,
}

impl CrdProtection {
    /// Whether the CRD keeps protection at all (`enabled` is not false).
    pub fn is_enabled(&self) -> bool {
        self.enabled != Some(false)
    }

    /// Whether deleting the CRD itself is denied.
    pub fn protects_crd(&self) -> bool {
        self.is_enabled() && self.protect_crd != Some(false)
    }

    /// Whether the CRs carry the protection label.
    pub fn protects_crs(&self) -> bool {
        self.is_enabled() && self.protect_crs != Some(false)
    }

    /// Whether the CRs are exempt from strict mode (`strictMode: false`).
    pub fn strict_mode_exempt(&self) -> bool {
        self.strict_mode == Some(false)
    }
}

impl<'de> serde::Deserialize<'de> for CrdProtection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Visitor, value::MapAccessDeserializer};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CrdProtection;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("`false`, `true` or {enabled, protectCRD, protectCRs, strictMode}")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<CrdProtection, E> {
                Ok(CrdProtection {
                    enabled: Some(v),
                    ..CrdProtection::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CrdProtection, A::Error> {
                let m = CrdProtectionMap::deserialize(MapAccessDeserializer::new(map))?;
                Ok(CrdProtection {
                    enabled: m.enabled,
                    protect_crd: m.protect_crd,
                    protect_crs: m.protect_crs,
                    strict_mode: m.strict_mode,
                })
            }
        }
        d.deserialize_any(V)
    }
}
