//! Configuration declarations: ConfigMap and Secret.

use super::declare::declaration;
use super::*;

declaration! {
    /// One ConfigMap (`configMaps:`). Default name `<cr>-configmap`.
    pub struct ConfigMapDecl {
        /// Entries; values templated.
        pub data: TextMap,
        /// Base64 binary entries.
        pub binary_data: TextMap,
        /// Copy into each of these namespaces instead of the single target namespace.
        pub to_namespaces: Vec<Text>,
        /// Copy the data of this existing ConfigMap.
        pub from_config_map: Option<Text>,
        /// Namespace of `fromConfigMap` (default: the CR's).
        pub from_namespace: Option<Text>,
    }
}

/// Self-signed TLS material generated into a Secret.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretTls {
    /// Certificate common name.
    pub common_name: Option<Text>,
    /// Subject alternative names.
    pub dns_names: Vec<Text>,
    /// Validity (default: `rotateAfter`, else 1y).
    pub valid_for: Option<Text>,
}

declaration! {
    /// One Secret (`secrets:`). Default name `<cr>-secret`.
    pub struct SecretDecl {
        /// Secret type (default Opaque; `kubernetes.io/tls` with `tls`).
        #[serde(rename = "type")]
        pub secret_type: Option<Text>,
        /// Entries as plain text (written as `stringData`); values templated.
        pub data: TextMap,
        /// Entries as plain text, Kubernetes spelling.
        pub string_data: TextMap,
        /// Copy the data of this existing Secret.
        pub from_secret: Option<Text>,
        /// Namespace of `fromSecret` (default: the CR's).
        pub from_namespace: Option<Text>,
        /// Copy into each of these namespaces.
        pub to_namespaces: Vec<Text>,
        /// Create only if absent (ignored with `reconcile: true` or in onReconcile).
        pub once: bool,
        /// Recreate when older than this (annotation `orkestra.orkspace.io/generated-at`).
        pub rotate_after: Option<Text>,
        /// Generate self-signed TLS material.
        pub tls: Option<SecretTls>,
    }
}
