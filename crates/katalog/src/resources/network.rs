//! Traffic declarations: Service, Ingress, NetworkPolicy.

use super::declare::declaration;
use super::*;

declaration! {
    /// One Service (`services:`). Default name `<cr>-svc`; selects the owner's pods.
    pub struct ServiceDecl {
        /// ClusterIP (default), NodePort or LoadBalancer.
        #[serde(rename = "type")]
        pub service_type: Option<Text>,
        /// No cluster IP (`clusterIP: None`), for StatefulSets.
        pub headless: bool,
        /// TCP (default), UDP or SCTP.
        pub protocol: Option<Text>,
        /// Service port.
        pub port: Option<Text>,
        /// Container port traffic goes to (default: the service port).
        pub target_port: Option<Text>,
        /// Fixed node port for NodePort/LoadBalancer.
        pub node_port: Option<Text>,
        /// Pod selector; replaces the default owner selector.
        pub selector: TextMap,
    }
}

/// TLS of an Ingress.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressTls {
    /// Generate a self-signed TLS Secret before the Ingress.
    pub create: bool,
    /// Synonym of `create` found in examples.
    pub enabled: bool,
    /// TLS Secret name (default `<cr>-tls`).
    pub secret_name: Option<Text>,
    /// Hosts covered.
    pub hosts: Vec<Text>,
    /// Certificate validity (default 1y).
    pub valid_for: Option<Text>,
}

declaration! {
    /// One Ingress (`ingresses:`). Default name `<cr>-ingress`.
    pub struct IngressDecl {
        /// Virtual host.
        pub host: Option<Text>,
        /// Backend Service (default `<cr>-svc`).
        pub service_name: Option<Text>,
        /// Backend Service port.
        pub service_port: Option<Text>,
        /// Path (default `/`).
        pub path: Option<Text>,
        /// Prefix (default), Exact or ImplementationSpecific.
        pub path_type: Option<Text>,
        /// Ingress class.
        #[serde(alias = "ingressClass", alias = "ingressClassName")]
        pub class_name: Option<Text>,
        /// TLS settings.
        pub tls: Option<IngressTls>,
    }
}

declaration! {
    /// One NetworkPolicy (`networkPolicies:`). Default name `<cr>-networkpolicy`.
    /// `profile` XOR explicit rules.
    pub struct NetworkPolicyDecl {
        /// Named profile (deny-all, deny-all-ingress, deny-all-egress,
        /// allow-same-namespace, allow-dns-egress, ...).
        pub profile: Option<Text>,
        /// Pods the policy applies to (Kubernetes LabelSelector; `{}` = all).
        pub pod_selector: Option<serde_json::Value>,
        /// Ingress and/or Egress.
        pub policy_types: Vec<Text>,
        /// Ingress rules (Kubernetes shape, templated strings).
        pub ingress: Vec<serde_json::Value>,
        /// Egress rules (Kubernetes shape, templated strings).
        pub egress: Vec<serde_json::Value>,
    }
}
