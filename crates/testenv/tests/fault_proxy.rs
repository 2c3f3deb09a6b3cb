//! The fault proxy in front of the shared control plane's API server: requests pass through it
//! (TLS untouched), and each fault it injects has the effect a client would see.

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;
use kube::api::{ListParams, PostParams, WatchEvent, WatchParams};

use crate::util::eventually;

/// How long a watch opened through the proxy may take to end once it is reset.
const WATCH_END: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_client_through_the_proxy_lists_namespaces() {
    let cp = testenv::shared().await;
    let proxy = cp.proxy().await.unwrap();
    let client = cp.client_through(&proxy).await.unwrap();
    let api: Api<Namespace> = Api::all(client);
    let list = api.list(&ListParams::default()).await.unwrap();
    assert!(
        list.items
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some("default"))
    );
    assert_eq!(proxy.connections(), 1, "the request went through the proxy");
}

/// Opens a watch on ConfigMaps of a fresh namespace through `proxy` and waits until it streams.
async fn open_watch(
    cp: &testenv::ControlPlane,
    proxy: &testenv::FaultProxy,
) -> impl futures::Stream<Item = kube::Result<WatchEvent<ConfigMap>>> {
    let admin = cp.client().await.unwrap();
    let ns = testenv::namespace(&admin, "proxy-watch").await;
    let client = cp.client_through(proxy).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let stream = api
        .watch(&WatchParams::default().timeout(290), "0")
        .await
        .unwrap()
        .boxed();
    assert_eq!(
        proxy.connections(),
        1,
        "the watch is open through the proxy"
    );
    stream
}

/// Whether the watch ends (error or end of stream) within [`WATCH_END`]; events before that are
/// skipped.
async fn watch_ends(
    mut stream: impl futures::Stream<Item = kube::Result<WatchEvent<ConfigMap>>> + Unpin,
) -> bool {
    tokio::time::timeout(WATCH_END, async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn cut_ends_an_in_flight_watch() {
    let cp = testenv::shared().await;
    let proxy = cp.proxy().await.unwrap();
    let stream = open_watch(cp, &proxy).await;
    assert_eq!(proxy.cut(), 1);
    assert!(
        watch_ends(Box::pin(stream)).await,
        "the watch outlived the cut"
    );
}

#[tokio::test]
async fn reset_quiet_ends_a_watch_and_spares_a_fresh_request() {
    let cp = testenv::shared().await;
    let proxy = cp.proxy().await.unwrap();
    let stream = open_watch(cp, &proxy).await;
    // The fault schedule itself: the watch's client must have been silent for a while.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // A request in flight (held back by latency) on a new connection: its client just spoke.
    proxy.set_latency(Duration::from_millis(500));
    let client = cp.client_through(&proxy).await.unwrap();
    let in_flight = tokio::spawn(async move { Api::<Namespace>::all(client).get("default").await });
    eventually(
        "the request's connection",
        Duration::from_secs(10),
        || async { (proxy.connections() == 2).then_some(()) },
    )
    .await;
    assert_eq!(
        proxy.reset_quiet(Duration::from_secs(1)),
        1,
        "only the watch is quiet"
    );
    assert!(
        watch_ends(Box::pin(stream)).await,
        "the watch outlived the reset"
    );
    in_flight
        .await
        .unwrap()
        .expect("the fresh request was spared");
}

#[tokio::test]
async fn refused_connections_fail_for_the_period_then_succeed() {
    let cp = testenv::shared().await;
    let proxy = cp.proxy().await.unwrap();
    let client = cp.client_through(&proxy).await.unwrap();
    let api: Api<Namespace> = Api::all(client);
    api.get("default").await.unwrap();

    let period = Duration::from_secs(3);
    let refused_at = Instant::now();
    proxy.refuse_for(period);
    proxy.cut();
    api.get("default")
        .await
        .expect_err("a request during the refusal succeeded");
    eventually(
        "a request after the refusal",
        Duration::from_secs(30),
        || {
            let api = api.clone();
            async move { api.get("default").await.ok() }
        },
    )
    .await;
    assert!(
        refused_at.elapsed() >= period,
        "a request succeeded {:?} into a {period:?} refusal",
        refused_at.elapsed()
    );
}

#[tokio::test]
async fn latency_adds_to_each_round_trip() {
    let cp = testenv::shared().await;
    let proxy = cp.proxy().await.unwrap();
    let api: Api<Namespace> = Api::all(cp.client_through(&proxy).await.unwrap());
    api.get("default").await.unwrap();

    let latency = Duration::from_millis(300);
    proxy.set_latency(latency);
    let start = Instant::now();
    api.get("default").await.unwrap();
    // The request and its response are each held back once.
    assert!(
        start.elapsed() >= 2 * latency,
        "took only {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn bandwidth_limits_a_large_response() {
    let cp = testenv::shared().await;
    let admin = cp.client().await.unwrap();
    let ns = testenv::namespace(&admin, "proxy-bandwidth").await;
    let size = 200_000;
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "big"},
        "data": {"blob": "x".repeat(size)},
    }))
    .unwrap();
    Api::<ConfigMap>::namespaced(admin, &ns)
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();

    let proxy = cp.proxy().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(cp.client_through(&proxy).await.unwrap(), &ns);
    api.get("big").await.unwrap();
    let bytes_per_second = 100_000;
    proxy.set_bandwidth(Some(bytes_per_second));
    let start = Instant::now();
    api.get("big").await.unwrap();
    // All but the last chunk (at most 16 KiB) of the response are paced before it arrives.
    let floor = Duration::from_secs_f64((size - 16 * 1024) as f64 / bytes_per_second as f64);
    assert!(
        start.elapsed() >= floor,
        "took only {:?}, floor {floor:?}",
        start.elapsed()
    );
}
