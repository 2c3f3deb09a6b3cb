//! `preReconcile` gates against a real control plane: the reconcile gate holds a CR back
//! (the box shows `gated`) until its condition holds; the enqueue gate with a sentinel lets
//! only the changes it names through.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use runtime::{Metrics, State};
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

fn katalog(group: &str, pre_reconcile: &str) -> (tempfile::TempDir, katalog::Loaded) {
    crate::support::widget_katalog(
        "gates",
        group,
        &format!(
            "        preReconcile:
{pre_reconcile}
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-web'
              data:
                value: '{{{{ .spec.value }}}}'
                tier: '{{{{ index .metadata.labels \"tier\" }}}}'
"
        ),
    )
}

async fn child_holds(client: &kube::Client, ns: &str, key: &str, value: &str) {
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    eventually(&format!("site-web to hold {key}={value}"), WAIT, || {
        let config_maps = config_maps.clone();
        async move {
            let data = config_maps.get_opt("site-web").await.ok()??.data?;
            (data.get(key).map(String::as_str).unwrap_or_default() == value).then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn the_reconcile_gate_holds_a_cr_until_its_condition_holds() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "rgate").await;
    let crd = TestCrd::install(&client).await;
    let (_dir, loaded) = katalog(
        &crd.resource.group,
        "          reconcileGate:\n            when: [{field: spec.paused, notEquals: 'true'}]",
    );
    let api = crd.api(&client, &ns);
    api.create(
        &PostParams::default(),
        &crd.object("site", json!({"value": "v1", "paused": "true"})),
    )
    .await
    .unwrap();
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let web = supervisor.operator_box("web").unwrap();

    eventually("the box to be gated", WAIT, || async {
        (web.health().state() == State::Gated).then_some(())
    })
    .await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    assert!(config_maps.get_opt("site-web").await.unwrap().is_none());
    assert_eq!(web.health().snapshot("web").total_reconciles, 0);
    assert!(
        metrics
            .encode()
            .contains(r#"controller_reconcile_total{crd="web",result="success"} 0"#)
    );

    api.patch(
        "site",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": "false"}})),
    )
    .await
    .unwrap();
    child_holds(&client, &ns, "value", "v1").await;
    eventually("the gate to clear", WAIT, || async {
        (web.health().state() == State::Healthy).then_some(())
    })
    .await;
    supervisor.stop().await.unwrap();
}

#[tokio::test]
async fn an_enqueue_gate_on_generation_changes_lets_label_edits_wait() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "egate").await;
    let crd = TestCrd::install(&client).await;
    let (_dir, loaded) = katalog(
        &crd.resource.group,
        "          sentinels: [generationChanged]\n          enqueueGate: {sentinels: [generationChanged]}",
    );
    let api = crd.api(&client, &ns);
    let mut site = crd.object("site", json!({"value": "v1"}));
    site.metadata.labels = Some([("tier".to_owned(), "gold".to_owned())].into());
    api.create(&PostParams::default(), &site).await.unwrap();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &Metrics::new()).await;
    let web = supervisor.operator_box("web").unwrap();
    child_holds(&client, &ns, "tier", "gold").await;
    // The child exists before the reconcile that wrote it returns and is counted.
    eventually("the first reconcile to be counted", WAIT, || async {
        (web.health().snapshot("web").total_reconciles >= 1).then_some(())
    })
    .await;
    let total = web.health().snapshot("web").total_reconciles;

    // A label edit changes no generation: the gate keeps it out of the queue. A CR created
    // after it is a barrier: with one worker and a first-in-first-out queue, had the edit been
    // queued, it would be reconciled before the barrier is.
    api.patch(
        "site",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"tier": "silver"}}})),
    )
    .await
    .unwrap();
    api.create(
        &PostParams::default(),
        &crd.object("barrier", json!({"value": "b"})),
    )
    .await
    .unwrap();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    eventually("the barrier to be reconciled", WAIT, || {
        let config_maps = config_maps.clone();
        async move { config_maps.get_opt("barrier-web").await.ok()?.map(|_| ()) }
    })
    .await;
    eventually("the barrier's reconcile to be counted", WAIT, || async {
        (web.health().snapshot("web").total_reconciles > total).then_some(())
    })
    .await;
    assert_eq!(web.health().snapshot("web").total_reconciles, total + 1);
    child_holds(&client, &ns, "tier", "gold").await;

    // A spec edit does: the reconcile then sees the label too.
    api.patch(
        "site",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"value": "v2"}})),
    )
    .await
    .unwrap();
    child_holds(&client, &ns, "value", "v2").await;
    child_holds(&client, &ns, "tier", "silver").await;
    supervisor.stop().await.unwrap();
}
