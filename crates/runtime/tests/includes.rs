//! Rules from `validation.include` files and imported Motifs hold at reconcile time, as the
//! inline rules do.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use runtime::Metrics;
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn rules_from_an_include_file_and_a_motif_deny_at_reconcile_time() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "includes").await;
    let crd = TestCrd::install(&client).await;
    let group = &crd.resource.group;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        "rules:\n  - {field: spec.value, prefix: ok-, message: 'value must start with ok-'}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("motif.yaml"),
        "apiVersion: orkestra.orkspace.io/v1\nkind: Motif\nmetadata: {name: guard}\nadmission:\n  validation:\n    rules:\n      - {field: spec.value, notEquals: ok-forbidden, message: 'ok-forbidden is reserved'}\n",
    )
    .unwrap();
    let path = dir.path().join("katalog.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: includes}}
spec:
  crds:
    web:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      imports: [{{motif: ./motif.yaml}}]
      validation:
        include: ./rules.yaml
      operatorBox:
        reconciler: {{resync: 1h, workers: 1}}
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-web'
              data: {{value: '{{{{ .spec.value }}}}'}}
"
        ),
    )
    .unwrap();
    let loaded = katalog::load(&path).unwrap_or_else(|d| panic!("{}", d.render()));
    let api = crd.api(&client, &ns);
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &Metrics::new()).await;
    for (name, value) in [
        ("good", "ok-1"),
        ("bad", "nope"),
        ("reserved", "ok-forbidden"),
    ] {
        api.create(
            &PostParams::default(),
            &crd.object(name, json!({"value": value})),
        )
        .await
        .unwrap();
    }
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    eventually("good-web", WAIT, || {
        let config_maps = config_maps.clone();
        async move { config_maps.get_opt("good-web").await.ok()?.map(|_| ()) }
    })
    .await;
    for (name, expected) in [
        ("bad", "field \"spec.value\": value must start with ok-"),
        ("reserved", "field \"spec.value\": ok-forbidden is reserved"),
    ] {
        let message = eventually("the CR to be denied", WAIT, || {
            let api = api.clone();
            async move {
                let cr = api.get(name).await.ok()?;
                let conditions = cr.data["status"]["conditions"].as_array()?.clone();
                conditions
                    .into_iter()
                    .find(|c| c["type"] == "ValidationFailed" && c["status"] == "True")
                    .map(|c| c["message"].clone())
            }
        })
        .await;
        assert_eq!(message, expected, "{name}");
        let child = format!("{name}-web");
        assert!(
            config_maps.get_opt(&child).await.unwrap().is_none(),
            "{child}"
        );
    }
    supervisor.stop().await.unwrap();
}
