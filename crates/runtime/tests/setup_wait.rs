//! `setup.wait` against a real control plane: `cluster::prepare` returns only once a listed
//! object exists (and is ready when asked), and fails naming the object when it does not
//! come in time.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

fn katalog(ns: &str, waits: &str) -> (tempfile::TempDir, katalog::Loaded) {
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: setupwait}}
spec:
  crds:
    thing:
      apiTypes: {{group: setupwait.example.com, version: v1, kind: Thing, plural: things}}
      setup:
        wait:
{waits}
"
    )
    .replace("NS", ns);
    crate::support::katalog_file(&text)
}

#[tokio::test]
async fn prepare_waits_for_a_listed_object_and_fails_when_it_does_not_come() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "setupwait").await;
    let (_dir, loaded) = katalog(
        &ns,
        "          - {kind: configmap, name: late, namespace: NS, timeout: 60s}",
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let prepare = {
        let client = client.clone();
        let katalog = loaded.katalog.clone();
        tokio::spawn(async move {
            runtime::cluster::prepare(&client, &katalog, Duration::from_secs(60)).await
        })
    };
    // It cannot finish before the object exists: it is created only now.
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    assert!(
        !prepare.is_finished(),
        "prepare returned before the object existed"
    );
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "late"}})).unwrap();
    config_maps
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(60), prepare)
        .await
        .expect("prepare to return once the object exists")
        .unwrap()
        .unwrap();

    // Present but never ready: a ConfigMap has no conditions.
    let (_dir, loaded) = katalog(
        &ns,
        "          - {kind: ConfigMap, name: late, namespace: NS, ready: true, timeout: 2s}",
    );
    let err = runtime::cluster::prepare(&client, &loaded.katalog, Duration::from_secs(60))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("setup.wait ConfigMap/late: not ready after 2s (present, not ready)"),
        "{err}"
    );
}
