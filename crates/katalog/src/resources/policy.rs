//! Namespace-level declarations: Namespace, ResourceQuota, LimitRange.

use super::declare::declaration;
use super::*;

declaration! {
    /// One Namespace (`namespaces:`, cluster-scoped). Default name `<cr>-namespace`.
    pub struct NamespaceDecl {
    }
}

declaration! {
    /// One ResourceQuota (`resourceQuotas:`). Default name `<cr>-resourcequota`.
    /// `profile` XOR explicit `hard`.
    pub struct ResourceQuotaDecl {
        /// Named profile.
        pub profile: Option<Text>,
        /// Hard limits, e.g. `requests.cpu: "4"`.
        pub hard: TextMap,
        /// Quota scopes.
        pub scopes: Vec<Text>,
    }
}

declaration! {
    /// One LimitRange (`limitRanges:`). Default name `<cr>-limitrange`.
    /// `profile` XOR explicit `limits`.
    pub struct LimitRangeDecl {
        /// Named profile.
        pub profile: Option<Text>,
        /// Kubernetes LimitRangeItems (templated strings).
        pub limits: Vec<serde_json::Value>,
    }
}
