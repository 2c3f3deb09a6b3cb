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

/// Every resource kind a Katalog can declare, in the order one reconcile applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    /// `namespaces`.
    Namespace,
    /// `serviceAccounts`.
    ServiceAccount,
    /// `roles`.
    Role,
    /// `clusterRoles`.
    ClusterRole,
    /// `roleBindings`.
    RoleBinding,
    /// `clusterRoleBindings`.
    ClusterRoleBinding,
    /// `resourceQuotas`.
    ResourceQuota,
    /// `limitRanges`.
    LimitRange,
    /// `networkPolicies`.
    NetworkPolicy,
    /// `secrets`.
    Secret,
    /// `configMaps`.
    ConfigMap,
    /// `persistentVolumes`.
    PersistentVolume,
    /// `persistentVolumeClaims`.
    PersistentVolumeClaim,
    /// `deployments`.
    Deployment,
    /// `statefulSets`.
    StatefulSet,
    /// `replicaSets`.
    ReplicaSet,
    /// `pods`.
    Pod,
    /// `jobs`.
    Job,
    /// `cronJobs`.
    CronJob,
    /// `services`.
    Service,
    /// `ingresses`.
    Ingress,
    /// `hpa`.
    HorizontalPodAutoscaler,
    /// `pdb`.
    PodDisruptionBudget,
    /// `custom`.
    Custom,
}

impl Kind {
    /// Every kind, in apply order.
    pub const ALL: [Kind; 24] = [
        Kind::Namespace,
        Kind::ServiceAccount,
        Kind::Role,
        Kind::ClusterRole,
        Kind::RoleBinding,
        Kind::ClusterRoleBinding,
        Kind::ResourceQuota,
        Kind::LimitRange,
        Kind::NetworkPolicy,
        Kind::Secret,
        Kind::ConfigMap,
        Kind::PersistentVolume,
        Kind::PersistentVolumeClaim,
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::ReplicaSet,
        Kind::Pod,
        Kind::Job,
        Kind::CronJob,
        Kind::Service,
        Kind::Ingress,
        Kind::HorizontalPodAutoscaler,
        Kind::PodDisruptionBudget,
        Kind::Custom,
    ];

