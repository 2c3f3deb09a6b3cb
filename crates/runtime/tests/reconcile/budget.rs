//! The write budget, counted from the API server's audit log: a new CR costs its children
//! and one status write (plus the `Reconciled` Event, written off the reconcile's path); a
//! spec change costs what changed, the status and the Event; a no-op resync and a restart
//! cost nothing. A finalizer is written only when the delete path has work.

use kube::api::DeleteParams;
use serde_json::json;

use super::World;
use runtime::reconcile::{Action, Error};

/// The `fixtures/stack` workload: two ConfigMaps and a ServiceAccount.
const STACK: &str = r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-a'
              data: {n: '{{ .spec.n }}'}
            - name: '{{ .metadata.name }}-b'
              data: {n: '{{ .spec.n }}'}
          serviceAccounts:
            - name: '{{ .metadata.name }}-sa'
"#;

/// Reconciles `name` and waits for the Events it publishes off its path; the writes made.
async fn reconcile(w: &World, name: &str) -> (Result<Action, Error>, Vec<String>) {
    w.writes_during(async {
        let result = w.reconcile(name).await;
        w.reconciler.events_settled().await;
        result
    })
    .await
}

/// `writes` without the Events' names (generated), sorted for comparison.
fn shape(writes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = writes
        .iter()
        .map(|w| {
            if w.contains(" events ") {
                w.rsplit_once(' ')
                    .map_or(w.as_str(), |(head, _)| head)
                    .to_owned()
            } else {
                w.clone()
            }
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_new_cr_costs_its_children_and_one_status_write_and_a_steady_one_nothing() {
    let mut w = World::new("budget", "", STACK).await;
    w.create("s", json!({"n": "1"})).await;

    let (result, writes) = reconcile(&w, "s").await;
    result.unwrap();
    assert_eq!(
        shape(&writes),
        [
            "create events",
            "patch configmaps s-a",
            "patch configmaps s-b",
            "patch serviceaccounts s-sa",
            "patch widgets/status s",
        ],
        "{writes:?}"
    );
    let cr = w.get("s").await;
    assert_eq!(cr.metadata.finalizers, None, "nothing needs a finalizer");
    assert_eq!(w.event_reasons("s").await, ["Reconciled"]);

    let (result, writes) = reconcile(&w, "s").await;
    result.unwrap();
    assert!(writes.is_empty(), "a no-op resync wrote: {writes:?}");

    w.set_spec("s", json!({"n": "2"})).await;
    let (result, writes) = reconcile(&w, "s").await;
    result.unwrap();
    // The ServiceAccount did not change; the Event aggregates into the first (a patch).
    assert_eq!(
        shape(&writes),
        [
            "patch configmaps s-a",
            "patch configmaps s-b",
            "patch events",
            "patch widgets/status s",
        ],
        "{writes:?}"
    );

    w.restart();
    let (result, writes) = reconcile(&w, "s").await;
    result.unwrap();
    assert!(writes.is_empty(), "a restarted ork wrote: {writes:?}");

    // Without a finalizer the CR goes at once and the garbage collector takes its children.
    w.crs().delete("s", &DeleteParams::default()).await.unwrap();
    assert!(w.crs().get_opt("s").await.unwrap().is_none());
}

#[tokio::test]
async fn the_cleanup_finalizer_comes_with_on_delete_or_before_a_child_without_an_owner_reference() {
    let w = World::new(
        "budget-ondelete",
        "",
        r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-a'
              data: {n: '{{ .spec.n }}'}
        onDelete:
          configMaps:
            - name: '{{ .metadata.name }}-a'
"#,
    )
    .await;
    w.create("d", json!({"n": "1"})).await;
    let (result, writes) = reconcile(&w, "d").await;
    result.unwrap();
    assert_eq!(writes[0], "patch widgets d", "{writes:?}");
    let cr = w.get("d").await;
    assert_eq!(
        cr.metadata.finalizers.clone().unwrap_or_default(),
        ["orkestra.orkspace.io/cleanup"]
    );

    let w = World::new(
        "budget-cluster",
        "",
        r#"
        onReconcile:
          clusterRoles:
            - name: '{{ .metadata.namespace }}-{{ .metadata.name }}-reader'
              rules: [{apiGroups: [''], resources: [configmaps], verbs: [get]}]
"#,
    )
    .await;
    w.create("c", json!({})).await;
    let (result, writes) = reconcile(&w, "c").await;
    result.unwrap();
    let reader = format!("{}-c-reader", w.ns);
    assert_eq!(
        writes[..2],
        [
            "patch widgets c".to_owned(),
            format!("patch clusterroles {reader}")
        ],
        "the finalizer is written before the child: {writes:?}"
    );
    let cr = w.get("c").await;
    assert_eq!(
        cr.metadata.finalizers.clone().unwrap_or_default(),
        ["orkestra.orkspace.io/cleanup"]
    );
    // The finalizer is there for a reason: the delete path removes the ClusterRole.
    w.crs().delete("c", &DeleteParams::default()).await.unwrap();
    w.reconcile("c").await.unwrap();
    let roles: kube::Api<k8s_openapi::api::rbac::v1::ClusterRole> = kube::Api::all(w.admin.clone());
    assert!(roles.get_opt(&reader).await.unwrap().is_none());
}
