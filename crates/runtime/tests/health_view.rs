//! `.health` (spec §10.4) against a real control plane: templates of a CR read its box's
//! health record, as `/katalog/{crd}/health` reports it.

use std::time::Duration;

use kube::api::PostParams;
use runtime::Metrics;
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn status_fields_read_the_boxs_health() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "healthview").await;
    let crd = TestCrd::install(&client).await;
    let group = &crd.resource.group;
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: healthview}}
spec:
  crds:
    watched:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        reconciler: {{workers: 1, resync: 1s}}
        status:
          fields:
            - path: boxState
              value: '{{{{ .health.state }}}}'
            - path: boxName
              value: '{{{{ .health.name }}}}'
            - path: boxResources
              value: '{{{{ .health.resourceCount }}}}'
            - path: lastError
              value: '{{{{ .health.lastError }}}}'
"
    );
    let (_dir, loaded) = crate::support::katalog_file(&text);
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let api = crd.api(&client, &ns);
    api.create(&PostParams::default(), &crd.object("one", json!({})))
        .await
        .unwrap();
    // The first reconcile sees `started` (none finished yet); a later one `healthy`.
    eventually("the CR to show its box healthy", WAIT, || {
        let api = api.clone();
        async move {
            let status = api.get("one").await.ok()?.data.get("status")?.clone();
            (status["boxState"] == "healthy").then_some(status)
        }
    })
    .await;
    let status = api.get("one").await.unwrap().data["status"].clone();
    assert_eq!(status["boxName"], "watched");
    assert_eq!(status["boxResources"], "1");
    assert_eq!(status["lastError"], "");
    supervisor.stop().await.unwrap();
}
