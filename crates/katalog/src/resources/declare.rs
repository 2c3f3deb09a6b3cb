//! The `declaration!` macro: every resource declaration kind shares the fields of spec §6.2,
//! and every pod-running kind shares the container fields of §6.3. serde cannot combine
//! `flatten` with `deny_unknown_fields`, so the shared fields are written out by the macro
//! instead of flattened, and [`Declaration`](super::Declaration) gives a borrowed view of them.

/// Defines a declaration struct with the common fields of spec §6.2 (and, with the
/// `workload` prefix, the container fields of §6.3) followed by its own fields.
macro_rules! declaration {
    (
        workload
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        declaration! {
            $(#[$meta])*
            pub struct $name {
                /// Container image (templated). Required after rendering.
                pub image: Option<Text>,
                /// Image tag appended as `image:tag` when the image has none.
                pub tag: Option<Text>,
                /// Names of Secrets used to pull the image.
                pub image_pull_secrets: Vec<Text>,
                /// Container entrypoint; each element templated.
                pub command: Vec<Text>,
                /// Container arguments; each element templated.
                pub args: Vec<Text>,
                /// Primary container port.
                pub port: Option<Text>,
                /// Port protocol: TCP (default), UDP or SCTP.
                pub protocol: Option<Text>,
                /// Environment variables (list or map form).
                pub env: EnvVars,
                /// Bulk environment from Secrets and ConfigMaps.
                pub env_from: Option<EnvFrom>,
                /// Requests and limits, or a resources profile.
                pub resources: Option<ResourceRequirements>,
                /// Node labels the pod must match.
                pub node_selector: TextMap,
                /// ServiceAccount the pod runs as.
                pub service_account_name: Option<Text>,
                /// Container working directory.
                pub working_directory: Option<Text>,
                /// Liveness, readiness and startup probes.
                pub probes: Option<Probes>,
                /// Container security settings or profile.
                pub security_context: Option<ContainerSecurity>,
                /// Pod security settings or profile.
                pub pod_security: Option<PodSecurity>,
                /// Pod volumes.
                pub volumes: Vec<Volume>,
                /// Container volume mounts.
                pub volume_mounts: Vec<VolumeMount>,
                $( $(#[$fmeta])* pub $field : $ty, )*
            }
        }

        impl Workload for $name {
            fn workload(&self) -> WorkloadView<'_> {
                WorkloadView {
                    image: self.image.as_ref(),
                    tag: self.tag.as_ref(),
                    image_pull_secrets: &self.image_pull_secrets,
                    command: &self.command,
                    args: &self.args,
                    port: self.port.as_ref(),
                    protocol: self.protocol.as_ref(),
                    env: &self.env,
                    env_from: self.env_from.as_ref(),
                    resources: self.resources.as_ref(),
                    node_selector: &self.node_selector,
                    service_account_name: self.service_account_name.as_ref(),
                    working_directory: self.working_directory.as_ref(),
                    probes: self.probes.as_ref(),
                    security_context: self.security_context.as_ref(),
                    pod_security: self.pod_security.as_ref(),
                    volumes: &self.volumes,
                    volume_mounts: &self.volume_mounts,
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
        #[serde(default, deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            /// Object name (templated); a kind-specific default when absent.
            pub name: Option<Text>,
            /// Target namespace (templated); the CR's namespace when absent.
            pub namespace: Option<Text>,
            /// Labels (map or legacy list); values templated.
            pub labels: Labels,
            /// Annotations (map or legacy list); values templated.
            pub annotations: Labels,
            /// On an `onCreate` entry: also converge it every cycle.
            pub reconcile: bool,
            /// All must pass for the object to be applied this cycle.
            pub when: Vec<Condition>,
            /// At least one must pass (when non-empty).
            pub or: Vec<Condition>,
            /// Expand into one object per element of a list or map field.
            pub for_each: Option<ForEach>,
            /// Artificial delay before applying (testing, chaos).
            pub sleep: Option<Text>,
            /// Server-side apply force for this object; overrides the CRD setting.
            pub force_conflict: Option<bool>,
            /// Legacy registry implementation pin; accepted and ignored.
            pub version: Option<Text>,
            $( $(#[$fmeta])* pub $field : $ty, )*
        }

        impl Declaration for $name {
            fn common(&self) -> Common<'_> {
                Common {
                    name: self.name.as_ref(),
                    namespace: self.namespace.as_ref(),
                    labels: &self.labels,
                    annotations: &self.annotations,
                    reconcile: self.reconcile,
                    when: &self.when,
                    or: &self.or,
                    for_each: self.for_each.as_ref(),
                    sleep: self.sleep.as_ref(),
                    force_conflict: self.force_conflict,
                }
            }
        }
    };
}

pub(crate) use declaration;
