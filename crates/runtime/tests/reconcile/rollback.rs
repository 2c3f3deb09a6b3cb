//! `rollBackOnError`: a spec change whose child the API server refuses is rolled back to the
//! children of the last successful spec after three failures in a row, held there, and left
//! when the spec changes again.

use serde_json::json;

use super::{World, condition};

const LAST_GOOD: &str = "orkestra.orkspace.io/last-good-spec";
const ROLLED_BACK_AT: &str = "orkestra.orkspace.io/rollback-at-generation";

#[tokio::test]
async fn a_refused_spec_is_rolled_back_after_three_failures_until_the_spec_changes() {
    let w = World::new(
        "rollback",
        "",
        r#"
        runtime: {rollBackOnError: true}
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-config'
              data: {version: '{{ .spec.version }}'}
            - name: '{{ .metadata.name }}-{{ .spec.suffix }}'
              data: {a: b}
"#,
    )
    .await;
    let version = || async {
        w.config_maps()
            .get("app-config")
            .await
            .unwrap()
            .data
            .unwrap()["version"]
            .clone()
    };
    w.create("app", json!({"version": "v1", "suffix": "extra"}))
        .await;
    w.reconcile("app").await.unwrap();
    let cr = w.get("app").await;
    let good = &cr.metadata.annotations.as_ref().unwrap()[LAST_GOOD];
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(good).unwrap(),
        json!({"version": "v1", "suffix": "extra"})
    );
    // A steady state writes no annotation again (nothing changed: no write at all).
    let (_, writes) = w.writes_during(w.reconcile("app")).await;
    assert!(writes.is_empty(), "{writes:?}");

    // An invalid object name: the API server refuses the second ConfigMap, after the first
    // took the new version.
    w.set_spec("app", json!({"version": "v2", "suffix": "Not_A_Name"}))
        .await;
    for attempt in 1..=2 {
        w.reconcile("app").await.unwrap_err();
        assert_eq!(
            version().await,
            "v2",
            "attempt {attempt} applied the new version"
        );
        assert_eq!(w.reconciler.rollback_counts(), Some((0, 0)));
    }
    w.reconcile("app").await.unwrap_err();
    assert_eq!(version().await, "v1", "the third failure rolls back");
    assert_eq!(w.reconciler.rollback_counts(), Some((1, 1)));
    let cr = w.get("app").await;
    let generation = cr.metadata.generation.unwrap().to_string();
    assert_eq!(
        cr.metadata.annotations.as_ref().unwrap()[ROLLED_BACK_AT],
        generation
    );

    // Held: the last good spec stays applied, Ready=False says why, no retry.
    let action = w.reconcile("app").await.unwrap();
    assert_eq!(action, runtime::reconcile::Action::Done);
    assert_eq!(version().await, "v1");
    let ready = condition(&*w.get("app").await, "Ready");
    assert_eq!(ready["status"], "False");
    assert!(
        ready["message"].as_str().unwrap().contains("rolled back"),
        "{ready}"
    );
    w.reconciler.events_settled().await;
    assert!(
        w.event_reasons("app")
            .await
            .contains(&"RolledBack".to_owned())
    );

    // A new spec leaves the rollback.
    w.set_spec("app", json!({"version": "v3", "suffix": "extra"}))
        .await;
    w.reconcile("app").await.unwrap();
    assert_eq!(version().await, "v3");
    assert_eq!(w.reconciler.rollback_counts(), Some((1, 0)));
    assert_eq!(condition(&*w.get("app").await, "Ready")["status"], "True");
}

/// A denied spec applied nothing: however often it fails, there is nothing to roll back.
#[tokio::test]
async fn a_denied_spec_is_not_rolled_back() {
    let w = World::new(
        "rollbackdeny",
        r#"      validation:
        rules:
          - field: spec.version
            notEquals: bad
            message: not bad"#,
        r#"
        rollBackOnError: true
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-config'
              data: {version: '{{ .spec.version }}'}
"#,
    )
    .await;
    w.create("app", json!({"version": "v1"})).await;
    w.reconcile("app").await.unwrap();
    w.set_spec("app", json!({"version": "bad"})).await;
    for _ in 0..4 {
        let err = w.reconcile("app").await.unwrap_err();
        assert!(!err.retry());
    }
    assert_eq!(w.reconciler.rollback_counts(), Some((0, 0)));
    let cr = w.get("app").await;
    assert!(
        !cr.metadata
            .annotations
            .as_ref()
            .unwrap()
            .contains_key(ROLLED_BACK_AT)
    );
    assert_eq!(condition(&cr, "ValidationFailed")["status"], "True");
}
