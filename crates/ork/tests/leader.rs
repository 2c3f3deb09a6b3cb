//! Two `ork run` processes on one Katalog and one Lease: exactly one reconciles (as their HTTP
//! API and metrics show) while the other keeps a warm cache; SIGTERM to the leader hands over within 2 s; SIGKILL to the new
//! leader hands back to a restarted first process within lease duration + 2 s.

use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, PostParams};
use nix::sys::signal::Signal;
use serde_json::Value;
use testenv::eventually;

use crate::util::{Ork, free_port, http_get, install_stack_crd, ork, stack_katalog_in};

/// Lease 4 s, renew deadline 3 s, retry 250 ms.
const LEASE: Duration = Duration::from_secs(4);

struct Replica {
    port: u16,
    process: Ork,
}

fn start(katalog: &Path, kubeconfig: &Path, ns: &str, name: &str, dir: &Path) -> Replica {
    let port = free_port();
    let mut command = ork();
    command
        .arg("run")
        .arg(katalog)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--no-setup", "--leader-elect", "true", "--namespace", ns])
        .args([
            "--identity",
            name,
            "--lease-duration",
            "4s",
            "--renew-deadline",
            "3s",
        ])
        .args(["--retry-period", "250ms", "--http-addr"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["--log-json"])
        .env("ORK_LOG", "info,runtime::reconcile=debug");
    Replica {
        port,
        process: Ork::spawn(&mut command, &dir.join(format!("{name}.log"))),
    }
}

/// `isKonductor` of `/katalog/stack/health`, `None` while the API does not answer.
async fn is_konductor(replica: &Replica) -> Option<bool> {
    let (_, body) = http_get(replica.port, "/katalog/stack/health").await?;
    let health: Value = serde_json::from_str(&body).ok()?;
    health["isKonductor"].as_bool()
}

/// The replica that leads, once exactly one of `replicas` does (checked on both APIs).
async fn the_leader(replicas: &[&Replica], timeout: Duration) -> usize {
    eventually("a single leader", timeout, || async {
        let mut leaders = Vec::new();
        for (i, r) in replicas.iter().enumerate() {
            match is_konductor(r).await {
                Some(true) => leaders.push(i),
                Some(false) => {}
                None => return None,
            }
        }
        (leaders.len() == 1).then(|| leaders[0])
    })
    .await
}

/// The `controller_reconcile_total{crd="stack",result="success"}` of a replica.
async fn successes(replica: &Replica) -> u64 {
    let (_, text) = http_get(replica.port, "/metrics").await.unwrap();
    text.lines()
        .find(|l| l.starts_with(r#"controller_reconcile_total{crd="stack",result="success"}"#))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Asserts that no two processes (one log each) reconciled the same CR at overlapping times,
/// from the `reconciled` / `reconcile failed` debug lines (end timestamp and `elapsed_ms`).
fn assert_no_concurrent_reconciles(logs: &[Vec<Value>]) {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    let mut spans: Vec<(String, usize, f64, f64)> = Vec::new();
    for (process, lines) in logs.iter().enumerate() {
        for line in lines {
            let message = line["fields"]["message"].as_str().unwrap_or_default();
            if !matches!(message, "reconciled" | "reconcile failed") {
                continue;
            }
            let end = OffsetDateTime::parse(line["timestamp"].as_str().unwrap(), &Rfc3339)
                .unwrap()
                .unix_timestamp_nanos() as f64
                / 1e6;
            let start = end - line["fields"]["elapsed_ms"].as_f64().unwrap();
            let key = line["span"]["key"].as_str().unwrap().to_owned();
            spans.push((key, process, start, end));
        }
    }
    let processes: std::collections::BTreeSet<usize> = spans.iter().map(|s| s.1).collect();
    assert!(
        processes.len() >= 2,
        "reconciles of one process only: {spans:?}"
    );
    for (i, a) in spans.iter().enumerate() {
        for b in &spans[i + 1..] {
            let overlap = a.0 == b.0 && a.1 != b.1 && a.2 < b.3 && b.2 < a.3;
            assert!(
                !overlap,
                "two processes reconciled {} at once: {a:?} {b:?}",
                a.0
            );
        }
    }
}

/// The names `/katalog/stack/cr` lists (from the replica's cache), sorted.
async fn cached(replica: &Replica) -> Vec<String> {
    let Some((200, body)) = http_get(replica.port, "/katalog/stack/cr").await else {
        return Vec::new();
    };
    let list: Value = serde_json::from_str(&body).unwrap_or_default();
    let mut names: Vec<String> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_two_processes_reconciles_and_hands_over_on_sigterm_and_sigkill() {
    let cp = testenv::shared().await;
    let admin = cp.client().await.unwrap();
    let ns = testenv::namespace(&admin, "leader").await;
    let resource = install_stack_crd(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    let katalog = stack_katalog_in(dir.path(), &ns);
    let kubeconfig = cp.kubeconfig_path().to_path_buf();
    let a = start(&katalog, &kubeconfig, &ns, "a", dir.path());
    let b = start(&katalog, &kubeconfig, &ns, "b", dir.path());
    let log = |name: &str| {
        std::fs::read_to_string(dir.path().join(format!("{name}.log"))).unwrap_or_default()
    };

    let first = the_leader(&[&a, &b], Duration::from_secs(30)).await;
    let (leader, follower) = if first == 0 { (a, b) } else { (b, a) };

    // Only the leader reconciles.
    let crs: Api<DynamicObject> = Api::namespaced_with(admin.clone(), &ns, &resource);
    let mut cr = DynamicObject::new("s1", &resource);
    cr.data = serde_json::json!({"spec": {"n": "1"}});
    crs.create(&PostParams::default(), &cr).await.unwrap();
    let configmaps: Api<ConfigMap> = Api::namespaced(admin.clone(), &ns);
    eventually(
        "the leader to create the CR's children",
        Duration::from_secs(30),
        || async { configmaps.get_opt("s1-a").await.ok().flatten() },
    )
    .await;
    eventually(
        "the leader to count its reconcile",
        Duration::from_secs(10),
        || async { (successes(&leader).await >= 1).then_some(()) },
    )
    .await;
    assert_eq!(successes(&follower).await, 0, "the follower reconciled");
    let (status, body) = http_get(follower.port, "/katalog/stack/health")
        .await
        .unwrap();
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((status, health["state"].as_str()), (503, Some("pending")));
    eventually(
        "the follower's cache to hold the CR",
        Duration::from_secs(10),
        || async { (cached(&follower).await == ["s1"]).then_some(()) },
    )
    .await;

    // SIGTERM: the leader stops its boxes, releases the Lease; the follower leads within 2 s.
    let sigterm = Instant::now();
    leader.process.signal(Signal::SIGTERM);
    eventually(
        "the hand-over after SIGTERM",
        Duration::from_secs(2),
        || async { is_konductor(&follower).await.filter(|l| *l) },
    )
    .await;
    eprintln!("hand-over after SIGTERM: {:?}", sigterm.elapsed());
    let new_leader = follower;
    drop(leader);

    // A fresh process follows; SIGKILL the leader: the fresh one leads within lease + 2 s.
    let restarted = start(&katalog, &kubeconfig, &ns, "c", dir.path());
    eventually(
        "the restarted process to follow",
        Duration::from_secs(30),
        || async { is_konductor(&restarted).await.filter(|l| !*l) },
    )
    .await;
    // Its cache is warm before it leads: the CR is listed from it.
    eventually(
        "the restarted follower to cache the CR",
        Duration::from_secs(30),
        || async { (cached(&restarted).await == ["s1"]).then_some(()) },
    )
    .await;
    let sigkill = Instant::now();
    new_leader.process.signal(Signal::SIGKILL);
    eventually(
        "the take-over after SIGKILL (within lease + 2 s)",
        LEASE + Duration::from_secs(2),
        || async { is_konductor(&restarted).await.filter(|l| *l) },
    )
    .await;
    eprintln!("take-over after SIGKILL: {:?}", sigkill.elapsed());
    // The new leader reconciles: a second CR converges.
    let mut cr = DynamicObject::new("s2", &resource);
    cr.data = serde_json::json!({"spec": {"n": "2"}});
    crs.create(&PostParams::default(), &cr).await.unwrap();
    eventually(
        "the new leader to reconcile",
        Duration::from_secs(30),
        || async { configmaps.get_opt("s2-a").await.ok().flatten() },
    )
    .await;
    eventually(
        "the new leader to count its reconcile",
        Duration::from_secs(10),
        || async { (successes(&restarted).await >= 1).then_some(()) },
    )
    .await;
    // Its children exist before its reconcile ends (and logs): wait for that line too.
    let s2_reconciled = format!("\"key\":\"{ns}/s2\"");
    eventually(
        "the new leader to log its reconcile of s2",
        Duration::from_secs(10),
        || async {
            log("c")
                .lines()
                .any(|l| l.contains("\"message\":\"reconciled\"") && l.contains(&s2_reconciled))
                .then_some(())
        },
    )
    .await;

    // `--log-json`: every line is a JSON object; reconcile lines carry the CRD and the CR key.
    let logs: Vec<Vec<Value>> = ["a", "b", "c"]
        .iter()
        .map(|name| {
            log(name)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
                .collect()
        })
        .collect();
    assert_no_concurrent_reconciles(&logs);
    let lines = &logs[2];
    let key = format!("{ns}/s2");
    let reconciled = lines
        .iter()
        .find(|l| l["fields"]["message"] == "reconciled" && l["span"]["key"] == key.as_str())
        .unwrap_or_else(|| panic!("no `reconciled` line for {key} in {lines:#?}"));
    assert_eq!(reconciled["span"]["crd"], "stack");
}
