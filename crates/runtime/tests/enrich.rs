//! Enrichment (spec §8.2) on simulated workloads: status fields read `_pods`, `_endpoints`,
//! `_lastJob` and `_warnings` through the notes, for the targets the Katalog's `enrich` list
//! turns on, and a gated target only while its `when:` holds.

use std::time::Duration;

use k8s_openapi::api::core::v1::Event;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::json;
use testenv::eventually;

use crate::status_of;

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: shops.enrich.ork.dev}
spec:
  group: enrich.ork.dev
  scope: Namespaced
  names: {kind: Shop, plural: shops, singular: shop}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
            status: {type: object, x-kubernetes-preserve-unknown-fields: true}
";

const KATALOG: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: enrich}
spec:
  crds:
    shop:
      crdFile: ./crd.yaml
      enrich:
        - pods
        - endpoints
        - cronjob
        - events:
            when:
              - field: spec.debug
                equals: "true"
      operatorBox:
        reconciler: {resync: 1s}
        status:
          fields:
            - path: pods
              value: "{{ podCount .children.deployment }}"
            - path: readyPods
              value: "{{ readyPodCount .children.deployment }}"
            - path: endpoints
              value: "{{ serviceEndpointCount .children.service }}"
            - path: lastJob
              value: "{{ cronJobLastJobName .children.cronjob }}"
            - path: warnings
              value: "{{ warningCount .children.deployment }}"
            - path: firstWarning
              value: "{{ firstWarning .children.deployment }}"
        onReconcile:
          deployments:
            - name: "{{ .metadata.name }}"
              image: nginx
              replicas: "{{ .spec.replicas }}"
              port: "8080"
          services:
            - name: "{{ .metadata.name }}"
              port: "80"
              targetPort: "8080"
          cronJobs:
            - name: "{{ .metadata.name }}-nightly"
              image: busybox
              schedule: "* * * * *"
"#;

#[tokio::test]
async fn status_follows_pods_endpoints_cron_runs_and_gated_warnings() {
    let cp = testenv::shared_with(testenv::Config::new().workloads(true)).await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "enrich").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("crd.yaml"), CRD).unwrap();
    std::fs::write(dir.path().join("katalog.yaml"), KATALOG).unwrap();
    let (supervisor, _) = crate::run_pack(&client, dir.path().to_path_buf()).await;

    // A Warning about the Deployment, there before the CR: `_warnings` is gated off.
    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let event: Event = serde_json::from_value(json!({
        "metadata": {"name": "shop.warning"},
        "involvedObject": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop", "namespace": ns},
        "reason": "FailedCreate",
        "message": "quota exceeded",
        "type": "Warning",
        "count": 1,
        "lastTimestamp": "2026-01-01T00:00:00Z",
        "source": {"component": "test"},
    }))
    .unwrap();
    events.create(&PostParams::default(), &event).await.unwrap();

    let gvk = GroupVersionKind::gvk("enrich.ork.dev", "v1", "Shop");
    let shops: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &ns,
        &ApiResource::from_gvk_with_plural(&gvk, "shops"),
    );
    let mut shop = DynamicObject::new("shop", &ApiResource::from_gvk_with_plural(&gvk, "shops"));
    shop.data = json!({"spec": {"replicas": 2, "debug": "false"}});
    shops.create(&PostParams::default(), &shop).await.unwrap();

    let wait = Duration::from_secs(150);
    let cr = eventually(
        "2 ready Pods, 2 endpoints and a CronJob run in status",
        wait,
        || async {
            let cr = shops.get_opt("shop").await.ok()??;
            (status_of(&cr, "readyPods") == "2"
                && status_of(&cr, "endpoints") == "2"
                && status_of(&cr, "lastJob").starts_with("shop-nightly-"))
            .then_some(cr)
        },
    )
    .await;
    assert_eq!(status_of(&cr, "pods"), "2");
    assert_eq!(
        status_of(&cr, "warnings"),
        "0",
        "events enrichment is gated on spec.debug"
    );

    // Opening the gate and scaling: the Warning shows, and `_pods` counts the new Pod.
    shops
        .patch(
            "shop",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3, "debug": "true"}})),
        )
        .await
        .unwrap();
    eventually(
        "3 Pods and the Warning in status",
        Duration::from_secs(90),
        || async {
            let cr = shops.get_opt("shop").await.ok()??;
            (status_of(&cr, "pods") == "3"
                && status_of(&cr, "readyPods") == "3"
                && status_of(&cr, "warnings") == "1"
                && status_of(&cr, "firstWarning") == "quota exceeded")
                .then_some(())
        },
    )
    .await;
    supervisor.stop().await.unwrap();
}
