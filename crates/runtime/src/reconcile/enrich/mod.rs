//! `.children` for status fields (spec §8.2): the children the converge pass applied,
//! grouped by kind ([`view`]), with the enrichment layers the CRD's `enrich` list (or
//! `enrichAll`) turns on ([`katalog::enrich`]).
//!
//! Enrichment runs in two phases, as Orkestra's does: the unconditional targets first, then
//! the targets whose `when:`/`or:` gate passes against the data map with `.children` as the
//! first phase left it (so a gate may read `.children.deployment`). Nothing is read for a
//! layer that is off, or for a kind it does not apply to.
//!
//! # What each layer reads, per reconcile
//! Children are not re-read: the objects are those the converge pass applied or found.
//! Beyond them, each layer makes bounded requests in the child's namespace:
//! - `_pods`, `_backingPods`: one label-selected LIST of Pods per workload or Service;
//! - `_warnings`: one LIST of Warning Events per namespace (field-selected on `type`),
//!   plus the Pod LIST above for workloads when `_pods` did not already make it;
//! - `_endpoints`: one label-selected LIST of EndpointSlices per Service;
//! - `_replicaSets`: one label-selected LIST of ReplicaSets per Deployment;
//! - `_activeJobs`/`_lastJob`/`_lastSuccessfulJob`: one LIST of Jobs per namespace;
//! - `_pvcs`, `_pv`, `_pvc`, `_storageClass`, `_tlsSecrets`, `_node`: one GET per object named
//!   (a Node once per reconcile however many Pods share it);
//! - `_owner`, `_currentMetrics`, `_scaleTarget`, `_loadBalancerIPs`: nothing (read from the
//!   object itself).
//!
//! A failed read leaves that key out (the template reads it as empty) and is logged; it never
//! fails the reconcile.

mod events;
mod network;
mod pods;
mod storage;
pub mod view;
mod workloads;

use std::collections::{BTreeSet, HashMap};

use katalog::condition::{Conditions, Env};
use katalog::enrich::{Layer, Target};
use serde_json::{Map, Value};

pub use view::ChildrenView;

use super::Reconciler;

impl Reconciler {
    /// The `.children` map of `view`, enriched as the CRD asks.
    pub(super) async fn enrich(&self, mut view: ChildrenView, data: &Value) -> Map<String, Value> {
        let targets = katalog::enrich::targets_of(&self.crd);
        if targets.is_empty() {
            return view.to_map();
        }
        let mut reads = Reads::new(self.client.clone());
        let first: BTreeSet<Layer> = targets
            .iter()
            .filter(|t| t.unconditional())
            .flat_map(|t| t.layers.iter().copied())
            .collect();
        reads.apply(&mut view, &first).await;

        let conditional: Vec<&Target> = targets.iter().filter(|t| !t.unconditional()).collect();
        if !conditional.is_empty() {
            let mut gated = data.clone();
            if let Some(d) = gated.as_object_mut() {
                d.insert("children".into(), Value::Object(view.to_map()));
            }
            let env = Env::new(&gated, &*self.render, self.now());
            let mut second = BTreeSet::new();
            for t in conditional {
                match Conditions::new(&t.when, &t.or).evaluate(&env) {
                    Ok(true) => second.extend(t.layers.iter().filter(|l| !first.contains(l))),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %crate::error_chain(&e), "enrich condition not evaluated; the target stays off");
                    }
                }
            }
            reads.apply(&mut view, &second).await;
        }
        view.to_map()
    }
}

/// The reads of one reconcile's enrichment, with what several layers share.
struct Reads {
    client: kube::Client,
    /// Warning Events per namespace.
    warnings: HashMap<String, Vec<k8s_openapi::api::core::v1::Event>>,
    /// Node summaries by name.
    nodes: HashMap<String, Value>,
}

impl Reads {
    fn new(client: kube::Client) -> Self {
        Reads {
            client,
            warnings: HashMap::new(),
            nodes: HashMap::new(),
        }
    }

    /// Adds the keys of `layers` to every child they apply to.
    async fn apply(&mut self, view: &mut ChildrenView, layers: &BTreeSet<Layer>) {
        // Pods first: `_warnings` of a workload reuses its `_pods`.
        for layer in layers {
            for group in view.groups_mut() {
                if !layer.applies_to(&group.kind) {
                    continue;
                }
                let kind = group.kind.clone();
                for (_, object) in &mut group.objects {
                    self.layer(*layer, &kind, object).await;
                }
            }
        }
    }

    async fn layer(&mut self, layer: Layer, kind: &str, object: &mut Value) {
        let added: Result<Vec<(&'static str, Value)>, kube::Error> = match layer {
            Layer::Pods => pods::of_workload(&self.client, kind, object)
                .await
                .map(|p| vec![("_pods", p)]),
            Layer::BackingPods => pods::of_service(&self.client, object)
                .await
                .map(|p| vec![("_backingPods", p)]),
            Layer::Node => pods::node(&self.client, &mut self.nodes, object)
                .await
                .map(|n| n.map(|n| ("_node", n)).into_iter().collect()),
            Layer::Warnings => events::warnings(self, kind, object)
                .await
                .map(|w| vec![("_warnings", w)]),
            Layer::Endpoints => network::endpoints(&self.client, object)
                .await
                .map(|e| vec![("_endpoints", e)]),
            Layer::Ingress => network::ingress(&self.client, object).await,
            Layer::ReplicaSets => workloads::replica_sets(&self.client, object)
                .await
                .map(|r| vec![("_replicaSets", r)]),
            Layer::Owner => Ok(workloads::owner(object)
                .map(|o| ("_owner", o))
                .into_iter()
                .collect()),
            Layer::Autoscaler => Ok(workloads::autoscaler(object)),
            Layer::CronJobRuns => workloads::cron_job_runs(&self.client, object).await,
            Layer::StatefulSetClaims => storage::stateful_set_claims(&self.client, object)
                .await
                .map(|c| vec![("_pvcs", c)]),
            Layer::BoundVolume => storage::bound_volume(&self.client, object)
                .await
                .map(|v| v.map(|v| ("_pv", v)).into_iter().collect()),
            Layer::BoundClaim => storage::bound_claim(&self.client, object)
                .await
                .map(|c| c.map(|c| ("_pvc", c)).into_iter().collect()),
            Layer::StorageClass => storage::storage_class(&self.client, object)
                .await
                .map(|c| c.map(|c| ("_storageClass", c)).into_iter().collect()),
        };
        match (added, object.as_object_mut()) {
            (Ok(keys), Some(o)) => {
                for (k, v) in keys {
                    o.insert(k.to_owned(), v);
                }
            }
            (Err(e), _) => {
                let name = object["metadata"]["name"].as_str().unwrap_or_default();
                tracing::warn!(?layer, kind, name, error = %crate::error_chain(&e), "enrichment read failed; its keys are left out");
            }
            (Ok(_), None) => {}
        }
    }
}

/// The namespace of a child object.
fn namespace_of(object: &Value) -> &str {
    object["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
}

/// A label selector string (`a=b,c=d`) from a `matchLabels`-style map; `None` when empty.
fn selector(labels: &Value) -> Option<String> {
    let map = labels.as_object().filter(|m| !m.is_empty())?;
    Some(
        map.iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// `value` as JSON (typed objects to the map form templates read).
fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
