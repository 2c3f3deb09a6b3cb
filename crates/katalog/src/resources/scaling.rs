//! Scaling and availability declarations: HorizontalPodAutoscaler, PodDisruptionBudget.

use super::declare::declaration;
use super::*;

/// The workload an HPA scales.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaleTargetRef {
    /// Default `apps/v1` for Deployment, StatefulSet and ReplicaSet.
    pub api_version: Option<Text>,
    /// Default Deployment.
    pub kind: Option<Text>,
    /// Workload name.
    pub name: Option<Text>,
}

/// HPA scaling behaviour: `profile` XOR explicit `scaleUp`/`scaleDown`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaBehavior {
    /// Named profile.
    pub profile: Option<Text>,
    /// Kubernetes HPAScalingRules for scale-up.
    pub scale_up: Option<serde_json::Value>,
    /// Kubernetes HPAScalingRules for scale-down.
    pub scale_down: Option<serde_json::Value>,
}

declaration! {
    /// One HorizontalPodAutoscaler (`hpa:`). Default name `<cr>-hpa`.
    pub struct HpaDecl {
        /// The scaled workload.
        pub scale_target_ref: ScaleTargetRef,
        /// Shorthand: scale the Deployment of this name.
        pub deployment_ref: Option<Text>,
        /// Lowest replica count.
        pub min_replicas: Option<Text>,
        /// Highest replica count.
        pub max_replicas: Option<Text>,
        /// CPU utilisation target in percent.
        #[serde(rename = "targetCPUUtilizationPercentage")]
        pub target_cpu_utilization_percentage: Option<Text>,
        /// Memory utilisation target in percent.
        #[serde(rename = "targetMemoryUtilizationPercentage")]
        pub target_memory_utilization_percentage: Option<Text>,
        /// Scaling behaviour or profile.
        pub behavior: Option<HpaBehavior>,
    }
}

/// PDB behaviour: `profile` XOR explicit fields.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct PdbBehavior {
    /// Named profile.
    pub profile: Option<Text>,
    /// Pods that must stay available (count or percent).
    pub min_available: Option<Text>,
    /// Pods that may be unavailable (count or percent).
    pub max_unavailable: Option<Text>,
}

declaration! {
    /// One PodDisruptionBudget (`pdb:`). Default name `<cr>-pdb`.
    pub struct PdbDecl {
        /// Pods that must stay available (count or percent).
        pub min_available: Option<Text>,
        /// Pods that may be unavailable (count or percent).
        pub max_unavailable: Option<Text>,
        /// Pod selector labels (default: the owner's pods).
        pub selector: TextMap,
        /// Behaviour or profile.
        pub behavior: Option<PdbBehavior>,
    }
}
