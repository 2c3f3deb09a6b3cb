//! What goes away under a running reconcile: the CR itself, the CRD's status subresource, the
//! CR's namespace. None of them may change how the box treats its other CRs.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceSubresourceStatus,
};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use runtime::reconcile::{Action, ReconcilerConfig, Surroundings};
use serde_json::json;

use super::{World, condition, eventually};

const CONFIG: &str = r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-{{ .spec.v }}'
              data: {a: b}
"#;

/// Deletes the CR `name` for good: its finalizers dropped, then deleted, then waited for.
async fn delete_for_good(w: &World, name: &str) {
    let drop = json!({"metadata": {"finalizers": null}});
    w.crs()
        .patch(name, &PatchParams::default(), &Patch::Merge(&drop))
        .await
        .unwrap();
    w.crs()
        .delete(name, &DeleteParams::default())
        .await
        .unwrap();
    let crs = w.crs();
    eventually("the CR to be gone", Duration::from_secs(20), || {
        let crs = crs.clone();
        async move { crs.get_opt(name).await.unwrap().is_none().then_some(()) }
    })
    .await;
}

/// The regression of a real run: a CR deleted between its reconcile's apply and its status
/// write made the status patch answer 404, which once switched status off for the whole CRD.
#[tokio::test]
async fn a_cr_deleted_before_its_status_write_leaves_status_on_for_the_next_cr() {
    let w = World::new("gone", "", CONFIG).await;
    w.create("a", json!({"v": "one"})).await;
    w.reconcile("a").await.unwrap();
    // A new generation, so the next reconcile has a new status to write.
    w.set_spec("a", json!({"v": "two"})).await;
    let stale = w.get("a").await;
    delete_for_good(&w, "a").await;

    // The stale copy carries ork's finalizer already: the reconcile applies `a-two`, then
    // its status patch finds no CR. Both writes are read from the audit log, not from the
    // cluster: the shared control plane's garbage collector deletes `a-two` (its owner is
    // gone) whenever it gets to it.
    let (out, writes) = w
        .writes_during(w.reconciler.reconcile(stale, &Surroundings::default()))
        .await;
    assert!(matches!(out, Ok(Action::Done)), "{out:?}");
    let status = format!("patch {}/status a", w.resource.plural);
    for write in ["patch configmaps a-two", &status] {
        assert!(writes.iter().any(|w| w == write), "{write} in {writes:?}");
    }

    w.create("b", json!({"v": "one"})).await;
    w.reconcile("b").await.unwrap();
    let b = w.get("b").await;
    assert_eq!(condition(&b, "Ready")["status"], "True", "{:?}", b.data);
    assert_eq!(b.data["status"]["observedGeneration"], 1);
}

/// Sets the `status` subresource of the World's CRD on or off.
async fn set_status_subresource(w: &World, on: bool) {
    let crds: Api<CustomResourceDefinition> = Api::all(w.admin.clone());
    let name = format!("widgets.{}", w.resource.group);
    let mut crd = crds.get(&name).await.unwrap();
    for version in &mut crd.spec.versions {
        let subresources = version.subresources.get_or_insert_with(Default::default);
        // `{}` turns it on; the type's default (JSON null) would not.
        subresources.status = on.then(|| CustomResourceSubresourceStatus(json!({})));
    }
    crd.metadata.managed_fields = None;
    crds.replace(&name, &Default::default(), &crd)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_crd_without_a_status_subresource_gets_no_status_until_it_serves_one() {
    let config = ReconcilerConfig::default().status_refresh(Duration::from_millis(200));
    let w = World::new_with("nostatus", "", CONFIG, config).await;
    set_status_subresource(&w, false).await;
    w.create("n", json!({"v": "one"})).await;
    // Discovery may still list /status for a moment after the CRD changed: reconcile until
    // the fact is followed, then the CR has no status and the reconcile succeeded.
    eventually(
        "reconciles without a status write",
        Duration::from_secs(30),
        || async {
            let out = w.reconcile("n").await;
            let n = w.get("n").await;
            (out.is_ok() && n.data.get("status").is_none()).then_some(())
        },
    )
    .await;
    assert!(w.config_maps().get_opt("n-one").await.unwrap().is_some());

    set_status_subresource(&w, true).await;
    eventually(
        "the status once the CRD serves /status again",
        Duration::from_secs(30),
        || async {
            w.reconcile("n").await.ok()?;
            let n = w.get("n").await;
            let conditions = n.data["status"]["conditions"].as_array()?.clone();
            conditions
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
                .then_some(())
        },
    )
    .await;
}

const ON_DELETE: &str = r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-{{ .spec.v }}'
              data: {a: b}
        onDelete:
          jobs:
            - name: '{{ .metadata.name }}-goodbye'
              image: busybox
              command: [echo, bye]
"#;

/// While a namespace terminates, the API server refuses every new object in it. A CR there
/// gets its deletion path only: a reconcile that would create a child is not an error to
/// retry, and the `onDelete` Job that can never be created does not hold the namespace.
#[tokio::test]
async fn a_cr_in_a_terminating_namespace_gets_its_deletion_path_only() {
    let w = World::new("terminating", "", ON_DELETE).await;
    w.create("t", json!({"v": "one"})).await;
    w.reconcile("t").await.unwrap();
    w.set_spec("t", json!({"v": "two"})).await;
    let stale = w.get("t").await;

    let namespaces: Api<Namespace> = Api::all(w.admin.clone());
    namespaces
        .delete(&w.ns, &DeleteParams::default())
        .await
        .unwrap();
    // `t-two` cannot be created any more: the reconcile ends without an error to retry.
    let out = w
        .reconciler
        .reconcile(stale, &Surroundings::default())
        .await;
    assert!(matches!(out, Ok(Action::Done)), "{out:?}");
    assert!(w.config_maps().get_opt("t-two").await.unwrap().is_none());

    // The namespace's deletion reaches the CR; its deletion path runs to the end.
    let deleting = eventually("the CR to be deleting", Duration::from_secs(60), || async {
        let cr = w.crs().get_opt("t").await.unwrap()?;
        cr.metadata
            .deletion_timestamp
            .is_some()
            .then(|| Arc::new(cr))
    })
    .await;
    let out = w
        .reconciler
        .reconcile(deleting, &Surroundings::default())
        .await;
    assert!(matches!(out, Ok(Action::Done)), "{out:?}");
    let jobs: Api<Job> = Api::namespaced(w.admin.clone(), &w.ns);
    assert!(jobs.get_opt("t-goodbye").await.unwrap().is_none());
    eventually(
        "the namespace to be gone",
        Duration::from_secs(60),
        || async {
            namespaces
                .get_opt(&w.ns)
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;
}
