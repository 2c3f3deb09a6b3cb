//! Notes for further child kinds and enrichments: StatefulSet, ReplicaSet, HPA, Ingress, PVC,
//! Node, Warning events (`_warnings`) and Gateway serve provenance annotations.
//!
//! Enrichment shapes read here: `_pvcs` (list), `_owner` (`{name, kind}`), `_replicaSets`
//! (ReplicaSet objects), `_scaleTarget` (`{name, kind}`), `_currentMetrics` (list of `{type}`),
//! `_loadBalancerIPs` (list of strings), `_tlsSecrets` (list), `_pv` (a PV object),
//! `_storageClass` (a StorageClass object), `_node` (`{name, zone, region, instanceType}`),
//! `_warnings` (list of Events with `reason` and `message`).

use serde_json::Value as Json;

use super::collections::items;
use super::conditional::empty as is_empty;
use super::kube::{int, text};
use super::{Builtin, arg, b, dig, i, j, s, str_arg};
use crate::value::to_str;

/// The revision annotation the Deployment controller sets on a Deployment and its
/// ReplicaSets.
const REVISION: &str = "deployment.kubernetes.io/revision";
const SERVE_TARGET: &str = "orkestra.orkspace.io/serve-target";
const SERVE_ALIAS: &str = "orkestra.orkspace.io/serve-alias";
const SERVE_SOURCE: &str = "orkestra.orkspace.io/serve-source";

