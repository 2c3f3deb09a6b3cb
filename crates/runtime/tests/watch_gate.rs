//! Enqueue gates on `watch:` triggers against a real control plane: a change of a watched
//! object that the gate holds queues nothing; one it passes queues the CR its label names.
//!
//! One worker takes keys in order, and one watch task sees the changes in order, so when the
//! CR queued by a later, passing change has been reconciled, a CR an earlier change had queued
//! would have been reconciled before it. Each CR's child ConfigMap records the box's reconcile
//! count at that CR's last reconcile (`.metrics.reconcileCount`).

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use runtime::Metrics;
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_held_change_queues_nothing_and_a_passing_one_queues_its_cr() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "watchgate").await;
    let crd = TestCrd::install(&client).await;
    let group = &crd.resource.group;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    for (name, cr, pass) in [("held", "a", "no"), ("open", "b", "yes")] {
        let cm: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"watch.test/cr": cr, "pass": pass}},
            "data": {"n": "0"},
        }))
        .unwrap();
        config_maps
            .create(&PostParams::default(), &cm)
            .await
            .unwrap();
    }
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: watchgate}}
spec:
  crds:
    watcher:
      resync: 1h
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        reconciler: {{workers: 1}}
        observe:
          watch:
            - apiVersion: v1
              kind: ConfigMap
              on: [update]
              keyFrom: {{label: watch.test/cr}}
              enqueueGate:
                when: [{{field: metadata.labels.pass, equals: 'yes'}}]
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-seen'
              data: {{n: '{{{{ .metrics.reconcileCount }}}}'}}
"
    );
    let (_dir, loaded) = crate::support::katalog_file(&text);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let api = crd.api(&client, &ns);
    for name in ["a", "b"] {
        api.create(&PostParams::default(), &crd.object(name, json!({})))
            .await
            .unwrap();
    }
    let seen = |cr: &'static str| {
        let config_maps = config_maps.clone();
        async move {
            let cm = config_maps.get_opt(&format!("{cr}-seen")).await.ok()??;
            cm.data?.get("n").cloned()
        }
    };
    let bump = |name: &'static str, n: u32| {
        let config_maps = config_maps.clone();
        async move {
            let patch = json!({"data": {"n": n.to_string()}});
            config_maps
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .unwrap();
        }
    };
    // Until `b` is reconciled after a passing change, nothing queued earlier is pending.
    let b_reconciled_after = |n: u32| async move {
        let before = eventually("b's child", WAIT, || seen("b")).await;
        bump("open", n).await;
        eventually("the passing change to reconcile b", WAIT, || {
            let before = before.clone();
            async move { seen("b").await.filter(|now| *now != before) }
        })
        .await;
    };
    eventually("a's child", WAIT, || seen("a")).await;
    b_reconciled_after(1).await;
    let a_before = seen("a").await.unwrap();

    bump("held", 1).await;
    b_reconciled_after(2).await;
    assert_eq!(
        seen("a").await.unwrap(),
        a_before,
        "the held change of `held` queued `a`"
    );
    supervisor.stop().await.unwrap();
}

/// The CRD's own `preReconcile.enqueueGate` holds a CR a `watch:` trigger names, as it holds
/// the CR's own events: `a` (closed) is never queued, not even by its ConfigMap's change.
#[tokio::test]
async fn the_crds_enqueue_gate_holds_a_watch_trigger_of_a_cr_it_holds() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "crdgate").await;
    let crd = TestCrd::install(&client).await;
    let group = &crd.resource.group;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    for (name, cr) in [("for-a", "a"), ("for-b", "b")] {
        let cm: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"watch.test/cr": cr}},
            "data": {"n": "0"},
        }))
        .unwrap();
        config_maps
            .create(&PostParams::default(), &cm)
            .await
            .unwrap();
    }
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: crdgate}}
spec:
  crds:
    watcher:
      resync: 1h
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        reconciler: {{workers: 1}}
        preReconcile:
          enqueueGate:
            when: [{{field: spec.open, equals: 'yes'}}]
        observe:
          watch:
            - apiVersion: v1
              kind: ConfigMap
              on: [update]
              keyFrom: {{label: watch.test/cr}}
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-seen'
              data: {{n: '{{{{ .metrics.reconcileCount }}}}'}}
"
    );
    let (_dir, loaded) = crate::support::katalog_file(&text);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let api = crd.api(&client, &ns);
    for (name, open) in [("a", "no"), ("b", "yes")] {
        api.create(
            &PostParams::default(),
            &crd.object(name, json!({"open": open})),
        )
        .await
        .unwrap();
    }
    let seen = |cr: &'static str| {
        let config_maps = config_maps.clone();
        async move {
            let cm = config_maps.get_opt(&format!("{cr}-seen")).await.ok()??;
            cm.data?.get("n").cloned()
        }
    };
    let bump = |name: &'static str, n: u32| {
        let config_maps = config_maps.clone();
        async move {
            let patch = json!({"data": {"n": n.to_string()}});
            config_maps
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .unwrap();
        }
    };
    // Until `b` is reconciled after its trigger, nothing queued earlier is pending.
    let b_reconciled_after = |n: u32| async move {
        let before = eventually("b's child", WAIT, || seen("b")).await;
        bump("for-b", n).await;
        eventually("b's trigger to reconcile b", WAIT, || {
            let before = before.clone();
            async move { seen("b").await.filter(|now| *now != before) }
        })
        .await;
    };
    b_reconciled_after(1).await;
    bump("for-a", 1).await;
    b_reconciled_after(2).await;
    assert_eq!(seen("a").await, None, "the trigger of `a` queued it");
    supervisor.stop().await.unwrap();
}
