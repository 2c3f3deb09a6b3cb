//! Workload autoscale (spec §6.3) against a real control plane: a Deployment's `autoscale:`
//! moves its replica count while a step's conditions hold, within `min`/`max`, for a
//! converged Deployment and a create-only one alike, and a converging reconcile does not undo
//! the change.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use runtime::Metrics;
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn replicas_follow_the_queue_depth_up_to_max_and_down_to_min() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "wscale").await;
    let crd = TestCrd::install(&client).await;
    let group = &crd.resource.group;
    let autoscale = "{min: 2, max: 6, cooldown: 1s, \
        scaleUp: {increment: 2, conditions: {when: [{field: spec.queueDepth, greaterThan: '100'}]}}, \
        scaleDown: {decrement: 3, conditions: {when: [{field: spec.queueDepth, lessThan: '20'}]}}}";
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: wscale}}
spec:
  crds:
    scaled:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        reconciler: {{workers: 1, resync: 1s}}
        onCreate:
          deployments:
            - name: converged
              image: nginx
              replicas: 2
              reconcile: true
              autoscale: {autoscale}
            - name: created
              image: nginx
              replicas: 2
              autoscale: {autoscale}
"
    );
    let (_dir, loaded) = crate::support::katalog_file(&text);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let api = crd.api(&client, &ns);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let replicas_are = |want: i32| {
        let deployments = deployments.clone();
        async move {
            eventually(
                &format!("both Deployments at {want} replicas"),
                WAIT,
                || {
                    let deployments = deployments.clone();
                    async move {
                        for name in ["converged", "created"] {
                            let d = deployments.get(name).await.ok()?;
                            (d.spec.replicas? == want).then_some(())?;
                        }
                        Some(())
                    }
                },
            )
            .await;
        }
    };

    api.create(
        &PostParams::default(),
        &crd.object("q", json!({"queueDepth": 50})),
    )
    .await
    .unwrap();
    replicas_are(2).await;

    let set_depth = |depth: i64| {
        let api = api.clone();
        async move {
            let patch = json!({"spec": {"queueDepth": depth}});
            api.patch("q", &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .unwrap();
        }
    };
    set_depth(150).await;
    // 2 → 4 → 6, then held at max.
    replicas_are(6).await;
    let d = deployments.get("converged").await.unwrap();
    let stamp = d.metadata.annotations.unwrap_or_default();
    assert!(
        stamp.contains_key(katalog::build::LAST_SCALE_ANNOTATION),
        "the time of the change is kept on the workload: {stamp:?}"
    );

    set_depth(5).await;
    // 6 → 3 → 2 (held at min).
    replicas_are(2).await;
    supervisor.stop().await.unwrap();
}
