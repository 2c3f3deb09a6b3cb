use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};

use crate::util::{TestCrd, eventually};

#[tokio::test]
async fn an_owned_config_map_is_garbage_collected_with_its_owner() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "gc").await;
    let crd = TestCrd::install(&client).await;
    let crs = crd.api(&client, &ns);
    let owner = crs
        .create(
            &PostParams::default(),
            &crd.object("owner", serde_json::json!({})),
        )
        .await
        .unwrap();

    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let child = serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "child",
            "ownerReferences": [{
                "apiVersion": crd.resource.api_version,
                "kind": "Widget",
                "name": "owner",
                "uid": owner.metadata.uid.clone().unwrap(),
                "controller": true,
                "blockOwnerDeletion": true
            }]
        },
        "data": {"k": "v"}
    });
    config_maps
        .patch(
            "child",
            &PatchParams::apply("ork-testenv").force(),
            &Patch::Apply(&child),
        )
        .await
        .unwrap();
    assert!(config_maps.get_opt("child").await.unwrap().is_some());

    crs.delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    eventually(
        "kube-controller-manager to collect the ConfigMap",
        Duration::from_secs(60),
        || {
            let config_maps = config_maps.clone();
            async move {
                config_maps
                    .get_opt("child")
                    .await
                    .unwrap()
                    .is_none()
                    .then_some(())
            }
        },
    )
    .await;
}
