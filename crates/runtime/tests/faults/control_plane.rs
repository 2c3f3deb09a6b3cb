//! The API server or etcd dies during the convergence of 200 CRs, or the API server throttles:
//! every CR still converges, `/katalog` says `degraded` while the cluster is unusable and
//! healthy again after, and the runtime process never exits.

use std::time::Duration;

use testenv::Config;

use crate::harness::{Harness, Ork, until};

const CRS: usize = 200;
/// How long convergence may take after the fault is over.
const CONVERGE: Duration = Duration::from_secs(60);

/// Starts the runtime and the creation of [`CRS`] CRs, and returns once it has made some
/// children: the fault then strikes mid-convergence.
async fn converging(harness: &Harness) -> Ork {
    let kubeconfig = harness.kubeconfig("ork-faults", None).await;
    let ork = harness.run(kubeconfig, None);
    harness.create_crs("cr", CRS).await;
    until("the first children", Duration::from_secs(30), || async {
        (harness.config_map_count().await >= 20).then_some(())
    })
    .await;
    ork
}

/// Waits until `/katalog` reports degraded, with the process still running.
async fn wait_degraded(ork: &Ork) {
    until(
        "/katalog to report degraded",
        Duration::from_secs(30),
        || async {
            ork.assert_running();
            ork.degraded().await.filter(|d| *d)
        },
    )
    .await;
}

/// Waits until everything converged and `/katalog` is healthy again.
async fn wait_recovered(harness: &Harness, ork: &Ork) {
    harness.wait_converged(CRS, CONVERGE).await;
    until("/katalog to report healthy", CONVERGE, || async {
        ork.assert_running();
        ork.degraded().await.filter(|d| !d)
    })
    .await;
    ork.assert_running();
}

#[tokio::test]
async fn apiserver_sigkilled_and_restarted_mid_convergence() {
    let mut harness = Harness::start(Config::new()).await;
    let ork = converging(&harness).await;
    harness.cp.kill_apiserver();
    wait_degraded(&ork).await;
    harness.cp.start_apiserver().await.unwrap();
    wait_recovered(&harness, &ork).await;
    ork.stop().await;
}

#[tokio::test]
async fn etcd_sigkilled_and_restarted_mid_convergence() {
    let mut harness = Harness::start(Config::new()).await;
    let ork = converging(&harness).await;
    harness.cp.kill_etcd();
    wait_degraded(&ork).await;
    harness.cp.start_etcd().await.unwrap();
    wait_recovered(&harness, &ork).await;
    ork.stop().await;
}

/// The 429s the API server has answered (`apiserver_request_total{code="429"}`, summed).
async fn throttled(admin: &kube::Client) -> f64 {
    let request = hyper::Request::get("/metrics").body(Vec::new()).unwrap();
    let text = admin.request_text(request).await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("apiserver_request_total{") && l.contains(r#"code="429""#))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn a_throttling_apiserver_is_retried_with_backoff_until_converged() {
    // One mutating and two other requests in flight at most: ork's 8 workers meet 429s (the
    // admin client creating the CRs is exempt, and nothing else runs).
    let harness = Harness::start(Config::new().max_requests_inflight(2, 1)).await;
    let ork = converging(&harness).await;
    harness.wait_converged(CRS, CONVERGE).await;
    ork.assert_running();
    let answered = throttled(&harness.admin).await;
    let retried = ork
        .metric(r#"controller_api_retries_total{code="429"}"#)
        .await
        .unwrap_or(0.0);
    let failed = ork
        .metric(r#"controller_reconcile_total{crd="stack",result="error"}"#)
        .await
        .unwrap_or(0.0);
    eprintln!(
        "429 storm: the API server answered {answered} 429s; ork retried {retried} requests after a 429, {failed} reconciles failed"
    );
    assert!(
        answered > 0.0,
        "no 429 was answered: the storm did not happen"
    );
    assert!(
        retried > 0.0,
        "ork's metrics show no retry after a 429 ({answered} answered)"
    );
    ork.stop().await;
}
