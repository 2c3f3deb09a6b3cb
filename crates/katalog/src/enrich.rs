//! What a CRD's `enrich` list (or `enrichAll`) turns on (spec §8.2): the enrichment layers,
//! each adding underscore keys to the objects under `.children`, and the condition that
//! gates a layer when the entry has the struct form `{target: {when: [...], or: [...]}}`.
//!
//! Target names follow Orkestra's: `pods`, `events` (alias `warnings`), `endpoints`, `pvc`
//! (`_pv` on PersistentVolumeClaims), `pv` (`_pvc` on PersistentVolumes), `pvcs`, `owner`,
//! `replicaSets`, `storageClass`, `backingPods`, `ingress` (aliases `loadBalancer`,
//! `loadBalancerIPs`, `tls`, `tlsSecrets`), `node`, `hpa` (aliases `metrics`,
//! `currentMetrics`, `scaleTarget`), `cronjob` (aliases `jobs`, `activeJobs`, `lastJob`).
//! The runtime builds the layers; [`Layer::reads`] is what each one reads from the API
//! server, for RBAC.

use serde_json::Value;

use crate::Crd;
use crate::condition::Condition;

/// One enrichment layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// `_pods` on Deployments, StatefulSets, ReplicaSets and Jobs.
    Pods,
    /// `_warnings` (Warning Events) on every child; workloads add their Pods' Events.
    Warnings,
    /// `_endpoints` on Services (their EndpointSlices, flattened).
    Endpoints,
    /// `_backingPods` on Services (the Pods their selector matches).
    BackingPods,
    /// `_replicaSets` on Deployments.
    ReplicaSets,
    /// `_owner` on ReplicaSets (from the controller ownerReference; no read).
    Owner,
    /// `_pvcs` on StatefulSets (the claims of their volumeClaimTemplates).
    StatefulSetClaims,
    /// `_pv` on PersistentVolumeClaims (the bound volume).
    BoundVolume,
    /// `_pvc` on PersistentVolumes (the bound claim).
    BoundClaim,
    /// `_storageClass` on PersistentVolumeClaims.
    StorageClass,
    /// `_loadBalancerIPs` and `_tlsSecrets` on Ingresses.
    Ingress,
    /// `_node` on Pods.
    Node,
    /// `_currentMetrics` and `_scaleTarget` on HorizontalPodAutoscalers (no read).
    Autoscaler,
    /// `_activeJobs`, `_lastJob`, `_lastSuccessfulJob` on CronJobs.
    CronJobRuns,
}

impl Layer {
    /// Every layer (what `enrichAll` turns on).
    pub const ALL: [Layer; 14] = [
        Layer::Pods,
        Layer::Warnings,
        Layer::Endpoints,
        Layer::BackingPods,
        Layer::ReplicaSets,
        Layer::Owner,
        Layer::StatefulSetClaims,
        Layer::BoundVolume,
        Layer::BoundClaim,
        Layer::StorageClass,
        Layer::Ingress,
        Layer::Node,
        Layer::Autoscaler,
        Layer::CronJobRuns,
    ];

    /// The layer a target name (canonical spelling, see [`crate::model::ENRICH_TARGETS`])
    /// turns on.
    pub fn of_target(name: &str) -> Option<Layer> {
        Some(match name {
            "pods" => Layer::Pods,
            "events" | "warnings" => Layer::Warnings,
            "endpoints" => Layer::Endpoints,
            "backingPods" => Layer::BackingPods,
            "replicaSets" => Layer::ReplicaSets,
            "owner" => Layer::Owner,
            "pvcs" => Layer::StatefulSetClaims,
            "pvc" => Layer::BoundVolume,
            "pv" => Layer::BoundClaim,
            "storageClass" => Layer::StorageClass,
            "ingress" | "loadBalancer" | "loadBalancerIPs" | "tls" | "tlsSecrets" => Layer::Ingress,
            "node" => Layer::Node,
            "hpa" | "metrics" | "currentMetrics" | "scaleTarget" => Layer::Autoscaler,
            "cronjob" | "jobs" | "activeJobs" | "lastJob" => Layer::CronJobRuns,
            _ => return None,
        })
    }

