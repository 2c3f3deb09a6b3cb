//! The table of child kinds: one row per resource kind a Katalog can declare.
//!
//! [`for_each_kind!`] holds the table and hands it to a callback macro; every per-kind list
//! in the crate is generated from it: the [`Kind`] enum, [`Kind::ALL`] and its lookups
//! (here), the resource lists of [`HookTemplates`](super::HookTemplates) and
//! [`declarations`](super::HookTemplates::declarations) (`hooks.rs`), and the build
//! dispatch ([`crate::build`]). Adding a kind is one row here plus its declaration type and
//! its build function.

/// Calls `$callback! { rows }` with the table of child kinds, one row per kind, in apply
/// order (the order of [`Kind::ALL`] and of `Kind`'s `Ord`).
///
/// The columns of a row:
/// 1. the [`Kind`] variant (also the Kubernetes kind, unless the apiVersion is `_`);
/// 2. the Katalog key, as written under `onCreate:` and friends;
/// 3. the [`HookTemplates`](super::HookTemplates) field holding the declarations;
/// 4. the declaration type;
/// 5. the apiVersion, or `_` when the declaration names its own (custom children);
/// 6. the plural resource name RBAC rules use, or `_` with the apiVersion;
/// 7. the suffix of the default name `<cr>-<suffix>` (spec §6.2);
/// 8. the scope, `cluster` or `namespaced`;
/// 9. the `KindSpec` that builds it, as a path inside [`crate::build`].
macro_rules! for_each_kind {
    ($callback:ident) => {
        $callback! {
            // Kind                  key                       field                     declaration         apiVersion                      plural                      suffix                scope       build
            Namespace               "namespaces"               namespaces                NamespaceDecl       "v1"                            "namespaces"                "namespace"           cluster     policy::NAMESPACE;
            ServiceAccount          "serviceAccounts"          service_accounts          ServiceAccountDecl  "v1"                            "serviceaccounts"           "serviceaccount"      namespaced  access::SERVICE_ACCOUNT;
            Role                    "roles"                    roles                     RoleDecl            "rbac.authorization.k8s.io/v1"  "roles"                     "role"                namespaced  access::ROLE;
            ClusterRole             "clusterRoles"             cluster_roles             RoleDecl            "rbac.authorization.k8s.io/v1"  "clusterroles"              "clusterrole"         cluster     access::CLUSTER_ROLE;
            RoleBinding             "roleBindings"             role_bindings             RoleBindingDecl     "rbac.authorization.k8s.io/v1"  "rolebindings"              "rolebinding"         namespaced  access::ROLE_BINDING;
            ClusterRoleBinding      "clusterRoleBindings"      cluster_role_bindings     RoleBindingDecl     "rbac.authorization.k8s.io/v1"  "clusterrolebindings"       "clusterrolebinding"  cluster     access::CLUSTER_ROLE_BINDING;
            ResourceQuota           "resourceQuotas"           resource_quotas           ResourceQuotaDecl   "v1"                            "resourcequotas"            "resourcequota"       namespaced  policy::RESOURCE_QUOTA;
            LimitRange              "limitRanges"              limit_ranges              LimitRangeDecl      "v1"                            "limitranges"               "limitrange"          namespaced  policy::LIMIT_RANGE;
            NetworkPolicy           "networkPolicies"          network_policies          NetworkPolicyDecl   "networking.k8s.io/v1"          "networkpolicies"           "networkpolicy"       namespaced  network::NETWORK_POLICY;
            Secret                  "secrets"                  secrets                   SecretDecl          "v1"                            "secrets"                   "secret"              namespaced  config::SECRET;
            ConfigMap               "configMaps"               config_maps               ConfigMapDecl       "v1"                            "configmaps"                "configmap"           namespaced  config::CONFIG_MAP;
            PersistentVolume        "persistentVolumes"        persistent_volumes        PvDecl              "v1"                            "persistentvolumes"         "pv"                  cluster     storage::PV;
            PersistentVolumeClaim   "persistentVolumeClaims"   persistent_volume_claims  PvcDecl             "v1"                            "persistentvolumeclaims"    "pvc"                 namespaced  storage::PVC;
            Deployment              "deployments"              deployments               DeploymentDecl      "apps/v1"                       "deployments"               "deployment"          namespaced  workloads::DEPLOYMENT;
            StatefulSet             "statefulSets"             stateful_sets             StatefulSetDecl     "apps/v1"                       "statefulsets"              "statefulset"         namespaced  workloads::STATEFUL_SET;
            ReplicaSet              "replicaSets"              replica_sets              ReplicaSetDecl      "apps/v1"                       "replicasets"               "replicaset"          namespaced  workloads::REPLICA_SET;
            Pod                     "pods"                     pods                      PodDecl             "v1"                            "pods"                      "pod"                 namespaced  workloads::POD;
            Job                     "jobs"                     jobs                      JobDecl             "batch/v1"                      "jobs"                      "job"                 namespaced  workloads::JOB;
            CronJob                 "cronJobs"                 cron_jobs                 CronJobDecl         "batch/v1"                      "cronjobs"                  "cronjob"             namespaced  workloads::CRON_JOB;
            Service                 "services"                 services                  ServiceDecl         "v1"                            "services"                  "svc"                 namespaced  network::SERVICE;
            Ingress                 "ingresses"                ingresses                 IngressDecl         "networking.k8s.io/v1"          "ingresses"                 "ingress"             namespaced  network::INGRESS;
            HorizontalPodAutoscaler "hpa"                      hpa                       HpaDecl             "autoscaling/v2"                "horizontalpodautoscalers"  "hpa"                 namespaced  scaling::HPA;
            PodDisruptionBudget     "pdb"                      pdb                       PdbDecl             "policy/v1"                     "poddisruptionbudgets"      "pdb"                 namespaced  scaling::PDB;
            Custom                  "custom"                   custom                    CustomDecl          _                               _                           "custom"              namespaced  custom::CUSTOM;
        }
    };
}
pub(crate) use for_each_kind;

