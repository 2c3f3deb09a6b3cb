//! Control-plane faults, each on a dedicated control plane (restarting the shared one would
//! break the tests running beside it): kube-apiserver and etcd SIGKILLed and restarted keep
//! their data, and a starved API server answers 429.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;
use kube::api::PostParams;
use testenv::{Config, ControlPlane, Identity};

use crate::util::eventually;

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap()
}

async fn readyz(client: &kube::Client) -> bool {
    let request = http::Request::get("/readyz").body(Vec::new()).unwrap();
    matches!(client.request_text(request).await, Ok(body) if body.trim() == "ok")
}

#[tokio::test]
async fn apiserver_killed_and_restarted_keeps_its_data_and_port() {
    let mut cp = ControlPlane::start(Config::new().controller_manager(false))
        .await
        .unwrap();
    let server = cp.server().to_string();
    let client = cp.client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &config_map("before"))
        .await
        .unwrap();

    cp.kill_apiserver();
    api.get("before")
        .await
        .expect_err("the API server answered after SIGKILL");
    cp.start_apiserver().await.unwrap();

    assert_eq!(cp.server(), server);
    assert!(cp.is_running());
    // The same client (same port, same certificates) works again, and etcd kept the object.
    api.get("before").await.unwrap();
    api.create(&PostParams::default(), &config_map("after"))
        .await
        .unwrap();
}

#[tokio::test]
async fn etcd_killed_and_restarted_keeps_its_data() {
    let mut cp = ControlPlane::start(Config::new().controller_manager(false))
        .await
        .unwrap();
    let client = cp.client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &config_map("before"))
        .await
        .unwrap();

    cp.kill_etcd();
    eventually(
        "the API server to report not ready",
        Duration::from_secs(60),
        || {
            let client = client.clone();
            async move { (!readyz(&client).await).then_some(()) }
        },
    )
    .await;
    cp.start_etcd().await.unwrap();

    assert!(cp.is_running());
    assert!(readyz(&client).await);
    api.get("before").await.unwrap();
    api.create(&PostParams::default(), &config_map("after"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_starved_apiserver_answers_429_under_load() {
    let cp = ControlPlane::start(
        Config::new()
            .controller_manager(false)
            .max_requests_inflight(1, 1),
    )
    .await
    .unwrap();
    // system:masters is exempt from the in-flight limits; an ordinary user with full rights
    // is not.
    let user = "starved";
    let admin = cp.client().await.unwrap();
    let binding: k8s_openapi::api::rbac::v1::ClusterRoleBinding =
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": user},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        }))
        .unwrap();
    Api::all(admin)
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
    // kube's client retries 429s itself (honouring Retry-After); without that, each 429 shows.
    let text = cp.kubeconfig_as(&Identity::user(user, &[])).unwrap();
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&text).unwrap();
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    config.default_retry = false;
    let client = kube::Client::try_from(config).unwrap();

    let requests = (0..100).map(|i| {
        let client = client.clone();
        async move {
            if i % 2 == 0 {
                Api::<Namespace>::all(client)
                    .list(&Default::default())
                    .await
                    .map(|_| ())
            } else {
                Api::<ConfigMap>::namespaced(client, "default")
                    .create(&PostParams::default(), &config_map(&format!("cm-{i}")))
                    .await
                    .map(|_| ())
            }
        }
    });
    let results = futures::future::join_all(requests).await;
    let throttled = results
        .iter()
        .filter(|r| matches!(r, Err(kube::Error::Api(s)) if s.code == 429))
        .count();
    let other: Vec<_> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .filter(|e| !matches!(e, kube::Error::Api(s) if s.code == 429))
        .map(ToString::to_string)
        .collect();
    assert!(throttled > 0, "no 429 among 100 concurrent requests");
    assert!(other.is_empty(), "errors other than 429: {other:?}");
}