    /// The child kinds the layer adds keys to; empty for every kind.
    pub fn kinds(self) -> &'static [&'static str] {
        match self {
            Layer::Pods => &["Deployment", "StatefulSet", "ReplicaSet", "Job"],
            Layer::Warnings => &[],
            Layer::Endpoints | Layer::BackingPods => &["Service"],
            Layer::ReplicaSets => &["Deployment"],
            Layer::Owner => &["ReplicaSet"],
            Layer::StatefulSetClaims => &["StatefulSet"],
            Layer::BoundVolume | Layer::StorageClass => &["PersistentVolumeClaim"],
            Layer::BoundClaim => &["PersistentVolume"],
            Layer::Ingress => &["Ingress"],
            Layer::Node => &["Pod"],
            Layer::Autoscaler => &["HorizontalPodAutoscaler"],
            Layer::CronJobRuns => &["CronJob"],
        }
    }

    /// Whether the layer adds keys to children of `kind`.
    pub fn applies_to(self, kind: &str) -> bool {
        self.kinds().is_empty() || self.kinds().contains(&kind)
    }

    /// What the layer reads from the API server: `(group, resource, verbs)`.
    pub fn reads(self) -> &'static [(&'static str, &'static str, &'static [&'static str])] {
        const LIST: &[&str] = &["list"];
        const GET: &[&str] = &["get"];
        match self {
            Layer::Pods | Layer::BackingPods => &[("", "pods", LIST)],
            // Workloads' Warnings include their Pods' Events.
            Layer::Warnings => &[("", "events", LIST), ("", "pods", LIST)],
            Layer::Endpoints => &[("discovery.k8s.io", "endpointslices", LIST)],
            Layer::ReplicaSets => &[("apps", "replicasets", LIST)],
            Layer::Owner | Layer::Autoscaler => &[],
            Layer::StatefulSetClaims | Layer::BoundClaim => &[("", "persistentvolumeclaims", GET)],
            Layer::BoundVolume => &[("", "persistentvolumes", GET)],
            Layer::StorageClass => &[("storage.k8s.io", "storageclasses", GET)],
            Layer::Ingress => &[("", "secrets", GET)],
            Layer::Node => &[("", "nodes", GET)],
            Layer::CronJobRuns => &[("batch", "jobs", LIST)],
        }
    }
}

/// One entry of a CRD's `enrich` list, or every layer for `enrichAll`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    /// What it turns on.
    pub layers: Vec<Layer>,
    /// All must pass (`when:`).
    pub when: Vec<Condition>,
    /// At least one must pass when non-empty (`or:`, `anyOf:`).
    pub or: Vec<Condition>,
}

impl Target {
    /// Whether the target applies without evaluating conditions.
    pub fn unconditional(&self) -> bool {
        self.when.is_empty() && self.or.is_empty()
    }
}

/// The targets of `crd`: every layer when `enrichAll`, else one per valid `enrich` entry
/// (entries validation refuses are skipped).
pub fn targets_of(crd: &Crd) -> Vec<Target> {
    if crd.entry.enrich_all == Some(true) {
        return vec![Target {
            layers: Layer::ALL.to_vec(),
            ..Target::default()
        }];
    }
    crd.entry
        .enrich
        .iter()
        .filter_map(|e| target(&e.value))
        .collect()
}

/// Every layer some target of `crd` may turn on.
pub fn layers_of(crd: &Crd) -> Vec<Layer> {
    let mut out: Vec<Layer> = targets_of(crd).into_iter().flat_map(|t| t.layers).collect();
    out.sort();
    out.dedup();
    out
}

fn target(entry: &Value) -> Option<Target> {
    match entry {
        Value::String(name) => Some(Target {
            layers: vec![Layer::of_target(name)?],
            ..Target::default()
        }),
        Value::Object(map) if map.len() == 1 => {
            let (name, gate) = map.iter().next()?;
            let list = |key: &str| -> Vec<Condition> {
                gate.get(key)
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
                    .unwrap_or_default()
            };
            let mut or = list("or");
            or.extend(list("anyOf"));
            Some(Target {
                layers: vec![Layer::of_target(name)?],
                when: list("when"),
                or,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ENRICH_TARGETS;
    use serde_json::json;

    #[test]
    fn every_known_target_names_a_layer() {
        for name in ENRICH_TARGETS {
            assert!(Layer::of_target(name).is_some(), "{name}");
        }
    }

    #[test]
    fn the_struct_form_carries_its_conditions() {
        let t =
            target(&json!({"replicaSets": {"or": [{"field": "spec.debug", "equals": "true"}]}}))
                .unwrap();
        assert_eq!(t.layers, [Layer::ReplicaSets]);
        assert_eq!(t.or.len(), 1);
        assert!(!t.unconditional());
        let t = target(&json!("events")).unwrap();
        assert_eq!(t.layers, [Layer::Warnings]);
        assert!(t.unconditional());
    }
}
