//! `removeFinalizers: true` against a real control plane: ork puts none of its finalizers on
//! the CRD's CRs, takes them off a CR that carries them (others stay), and a deleted CR goes
//! at once.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use runtime::Metrics;
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn crs_carry_no_finalizer_of_orks_and_delete_at_once() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "stripfin").await;
    let crd = TestCrd::install(&client).await;
    let group = &crd.resource.group;
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: stripfin}}
spec:
  crds:
    stripped:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        runtime: {{removeFinalizers: true}}
        reconciler: {{workers: 1, resync: 1s}}
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-cm'
              data: {{a: b}}
"
    );
    let (_dir, loaded) = crate::support::katalog_file(&text);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let api = crd.api(&client, &ns);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);

    api.create(&PostParams::default(), &crd.object("fresh", json!({})))
        .await
        .unwrap();
    let mut carried = crd.object("carried", json!({}));
    carried.metadata.finalizers = Some(vec![
        katalog::labels::CLEANUP_FINALIZER.to_owned(),
        "example.com/keep".to_owned(),
    ]);
    api.create(&PostParams::default(), &carried).await.unwrap();

    for name in ["fresh-cm", "carried-cm"] {
        eventually(&format!("{name} to be created"), WAIT, || {
            let config_maps = config_maps.clone();
            async move { config_maps.get(name).await.ok() }
        })
        .await;
    }
    eventually("ork's finalizer to be taken off `carried`", WAIT, || {
        let api = api.clone();
        async move {
            let f = api.get("carried").await.ok()?.metadata.finalizers;
            (f == Some(vec!["example.com/keep".to_owned()])).then_some(())
        }
    })
    .await;
    let fresh = api.get("fresh").await.unwrap();
    assert!(
        fresh.metadata.finalizers.unwrap_or_default().is_empty(),
        "a reconciled CR carries no finalizer"
    );

    api.delete("fresh", &DeleteParams::default()).await.unwrap();
    // Nothing holds it: gone with the request, not after a delete path.
    assert!(api.get_opt("fresh").await.unwrap().is_none());
    supervisor.stop().await.unwrap();
}