pub(crate) const FUNCS: &[Builtin] =
    &[
        // StatefulSet.
        text_note!(
            "statefulSetCurrentRevision",
            "statefulset",
            ["status", "currentRevision"]
        ),
        text_note!(
            "statefulSetUpdateRevision",
            "statefulset",
            ["status", "updateRevision"]
        ),
        f!("statefulSetPVCCount", "statefulset", 1, 1, |a, _| i(count(
            arg(&a, 0),
            "_pvcs"
        ))),
        // ReplicaSet.
        text_note!("replicaSetOwnerName", "replicaset", ["_owner", "name"]),
        text_note!("replicaSetOwnerKind", "replicaset", ["_owner", "kind"]),
        f!("deploymentReplicaSetCount", "replicaset", 1, 1, |a, _| i(
            count(arg(&a, 0), "_replicaSets")
        )),
        f!("deploymentReplicaSets", "replicaset", 1, 1, |a, _| {
            let names = items(dig(arg(&a, 0), &["_replicaSets"]))
                .iter()
                .map(|rs| Json::String(text(rs, &["metadata", "name"])));
            j(Json::Array(names.collect()))
        }),
        f!("oldDeploymentReplicaSets", "replicaset", 1, 1, |a, _| {
            // The Deployment controller stamps the Deployment with its newest revision and
            // each ReplicaSet with its own: the old ones carry another revision.
            let d = arg(&a, 0);
            let current = text(d, &["metadata", "annotations", REVISION]);
            let names = items(dig(d, &["_replicaSets"]))
                .iter()
                .filter(|rs| text(rs, &["metadata", "annotations", REVISION]) != current)
                .map(|rs| Json::String(text(rs, &["metadata", "name"])));
            j(Json::Array(names.collect()))
        }),
        // HorizontalPodAutoscaler.
        int_note!("hpaCurrentReplicas", "hpa", ["status", "currentReplicas"]),
        int_note!("hpaDesiredReplicas", "hpa", ["status", "desiredReplicas"]),
        f!(
            "hpaMinReplicas",
            "hpa",
            1,
            1,
            |a, _| match dig(arg(&a, 0), &["spec", "minReplicas"]) {
                Json::Null => i(1),
                _ => i(int(arg(&a, 0), &["spec", "minReplicas"])),
            }
        ),
        int_note!("hpaMaxReplicas", "hpa", ["spec", "maxReplicas"]),
        f!("hpaScaling", "hpa", 1, 1, |a, _| {
            let h = arg(&a, 0);
            b(condition_true(h, "ScalingActive")
                && int(h, &["status", "currentReplicas"]) != int(h, &["status", "desiredReplicas"]))
        }),
        f!("hpaScalingActive", "hpa", 1, 1, |a, _| b(condition_true(
            arg(&a, 0),
            "ScalingActive"
        ))),
        f!("hpaAbleToScale", "hpa", 1, 1, |a, _| b(condition_true(
            arg(&a, 0),
            "AbleToScale"
        ))),
        f!("hpaScalingLimited", "hpa", 1, 1, |a, _| b(condition_true(
            arg(&a, 0),
            "ScalingLimited"
        ))),
        f!("hpaAtMax", "hpa", 1, 1, |a, _| {
            let h = arg(&a, 0);
            b(h.is_object()
                && int(h, &["status", "currentReplicas"]) >= int(h, &["spec", "maxReplicas"]))
        }),
        text_note!("hpaScaleTargetName", "hpa", ["_scaleTarget", "name"]),
        text_note!("hpaScaleTargetKind", "hpa", ["_scaleTarget", "kind"]),
        f!("hpaMetricTypes", "hpa", 1, 1, |a, _| s(joined(
            arg(&a, 0),
            &["_currentMetrics"],
            &["type"]
        ))),
        // Ingress.
        f!("ingressReady", "ingress", 1, 1, |a, _| {
            let lb = items(dig(arg(&a, 0), &["status", "loadBalancer", "ingress"]));
            b(lb.iter()
                .any(|e| !text(e, &["ip"]).is_empty() || !text(e, &["hostname"]).is_empty()))
        }),
        text_note!(
            "ingressIP",
            "ingress",
            ["status", "loadBalancer", "ingress", "0", "ip"]
        ),
        text_note!(
            "ingressHost",
            "ingress",
            ["status", "loadBalancer", "ingress", "0", "hostname"]
        ),
        text_note!("ingressClassName", "ingress", ["spec", "ingressClassName"]),
        f!("ingressRules", "ingress", 1, 1, |a, _| s(joined(
            arg(&a, 0),
            &["spec", "rules"],
            &["host"]
        ))),
        f!("ingressTLSHosts", "ingress", 1, 1, |a, _| {
            let hosts: Vec<String> = items(dig(arg(&a, 0), &["spec", "tls"]))
                .iter()
                .flat_map(|t| items(dig(t, &["hosts"])))
                .map(|h| text(h, &[]))
                .filter(|h| !h.is_empty())
                .collect();
            s(hosts.join(", "))
        }),
        f!("ingressLoadBalancerIPs", "ingress", 1, 1, |a, _| s(joined(
            arg(&a, 0),
            &["_loadBalancerIPs"],
            &[]
        ))),
        f!("ingressTLSSecretCount", "ingress", 1, 1, |a, _| i(count(
            arg(&a, 0),
            "_tlsSecrets"
        ))),
        // PersistentVolumeClaim.
        f!("pvcBound", "pvc", 1, 1, |a, _| b(text(
            arg(&a, 0),
            &["status", "phase"]
        ) == "Bound")),
        text_note!("pvcPhase", "pvc", ["status", "phase"]),
        text_note!(
            "pvcCapacity",
            "pvc",
            ["spec", "resources", "requests", "storage"]
        ),
        text_note!("pvcStorageClass", "pvc", ["spec", "storageClassName"]),
        f!("pvcAccessModes", "pvc", 1, 1, |a, _| s(joined(
            arg(&a, 0),
            &["spec", "accessModes"],
            &[]
        ))),
        f!("pvcProvisioner", "pvc", 1, 1, |a, _| {
            s(text(
                arg(&a, 0),
                &[
                    "_pv",
                    "metadata",
                    "annotations",
                    "pv.kubernetes.io/provisioned-by",
                ],
            ))
        }),
        text_note!("pvcVolumeMode", "pvc", ["_pv", "spec", "volumeMode"]),
        text_note!(
            "pvcStorageClassProvisioner",
            "pvc",
            ["_storageClass", "provisioner"]
        ),
        f!("pvcStorageClassReclaimPolicy", "pvc", 1, 1, |a, _| {
            // The StorageClass API keeps reclaimPolicy at the top level; accept `spec.` too.
            let sc = dig(arg(&a, 0), &["_storageClass"]);
            let top = text(sc, &["reclaimPolicy"]);
            s(if top.is_empty() {
                text(sc, &["spec", "reclaimPolicy"])
            } else {
                top
            })
        }),
        // Node.
        f!("nodeReady", "node", 1, 1, |a, _| b(condition_true(
            arg(&a, 0),
            "Ready"
        ))),
        text_note!(
            "nodeAllocatableCPU",
            "node",
            ["status", "allocatable", "cpu"]
        ),
        text_note!(
            "nodeAllocatableMemory",
            "node",
            ["status", "allocatable", "memory"]
        ),
        f!("nodeCondition", "node", 2, 2, |a, _| {
            let want = str_arg(&a, 1);
            let c = items(dig(arg(&a, 0), &["status", "conditions"]))
                .iter()
                .find(|c| text(c, &["type"]) == want);
            s(c.map(|c| text(c, &["status"])).unwrap_or_default())
        }),
        f!("nodeTaints", "node", 1, 1, |a, _| s(joined(
            arg(&a, 0),
            &["spec", "taints"],
            &["key"]
        ))),
        text_note!("podNodeName", "node", ["_node", "name"]),
        text_note!("podNodeZone", "node", ["_node", "zone"]),
        text_note!("podNodeRegion", "node", ["_node", "region"]),
        text_note!("podNodeInstanceType", "node", ["_node", "instanceType"]),
        // Warning events.
        f!("hasWarnings", "warnings", 1, 1, |a, _| b(count(
            arg(&a, 0),
            "_warnings"
        ) > 0)),
        f!("warningCount", "warnings", 1, 1, |a, _| i(count(
            arg(&a, 0),
            "_warnings"
        ))),
        text_note!("firstWarning", "warnings", ["_warnings", "0", "message"]),
        f!("warningMessages", "warnings", 1, 1, |a, _| s(joined(
            arg(&a, 0),
            &["_warnings"],
            &["message"]
        ))),
        f!("warningReasons", "warnings", 1, 1, |a, _| {
            let mut reasons: Vec<String> = Vec::new();
            for r in items(dig(arg(&a, 0), &["_warnings"]))
                .iter()
                .map(|w| text(w, &["reason"]))
            {
                if !r.is_empty() && !reasons.contains(&r) {
                    reasons.push(r);
                }
            }
            s(reasons.join(", "))
        }),
        // Labels, annotations and status values, one key at a time.
        f!("getLabelInt", "kubernetes", 2, 2, |a, _| i(meta_int(
            arg(&a, 0),
            "labels",
            &str_arg(&a, 1)
        ))),
        f!("getAnnotationInt", "kubernetes", 2, 2, |a, _| i(meta_int(
            arg(&a, 0),
            "annotations",
            &str_arg(&a, 1)
        ))),
        f!("hasLabel", "kubernetes", 2, 2, |a, _| b(!text(
            arg(&a, 0),
            &["metadata", "labels", &str_arg(&a, 1)]
        )
        .is_empty())),
        f!("hasAnnotation", "kubernetes", 2, 2, |a, _| {
            b(!text(arg(&a, 0), &["metadata", "annotations", &str_arg(&a, 1)]).is_empty())
        }),
        // Every KEY VALUE pair given must be among the object's labels.
        f!("labelMatches", "kubernetes", 1, _, |a, _| {
            let o = arg(&a, 0);
            let pairs: Vec<_> = a[1..].chunks(2).collect();
            b(pairs.iter().all(|kv| match kv {
                [k, v] => text(o, &["metadata", "labels", &to_str(k)]) == to_str(v),
                _ => true,
            }))
        }),
        // A scalar status field as text ("" for absent or structured values).
        f!("getStatus", "kubernetes", 2, 2, |a, _| match dig(
            arg(&a, 0),
            &["status", &str_arg(&a, 1)]
        ) {
            Json::Array(_) | Json::Object(_) => s(""),
            v => s(to_str(v)),
        }),
        f!("hasStatus", "kubernetes", 2, 2, |a, _| {
            b(!is_empty(dig(arg(&a, 0), &["status", &str_arg(&a, 1)])))
        }),
        // Service endpoints and backing pods (`_endpoints`: `{ip, port, ready}`; `_backingPods`).
        f!("hasEndpoints", "service", 1, 1, |a, _| b(endpoints(arg(
            &a, 0
        ))
        .any(|e| dig(e, &["ready"]) != &Json::Bool(false)))),
        f!("serviceEndpointCount", "service", 1, 1, |a, _| i(
            endpoints(arg(&a, 0)).count() as i64
        )),
        f!("serviceEndpoints", "service", 1, 1, |a, _| {
            let list: Vec<String> = endpoints(arg(&a, 0)).map(address).collect();
            s(list.join(", "))
        }),
        f!("serviceFirstEndpoint", "service", 1, 1, |a, _| s(
            endpoints(arg(&a, 0))
                .next()
                .map(address)
                .unwrap_or_default()
        )),
        f!("backingPodCount", "service", 1, 1, |a, _| i(count(
            arg(&a, 0),
            "_backingPods"
        ))),
        f!("backingPodNames", "service", 1, 1, |a, _| s(joined(
            arg(&a, 0),
            &["_backingPods"],
            &["name"]
        ))),
        // Serve provenance (annotations stamped by the Gateway API).
        f!("getServeTarget", "serve", 1, 1, |a, _| s(annotation(
            arg(&a, 0),
            SERVE_TARGET
        ))),
        f!("getServeAlias", "serve", 1, 1, |a, _| s(annotation(
            arg(&a, 0),
            SERVE_ALIAS
        ))),
        f!("getServeSource", "serve", 1, 1, |a, _| s(annotation(
            arg(&a, 0),
            SERVE_SOURCE
        ))),
        f!("hasServeTarget", "serve", 1, 1, |a, _| b(!annotation(
            arg(&a, 0),
            SERVE_TARGET
        )
        .is_empty())),
        f!("hasServeAlias", "serve", 1, 1, |a, _| b(!annotation(
            arg(&a, 0),
            SERVE_ALIAS
        )
        .is_empty())),
        f!("hasServeSource", "serve", 1, 1, |a, _| b(!annotation(
            arg(&a, 0),
            SERVE_SOURCE
        )
        .is_empty())),
        f!("isDirectApply", "serve", 1, 1, |a, _| {
            let o = arg(&a, 0);
            b([SERVE_TARGET, SERVE_ALIAS, SERVE_SOURCE]
                .iter()
                .all(|k| annotation(o, k).is_empty()))
        }),
    ];

