//! A restarted ork (a new Reconciler: nothing remembered) writes nothing for children that
//! are as their intent wants them, and still corrects those that are not.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use runtime::reconcile::apply::APPLIED;
use serde_json::json;

use super::World;

/// A Deployment, a Service and a ConfigMap: kinds the API server fills with defaults.
const SITE: &str = r#"
        onReconcile:
          deployments:
            - name: '{{ .metadata.name }}'
              image: '{{ .spec.image }}'
          services:
            - name: '{{ .metadata.name }}-svc'
              port: '80'
          configMaps:
            - name: '{{ .metadata.name }}-config'
              data: {greeting: '{{ .spec.greeting }}'}
"#;

/// The writes to children among `writes` (not to the CR, nor Events).
fn children(writes: &[String]) -> Vec<&str> {
    writes
        .iter()
        .map(String::as_str)
        .filter(|x| !x.contains(" widgets") && !x.contains(" events "))
        .collect()
}

#[tokio::test]
async fn after_a_restart_steady_children_get_no_write_and_drifted_ones_are_put_back() {
    let mut w = World::new("restart", "", SITE).await;
    w.create("s", json!({"image": "nginx:1.25", "greeting": "hi"}))
        .await;
    w.reconcile("s").await.unwrap();
    let deployments: Api<Deployment> = Api::namespaced(w.admin.clone(), &w.ns);
    let d = deployments.get("s").await.unwrap();
    assert!(
        d.metadata
            .annotations
            .unwrap_or_default()
            .contains_key(APPLIED),
        "the applied intent's digest rides on the apply"
    );

    w.restart();
    let (result, writes) = w.writes_during(w.reconcile("s")).await;
    result.unwrap();
    assert!(writes.is_empty(), "a restarted ork wrote: {writes:?}");
    assert_eq!(w.reconciler.remembered_children(), 3);

    // A hand edit while ork is away: the digest still matches, the content does not.
    let edit = json!({"data": {"greeting": "hacked"}});
    w.config_maps()
        .patch("s-config", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    w.restart();
    let (result, writes) = w.writes_during(w.reconcile("s")).await;
    result.unwrap();
    assert_eq!(
        children(&writes),
        ["patch configmaps s-config"],
        "{writes:?}"
    );
    let cm = w.config_maps().get("s-config").await.unwrap();
    assert_eq!(cm.data.unwrap()["greeting"], "hi");

    // A label ork put on a child removed by hand.
    let strip = json!({"metadata": {"labels": {"orkestra-owner": null}}});
    deployments
        .patch("s", &PatchParams::default(), &Patch::Merge(&strip))
        .await
        .unwrap();
    w.restart();
    let (result, writes) = w.writes_during(w.reconcile("s")).await;
    result.unwrap();
    assert_eq!(children(&writes), ["patch deployments s"], "{writes:?}");
    let d = deployments.get("s").await.unwrap();
    assert_eq!(d.metadata.labels.unwrap()["orkestra-owner"], "s");

    // The intent changed while ork was away: only what differs is written.
    w.set_spec("s", json!({"greeting": "hello"})).await;
    w.restart();
    let (result, writes) = w.writes_during(w.reconcile("s")).await;
    result.unwrap();
    assert_eq!(
        children(&writes),
        ["patch configmaps s-config"],
        "{writes:?}"
    );
    let cm = w.config_maps().get("s-config").await.unwrap();
    assert_eq!(cm.data.unwrap()["greeting"], "hello");
}
