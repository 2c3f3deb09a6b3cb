//! Identity and access declarations: ServiceAccount, Role/ClusterRole,
//! RoleBinding/ClusterRoleBinding.

use super::declare::declaration;
use super::*;

declaration! {
    /// One ServiceAccount (`serviceAccounts:`). Default name `<cr>-serviceaccount`.
    pub struct ServiceAccountDecl {
        /// Image pull Secrets attached to the account.
        pub image_pull_secrets: Vec<Text>,
        /// Mount the account token into pods ("true"/"false").
        pub automount_service_account_token: Option<bool>,
    }
}

/// One RBAC rule as declared.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleDecl {
    /// API groups (`""` for core).
    pub api_groups: Vec<Text>,
    /// Resources.
    pub resources: Vec<Text>,
    /// Verbs.
    pub verbs: Vec<Text>,
    /// Restrict to these object names.
    pub resource_names: Vec<Text>,
    /// Non-resource URLs (ClusterRoles only).
    #[serde(rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<Text>,
}

declaration! {
    /// One Role (`roles:`) or ClusterRole (`clusterRoles:`). Default names
    /// `<cr>-role` / `<cr>-clusterrole`.
    pub struct RoleDecl {
        /// Rules granted.
        pub rules: Vec<RuleDecl>,
    }
}

/// The role a binding grants.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RoleRef {
    /// Role (default for roleBindings) or ClusterRole.
    pub kind: Option<Text>,
    /// Role name.
    pub name: Option<Text>,
    /// Default `rbac.authorization.k8s.io`.
    pub api_group: Option<Text>,
}

/// One subject of a binding.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Subject {
    /// ServiceAccount (default), User or Group.
    pub kind: Option<Text>,
    /// Subject name.
    pub name: Option<Text>,
    /// Namespace of a ServiceAccount (default: the binding's).
    pub namespace: Option<Text>,
    /// API group of User/Group subjects.
    pub api_group: Option<Text>,
}

declaration! {
    /// One RoleBinding (`roleBindings:`) or ClusterRoleBinding (`clusterRoleBindings:`).
    /// Default names `<cr>-rolebinding` / `<cr>-clusterrolebinding`.
    pub struct RoleBindingDecl {
        /// The role granted.
        pub role_ref: RoleRef,
        /// Who it is granted to.
        pub subjects: Vec<Subject>,
    }
}
