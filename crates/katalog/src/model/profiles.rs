//! Profiles (spec §20.3): named presets referenced as `profile: <name>`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Queue;
use crate::de::Spanned;

/// The profiles of one class as written: name → definition, in the shape of the class.
pub type ProfileMap<T = serde_json::Value> = BTreeMap<String, Spanned<T>>;

/// `profiles:` of a Katalog or Motif: eleven classes plus `include:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Profiles {
    /// A file with a top-level `profiles:` to merge in (relative to this file).
    pub include: Option<Spanned<String>>,
    /// Reconciler tuning presets.
    #[serde(default)]
    pub reconciler: ProfileMap<ReconcilerProfile>,
    /// NetworkPolicy presets.
    #[serde(default)]
    pub network_policies: ProfileMap,
    /// ResourceQuota presets.
    #[serde(default)]
    pub resource_quotas: ProfileMap,
    /// LimitRange presets.
    #[serde(default)]
    pub limit_ranges: ProfileMap,
    /// HPA behaviour presets.
    #[serde(default)]
    pub hpa: ProfileMap,
    /// PDB presets.
    #[serde(default)]
    pub pdb: ProfileMap,
    /// Rolling-update presets.
    #[serde(default)]
    pub rolling_update: ProfileMap,
    /// Container resource presets.
    #[serde(default)]
    pub resources: ProfileMap,
    /// Probe presets.
    #[serde(default)]
    pub probes: ProfileMap,
    /// Container security-context presets.
    #[serde(default)]
    pub container_security: ProfileMap,
    /// Pod security-context presets.
    #[serde(default)]
    pub pod_security: ProfileMap,
}

/// A reconciler profile: tuning applied where `reconciler.profile` names it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReconcilerProfile {
    /// Workers.
    pub workers: Option<i64>,
    /// Resync interval.
    pub resync: Option<String>,
    /// Queue settings.
    pub queue: Option<Queue>,
}

impl Profiles {
    /// The names declared in each class, as (class key, names).
    pub fn classes(&self) -> Vec<(&'static str, Vec<&str>)> {
        fn names<T>(c: &ProfileMap<T>) -> Vec<&str> {
            c.keys().map(String::as_str).collect()
        }
        vec![
            ("reconciler", names(&self.reconciler)),
            ("networkPolicies", names(&self.network_policies)),
            ("resourceQuotas", names(&self.resource_quotas)),
            ("limitRanges", names(&self.limit_ranges)),
            ("hpa", names(&self.hpa)),
            ("pdb", names(&self.pdb)),
            ("rollingUpdate", names(&self.rolling_update)),
            ("resources", names(&self.resources)),
            ("probes", names(&self.probes)),
            ("containerSecurity", names(&self.container_security)),
            ("podSecurity", names(&self.pod_security)),
        ]
    }

    /// Adds every profile of `other`; a name already present in a class is returned as a
    /// collision (class, name, place of the second declaration) and not overwritten.
    pub fn merge(&mut self, other: Profiles) -> Vec<(&'static str, String, crate::Location)> {
        fn class<T>(
            key: &'static str,
            into: &mut ProfileMap<T>,
            from: ProfileMap<T>,
            out: &mut Vec<(&'static str, String, crate::Location)>,
        ) {
            for (name, value) in from {
                match into.entry(name) {
                    std::collections::btree_map::Entry::Occupied(e) => {
                        out.push((key, e.key().clone(), value.at.clone()));
                    }
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(value);
                    }
                }
            }
        }
        let mut out = Vec::new();
        class(
            "reconciler",
            &mut self.reconciler,
            other.reconciler,
            &mut out,
        );
        class(
            "networkPolicies",
            &mut self.network_policies,
            other.network_policies,
            &mut out,
        );
        class(
            "resourceQuotas",
            &mut self.resource_quotas,
            other.resource_quotas,
            &mut out,
        );
        class(
            "limitRanges",
            &mut self.limit_ranges,
            other.limit_ranges,
            &mut out,
        );
        class("hpa", &mut self.hpa, other.hpa, &mut out);
        class("pdb", &mut self.pdb, other.pdb, &mut out);
        class(
            "rollingUpdate",
            &mut self.rolling_update,
            other.rolling_update,
            &mut out,
        );
        class("resources", &mut self.resources, other.resources, &mut out);
        class("probes", &mut self.probes, other.probes, &mut out);
        class(
            "containerSecurity",
            &mut self.container_security,
            other.container_security,
            &mut out,
        );
        class(
            "podSecurity",
            &mut self.pod_security,
            other.pod_security,
            &mut out,
        );
        out
    }
}
