//! Every watch of the runtime is reset every 2 s for 30 s: what changes in that window is still
//! handled (the runtime is level-triggered), within one resync period (10 s) of the change.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams};
use testenv::Config;

use crate::harness::{Harness, NAMESPACE, until};

/// The window of resets, and the period between two.
const WINDOW: Duration = Duration::from_secs(30);
const PERIOD: Duration = Duration::from_secs(2);
/// The Katalog's resync period plus slack: a change must be handled within this.
const HANDLED: Duration = Duration::from_secs(15);

#[tokio::test]
async fn watches_reset_every_two_seconds_miss_nothing() {
    let harness = Harness::start(Config::new()).await;
    let proxy = harness.cp.proxy().await.unwrap();
    let ork = harness.run(harness.kubeconfig("ork-faults", Some(&proxy)).await, None);
    harness.create_crs("cr", 20).await;
    harness.wait_converged(20, Duration::from_secs(60)).await;

    // The fault schedule: reset every connection silent for a second (the watches) every 2 s.
    let proxy = Arc::new(proxy);
    let resets = Arc::new(AtomicUsize::new(0));
    let schedule = tokio::spawn({
        let (proxy, resets) = (Arc::clone(&proxy), Arc::clone(&resets));
        async move {
            let end = tokio::time::Instant::now() + WINDOW;
            while tokio::time::Instant::now() < end {
                tokio::time::sleep(PERIOD).await;
                resets.fetch_add(proxy.reset_quiet(Duration::from_secs(1)), Ordering::SeqCst);
            }
        }
    });

    // Well inside the window: a new CR, then a child deleted.
    tokio::time::sleep(3 * PERIOD + PERIOD / 2).await;
    harness.create_crs("late", 1).await;
    until("the CR created mid-window to converge", HANDLED, || async {
        harness.converged(21).await.ok()
    })
    .await;
    let maps: Api<ConfigMap> = Api::namespaced(harness.admin.clone(), NAMESPACE);
    let deleted = maps
        .delete("cr-0-a", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .and_then(|m| m.metadata.uid);
    until("the deleted child to be made again", HANDLED, || {
        let (maps, deleted) = (maps.clone(), deleted.clone());
        async move {
            let now = maps.get_opt("cr-0-a").await.ok()??;
            (now.metadata.uid != deleted).then_some(())
        }
    })
    .await;
    assert!(
        !schedule.is_finished(),
        "both changes were handled inside the window of resets"
    );
    schedule.await.unwrap();
    let resets = resets.load(Ordering::SeqCst);
    eprintln!("watch resets: {resets} connections reset over {WINDOW:?}");
    assert!(
        resets >= (WINDOW.as_secs() / PERIOD.as_secs()) as usize,
        "only {resets} connections were reset: the watches were not hit"
    );
    harness.wait_converged(21, HANDLED).await;
    ork.assert_running();
    ork.stop().await;
}
