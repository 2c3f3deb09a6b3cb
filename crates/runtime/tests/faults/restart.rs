//! A restart on a steady cluster: the new process reconciles every CR and writes nothing (the
//! API server's audit log says so), because each child carries the digest of the intent it
//! was applied with and still shows every value of it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use testenv::Config;

use crate::harness::{Harness, until};

/// CRs in the test (three children each).
const CRS: usize = 60;
const USER: &str = "ork-restart";

/// The requests of `user` in the audit log after byte `from`, counted by verb and resource.
fn writes_since(path: &std::path::Path, from: u64, user: &str) -> BTreeMap<String, usize> {
    let text = std::fs::read(path).unwrap();
    let tail = String::from_utf8_lossy(text.get(from as usize..).unwrap_or_default());
    let mut writes = BTreeMap::new();
    for line in tail.lines() {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if entry["user"]["username"] != user || entry["stage"] != "ResponseComplete" {
            continue;
        }
        let object = &entry["objectRef"];
        let key = format!(
            "{} {}/{}",
            entry["verb"].as_str().unwrap_or("?"),
            object["resource"].as_str().unwrap_or("?"),
            object["subresource"].as_str().unwrap_or("")
        );
        *writes.entry(key).or_default() += 1;
    }
    writes
}

#[tokio::test]
async fn a_restarted_runtime_writes_nothing_on_a_steady_cluster() {
    let harness = Harness::start(Config::new().audit_log(true)).await;
    let kubeconfig = harness.kubeconfig(USER, None).await;
    let ork = harness.run(kubeconfig.clone(), None);
    harness.create_crs("r", CRS).await;
    harness.wait_converged(CRS, Duration::from_secs(180)).await;
    ork.stop().await;

    let audit = harness.cp.audit_log_path();
    let from = std::fs::metadata(&audit).unwrap().len();
    let ork = harness.run(kubeconfig, None);
    let success = r#"controller_reconcile_total{crd="stack",result="success"}"#;
    until(
        "the restarted runtime to reconcile every CR",
        Duration::from_secs(120),
        || async { ork.metric(success).await.filter(|n| *n >= CRS as f64) },
    )
    .await;
    // The audit backend logs a request before answering it, so every synchronous write of
    // those reconciles is in the log now; an Event (published off the reconcile's path) only
    // ever follows a write, which would be.
    ork.assert_running();
    let writes = writes_since(&audit, from, USER);
    assert!(
        writes.is_empty(),
        "the restarted runtime wrote on a steady cluster: {writes:?}"
    );
    harness.converged(CRS).await.unwrap();
    ork.stop().await;
}
