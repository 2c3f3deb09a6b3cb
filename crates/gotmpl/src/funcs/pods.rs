//! Pod notes over the `_pods` enrichment of a workload (`enrich: [pods]`).
//!
//! Each pod summary is a map with `name`, `ip`, `phase`, `ready`, `node`, `restartCount`,
//! `ordinal` (-1 outside StatefulSets) and `containers`, a list of `{name, state, reason,
//! exitCode, restartCount}`. Without enrichment every note returns its zero value.

use serde_json::Value as Json;

use super::collections::items;
use super::kube::{int, text};
use super::{Builtin, FnCx, arg, b, dig, i, int_arg, j, s, str_arg};
use crate::value::Val;

pub(crate) const FUNCS: &[Builtin] = &[
    f!("podNames", "pods", 1, 1, |a, _| s(join(
        arg(&a, 0),
        "name",
        |_| true
    ))),
    f!("podIPs", "pods", 1, 1, |a, _| s(join(
        arg(&a, 0),
        "ip",
        |_| true
    ))),
    f!("podPhases", "pods", 1, 1, |a, _| s(join(
        arg(&a, 0),
        "phase",
        |_| true
    ))),
    f!("podNodes", "pods", 1, 1, |a, _| s(join(
        arg(&a, 0),
        "node",
        |_| true
    ))),
    f!("podCount", "pods", 1, 1, |a, _| i(
        pods(arg(&a, 0)).len() as i64
    )),
    f!("readyPodCount", "pods", 1, 1, |a, _| i(pods(arg(&a, 0))
        .iter()
        .filter(|p| is_ready(p))
        .count()
        as i64)),
    f!("podMaxRestarts", "pods", 1, 1, |a, _| i(max_restarts(arg(
        &a, 0
    )))),
    f!("hasCrashingPod", "pods", 1, 1, |a, _| {
        // Orkestra: more than two restarts, or any container in a failure state.
        let o = arg(&a, 0);
        b(max_restarts(o) > 2 || FAILURE_REASONS.iter().any(|r| has_reason(o, r)))
    }),
    f!("podByOrdinal", "pods", 2, 2, by_ordinal),
    f!("podCrashLoopDetected", "pods", 1, 1, |a, _| b(has_reason(
        arg(&a, 0),
        "CrashLoopBackOff"
    ))),
    f!("podImagePullBackOffDetected", "pods", 1, 1, |a, _| b(
        has_reason(arg(&a, 0), "ImagePullBackOff")
    )),
    f!("podErrImagePullDetected", "pods", 1, 1, |a, _| b(
        has_reason(arg(&a, 0), "ErrImagePull")
    )),
    f!("podErrorDetected", "pods", 1, 1, |a, _| b(has_reason(
        arg(&a, 0),
        "Error"
    ))),
    f!("podOOMKilledDetected", "pods", 1, 1, |a, _| b(has_reason(
        arg(&a, 0),
        "OOMKilled"
    ))),
    f!("podRunContainerErrorDetected", "pods", 1, 1, |a, _| b(
        has_reason(arg(&a, 0), "RunContainerError")
    )),
    f!("podCreateContainerErrorDetected", "pods", 1, 1, |a, _| b(
        has_reason(arg(&a, 0), "CreateContainerError")
    )),
    f!("podInvalidImageNameDetected", "pods", 1, 1, |a, _| b(
        has_reason(arg(&a, 0), "InvalidImageName")
    )),
    f!("podPreStartHookErrorDetected", "pods", 1, 1, |a, _| b(
        has_reason(arg(&a, 0), "PreStartHookError")
    )),
    f!("podPostStartHookErrorDetected", "pods", 1, 1, |a, _| b(
        has_reason(arg(&a, 0), "PostStartHookError")
    )),
    f!("podContainerReasons", "pods", 1, 1, |a, _| {
        let mut reasons: Vec<String> = Vec::new();
        for c in pods(arg(&a, 0))
            .iter()
            .flat_map(|p| items(dig(p, &["containers"])))
        {
            let r = text(c, &["reason"]);
            if !r.is_empty() && !reasons.contains(&r) {
                reasons.push(r);
            }
        }
        s(reasons.join(", "))
    }),
    f!("podContainerState", "pods", 3, 3, |a, _| {
        let (ordinal, name) = (int_arg(&a, 1), str_arg(&a, 2));
        let state = pods(arg(&a, 0))
            .iter()
            .find(|p| int(p, &["ordinal"]) == ordinal)
            .and_then(|p| {
                items(dig(p, &["containers"]))
                    .iter()
                    .find(|c| text(c, &["name"]) == name)
            })
            .map(|c| text(c, &["state"]))
            .unwrap_or_default();
        s(state)
    }),
    f!("jobFirstExitCode", "job", 1, 1, |a, _| {
        let code = pods(arg(&a, 0))
            .iter()
            .flat_map(|p| items(dig(p, &["containers"])))
            .find_map(|c| dig(c, &["exitCode"]).as_i64())
            .unwrap_or(-1);
        i(code)
    }),
    f!("jobActivePodNames", "job", 1, 1, |a, _| {
        s(join(arg(&a, 0), "name", |p| {
            !matches!(text(p, &["phase"]).as_str(), "Succeeded" | "Failed")
        }))
    }),
    f!("jobSucceededPodNames", "job", 1, 1, |a, _| s(join(
        arg(&a, 0),
        "name",
        |p| text(p, &["phase"]) == "Succeeded"
    ))),
    f!("jobFailedPodNames", "job", 1, 1, |a, _| s(join(
        arg(&a, 0),
        "name",
        |p| text(p, &["phase"]) == "Failed"
    ))),
];

