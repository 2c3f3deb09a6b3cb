//! `observe.events` against a real control plane: an Event regarding a CR queues that CR when
//! the declaration's enqueueGate, reading the Event as `.events.<name>`, passes; one the gate
//! holds queues nothing.
//!
//! One worker takes keys in order and one watch sees the Events in order, so once the CR
//! queued by a later, passing Event has been reconciled, a CR an earlier Event had queued
//! would have been reconciled before it. Each CR's child ConfigMap records the box's reconcile
//! count at that CR's last reconcile (`.metrics.reconcileCount`).

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, ObjectReference};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::PostParams;
use runtime::Metrics;
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn an_event_regarding_a_cr_queues_it_when_its_gate_reading_events_passes() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "obsevents").await;
    let crd = TestCrd::install(&client).await;
    let group = crd.resource.group.clone();
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: obsevents}}
spec:
  crds:
    watcher:
      resync: 1h
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        reconciler: {{workers: 1}}
        observe:
          events:
            poked:
              reason: OrkTestPoke
              regarding: {{kind: Widget}}
              enqueueGate:
                when: [{{field: '{{{{ .events.poked.note }}}}', equals: go}}]
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-seen'
              data: {{n: '{{{{ .metrics.reconcileCount }}}}'}}
"
    );
    let (_dir, loaded) = crate::support::katalog_file(&text);
    assert!(
        loaded.warnings.iter().all(|w| w.code == "experimental"),
        "{:?}",
        loaded.warnings
    );
    assert_eq!(loaded.warnings.len(), 1, "observe.events is experimental");
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let api = crd.api(&client, &ns);
    let mut uids = std::collections::HashMap::new();
    for name in ["a", "b"] {
        let cr = api
            .create(&PostParams::default(), &crd.object(name, json!({})))
            .await
            .unwrap();
        uids.insert(name, cr.metadata.uid.unwrap());
    }
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let seen = |cr: &'static str| {
        let config_maps = config_maps.clone();
        async move {
            let cm = config_maps.get_opt(&format!("{cr}-seen")).await.ok()??;
            cm.data?.get("n").cloned()
        }
    };
    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let poke = |cr: &'static str, note: &'static str| {
        let events = events.clone();
        let regarding = ObjectReference {
            api_version: Some(crd.resource.api_version.clone()),
            kind: Some("Widget".into()),
            name: Some(cr.into()),
            namespace: Some(ns.clone()),
            uid: Some(uids[cr].clone()),
            ..ObjectReference::default()
        };
        async move {
            let event = Event {
                metadata: ObjectMeta {
                    generate_name: Some(format!("{cr}-poke-")),
                    ..ObjectMeta::default()
                },
                event_time: Some(MicroTime(Timestamp::now())),
                reason: Some("OrkTestPoke".into()),
                action: Some("Poke".into()),
                note: Some(note.into()),
                type_: Some("Normal".into()),
                reporting_controller: Some("example.com/test".into()),
                reporting_instance: Some("test".into()),
                regarding: Some(regarding),
                ..Event::default()
            };
            events.create(&PostParams::default(), &event).await.unwrap();
        }
    };
    // Until `b` is reconciled after a passing Event, nothing queued earlier is pending.
    let b_reconciled_after_a_go = || async {
        let before = eventually("b's child", WAIT, || seen("b")).await;
        poke("b", "go").await;
        eventually("the passing Event to reconcile b", WAIT, || {
            let before = before.clone();
            async move { seen("b").await.filter(|now| *now != before) }
        })
        .await;
    };
    eventually("a's child", WAIT, || seen("a")).await;
    b_reconciled_after_a_go().await;
    let a_before = seen("a").await.unwrap();

    poke("a", "hold").await;
    b_reconciled_after_a_go().await;
    assert_eq!(
        seen("a").await.unwrap(),
        a_before,
        "an Event the gate holds queued `a`"
    );

    poke("a", "go").await;
    eventually("the passing Event to reconcile a", WAIT, || {
        let a_before = a_before.clone();
        async move { seen("a").await.filter(|now| *now != a_before) }
    })
    .await;
    supervisor.stop().await.unwrap();
}
