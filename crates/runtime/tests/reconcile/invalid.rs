//! Invalid CRs: denied by validation or failing to render.

use serde_json::json;

use super::{World, condition};

#[tokio::test]
async fn a_denied_cr_is_not_ready_with_validation_failed_and_is_not_retried() {
    let w = World::new(
        "deny",
        r#"      validation:
        rules:
          - field: spec.replicas
            lessThanOrEqual: 5
            message: at most 5 replicas
          - field: spec.image
            notContains: ':latest'
            action: warn
            message: pin the image tag"#,
        r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-config'
              data: {replicas: '{{ .spec.replicas }}'}
"#,
    )
    .await;
    w.create("big", json!({"replicas": 9, "image": "nginx:latest"}))
        .await;
    let err = w.reconcile("big").await.unwrap_err();
    assert!(!err.retry(), "a denied CR must wait for a change");
    let cr = w.get("big").await;
    let ready = condition(&cr, "Ready");
    assert_eq!(ready["status"], "False");
    assert_eq!(ready["reason"], "ReconcileError");
    let denied = condition(&cr, "ValidationFailed");
    assert_eq!(denied["status"], "True");
    assert_eq!(denied["reason"], "DenyRuleViolation");
    assert_eq!(
        denied["message"],
        "field \"spec.replicas\": at most 5 replicas"
    );
    let warned = condition(&cr, "ValidationWarning");
    assert_eq!(warned["status"], "True");
    assert_eq!(warned["reason"], "WarnRuleViolation");
    assert!(
        w.config_maps()
            .get_opt("big-config")
            .await
            .unwrap()
            .is_none(),
        "a denied CR produced children"
    );
    let reasons = w.event_reasons("big").await;
    assert!(
        reasons.contains(&"ReconcileError".to_owned()),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&"ValidationWarning".to_owned()),
        "{reasons:?}"
    );

    // Fixed: Ready again, the deny condition cleared, children produced.
    w.set_spec("big", json!({"replicas": 2, "image": "nginx:1.25"}))
        .await;
    w.reconcile("big").await.unwrap();
    let cr = w.get("big").await;
    assert_eq!(condition(&cr, "Ready")["status"], "True");
    assert_eq!(condition(&cr, "ValidationFailed")["status"], "False");
    assert_eq!(condition(&cr, "ValidationWarning")["status"], "False");
    assert!(
        w.config_maps()
            .get_opt("big-config")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_template_that_fails_for_this_cr_is_reported_and_not_retried() {
    let w = World::new(
        "render",
        "",
        r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-config'
              data: {owner: '{{ required "spec.owner is required" .spec.owner }}'}
"#,
    )
    .await;
    w.create("short", json!({"team": "a"})).await;
    let err = w.reconcile("short").await.unwrap_err();
    assert!(!err.retry());
    let cr = w.get("short").await;
    let ready = condition(&cr, "Ready");
    assert_eq!(ready["status"], "False");
    let message = ready["message"].as_str().unwrap();
    assert!(
        message.contains("configMaps[0]"),
        "the message should locate the failing declaration: {message}"
    );
    assert!(message.contains("spec.owner is required"), "{message}");
    assert!(message.chars().count() <= 256);
    assert!(
        w.event_reasons("short")
            .await
            .contains(&"ReconcileError".to_owned())
    );
}

const UNIQUE_HOST: &str = r#"      validation:
        rules:
          - field: spec.host
            operator: unique
            message: host already taken"#;

const HOST_CHILD: &str = r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-host'
              data: {host: '{{ .spec.host }}'}
"#;

/// Without a box (no cache of the CRD's CRs), the Reconciler lists them.
#[tokio::test]
async fn a_duplicate_unique_value_is_denied_at_reconcile_time() {
    let w = World::new("unique", UNIQUE_HOST, HOST_CHILD).await;
    w.create("first", json!({"host": "a.example"})).await;
    w.reconcile("first").await.unwrap();
    w.create("copy", json!({"host": "a.example"})).await;
    let err = w.reconcile("copy").await.unwrap_err();
    assert!(!err.retry(), "a denied CR must wait for a change");
    let copy = w.get("copy").await;
    assert_eq!(
        condition(&copy, "ValidationFailed")["message"],
        "field \"spec.host\": host already taken"
    );
    assert!(
        w.config_maps()
            .get_opt("copy-host")
            .await
            .unwrap()
            .is_none()
    );
    w.create("other", json!({"host": "b.example"})).await;
    w.reconcile("other").await.unwrap();
    assert!(
        w.config_maps()
            .get_opt("other-host")
            .await
            .unwrap()
            .is_some()
    );
}
