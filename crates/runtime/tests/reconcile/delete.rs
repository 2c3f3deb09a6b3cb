//! The delete path: onDelete groups in order, Jobs awaited, cluster-scoped cleanup, the
//! finalizer removed last, namespaced children garbage-collected, a stuck deletion reported.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use runtime::reconcile::{Action, ReconcilerConfig};
use serde_json::json;

use super::{World, condition, eventually};

const ORDERED: &str = r#"
        onCreate:
          configMaps:
            - name: '{{ .metadata.name }}-first'
              data: {a: b}
            - name: '{{ .metadata.name }}-kept'
              data: {a: b}
          clusterRoles:
            - name: '{{ .metadata.namespace }}-{{ .metadata.name }}-reader'
              rules: [{apiGroups: [''], resources: [configmaps], verbs: [get]}]
        onDelete:
          ordered: true
          groups:
            - name: first
              configMaps:
                - name: '{{ .metadata.name }}-first'
            - name: then
              jobs:
                - name: '{{ .metadata.name }}-goodbye'
                  image: busybox
                  command: [echo, bye]
"#;

/// `Some` once the object `name` no longer exists.
async fn gone<K>(api: Api<K>, name: &str) -> Option<()>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name).await.unwrap().is_none().then_some(())
}

/// Marks a Job finished the way the Job controller would (no controller runs Jobs here).
async fn complete(jobs: &Api<Job>, name: &str) {
    let now = "2026-01-01T00:00:00Z";
    let status = json!({"status": {
        "startTime": now,
        "completionTime": now,
        "succeeded": 1,
        "conditions": [
            {"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now},
            {"type": "Complete", "status": "True", "lastTransitionTime": now}
        ]
    }});
    jobs.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
}

#[tokio::test]
async fn deletion_runs_on_delete_groups_in_order_cleans_up_and_removes_the_finalizer_last() {
    let w = World::new("delete", "", ORDERED).await;
    w.create("gone", json!({})).await;
    w.reconcile("gone").await.unwrap();
    let role_name = format!("{}-gone-reader", w.ns);
    let roles: Api<ClusterRole> = Api::all(w.admin.clone());
    let role = roles.get(&role_name).await.unwrap();
    assert!(role.metadata.owner_references.is_none());
    let jobs: Api<Job> = Api::namespaced(w.admin.clone(), &w.ns);

    w.crs()
        .delete("gone", &DeleteParams::background())
        .await
        .unwrap();
    let cr = w.get("gone").await;
    assert!(cr.metadata.deletion_timestamp.is_some());

    // The first group runs alone: its object is deleted (foreground), the Job waits.
    let action = w.reconcile("gone").await.unwrap();
    assert!(matches!(action, Action::RequeueAfter(_)), "{action:?}");
    assert!(jobs.get_opt("gone-goodbye").await.unwrap().is_none());

    // Requeued until the group's object is gone; then the Job starts.
    eventually(
        "the second group's Job",
        Duration::from_secs(30),
        || async {
            let _ = w.reconcile("gone").await.unwrap();
            jobs.get_opt("gone-goodbye").await.unwrap().map(|_| ())
        },
    )
    .await;
    assert!(
        w.config_maps()
            .get_opt("gone-first")
            .await
            .unwrap()
            .is_none(),
        "the second group started before the first finished"
    );
    let job = jobs.get("gone-goodbye").await.unwrap();
    assert!(
        job.metadata.owner_references.is_none(),
        "onDelete Jobs must outlive the CR"
    );
    // The finalizer stays while the Job runs.
    let action = w.reconcile("gone").await.unwrap();
    assert!(matches!(action, Action::RequeueAfter(_)));
    assert!(w.crs().get_opt("gone").await.unwrap().is_some());

    complete(&jobs, "gone-goodbye").await;
    assert_eq!(w.reconcile("gone").await.unwrap(), Action::Done);

    eventually("the CR to be gone", Duration::from_secs(20), || {
        gone(w.crs(), "gone")
    })
    .await;
    assert!(
        roles.get_opt(&role_name).await.unwrap().is_none(),
        "the cluster-scoped child was not cleaned up"
    );
    eventually(
        "garbage collection of the namespaced child",
        Duration::from_secs(60),
        || gone(w.config_maps(), "gone-kept"),
    )
    .await;
    assert!(
        w.event_reasons("gone")
            .await
            .contains(&"Deleting".to_owned())
    );
}

#[tokio::test]
async fn a_deletion_past_its_timeout_keeps_the_finalizer_and_says_why() {
    // The reconciler's clock runs ten minutes ahead, past the default five-minute timeout.
    let ahead: runtime::reconcile::Clock =
        Arc::new(|| time::OffsetDateTime::now_utc() + Duration::from_secs(600));
    let w = World::new_with(
        "stuck",
        "",
        r#"
        onDelete:
          jobs:
            - name: '{{ .metadata.name }}-never'
              image: busybox
              command: ['true']
"#,
        ReconcilerConfig::default().clock(ahead),
    )
    .await;
    w.create("stuck", json!({})).await;
    w.reconcile("stuck").await.unwrap();
    w.crs()
        .delete("stuck", &DeleteParams::background())
        .await
        .unwrap();

    let err = w.reconcile("stuck").await.unwrap_err();
    assert!(!err.retry());
    assert_eq!(err.event_reason(), "DeletionTimedOut");
    let cr = w.get("stuck").await;
    assert_eq!(
        cr.metadata.finalizers.clone().unwrap_or_default(),
        ["orkestra.orkspace.io/cleanup"]
    );
    let ready = condition(&cr, "Ready");
    assert_eq!(ready["status"], "False");
    assert!(
        ready["message"].as_str().unwrap().contains("stuck-never"),
        "{ready}"
    );
    assert!(
        w.event_reasons("stuck")
            .await
            .contains(&"DeletionTimedOut".to_owned())
    );
}
