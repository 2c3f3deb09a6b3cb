//! Pod-running declarations: Deployment, StatefulSet, ReplicaSet, Pod, Job, CronJob.

use super::declare::declaration;
use super::*;

declaration! {
    workload
    /// One Deployment (`deployments:`). Default name `<cr>-deployment`.
    pub struct DeploymentDecl {
        /// Replica count (default "1").
        pub replicas: Option<Text>,
        /// Rolling update strategy or profile.
        pub rolling_update: Option<RollingUpdate>,
        /// Workload autoscale evaluated every reconcile.
        pub autoscale: Option<WorkloadAutoscale>,
    }
}

/// One PersistentVolumeClaim template of a StatefulSet.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeClaimTemplate {
    /// Claim name (default `data`).
    pub name: Option<Text>,
    /// Storage class.
    pub storage_class: Option<Text>,
    /// Requested size, e.g. `10Gi`.
    pub storage_size: Option<Text>,
    /// Mount path in the container (default `/data`).
    pub mount_path: Option<Text>,
    /// Access modes (default `ReadWriteOnce`).
    pub access_modes: Vec<Text>,
}

declaration! {
    workload
    /// One StatefulSet (`statefulSets:`). Default name `<cr>-statefulset`.
    pub struct StatefulSetDecl {
        /// Replica count (default "1").
        pub replicas: Option<Text>,
        /// Governing (headless) Service name; defaults to the StatefulSet name.
        pub service_name: Option<Text>,
        /// Per-pod PersistentVolumeClaims.
        pub volume_claim_templates: Vec<VolumeClaimTemplate>,
    }
}

declaration! {
    workload
    /// One ReplicaSet (`replicaSets:`). Default name `<cr>-replicaset`.
    pub struct ReplicaSetDecl {
        /// Replica count (default "1").
        pub replicas: Option<Text>,
    }
}

declaration! {
    workload
    /// One Pod (`pods:`). Default name `<cr>-pod`.
    pub struct PodDecl {
        /// Pod restart policy (default Always).
        pub restart_policy: Option<Text>,
    }
}

declaration! {
    workload
    /// One Job (`jobs:`). Default name `<cr>-job`. Created once; in `onDelete`, created
    /// without an owner and awaited.
    pub struct JobDecl {
        /// Pod retries before the Job fails (default 3).
        pub backoff_limit: Option<Text>,
        /// Pod restart policy (default Never).
        pub restart_policy: Option<Text>,
        /// Seconds to keep the finished Job.
        pub ttl_seconds_after_finished: Option<Text>,
        /// Deadline for the whole Job, in seconds.
        pub active_deadline_seconds: Option<Text>,
        /// Successful pods needed.
        pub completions: Option<Text>,
        /// Pods run in parallel.
        pub parallelism: Option<Text>,
    }
}

declaration! {
    workload
    /// One CronJob (`cronJobs:`). Default name `<cr>-cronjob`.
    pub struct CronJobDecl {
        /// Cron schedule (required after rendering).
        pub schedule: Option<Text>,
        /// Time zone of the schedule.
        pub time_zone: Option<Text>,
        /// Suspend future runs ("true"/"false").
        pub suspend: Option<Text>,
        /// Finished Jobs kept.
        pub successful_jobs_history_limit: Option<Text>,
        /// Failed Jobs kept.
        pub failed_jobs_history_limit: Option<Text>,
        /// Allow, Forbid or Replace.
        pub concurrency_policy: Option<Text>,
        /// Deadline for a missed run, in seconds.
        pub starting_deadline_seconds: Option<Text>,
        /// Pod retries of each Job.
        pub backoff_limit: Option<Text>,
        /// Pod restart policy (default OnFailure).
        pub restart_policy: Option<Text>,
    }
}
