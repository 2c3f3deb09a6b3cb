//! `unique` validation rules in a running box: the other CRs come from the box's cache.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use runtime::Metrics;
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_box_denies_a_duplicate_unique_value_from_its_cache() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "unique").await;
    let crd = TestCrd::install(&client).await;
    let group = &crd.resource.group;
    let (_dir, loaded) = crate::support::katalog_file(&format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: unique}}
spec:
  crds:
    web:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      validation:
        rules:
          - {{field: spec.value, operator: unique, message: value already taken}}
      operatorBox:
        reconciler: {{resync: 1h, workers: 1}}
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-web'
              data: {{value: '{{{{ .spec.value }}}}'}}
"
    ));
    let api = crd.api(&client, &ns);
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &Metrics::new()).await;
    api.create(
        &PostParams::default(),
        &crd.object("first", json!({"value": "v1"})),
    )
    .await
    .unwrap();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    eventually("first-web", WAIT, || {
        let config_maps = config_maps.clone();
        async move { config_maps.get_opt("first-web").await.ok()?.map(|_| ()) }
    })
    .await;
    api.create(
        &PostParams::default(),
        &crd.object("copy", json!({"value": "v1"})),
    )
    .await
    .unwrap();
    let message = eventually("copy to be denied", WAIT, || {
        let api = api.clone();
        async move {
            let copy = api.get("copy").await.ok()?;
            let conditions = copy.data["status"]["conditions"].as_array()?.clone();
            conditions
                .into_iter()
                .find(|c| c["type"] == "ValidationFailed" && c["status"] == "True")
                .map(|c| c["message"].clone())
        }
    })
    .await;
    assert_eq!(message, "field \"spec.value\": value already taken");
    assert!(config_maps.get_opt("copy-web").await.unwrap().is_none());
    supervisor.stop().await.unwrap();
}
