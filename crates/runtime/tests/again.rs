//! A reconcile's own status write is followed by one more reconcile once it is in the cache, as
//! Orkestra's status patch is (a watch event there): a child gated on `status.*` follows the
//! status the previous reconcile wrote at once, not at the next resync (an hour here).

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use runtime::Metrics;
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

#[tokio::test]
async fn a_child_gated_on_the_status_follows_the_status_the_reconcile_wrote() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "again").await;
    let crd = TestCrd::install(&client).await;
    // Three steps: `one` is written first; `stage` becomes `two` once `one` exists in the
    // status the reconcile reads, and `-second` once `stage` is `two`.
    let (_dir, loaded) = crate::support::widget_katalog(
        "again",
        &crd.resource.group,
        r#"        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-first'
              data: {a: b}
            - name: '{{ .metadata.name }}-second'
              data: {a: b}
              when:
                - {field: status.stage, equals: two}
        status:
          fields:
            - {path: first, value: done}
            - path: stage
              value: two
              when:
                - {field: status.first, equals: done}
"#,
    );
    let api = crd.api(&client, &ns);
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    api.create(&PostParams::default(), &crd.object("w", json!({})))
        .await
        .unwrap();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    eventually(
        "w-second, two status writes later",
        Duration::from_secs(20),
        || {
            let config_maps = config_maps.clone();
            async move { config_maps.get_opt("w-second").await.ok()?.map(|_| ()) }
        },
    )
    .await;
    let status = api.get("w").await.unwrap().data["status"].clone();
    assert_eq!(status["stage"], "two", "{status}");
    supervisor.stop().await.unwrap();
}
