//! Kubernetes object notes over `.children.*` and `.cross.*` maps: metadata and status access,
//! conditions, generations, and the replica, service, container and job families.
//!
//! Every function takes the object first and returns the zero value when the object or the
//! field is absent.

use serde_json::{Map, Value as Json};

use super::collections::items;
use super::{Builtin, FnCx, arg, b, dig, i, j, nil, project, s, str_arg};
use crate::value::{self, NIL, Val, as_i64, to_str};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("get", "kubernetes", 1, _, get),
    f!("meta", "kubernetes", 1, 1, |a, _| j(map_at(
        arg(&a, 0),
        &["metadata"]
    ))),
    f!("labels", "kubernetes", 1, 1, |a, _| j(map_at(
        arg(&a, 0),
        &["metadata", "labels"]
    ))),
    f!("annotations", "kubernetes", 1, 1, |a, _| j(map_at(
        arg(&a, 0),
        &["metadata", "annotations"]
    ))),
    f!("spec", "kubernetes", 1, 1, |a, _| j(map_at(
        arg(&a, 0),
        &["spec"]
    ))),
    f!("status", "kubernetes", 1, 1, |a, _| j(map_at(
        arg(&a, 0),
        &["status"]
    ))),
    text_note!("phase", "kubernetes", ["status", "phase"]),
    text_note!("name", "kubernetes", ["metadata", "name"]),
    text_note!("namespace", "kubernetes", ["metadata", "namespace"]),
    text_note!("resourceName", "kubernetes", ["metadata", "name"]),
    text_note!("resourceNamespace", "kubernetes", ["metadata", "namespace"]),
    text_note!("resourceUID", "kubernetes", ["metadata", "uid"]),
    text_note!(
        "resourceVersion",
        "kubernetes",
        ["metadata", "resourceVersion"]
    ),
    text_note!(
        "creationTimestamp",
        "kubernetes",
        ["metadata", "creationTimestamp"]
    ),
    text_note!(
        "ownerKind",
        "kubernetes",
        ["metadata", "ownerReferences", "0", "kind"]
    ),
    text_note!(
        "ownerName",
        "kubernetes",
        ["metadata", "ownerReferences", "0", "name"]
    ),
    f!("hasCondition", "kubernetes", 2, 2, |a, _| {
        b(condition(arg(&a, 0), &str_arg(&a, 1)).is_some_and(|c| text(c, &["status"]) == "True"))
    }),
    f!("conditionReason", "kubernetes", 2, 2, |a, _| {
        s(condition(arg(&a, 0), &str_arg(&a, 1))
            .map(|c| text(c, &["reason"]))
            .unwrap_or_default())
    }),
    f!("conditionMessage", "kubernetes", 2, 2, |a, _| {
        s(condition(arg(&a, 0), &str_arg(&a, 1))
            .map(|c| text(c, &["message"]))
            .unwrap_or_default())
    }),
    // Any map, except the runtime's placeholders for children not created yet.
    f!("resourceExists", "kubernetes", 1, 1, |a, _| {
        let o = arg(&a, 0);
        b(o.is_object() && dig(o, &["_placeholder"]) != &Json::Bool(true))
    }),
    f!("isTerminating", "kubernetes", 1, 1, |a, _| b(!text(
        arg(&a, 0),
        &["metadata", "deletionTimestamp"]
    )
    .is_empty())),
    int_note!("generation", "kubernetes", ["metadata", "generation"]),
    int_note!(
        "observedGeneration",
        "kubernetes",
        ["status", "observedGeneration"]
    ),
    f!("isSynced", "kubernetes", 1, 1, |a, _| {
        let o = arg(&a, 0);
        b(int(o, &["metadata", "generation"]) == int(o, &["status", "observedGeneration"]))
    }),
    text_note!(
        "resourceCPU",
        "kubernetes",
        ["spec", "resources", "requests", "cpu"]
    ),
    text_note!(
        "resourceMemory",
        "kubernetes",
        ["spec", "resources", "requests", "memory"]
    ),
    // Replicas (Deployment, StatefulSet, ReplicaSet).
    f!("replicasReady", "replica", 1, 1, |a, _| b(replicas_ready(
        arg(&a, 0)
    ))),
    // Orkestra: ready equals desired exactly (scale-to-zero is ready; a surge is not).
    f!("allReplicasReady", "replica", 1, 1, |a, _| {
        let o = arg(&a, 0);
        b(int(o, &["status", "readyReplicas"]) == desired(o))
    }),
    f!("desiredReplicas", "replica", 1, 1, |a, _| i(desired(arg(
        &a, 0
    )))),
    int_note!("readyReplicas", "replica", ["status", "readyReplicas"]),
    int_note!(
        "availableReplicas",
        "replica",
        ["status", "availableReplicas"]
    ),
    int_note!("updatedReplicas", "replica", ["status", "updatedReplicas"]),
    // Orkestra: every pod runs the current template (updated equals desired).
    f!("rolloutComplete", "replica", 1, 1, |a, _| {
        let o = arg(&a, 0);
        b(int(o, &["status", "updatedReplicas"]) == desired(o))
    }),
    // Services.
    text_note!("serviceClusterIP", "service", ["spec", "clusterIP"]),
    // Orkestra: the first port's nodePort; a second argument picks a port by name or number.
    f!("serviceNodePort", "service", 1, 2, |a, _| {
        let ports = items(dig(arg(&a, 0), &["spec", "ports"]));
        let port = if a.len() > 1 {
            let want = str_arg(&a, 1);
            ports
                .iter()
                .find(|p| text(p, &["name"]) == want || text(p, &["port"]) == want)
        } else {
            ports.first()
        };
        i(port.map_or(0, |p| int(p, &["nodePort"])))
    }),
    text_note!(
        "serviceLoadBalancerIP",
        "service",
        ["status", "loadBalancer", "ingress", "0", "ip"]
    ),
    f!("serviceLoadBalancerHost", "service", 1, 1, |a, _| {
        s(text(
            arg(&a, 0),
            &["status", "loadBalancer", "ingress", "0", "hostname"],
        ))
    }),
    f!("endpointsReady", "service", 1, 1, |a, _| b(
        endpoints_ready(arg(&a, 0))
    )),
    // Containers of a workload's pod template (or a Pod, or a CronJob's job template), picked by
    // index as in Orkestra (`containerImage .children.deployment 0`) or by name; upstream's own
    // examples also write `containerImage .children.deployment`, meaning the first container.
    f!("containerImage", "container", 1, 2, |a, _| s(text(
        container(&a),
        &["image"]
    ))),
    f!("containerEnv", "container", 3, 3, |a, _| {
        let want = str_arg(&a, 2);
        let env = items(dig(container(&a), &["env"]));
        s(env
            .iter()
            .find(|e| text(e, &["name"]) == want)
            .map(|e| text(e, &["value"]))
            .unwrap_or_default())
    }),
    f!("containerPort", "container", 3, 3, |a, _| {
        let want = value::as_i64(arg(&a, 2));
        b(items(dig(container(&a), &["ports"]))
            .iter()
            .any(|p| Some(int(p, &["containerPort"])) == want))
    }),
    f!("containerPortByName", "container", 3, 3, |a, _| {
        let want = str_arg(&a, 2);
        let ports = items(dig(container(&a), &["ports"]));
        i(ports
            .iter()
            .find(|p| text(p, &["name"]) == want)
            .map_or(0, |p| int(p, &["containerPort"])))
    }),
    f!("containerPorts", "container", 2, 2, |a, _| {
        let ports = items(dig(container(&a), &["ports"]));
        let list: Vec<String> = ports
            .iter()
            .map(|p| int(p, &["containerPort"]).to_string())
            .collect();
        s(list.join(","))
    }),
    f!("containerCount", "container", 1, 1, |a, _| i(
        items(containers(arg(&a, 0))).len() as i64
    )),
    // Jobs and CronJobs.
    f!("jobSucceeded", "job", 1, 1, |a, _| b(int(
        arg(&a, 0),
        &["status", "succeeded"]
    ) > 0)),
    f!("jobFailed", "job", 1, 1, |a, _| b(int(
        arg(&a, 0),
        &["status", "failed"]
    ) > 0)),
    f!("jobActive", "job", 1, 1, |a, _| b(int(
        arg(&a, 0),
        &["status", "active"]
    ) > 0)),
    f!("cronJobActiveCount", "job", 1, 1, |a, _| i(
        items(dig(arg(&a, 0), &["status", "active"])).len() as i64
    )),
    text_note!(
        "cronJobLastScheduleTime",
        "job",
        ["status", "lastScheduleTime"]
    ),
    text_note!(
        "cronJobNextScheduleTime",
        "job",
        ["status", "nextScheduleTime"]
    ),
    text_note!(
        "cronJobLastSuccessTime",
        "job",
        ["status", "lastSuccessfulTime"]
    ),
    text_note!(
        "cronJobLastJobName",
        "job",
        ["_lastJob", "metadata", "name"]
    ),
    f!("cronJobLastJobSucceeded", "job", 1, 1, |a, _| b(int(
        arg(&a, 0),
        &["_lastJob", "status", "succeeded"]
    ) > 0)),
    f!("cronJobLastSuccessfulJobName", "job", 1, 1, |a, _| {
        s(text(
            arg(&a, 0),
            &["_lastSuccessfulJob", "metadata", "name"],
        ))
    }),
];