/// Container reasons that count as a crashing pod.
const FAILURE_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "OOMKilled",
    "Error",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "RunContainerError",
    "CreateContainerError",
    "PreStartHookError",
    "PostStartHookError",
];

fn pods(v: &Json) -> &[Json] {
    items(dig(v, &["_pods"]))
}

fn is_ready(p: &Json) -> bool {
    matches!(dig(p, &["ready"]), Json::Bool(true)) || dig(p, &["ready"]).as_str() == Some("true")
}

fn join(v: &Json, field: &str, keep: impl Fn(&Json) -> bool) -> String {
    let parts: Vec<String> = pods(v)
        .iter()
        .filter(|p| keep(p))
        .map(|p| text(p, &[field]))
        .filter(|x| !x.is_empty())
        .collect();
    parts.join(", ")
}

fn max_restarts(v: &Json) -> i64 {
    pods(v)
        .iter()
        .map(|p| int(p, &["restartCount"]))
        .max()
        .unwrap_or(0)
}

fn has_reason(v: &Json, reason: &str) -> bool {
    pods(v)
        .iter()
        .flat_map(|p| items(dig(p, &["containers"])))
        .any(|c| text(c, &["reason"]) == reason)
}

fn by_ordinal<'a>(a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    let ordinal = int_arg(&a, 1);
    j(pods(arg(&a, 0))
        .iter()
        .find(|p| int(p, &["ordinal"]) == ordinal)
        .cloned()
        .unwrap_or(Json::Null))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, show};
    use serde_json::json;

    fn enriched() -> serde_json::Value {
        json!({"_pods": [
            {"name": "db-0", "ip": "10.0.0.1", "phase": "Running", "ready": true, "node": "n1", "restartCount": 0, "ordinal": 0,
             "containers": [{"name": "app", "state": "Running"}]},
            {"name": "db-1", "ip": "", "phase": "Pending", "ready": false, "node": "", "restartCount": 4, "ordinal": 1,
             "containers": [{"name": "app", "state": "Waiting", "reason": "CrashLoopBackOff"},
                            {"name": "init", "state": "Terminated", "reason": "Error", "exitCode": 1}]}
        ]})
    }

    #[test]
    fn pod_notes_summarise_the_pods_enrichment() {
        let p = enriched();
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            ("podNames", vec![p.clone()], "db-0, db-1"),
            ("podIPs", vec![p.clone()], "10.0.0.1"),
            ("podPhases", vec![p.clone()], "Running, Pending"),
            ("podCount", vec![p.clone()], "2"),
            ("readyPodCount", vec![p.clone()], "1"),
            ("podMaxRestarts", vec![p.clone()], "4"),
            ("hasCrashingPod", vec![p.clone()], "true"),
            ("podCrashLoopDetected", vec![p.clone()], "true"),
            ("podOOMKilledDetected", vec![p.clone()], "false"),
            (
                "podContainerReasons",
                vec![p.clone()],
                "CrashLoopBackOff, Error",
            ),
            (
                "podContainerState",
                vec![p.clone(), json!(1), json!("app")],
                "Waiting",
            ),
            ("jobFirstExitCode", vec![p.clone()], "1"),
            ("jobActivePodNames", vec![p.clone()], "db-0, db-1"),
            ("podNames", vec![json!({"metadata": {}})], ""),
            ("podCount", vec![json!(null)], "0"),
            ("hasCrashingPod", vec![json!(null)], "false"),
            (
                "hasCrashingPod",
                vec![
                    json!({"_pods": [{"restartCount": 0, "containers": [{"reason": "OOMKilled"}]}]}),
                ],
                "true",
            ),
            (
                "hasCrashingPod",
                vec![
                    json!({"_pods": [{"restartCount": 2, "containers": [{"reason": "Completed"}]}]}),
                ],
                "false",
            ),
            ("jobFirstExitCode", vec![json!(null)], "-1"),
        ];
        check(&cases);
        assert!(show("podByOrdinal", &[p.clone(), json!(0)]).contains("name:db-0"));
    }
}
