//! Status options, requeue and Event dedupe.

use std::time::Duration;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams};
use runtime::events::{EventType, Recorder};
use runtime::reconcile::Action;
use serde_json::json;

use super::World;

const CONFIG: &str = r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-config'
              data: {a: b}
"#;

#[tokio::test]
async fn requeue_after_is_returned_only_while_its_condition_holds() {
    let w = World::new(
        "requeue",
        "",
        &format!(
            r#"        reconciler:
          requeue:
            after: '{{{{ .spec.every }}}}'
            when: [{{field: spec.poll, equals: 'yes'}}]
{CONFIG}"#
        ),
    )
    .await;
    w.create("r", json!({"every": "45s", "poll": "yes"})).await;
    assert_eq!(
        w.reconcile("r").await.unwrap(),
        Action::RequeueAfter(Duration::from_secs(45))
    );
    w.set_spec("r", json!({"every": "45s", "poll": "no"})).await;
    assert_eq!(w.reconcile("r").await.unwrap(), Action::Done);
}

#[tokio::test]
async fn without_conditions_only_declared_fields_are_written_and_ignore_status_patch_writes_none() {
    let w = World::new(
        "noconditions",
        "",
        &format!(
            r#"        status:
          conditions: false
          fields:
            - {{path: phase, value: Running}}
{CONFIG}"#
        ),
    )
    .await;
    w.create("n", json!({})).await;
    w.reconcile("n").await.unwrap();
    let status = w.get("n").await.data["status"].clone();
    assert_eq!(status["phase"], "Running");
    assert!(status.get("conditions").is_none(), "{status}");

    let w = World::new("ignorestatus", "      ignoreStatusPatch: true", CONFIG).await;
    w.create("i", json!({})).await;
    w.reconcile("i").await.unwrap();
    assert!(w.get("i").await.data.get("status").is_none());
    assert!(w.config_maps().get_opt("i-config").await.unwrap().is_some());
}

#[tokio::test]
async fn identical_events_aggregate_into_one_and_a_new_message_is_a_new_event() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "events").await;
    let recorder = Recorder::new(client.clone(), "orkestra", "test");
    let regarding = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("ConfigMap".into()),
        name: Some("subject".into()),
        namespace: Some(ns.clone()),
        uid: Some("uid-1".into()),
        ..ObjectReference::default()
    };
    for _ in 0..3 {
        recorder
            .publish(&regarding, EventType::Warning, "ReconcileError", "boom")
            .await
            .unwrap();
    }
    recorder
        .publish(&regarding, EventType::Warning, "ReconcileError", "other")
        .await
        .unwrap();
    let events: Api<Event> = Api::namespaced(client, &ns);
    let list = events.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(list.len(), 2, "{list:?}");
    let boom = list
        .iter()
        .find(|e| e.note.as_deref() == Some("boom"))
        .unwrap();
    assert_eq!(boom.series.as_ref().map(|s| s.count), Some(3));
    assert_eq!(boom.type_.as_deref(), Some("Warning"));
    assert_eq!(boom.reporting_controller.as_deref(), Some("orkestra"));
}