/// A string field ("" when absent; numbers and bools printed).
pub(crate) fn text(v: &Json, path: &[&str]) -> String {
    to_str(dig(v, path)).into_owned()
}

/// An integer field (0 when absent or not a number).
pub(crate) fn int(v: &Json, path: &[&str]) -> i64 {
    as_i64(dig(v, path)).unwrap_or(0)
}

fn map_at(v: &Json, path: &[&str]) -> Json {
    match dig(v, path) {
        m @ Json::Object(_) => m.clone(),
        _ => Json::Object(Map::new()),
    }
}

/// `get OBJ "a" "b" ...`: the nested value, nil when any step is missing.
fn get<'a>(mut a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    if a.is_empty() {
        return nil();
    }
    let keys: Vec<String> = a.drain(1..).map(|k| to_str(&k).into_owned()).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    Ok(project(a.swap_remove(0), &keys))
}

fn condition<'j>(v: &'j Json, kind: &str) -> Option<&'j Json> {
    items(dig(v, &["status", "conditions"]))
        .iter()
        .find(|c| text(c, &["type"]) == kind)
}

fn desired(v: &Json) -> i64 {
    match dig(v, &["spec", "replicas"]) {
        Json::Null => 1,
        r => as_i64(r).unwrap_or(1),
    }
}

