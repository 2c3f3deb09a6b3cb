//! Fencing: a leader cut off from the API server stops leading (and so writing) before its
//! Lease can be taken, and the API server's audit log shows that the two replicas' writes never
//! overlap in time.

use std::time::Duration;

use serde_json::Value;
use testenv::Config;
use tokio::time::Instant;

use crate::harness::{Harness, until};

/// The runtime's writes of one identity, as the audit log records them.
#[derive(Debug, Default)]
struct Writes {
    count: usize,
    /// Earliest `requestReceivedTimestamp` (RFC 3339, microseconds: ordered as text).
    first: Option<String>,
    /// Latest `stageTimestamp`.
    last: Option<String>,
}

/// The writes of `user` in the audit log to the objects a leader owns: not the Lease (the
/// election itself) nor Events (each a new object, which followers also write about the
/// Lease).
fn writes_of(audit: &str, user: &str) -> Writes {
    let mut writes = Writes::default();
    for line in audit.lines() {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if entry["user"]["username"] != user
            || ["leases", "events"].contains(&entry["objectRef"]["resource"].as_str().unwrap_or(""))
            || entry["stage"] != "ResponseComplete"
        {
            continue;
        }
        let (Some(received), Some(done)) = (
            entry["requestReceivedTimestamp"].as_str(),
            entry["stageTimestamp"].as_str(),
        ) else {
            continue;
        };
        writes.count += 1;
        if writes.first.as_deref().is_none_or(|f| received < f) {
            writes.first = Some(received.to_owned());
        }
        if writes.last.as_deref().is_none_or(|l| done > l) {
            writes.last = Some(done.to_owned());
        }
    }
    writes
}

#[tokio::test]
async fn a_partitioned_leader_stops_writing_before_another_takes_over() {
    let harness = Harness::start(Config::new().audit_log(true)).await;
    let proxy = harness.cp.proxy().await.unwrap();
    let a = harness.run(
        harness.kubeconfig("ork-a", Some(&proxy)).await,
        Some("ork-a"),
    );
    until("ork-a to lead", Duration::from_secs(30), || async {
        a.is_konductor().await.filter(|k| *k)
    })
    .await;
    let b = harness.run(harness.kubeconfig("ork-b", None).await, Some("ork-b"));
    harness.create_crs("before", 50).await;
    harness.wait_converged(50, Duration::from_secs(60)).await;
    assert_eq!(b.is_konductor().await, Some(false), "ork-b follows");

    // Partition ork-a for 15 s (lease 4 s, renew deadline 3 s) with work pending.
    let partition = Duration::from_secs(15);
    let cut_at = Instant::now();
    proxy.refuse_for(partition);
    proxy.cut();
    harness.create_crs("during", 50).await;
    let mut a_stopped = None;
    let b_led = loop {
        let now = Instant::now();
        if a_stopped.is_none() && a.is_konductor().await == Some(false) {
            a_stopped = Some(now);
        }
        if b.is_konductor().await == Some(true) {
            break now;
        }
        assert!(cut_at.elapsed() < partition, "ork-b did not take over");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let a_stopped = a_stopped.expect("ork-a stopped leading before ork-b led");
    eprintln!(
        "partition: ork-a stopped leading after {:?}, ork-b led after {:?}",
        a_stopped - cut_at,
        b_led - cut_at
    );
    harness.wait_converged(100, Duration::from_secs(60)).await;

    // Healed, ork-a follows and never writes again: more work goes to ork-b only.
    until(
        "the partition to heal",
        partition + Duration::from_secs(5),
        || async { (cut_at.elapsed() > partition).then_some(()) },
    )
    .await;
    harness.create_crs("after", 20).await;
    harness.wait_converged(120, Duration::from_secs(60)).await;
    assert_eq!(a.is_konductor().await, Some(false), "ork-a follows");
    a.assert_running();
    b.assert_running();

    let audit = std::fs::read_to_string(harness.cp.audit_log_path()).unwrap();
    let (wa, wb) = (writes_of(&audit, "ork-a"), writes_of(&audit, "ork-b"));
    eprintln!("audit: ork-a {wa:?}, ork-b {wb:?}");
    assert!(wa.count > 0 && wb.count > 0, "both replicas wrote");
    let (a_last, b_first) = (wa.last.unwrap(), wb.first.unwrap());
    assert!(
        a_last < b_first,
        "ork-a wrote until {a_last}, ork-b from {b_first}: overlapping writers"
    );
    b.stop().await;
    a.stop().await;
}