/// `Some(value)` for a declared column, `None` for `_`.
macro_rules! declared {
    (_, $value:expr) => {
        None
    };
    ($column:literal, $value:expr) => {
        Some($value)
    };
}

/// Whether a scope column says cluster-scoped.
macro_rules! cluster_scoped {
    (cluster) => {
        true
    };
    (namespaced) => {
        false
    };
}

/// Generates [`Kind`] and its lookups from the table.
macro_rules! declare_kind {
    ($(
        $kind:ident $key:literal $field:ident $decl:ident $api:tt $plural:tt $suffix:literal
        $scope:ident $build:path;
    )*) => {
        /// Every resource kind a Katalog can declare, in the order one reconcile applies
        /// them.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        pub enum Kind {
            $(
                #[doc = concat!("`", $key, "`.")]
                $kind,
            )*
        }

        impl Kind {
            /// Every kind, in apply order.
            pub const ALL: [Kind; [$(Kind::$kind),*].len()] = [$(Kind::$kind),*];

            /// The HookTemplates key of this kind (`deployments`, `hpa`, `custom`, ...).
            pub fn key(self) -> &'static str {
                match self {
                    $(Kind::$kind => $key,)*
                }
            }

            /// The Kubernetes kind (`Deployment`); `None` for `custom`, whose kind is
            /// declared.
            pub fn kube_kind(self) -> Option<&'static str> {
                match self {
                    $(Kind::$kind => declared!($api, stringify!($kind)),)*
                }
            }

            /// The apiVersion of this kind; `None` for `custom`.
            pub fn api_version(self) -> Option<&'static str> {
                match self {
                    $(Kind::$kind => declared!($api, $api),)*
                }
            }

            /// The plural resource name (`deployments`); `None` for `custom`.
            pub fn plural(self) -> Option<&'static str> {
                match self {
                    $(Kind::$kind => declared!($plural, $plural),)*
                }
            }

            /// Whether objects of this kind are cluster-scoped (no ownerReference
            /// possible).
            pub fn is_cluster_scoped(self) -> bool {
                match self {
                    $(Kind::$kind => cluster_scoped!($scope),)*
                }
            }

            /// The suffix of the default name `<cr>-<suffix>` (spec §6.2).
            pub fn default_name_suffix(self) -> &'static str {
                match self {
                    $(Kind::$kind => $suffix,)*
                }
            }
        }
    };
}

use serde::{Deserialize, Serialize};

for_each_kind!(declare_kind);

impl Kind {
    /// The API group and plural resource name (for RBAC); `None` for `custom`.
    pub fn group_resource(self) -> Option<(&'static str, &'static str)> {
        let api = self.api_version()?;
        let group = api.rsplit_once('/').map_or("", |(g, _)| g);
        Some((group, self.plural()?))
    }

    /// Finds a kind by its HookTemplates key.
    pub fn from_key(key: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::resources::HookTemplates;

    #[test]
    fn every_key_kind_and_plural_is_unique() {
        let keys: HashSet<_> = Kind::ALL.iter().map(|k| k.key()).collect();
        assert_eq!(keys.len(), Kind::ALL.len());
        let kinds: HashSet<_> = Kind::ALL.into_iter().collect();
        assert_eq!(kinds.len(), Kind::ALL.len());
        let kube: Vec<_> = Kind::ALL.iter().filter_map(|k| k.kube_kind()).collect();
        assert_eq!(kube.iter().collect::<HashSet<_>>().len(), kube.len());
        let plurals: Vec<_> = Kind::ALL.iter().filter_map(|k| k.plural()).collect();
        assert_eq!(plurals.iter().collect::<HashSet<_>>().len(), plurals.len());
    }

    #[test]
    fn apply_order_is_the_order_of_kinds() {
        assert!(Kind::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Kind::ALL[0], Kind::Namespace);
        assert_eq!(Kind::ALL[Kind::ALL.len() - 1], Kind::Custom);
    }

    #[test]
    fn every_lookup_round_trips() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_key(k.key()), Some(k));
            let (api, kube) = (k.api_version(), k.kube_kind());
            assert_eq!(api.is_some(), kube.is_some(), "{k:?}");
            assert_eq!(api.is_some(), k.plural().is_some(), "{k:?}");
            if let (Some(api), Some(kube)) = (api, kube) {
                assert_eq!(kube, format!("{k:?}"));
                let by_type = Kind::ALL
                    .into_iter()
                    .find(|o| o.api_version() == Some(api) && o.kube_kind() == Some(kube));
                assert_eq!(by_type, Some(k));
                let (group, plural) = k.group_resource().unwrap();
                assert!(api.starts_with(group), "{k:?}");
                let stem = kube.to_ascii_lowercase();
                assert!(plural.starts_with(&stem[..stem.len() - 1]), "{k:?}");
                assert_eq!(plural, plural.to_ascii_lowercase(), "{k:?}");
            }
        }
        assert_eq!(Kind::from_key("volumes"), None);
    }

    #[test]
    fn every_key_decodes_into_the_declarations_of_its_kind() {
        for k in Kind::ALL {
            let block = serde_json::json!({ k.key(): [{}, {}] });
            let h: HookTemplates = serde_json::from_value(block).unwrap();
            for other in Kind::ALL {
                let expected = if other == k { 2 } else { 0 };
                assert_eq!(h.declarations(other).len(), expected, "{k:?} {other:?}");
            }
        }
    }
}