fn replicas_ready(v: &Json) -> bool {
    v.is_object() && int(v, &["status", "readyReplicas"]) >= desired(v)
}

fn endpoints_ready(v: &Json) -> bool {
    let enriched = items(dig(v, &["_endpoints"]));
    if !enriched.is_empty() {
        return enriched
            .iter()
            .any(|e| endpoints_ready(e) || dig(e, &["ready"]) == &Json::Bool(true));
    }
    let subsets = items(dig(v, &["subsets"]));
    if subsets
        .iter()
        .any(|s| !items(dig(s, &["addresses"])).is_empty())
    {
        return true;
    }
    items(dig(v, &["endpoints"]))
        .iter()
        .any(|e| dig(e, &["conditions", "ready"]) == &Json::Bool(true))
}

/// The containers list of a Pod, a workload's pod template, or a CronJob's job template.
pub(crate) fn containers(v: &Json) -> &Json {
    for path in [
        &["spec", "template", "spec", "containers"][..],
        &[
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "spec",
            "containers",
        ],
        &["spec", "containers"],
    ] {
        let c = dig(v, path);
        if c.is_array() {
            return c;
        }
    }
    &NIL
}

/// The container the second argument names: an index, or a container name; the first container
/// when there is no second argument.
fn container<'x>(a: &'x [Val<'_>]) -> &'x Json {
    let list = items(containers(arg(a, 0)));
    if a.len() < 2 {
        return list.first().unwrap_or(&NIL);
    }
    match arg(a, 1) {
        Json::String(name) => list
            .iter()
            .find(|c| text(c, &["name"]) == *name)
            .unwrap_or(&NIL),
        index => value::as_i64(index)
            .and_then(|k| usize::try_from(k).ok())
            .and_then(|k| list.get(k))
            .unwrap_or(&NIL),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    fn deployment() -> serde_json::Value {
        json!({
            "metadata": {"name": "web", "namespace": "prod", "uid": "u1", "generation": 3,
                         "labels": {"app": "web"}, "ownerReferences": [{"kind": "Website", "name": "site"}]},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "app", "image": "nginx:1", "env": [{"name": "MODE", "value": "prod"}],
                 "ports": [{"name": "http", "containerPort": 80}, {"name": "metrics", "containerPort": 9090}]},
                {"name": "sidecar", "image": "envoy"}]}}},
            "status": {"readyReplicas": 3, "availableReplicas": 2, "updatedReplicas": 3, "observedGeneration": 3,
                       "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}
        })
    }

    #[test]
    fn kubernetes_notes_read_objects_and_are_nil_safe() {
        let d = deployment();
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            (
                "get",
                vec![d.clone(), json!("status"), json!("readyReplicas")],
                "3",
            ),
            (
                "get",
                vec![json!(null), json!("status"), json!("readyReplicas")],
                "",
            ),
            (
                "get",
                vec![
                    d.clone(),
                    json!("spec"),
                    json!("template"),
                    json!("spec"),
                    json!("containers"),
                    json!("1"),
                    json!("name"),
                ],
                "sidecar",
            ),
            ("labels", vec![d.clone()], "map[app:web]"),
            ("labels", vec![json!(null)], "map[]"),
            (
                "phase",
                vec![json!({"status": {"phase": "Running"}})],
                "Running",
            ),
            ("phase", vec![json!(null)], ""),
            ("resourceName", vec![d.clone()], "web"),
            ("ownerKind", vec![d.clone()], "Website"),
            ("hasCondition", vec![d.clone(), json!("Available")], "true"),
            (
                "hasCondition",
                vec![d.clone(), json!("Progressing")],
                "false",
            ),
            (
                "conditionReason",
                vec![d.clone(), json!("Available")],
                "MinimumReplicasAvailable",
            ),
            ("resourceExists", vec![d.clone()], "true"),
            ("resourceExists", vec![json!(null)], "false"),
            (
                "resourceExists",
                vec![json!({"_placeholder": true})],
                "false",
            ),
            ("isTerminating", vec![d.clone()], "false"),
            ("generation", vec![d.clone()], "3"),
            ("isSynced", vec![d.clone()], "true"),
            ("isSynced", vec![json!(null)], "true"),
            ("allReplicasReady", vec![d.clone()], "true"),
            (
                "allReplicasReady",
                vec![json!({"spec": {"replicas": 2}, "status": {"readyReplicas": 1}})],
                "false",
            ),
            ("allReplicasReady", vec![json!(null)], "false"),
            (
                "allReplicasReady",
                vec![json!({"spec": {"replicas": 0}, "status": {}})],
                "true",
            ),
            (
                "allReplicasReady",
                vec![json!({"spec": {"replicas": 2}, "status": {"readyReplicas": 3}})],
                "false",
            ),
            (
                "replicasReady",
                vec![json!({"spec": {"replicas": 2}, "status": {"readyReplicas": 3}})],
                "true",
            ),
            (
                "rolloutComplete",
                vec![json!({"status": {"updatedReplicas": 1}})],
                "true",
            ),
            ("desiredReplicas", vec![json!({})], "1"),
            ("availableReplicas", vec![d.clone()], "2"),
            ("rolloutComplete", vec![d.clone()], "true"),
            ("containerImage", vec![d.clone(), json!(0)], "nginx:1"),
            ("containerImage", vec![d.clone(), json!(1)], "envoy"),
            ("containerImage", vec![d.clone()], "nginx:1"),
            ("containerImage", vec![d.clone(), json!("sidecar")], "envoy"),
            ("containerImage", vec![d.clone(), json!(9)], ""),
            (
                "containerEnv",
                vec![d.clone(), json!(0), json!("MODE")],
                "prod",
            ),
            (
                "containerPort",
                vec![d.clone(), json!(0), json!(80)],
                "true",
            ),
            (
                "containerPort",
                vec![d.clone(), json!(0), json!(81)],
                "false",
            ),
            (
                "containerPortByName",
                vec![d.clone(), json!(0), json!("metrics")],
                "9090",
            ),
            ("containerPorts", vec![d.clone(), json!(0)], "80,9090"),
            (
                "serviceNodePort",
                vec![json!({"spec": {"ports": [{"nodePort": 31234}]}})],
                "31234",
            ),
            ("containerCount", vec![d.clone()], "2"),
            ("containerCount", vec![json!(null)], "0"),
            (
                "jobSucceeded",
                vec![json!({"status": {"succeeded": 1}})],
                "true",
            ),
            ("jobFailed", vec![json!(null)], "false"),
            (
                "cronJobLastScheduleTime",
                vec![json!({"status": {"lastScheduleTime": "2026-05-19T10:00:00Z"}})],
                "2026-05-19T10:00:00Z",
            ),
            ("cronJobNextScheduleTime", vec![json!({})], ""),
            (
                "cronJobActiveCount",
                vec![json!({"status": {"active": [{}, {}]}})],
                "2",
            ),
            (
                "serviceClusterIP",
                vec![json!({"spec": {"clusterIP": "10.0.0.1"}})],
                "10.0.0.1",
            ),
            (
                "serviceNodePort",
                vec![
                    json!({"spec": {"ports": [{"name": "http", "port": 80, "nodePort": 30080}]}}),
                    json!("http"),
                ],
                "30080",
            ),
            (
                "serviceNodePort",
                vec![
                    json!({"spec": {"ports": [{"port": 80, "nodePort": 30080}]}}),
                    json!("80"),
                ],
                "30080",
            ),
            (
                "serviceLoadBalancerIP",
                vec![json!({"status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}})],
                "1.2.3.4",
            ),
            (
                "endpointsReady",
                vec![json!({"subsets": [{"addresses": [{"ip": "10.1.1.1"}]}]})],
                "true",
            ),
            (
                "endpointsReady",
                vec![json!({"endpoints": [{"conditions": {"ready": false}}]})],
                "false",
            ),
        ];
        check(&cases);
    }
}
