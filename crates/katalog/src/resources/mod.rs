//! Resource declarations: what a Katalog writes under `onCreate`, `onReconcile`, `onDelete`
//! and a Motif's `resources` (spec §6).
//!
//! These are the raw, strictly decoded declarations; every scalar that may hold a template
//! is a [`Text`]. [`crate::build`] renders them into Kubernetes objects.

mod access;
mod config;
mod custom;
mod declare;
mod hooks;
mod kinds;
mod network;
mod policy;
mod scaling;
mod shapes;
mod storage;
mod workloads;

use serde::{Deserialize, Serialize};

use crate::condition::Condition;
use crate::render::Text;

pub use access::{RoleBindingDecl, RoleDecl, RoleRef, RuleDecl, ServiceAccountDecl, Subject};
pub use config::{ConfigMapDecl, SecretDecl, SecretTls};
pub use custom::{CustomDecl, CustomMetadata};
pub use hooks::HookTemplates;
pub use kinds::Kind;
pub(crate) use kinds::for_each_kind;
pub use network::{IngressDecl, IngressTls, NetworkPolicyDecl, ServiceDecl};
pub use policy::{LimitRangeDecl, NamespaceDecl, ResourceQuotaDecl};
pub use scaling::{HpaBehavior, HpaDecl, PdbBehavior, PdbDecl, ScaleTargetRef};
pub use shapes::{
    Capabilities, ConditionSet, ContainerSecurity, EnvFrom, EnvVar, EnvVars, ForEach, Labels,
    NameRef, PodSecurity, Probe, Probes, ResourceRequirements, RollingUpdate, ScaleStep,
    SeccompProfile, TextMap, Volume, VolumeMount, WorkloadAutoscale,
};
pub use storage::{PvDecl, PvcDecl};
pub use workloads::{
    CronJobDecl, DeploymentDecl, JobDecl, PodDecl, ReplicaSetDecl, StatefulSetDecl,
    VolumeClaimTemplate,
};

/// The fields every declaration shares (spec §6.2), borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Common<'a> {
    /// Declared name, if any.
    pub name: Option<&'a Text>,
    /// Declared namespace, if any.
    pub namespace: Option<&'a Text>,
    /// Declared labels.
    pub labels: &'a Labels,
    /// Declared annotations.
    pub annotations: &'a Labels,
    /// `reconcile: true`.
    pub reconcile: bool,
    /// `when:` conditions.
    pub when: &'a [Condition],
    /// `or:` conditions.
    pub or: &'a [Condition],
    /// `forEach:` expansion.
    pub for_each: Option<&'a ForEach>,
    /// `sleep:` delay.
    pub sleep: Option<&'a Text>,
    /// `forceConflict:` override.
    pub force_conflict: Option<bool>,
}

/// The container and pod fields every pod-running declaration shares (spec §6.3), borrowed.
#[derive(Debug, Clone, Copy)]
pub struct WorkloadView<'a> {
    /// Container image.
    pub image: Option<&'a Text>,
    /// Image tag appended when the image has none.
    pub tag: Option<&'a Text>,
    /// Image pull Secret names.
    pub image_pull_secrets: &'a [Text],
    /// Container entrypoint.
    pub command: &'a [Text],
    /// Container arguments.
    pub args: &'a [Text],
    /// Primary container port.
    pub port: Option<&'a Text>,
    /// Port protocol.
    pub protocol: Option<&'a Text>,
    /// Environment variables.
    pub env: &'a EnvVars,
    /// Bulk environment.
    pub env_from: Option<&'a EnvFrom>,
    /// Requests and limits or profile.
    pub resources: Option<&'a ResourceRequirements>,
    /// Node selector.
    pub node_selector: &'a TextMap,
    /// ServiceAccount name.
    pub service_account_name: Option<&'a Text>,
    /// Working directory.
    pub working_directory: Option<&'a Text>,
    /// Probes.
    pub probes: Option<&'a Probes>,
    /// Container security.
    pub security_context: Option<&'a ContainerSecurity>,
    /// Pod security.
    pub pod_security: Option<&'a PodSecurity>,
    /// Pod volumes.
    pub volumes: &'a [Volume],
    /// Container volume mounts.
    pub volume_mounts: &'a [VolumeMount],
}

/// Implemented by every pod-running declaration kind: a view of its container fields.
pub trait Workload: Declaration {
    /// The container and pod fields of spec §6.3.
    fn workload(&self) -> WorkloadView<'_>;
}

/// Implemented by every declaration kind: a view of its common fields.
pub trait Declaration: std::fmt::Debug {
    /// The common fields of spec §6.2.
    fn common(&self) -> Common<'_>;
}

/// A naive English plural of a lowercase kind, for kinds no CRD in the Katalog describes.
pub fn plural_of(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    if k.ends_with('s') || k.ends_with('x') || k.ends_with("ch") || k.ends_with("sh") {
        format!("{k}es")
    } else if let Some(stem) = k
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{k}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_hook_block_decodes_with_every_polymorphic_form() {
        let json = serde_json::json!({
            "deployments": [{
                "name": "{{ .metadata.name }}", "image": "nginx", "replicas": 3,
                "port": 8080, "labels": [{"key": "app", "value": "web"}],
                "env": {"A": {"value": "1"}}, "reconcile": true,
                "when": [{"field": "spec.enabled", "equals": true}],
                "forEach": {"field": "spec.regions", "as": "region"},
                "resources": {"profile": "burst"},
                "rollingUpdate": {"profile": "safe"}
            }],
            "services": [{"port": "80", "type": "NodePort", "headless": false}],
            "secrets": [{"once": true, "rotateAfter": "90d", "data": {"p": "x"}}],
            "custom": [{"apiVersion": "x.io/v1", "kind": "Thing",
                        "metadata": {"name": "a", "labels": {"k": "v"}},
                        "spec": {"n": 1}, "data": {"extra": true}}],
            "volumes": [{"anything": 1}],
        });
        let h: HookTemplates = serde_json::from_value(json).unwrap();
        assert_eq!(h.deployments[0].replicas.as_deref(), Some("3"));
        assert_eq!(h.deployments[0].labels.0["app"].as_str(), "web");
        assert_eq!(h.deployments[0].env.0[0].name, "A");
        assert_eq!(h.services[0].service_type.as_deref(), Some("NodePort"));
        assert!(h.secrets[0].once);
        assert!(h.custom[0].other.contains_key("data"));
        assert_eq!(h.resource_count(), 4);
        assert_eq!(h.declarations(Kind::Deployment)[0].common().when.len(), 1);
    }

    #[test]
    fn on_delete_blocks_decode_groups() {
        let json = serde_json::json!({
            "ordered": true, "timeout": "2m",
            "groups": [{"name": "first", "jobs": [{"image": "busybox"}]}],
        });
        let h: HookTemplates = serde_json::from_value(json).unwrap();
        assert!(h.ordered);
        assert_eq!(h.groups[0].jobs.len(), 1);
    }

    #[test]
    fn unknown_keys_in_a_declaration_are_rejected() {
        let json = serde_json::json!({"deployments": [{"imag": "nginx"}]});
        assert!(serde_json::from_value::<HookTemplates>(json).is_err());
    }
}