    /// The HookTemplates key of this kind (`deployments`, `hpa`, `custom`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::ServiceAccount => "serviceAccounts",
            Kind::Role => "roles",
            Kind::ClusterRole => "clusterRoles",
            Kind::RoleBinding => "roleBindings",
            Kind::ClusterRoleBinding => "clusterRoleBindings",
            Kind::ResourceQuota => "resourceQuotas",
            Kind::LimitRange => "limitRanges",
            Kind::NetworkPolicy => "networkPolicies",
            Kind::Secret => "secrets",
            Kind::ConfigMap => "configMaps",
            Kind::PersistentVolume => "persistentVolumes",
            Kind::PersistentVolumeClaim => "persistentVolumeClaims",
            Kind::Deployment => "deployments",
            Kind::StatefulSet => "statefulSets",
            Kind::ReplicaSet => "replicaSets",
            Kind::Pod => "pods",
            Kind::Job => "jobs",
            Kind::CronJob => "cronJobs",
            Kind::Service => "services",
            Kind::Ingress => "ingresses",
            Kind::HorizontalPodAutoscaler => "hpa",
            Kind::PodDisruptionBudget => "pdb",
            Kind::Custom => "custom",
        }
    }

    /// The Kubernetes kind (`Deployment`); `None` for `custom`, whose kind is declared.
    pub fn kube_kind(self) -> Option<&'static str> {
        Some(match self {
            Kind::Namespace => "Namespace",
            Kind::ServiceAccount => "ServiceAccount",
            Kind::Role => "Role",
            Kind::ClusterRole => "ClusterRole",
            Kind::RoleBinding => "RoleBinding",
            Kind::ClusterRoleBinding => "ClusterRoleBinding",
            Kind::ResourceQuota => "ResourceQuota",
            Kind::LimitRange => "LimitRange",
            Kind::NetworkPolicy => "NetworkPolicy",
            Kind::Secret => "Secret",
            Kind::ConfigMap => "ConfigMap",
            Kind::PersistentVolume => "PersistentVolume",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Pod => "Pod",
            Kind::Job => "Job",
            Kind::CronJob => "CronJob",
            Kind::Service => "Service",
            Kind::Ingress => "Ingress",
            Kind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Kind::PodDisruptionBudget => "PodDisruptionBudget",
            Kind::Custom => return None,
        })
    }

    /// The apiVersion of this kind; `None` for `custom`.
    pub fn api_version(self) -> Option<&'static str> {
        Some(match self {
            Kind::Namespace
            | Kind::ServiceAccount
            | Kind::ResourceQuota
            | Kind::LimitRange
            | Kind::Secret
            | Kind::ConfigMap
            | Kind::PersistentVolume
            | Kind::PersistentVolumeClaim
            | Kind::Pod
            | Kind::Service => "v1",
            Kind::Role | Kind::ClusterRole | Kind::RoleBinding | Kind::ClusterRoleBinding => {
                "rbac.authorization.k8s.io/v1"
            }
            Kind::NetworkPolicy | Kind::Ingress => "networking.k8s.io/v1",
            Kind::Deployment | Kind::StatefulSet | Kind::ReplicaSet => "apps/v1",
            Kind::Job | Kind::CronJob => "batch/v1",
            Kind::HorizontalPodAutoscaler => "autoscaling/v2",
            Kind::PodDisruptionBudget => "policy/v1",
            Kind::Custom => return None,
        })
    }

    /// The API group and plural resource name (for RBAC); `None` for `custom`.
    pub fn group_resource(self) -> Option<(&'static str, &'static str)> {
        let api = self.api_version()?;
        let group = api.rsplit_once('/').map_or("", |(g, _)| g);
        let plural = match self {
            Kind::Namespace => "namespaces",
            Kind::ServiceAccount => "serviceaccounts",
            Kind::Role => "roles",
            Kind::ClusterRole => "clusterroles",
            Kind::RoleBinding => "rolebindings",
            Kind::ClusterRoleBinding => "clusterrolebindings",
            Kind::ResourceQuota => "resourcequotas",
            Kind::LimitRange => "limitranges",
            Kind::NetworkPolicy => "networkpolicies",
            Kind::Secret => "secrets",
            Kind::ConfigMap => "configmaps",
            Kind::PersistentVolume => "persistentvolumes",
            Kind::PersistentVolumeClaim => "persistentvolumeclaims",
            Kind::Deployment => "deployments",
            Kind::StatefulSet => "statefulsets",
            Kind::ReplicaSet => "replicasets",
            Kind::Pod => "pods",
            Kind::Job => "jobs",
            Kind::CronJob => "cronjobs",
            Kind::Service => "services",
            Kind::Ingress => "ingresses",
            Kind::HorizontalPodAutoscaler => "horizontalpodautoscalers",
            Kind::PodDisruptionBudget => "poddisruptionbudgets",
            Kind::Custom => return None,
        };
        Some((group, plural))
    }

    /// Whether objects of this kind are cluster-scoped (no ownerReference possible).
    pub fn is_cluster_scoped(self) -> bool {
        matches!(
            self,
            Kind::Namespace | Kind::ClusterRole | Kind::ClusterRoleBinding | Kind::PersistentVolume
        )
    }

    /// The suffix of the default name `<cr>-<suffix>` (spec §6.2).
    pub fn default_name_suffix(self) -> &'static str {
        match self {
            Kind::Namespace => "namespace",
            Kind::ServiceAccount => "serviceaccount",
            Kind::Role => "role",
            Kind::ClusterRole => "clusterrole",
            Kind::RoleBinding => "rolebinding",
            Kind::ClusterRoleBinding => "clusterrolebinding",
            Kind::ResourceQuota => "resourcequota",
            Kind::LimitRange => "limitrange",
            Kind::NetworkPolicy => "networkpolicy",
            Kind::Secret => "secret",
            Kind::ConfigMap => "configmap",
            Kind::PersistentVolume => "pv",
            Kind::PersistentVolumeClaim => "pvc",
            Kind::Deployment => "deployment",
            Kind::StatefulSet => "statefulset",
            Kind::ReplicaSet => "replicaset",
            Kind::Pod => "pod",
            Kind::Job => "job",
            Kind::CronJob => "cronjob",
            Kind::Service => "svc",
            Kind::Ingress => "ingress",
            Kind::HorizontalPodAutoscaler => "hpa",
            Kind::PodDisruptionBudget => "pdb",
            Kind::Custom => "custom",
        }
    }

    /// Finds a kind by its HookTemplates key.
    pub fn from_key(key: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_key_round_trips() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_key(k.key()), Some(k));
        }
    }

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
