//! [`HookTemplates`]: the block under `onCreate`, `onReconcile`, `onDelete` (and a Motif's
//! `resources`), spec §6.1.

use super::*;

/// Every resource list of one lifecycle block, plus its block-level keys.
///
/// Lists are applied in declaration order within a kind; the order of kinds is fixed by
/// the builder ([`Kind::ALL`](super::Kind::ALL)).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct HookTemplates {
    /// Deployments.
    pub deployments: Vec<DeploymentDecl>,
    /// ReplicaSets.
    pub replica_sets: Vec<ReplicaSetDecl>,
    /// StatefulSets.
    pub stateful_sets: Vec<StatefulSetDecl>,
    /// Pods.
    pub pods: Vec<PodDecl>,
    /// Jobs.
    pub jobs: Vec<JobDecl>,
    /// CronJobs.
    pub cron_jobs: Vec<CronJobDecl>,
    /// Services.
    pub services: Vec<ServiceDecl>,
    /// Ingresses.
    pub ingresses: Vec<IngressDecl>,
    /// NetworkPolicies.
    pub network_policies: Vec<NetworkPolicyDecl>,
    /// ConfigMaps.
    pub config_maps: Vec<ConfigMapDecl>,
    /// Secrets.
    pub secrets: Vec<SecretDecl>,
    /// Namespaces (cluster-scoped).
    pub namespaces: Vec<NamespaceDecl>,
    /// PersistentVolumeClaims.
    pub persistent_volume_claims: Vec<PvcDecl>,
    /// PersistentVolumes (cluster-scoped).
    pub persistent_volumes: Vec<PvDecl>,
    /// ServiceAccounts.
    pub service_accounts: Vec<ServiceAccountDecl>,
    /// Roles.
    pub roles: Vec<RoleDecl>,
    /// RoleBindings.
    pub role_bindings: Vec<RoleBindingDecl>,
    /// ClusterRoles (cluster-scoped).
    pub cluster_roles: Vec<RoleDecl>,
    /// ClusterRoleBindings (cluster-scoped).
    pub cluster_role_bindings: Vec<RoleBindingDecl>,
    /// HorizontalPodAutoscalers.
    pub hpa: Vec<HpaDecl>,
    /// PodDisruptionBudgets.
    pub pdb: Vec<PdbDecl>,
    /// ResourceQuotas.
    pub resource_quotas: Vec<ResourceQuotaDecl>,
    /// LimitRanges.
    pub limit_ranges: Vec<LimitRangeDecl>,
    /// Arbitrary kinds.
    pub custom: Vec<CustomDecl>,

    /// HTTP calls made before the resources; results under `.external.<name>`.
    pub external: Vec<serde_json::Value>,
    /// Git-backed pipeline settings (accepted; not run by ork).
    pub git: Option<serde_json::Value>,
    /// Docker build settings (accepted; not run by ork).
    pub docker: Option<serde_json::Value>,
    /// The whole block runs only if all pass.
    pub when: Vec<Condition>,
    /// The whole block runs only if at least one passes (when non-empty).
    pub or: Vec<Condition>,

    /// `onDelete`: delete group by group, waiting for each to be gone.
    pub ordered: bool,
    /// Name of this block when it is an `onDelete` group.
    pub name: Option<Text>,
    /// `onDelete`: the ordered groups, each a full block.
    pub groups: Vec<HookTemplates>,
    /// `onDelete`: time allowed for the whole ordered sequence (default 5m).
    pub timeout: Option<Text>,

    /// Placeholder (accepted, ignored; use `custom:`).
    pub volumes: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub volume_mounts: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub service_monitors: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub pod_security_policies: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub priority_classes: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub runtime_classes: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub priority_level_configurations: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub pod_templates: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub daemon_sets: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub storage_classes: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub storage_locations: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub storage_pools: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub storage_backups: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub storage_snapshots: Vec<serde_json::Value>,
    /// Placeholder (accepted, ignored).
    pub storage_volumes: Vec<serde_json::Value>,
}

impl HookTemplates {
    /// The number of resource declarations in this block (groups not included).
    pub fn resource_count(&self) -> usize {
        Kind::ALL.iter().map(|k| self.declarations(*k).len()).sum()
    }

    /// Whether this block declares no resource, no group and no external call.
    pub fn is_empty(&self) -> bool {
        self.resource_count() == 0 && self.groups.is_empty() && self.external.is_empty()
    }

    /// The declarations of one kind, as common views, in declaration order.
    pub fn declarations(&self, kind: Kind) -> Vec<&dyn Declaration> {
        fn view<T: Declaration>(v: &[T]) -> Vec<&dyn Declaration> {
            v.iter().map(|d| d as &dyn Declaration).collect()
        }
        match kind {
            Kind::Namespace => view(&self.namespaces),
            Kind::ServiceAccount => view(&self.service_accounts),
            Kind::Role => view(&self.roles),
            Kind::ClusterRole => view(&self.cluster_roles),
            Kind::RoleBinding => view(&self.role_bindings),
            Kind::ClusterRoleBinding => view(&self.cluster_role_bindings),
            Kind::ResourceQuota => view(&self.resource_quotas),
            Kind::LimitRange => view(&self.limit_ranges),
            Kind::NetworkPolicy => view(&self.network_policies),
            Kind::Secret => view(&self.secrets),
            Kind::ConfigMap => view(&self.config_maps),
            Kind::PersistentVolume => view(&self.persistent_volumes),
            Kind::PersistentVolumeClaim => view(&self.persistent_volume_claims),
            Kind::Deployment => view(&self.deployments),
            Kind::StatefulSet => view(&self.stateful_sets),
            Kind::ReplicaSet => view(&self.replica_sets),
            Kind::Pod => view(&self.pods),
            Kind::Job => view(&self.jobs),
            Kind::CronJob => view(&self.cron_jobs),
            Kind::Service => view(&self.services),
            Kind::Ingress => view(&self.ingresses),
            Kind::HorizontalPodAutoscaler => view(&self.hpa),
            Kind::PodDisruptionBudget => view(&self.pdb),
            Kind::Custom => view(&self.custom),
        }
    }
}