fn meta_int(v: &Json, map: &str, key: &str) -> i64 {
    text(v, &["metadata", map, key]).trim().parse().unwrap_or(0)
}

fn endpoints(v: &Json) -> impl Iterator<Item = &Json> {
    items(dig(v, &["_endpoints"])).iter()
}

fn address(e: &Json) -> String {
    match text(e, &["port"]).as_str() {
        "" => text(e, &["ip"]),
        port => format!("{}:{port}", text(e, &["ip"])),
    }
}

fn count(v: &Json, key: &str) -> i64 {
    items(dig(v, &[key])).len() as i64
}

/// The non-empty `field` of each item of the list at `list`, joined with ", ".
fn joined(v: &Json, list: &[&str], field: &[&str]) -> String {
    let parts: Vec<String> = items(dig(v, list))
        .iter()
        .map(|x| text(x, field))
        .filter(|x| !x.is_empty())
        .collect();
    parts.join(", ")
}

fn condition_true(v: &Json, kind: &str) -> bool {
    items(dig(v, &["status", "conditions"]))
        .iter()
        .any(|c| text(c, &["type"]) == kind && text(c, &["status"]) == "True")
}

fn annotation(v: &Json, key: &str) -> String {
    text(v, &["metadata", "annotations", key])
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn workload_notes_read_children_and_enrichments_nil_safely() {
        let hpa = json!({"spec": {"maxReplicas": 5}, "status": {"currentReplicas": 5, "desiredReplicas": 5,
            "conditions": [{"type": "ScalingActive", "status": "True"}, {"type": "AbleToScale", "status": "False"}]},
            "_scaleTarget": {"name": "web", "kind": "Deployment"}, "_currentMetrics": [{"type": "Resource"}, {"type": "External"}]});
        let ing = json!({"spec": {"ingressClassName": "nginx", "rules": [{"host": "a.io"}, {}, {"host": "b.io"}],
            "tls": [{"hosts": ["a.io"]}]}, "status": {"loadBalancer": {"ingress": [{"hostname": "lb.aws"}]}}});
        let pvc = json!({"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
            "status": {"phase": "Bound"}, "_storageClass": {"provisioner": "ebs", "reclaimPolicy": "Retain"}});
        let node = json!({"spec": {"taints": [{"key": "dedicated"}]}, "status": {"allocatable": {"cpu": "3920m"},
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "MemoryPressure", "status": "False"}]}});
        let warned = json!({"_warnings": [{"reason": "BackOff", "message": "m1"}, {"reason": "BackOff", "message": "m2"}]});
        let eps = json!({"_endpoints": [
            {"ip": "10.0.0.1", "port": 8080, "ready": true},
            {"ip": "10.0.0.2", "port": 8080, "ready": false}
        ]});
        let served =
            json!({"metadata": {"annotations": {"orkestra.orkspace.io/serve-target": "smartapp"}}});
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            (
                "statefulSetCurrentRevision",
                vec![json!({"status": {"currentRevision": "r1"}})],
                "r1",
            ),
            ("statefulSetPVCCount", vec![json!({"_pvcs": [{}, {}]})], "2"),
            (
                "replicaSetOwnerName",
                vec![json!({"_owner": {"name": "web"}})],
                "web",
            ),
            (
                "deploymentReplicaSets",
                vec![json!({"_replicaSets": [{"metadata": {"name": "web-1"}}]})],
                "[web-1]",
            ),
            (
                "oldDeploymentReplicaSets",
                vec![json!({
                    "metadata": {"annotations": {"deployment.kubernetes.io/revision": "3"}},
                    "_replicaSets": [
                        {"metadata": {"name": "web-a", "annotations": {"deployment.kubernetes.io/revision": "2"}}},
                        {"metadata": {"name": "web-b", "annotations": {"deployment.kubernetes.io/revision": "3"}}},
                        {"metadata": {"name": "web-c", "annotations": {"deployment.kubernetes.io/revision": "1"}}},
                    ],
                })],
                "[web-a web-c]",
            ),
            ("hpaMinReplicas", vec![hpa.clone()], "1"),
            ("hpaAtMax", vec![hpa.clone()], "true"),
            ("hpaScaling", vec![hpa.clone()], "false"),
            ("hpaAbleToScale", vec![hpa.clone()], "false"),
            ("hpaScaleTargetKind", vec![hpa.clone()], "Deployment"),
            ("hpaMetricTypes", vec![hpa.clone()], "Resource, External"),
            ("hpaAtMax", vec![json!(null)], "false"),
            ("ingressReady", vec![ing.clone()], "true"),
            ("ingressHost", vec![ing.clone()], "lb.aws"),
            ("ingressRules", vec![ing.clone()], "a.io, b.io"),
            ("ingressTLSHosts", vec![ing.clone()], "a.io"),
            ("ingressClassName", vec![ing.clone()], "nginx"),
            ("ingressReady", vec![json!(null)], "false"),
            ("pvcBound", vec![pvc.clone()], "true"),
            ("pvcCapacity", vec![pvc.clone()], "10Gi"),
            ("pvcAccessModes", vec![pvc.clone()], "ReadWriteOnce"),
            ("pvcStorageClassReclaimPolicy", vec![pvc.clone()], "Retain"),
            ("nodeReady", vec![node.clone()], "true"),
            (
                "nodeCondition",
                vec![node.clone(), json!("MemoryPressure")],
                "False",
            ),
            ("nodeTaints", vec![node.clone()], "dedicated"),
            ("nodeAllocatableCPU", vec![node.clone()], "3920m"),
            (
                "podNodeZone",
                vec![json!({"_node": {"zone": "us-east-2a"}})],
                "us-east-2a",
            ),
            ("hasWarnings", vec![warned.clone()], "true"),
            ("warningCount", vec![warned.clone()], "2"),
            ("firstWarning", vec![warned.clone()], "m1"),
            ("warningMessages", vec![warned.clone()], "m1, m2"),
            ("warningReasons", vec![warned.clone()], "BackOff"),
            ("hasWarnings", vec![json!(null)], "false"),
            ("getServeTarget", vec![served.clone()], "smartapp"),
            ("hasServeAlias", vec![served.clone()], "false"),
            ("isDirectApply", vec![served.clone()], "false"),
            ("isDirectApply", vec![json!({})], "true"),
            (
                "getLabelInt",
                vec![json!({"metadata": {"labels": {"n": "3"}}}), json!("n")],
                "3",
            ),
            (
                "getAnnotationInt",
                vec![json!({"metadata": {"annotations": {"n": "x"}}}), json!("n")],
                "0",
            ),
            (
                "hasLabel",
                vec![
                    json!({"metadata": {"labels": {"app": "web"}}}),
                    json!("app"),
                ],
                "true",
            ),
            ("hasAnnotation", vec![json!({}), json!("x")], "false"),
            (
                "labelMatches",
                vec![
                    json!({"metadata": {"labels": {"app": "web", "env": "prod", "x": "y"}}}),
                    json!("app"),
                    json!("web"),
                    json!("env"),
                    json!("prod"),
                ],
                "true",
            ),
            (
                "labelMatches",
                vec![
                    json!({"metadata": {"labels": {"app": "web"}}}),
                    json!("app"),
                    json!("api"),
                ],
                "false",
            ),
            (
                "getStatus",
                vec![
                    json!({"status": {"readyReplicas": 3, "conditions": []}}),
                    json!("readyReplicas"),
                ],
                "3",
            ),
            (
                "getStatus",
                vec![json!({"status": {"conditions": [1]}}), json!("conditions")],
                "",
            ),
            (
                "hasStatus",
                vec![
                    json!({"status": {"loadBalancer": {"ingress": [{}]}}}),
                    json!("loadBalancer"),
                ],
                "true",
            ),
            (
                "hasStatus",
                vec![json!({"status": {}}), json!("loadBalancer")],
                "false",
            ),
            (
                "serviceEndpoints",
                vec![eps.clone()],
                "10.0.0.1:8080, 10.0.0.2:8080",
            ),
            ("serviceFirstEndpoint", vec![eps.clone()], "10.0.0.1:8080"),
            ("serviceEndpointCount", vec![eps.clone()], "2"),
            ("hasEndpoints", vec![eps.clone()], "true"),
            ("hasEndpoints", vec![json!(null)], "false"),
            (
                "backingPodNames",
                vec![json!({"_backingPods": [{"name": "a"}, {"name": "b"}]})],
                "a, b",
            ),
            (
                "backingPodCount",
                vec![json!({"_backingPods": [{"name": "a"}]})],
                "1",
            ),
        ];
        check(&cases);
    }
}
