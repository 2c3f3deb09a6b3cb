//! `emit.events`: named Events on the CR with rendered messages, at the lifecycle points they
//! name, once per change rather than once per reconcile.

use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, ListParams};
use serde_json::json;

use super::World;

/// (reason, type, note) of the Events about `name`, oldest first.
async fn events_of(w: &World, name: &str) -> Vec<(String, String, String)> {
    w.reconciler.events_settled().await;
    let events: Api<Event> = Api::namespaced(w.admin.clone(), &w.ns);
    let mut list: Vec<Event> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| {
            e.regarding
                .as_ref()
                .is_some_and(|r| r.name.as_deref() == Some(name))
        })
        .collect();
    list.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
    list.into_iter()
        .map(|e| {
            (
                e.reason.unwrap_or_default(),
                e.type_.unwrap_or_default(),
                e.note.unwrap_or_default(),
            )
        })
        .collect()
}

fn named<'a>(
    events: &'a [(String, String, String)],
    reason: &str,
) -> Vec<&'a (String, String, String)> {
    events.iter().filter(|e| e.0 == reason).collect()
}

#[tokio::test]
async fn declared_events_carry_rendered_messages_once_per_change() {
    let w = World::new(
        "emit",
        r#"      validation:
        rules:
          - field: spec.replicas
            lessThanOrEqual: 5
            message: at most 5 replicas"#,
        r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-config'
              data: {replicas: '{{ .spec.replicas }}'}
        emit:
          events:
            scaled:
              message: '{{ .metadata.name }} runs {{ .spec.replicas }} replicas'
              when:
                - field: spec.replicas
                  greaterThan: 1
            refused:
              on: [error]
              type: Warning
              reason: WidgetRefused
              message: 'refused: {{ .error }}'
            goingAway:
              on: [delete]
              message: 'bye {{ .metadata.name }}'
"#,
    )
    .await;
    w.create("web", json!({"replicas": 1})).await;
    w.reconcile("web").await.unwrap();
    let events = events_of(&w, "web").await;
    assert!(
        named(&events, "Scaled").is_empty(),
        "the condition does not hold: {events:?}"
    );

    w.set_spec("web", json!({"replicas": 3})).await;
    w.reconcile("web").await.unwrap();
    w.reconcile("web").await.unwrap();
    let events = events_of(&w, "web").await;
    let scaled = named(&events, "Scaled");
    assert_eq!(
        scaled.len(),
        1,
        "one Event per change, not per reconcile: {events:?}"
    );
    assert_eq!(scaled[0].1, "Normal");
    assert_eq!(scaled[0].2, "web runs 3 replicas");

    w.set_spec("web", json!({"replicas": 9})).await;
    w.reconcile("web").await.unwrap_err();
    let events = events_of(&w, "web").await;
    let refused = named(&events, "WidgetRefused");
    assert_eq!(refused.len(), 1, "{events:?}");
    assert_eq!(refused[0].1, "Warning");
    assert_eq!(
        refused[0].2,
        "refused: validation failed: field \"spec.replicas\": at most 5 replicas"
    );

    w.set_spec("web", json!({"replicas": 4})).await;
    w.reconcile("web").await.unwrap();
    let events = events_of(&w, "web").await;
    let notes: Vec<&str> = named(&events, "Scaled")
        .iter()
        .map(|e| e.2.as_str())
        .collect();
    assert_eq!(notes, ["web runs 3 replicas", "web runs 4 replicas"]);

    w.crs()
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    w.reconcile("web").await.unwrap();
    let events = events_of(&w, "web").await;
    let bye = named(&events, "GoingAway");
    assert_eq!(bye.len(), 1, "{events:?}");
    assert_eq!(bye[0].2, "bye web");
}
