//! When an object counts as ready for `ready: true`: replicas ready and available for
//! workloads, `Available`/`Ready`/`Complete` conditions true, a Pod running and ready; an
//! object with none of these (a Service, a ConfigMap) is ready once it exists.

use serde_json::Value;

/// `Ok` when `object` is ready, else what was seen.
pub fn ready(object: &Value) -> Result<(), String> {
    let status = &object["status"];
    if let Some(want) = object["spec"]["replicas"].as_i64() {
        let ready = status["readyReplicas"].as_i64().unwrap_or(0);
        let available = status["availableReplicas"].as_i64().unwrap_or(ready);
        if ready < want || available < want {
            return Err(format!(
                "readyReplicas {ready}, availableReplicas {available} of {want}"
            ));
        }
    }
    if object["kind"] == "Pod" {
        let phase = status["phase"].as_str().unwrap_or("Pending");
        if phase != "Running" && phase != "Succeeded" {
            return Err(format!("phase {phase}"));
        }
    }
    for condition in status["conditions"].as_array().into_iter().flatten() {
        let kind = condition["type"].as_str().unwrap_or_default();
        let state = condition["status"].as_str().unwrap_or_default();
        match kind {
            "Available" | "Ready" | "Complete" | "Established" if state != "True" => {
                let why = condition["message"]
                    .as_str()
                    .or(condition["reason"].as_str())
                    .unwrap_or_default();
                return Err(format!("condition {kind}={state} {why}")
                    .trim_end()
                    .to_owned());
            }
            "Failed" if state == "True" => return Err("condition Failed=True".into()),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn workloads_need_their_replicas_ready() {
        let d = json!({"kind": "Deployment", "spec": {"replicas": 2},
            "status": {"readyReplicas": 1, "availableReplicas": 1}});
        assert_eq!(
            ready(&d).unwrap_err(),
            "readyReplicas 1, availableReplicas 1 of 2"
        );
        let d = json!({"kind": "Deployment", "spec": {"replicas": 1},
            "status": {"readyReplicas": 1, "availableReplicas": 1,
            "conditions": [{"type": "Available", "status": "True"}]}});
        assert!(ready(&d).is_ok());
    }

    #[test]
    fn conditions_pods_and_plain_objects() {
        let job = json!({"kind": "Job", "status": {"conditions": [
            {"type": "Complete", "status": "False", "reason": "Running"}]}});
        assert!(ready(&job).is_err());
        let pod = json!({"kind": "Pod", "status": {"phase": "Pending"}});
        assert_eq!(ready(&pod).unwrap_err(), "phase Pending");
        assert!(ready(&json!({"kind": "Service", "spec": {}})).is_ok());
    }
}
