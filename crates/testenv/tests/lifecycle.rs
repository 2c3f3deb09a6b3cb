use std::time::Duration;

use testenv::{Config, ControlPlane, Identity};

/// A dedicated control plane (not the shared one): after stop, none of its processes is left
/// and its temporary directory is gone.
#[tokio::test]
async fn start_then_stop_leaves_no_process_and_no_directory() {
    let mut cp = ControlPlane::start(Config::new()).await.unwrap();
    let pids = cp.pids();
    let dir = cp.dir().to_path_buf();
    assert_eq!(
        pids.len(),
        4,
        "etcd, apiserver, controller manager, janitor: {pids:?}"
    );
    assert!(pids.iter().all(|&p| testenv::is_alive(p)));
    assert!(cp.is_running());

    let client = cp.client().await.unwrap();
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(version.git_version, testenv::KUBERNETES_VERSION);

    cp.stop(Duration::from_secs(10));
    drop(cp);
    crate::util::assert_all_gone(&pids);
    assert!(!dir.exists(), "{} was not removed", dir.display());
}

/// A ServiceAccount identity authenticates and is subject to RBAC: with no binding it may not
/// list namespaces.
#[tokio::test]
async fn a_service_account_identity_is_not_an_admin() {
    let cp = testenv::shared().await;
    let client = cp
        .client_as(&Identity::service_account("default", "nobody"))
        .await
        .unwrap();
    let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client);
    let err = api.list(&Default::default()).await.unwrap_err();
    match err {
        kube::Error::Api(status) => assert_eq!(status.code, 403, "{status:?}"),
        other => panic!("expected 403 Forbidden, got {other}"),
    }
}
