//! Packs whose status follows their children's progress, on a control plane whose workloads
//! come alive (testenv workloads mode: scheduler, workload controllers, kwok Nodes): Deployments
//! become Available and Jobs complete, so the status the EXPECT files name is reached for real.
//! A separate test binary, because workloads mode is chosen per binary.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use runtime::{Metrics, Supervisor};
use serde_json::Value;

use testenv::eventually;

mod enrich;
mod enrich_layers;
#[path = "support.rs"]
mod support;

fn pack(name: &str) -> PathBuf {
    let base = std::env::var_os("ORK_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/conformance"
            ))
        });
    let dir = base.join("packs").join(name);
    assert!(
        dir.is_dir(),
        "the conformance corpus is missing: {} (set ORK_CONFORMANCE_DIR)",
        dir.display()
    );
    dir
}

/// Loads the Katalog in `dir`, applies its CRDs and crFiles (as `ork run` does locally) and
/// starts its boxes.
async fn run_pack(client: &kube::Client, dir: PathBuf) -> (Supervisor, PathBuf) {
    let name = dir.display().to_string();
    let loaded = katalog::load(dir.join("katalog.yaml"))
        .unwrap_or_else(|d| panic!("{name}: {}", d.render()));
    runtime::cluster::prepare(client, &loaded.katalog, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| panic!("{name}: preparing: {e:?}"));
    let supervisor = crate::support::supervise(client, &loaded.katalog, &Metrics::new()).await;
    (supervisor, dir)
}

fn status_of(cr: &DynamicObject, field: &str) -> String {
    match &cr.data["status"][field] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The demo Katalog (examples/hello): phase stays Pending until
/// `allReplicasReady .children.deployment` turns true once the Deployment's Pods run, then
/// Running. (The packs with the same pattern, beginner-01/02, ship CRDs without a status
/// schema, so the API server drops any status written to them.)
#[tokio::test]
async fn a_website_turns_running_once_its_deployment_is_available() {
    let cp = testenv::shared_with(testenv::Config::new().workloads(true)).await;
    let client = cp.client().await.unwrap();
    let examples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/hello"));
    let (supervisor, _) = run_pack(&client, examples).await;
    let gvk = GroupVersionKind::gvk("demo.ork.dev", "v1", "Website");
    let sites: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "default",
        &ApiResource::from_gvk_with_plural(&gvk, "websites"),
    );
    let site = eventually(
        "Website hello to report phase Running",
        Duration::from_secs(90),
        || async {
            let cr = sites.get_opt("hello").await.ok()??;
            (status_of(&cr, "phase") == "Running").then_some(cr)
        },
    )
    .await;
    assert_eq!(status_of(&site, "ready"), "true");
    assert_eq!(status_of(&site, "url"), "http://hello.default.svc:8080");
    supervisor.stop().await.unwrap();
}

/// examples/intermediate/07-state-machine: status fields read the Jobs by name
/// (`index .children.jobs "release-build"`), so the phase follows them through Building and
/// Testing to Succeeded, and the test Job (gated on `status.built`) is created once the build
/// Job succeeded. Before `.children.<plural>` existed the phase stayed Pending.
#[tokio::test]
async fn a_pipeline_reads_its_jobs_by_name_and_reaches_succeeded() {
    let cp = testenv::shared_with(testenv::Config::new().workloads(true)).await;
    let client = cp.client().await.unwrap();
    let example = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/intermediate/07-state-machine"
    ));
    let (supervisor, _) = run_pack(&client, example).await;
    let gvk = GroupVersionKind::gvk("examples.ork.dev", "v1", "Pipeline");
    let pipelines: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "default",
        &ApiResource::from_gvk_with_plural(&gvk, "pipelines"),
    );
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let cr = eventually("phase Succeeded", Duration::from_secs(120), || async {
        let cr = pipelines.get_opt("release").await.ok()??;
        (status_of(&cr, "phase") == "Succeeded").then_some(cr)
    })
    .await;
    assert_eq!(status_of(&cr, "built"), "true");
    let test = jobs.get("release-test").await.unwrap();
    assert!(test.status.and_then(|s| s.succeeded).unwrap_or(0) >= 1);
    supervisor.stop().await.unwrap();
}

/// use-cases-full-stack-or: a state machine. Phase starts Running; `spec.notify: "true"`
/// creates the notify Job; when the Job completes (its Pod succeeds) the phase becomes
/// Succeeded, which in turn creates the cleanup Job.
#[tokio::test]
async fn a_flex_app_advances_through_its_jobs_to_succeeded() {
    let cp = testenv::shared_with(testenv::Config::new().workloads(true)).await;
    let client = cp.client().await.unwrap();
    let (supervisor, dir) = run_pack(&client, pack("use-cases-full-stack-or")).await;
    runtime::cluster::apply_file(&client, &dir.join("cr.yaml"))
        .await
        .unwrap();
    let gvk = GroupVersionKind::gvk("advanced.orkestra.io", "v1alpha1", "FlexApp");
    let apps: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "default",
        &ApiResource::from_gvk_with_plural(&gvk, "flexapps"),
    );
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    eventually("phase Running", Duration::from_secs(60), || async {
        let cr = apps.get_opt("my-flex-app").await.ok()??;
        (status_of(&cr, "phase") == "Running").then_some(())
    })
    .await;
    assert!(
        jobs.get_opt("my-flex-app-notify").await.unwrap().is_none(),
        "the notify Job must wait for spec.notify"
    );

    let notify = serde_json::json!({"spec": {"notify": "true"}});
    apps.patch(
        "my-flex-app",
        &PatchParams::default(),
        &Patch::Merge(&notify),
    )
    .await
    .unwrap();
    eventually(
        "the notify Job to complete",
        Duration::from_secs(90),
        || async {
            let job = jobs.get_opt("my-flex-app-notify").await.ok()??;
            (job.status?.succeeded? >= 1).then_some(())
        },
    )
    .await;
    eventually("phase Succeeded", Duration::from_secs(90), || async {
        let cr = apps.get_opt("my-flex-app").await.ok()??;
        (status_of(&cr, "phase") == "Succeeded").then_some(())
    })
    .await;
    eventually(
        "the cleanup Job that Succeeded unlocks",
        Duration::from_secs(60),
        || async { jobs.get_opt("my-flex-app-cleanup").await.ok()?.map(|_| ()) },
    )
    .await;
    supervisor.stop().await.unwrap();
}

/// use-cases-full-stack-cross-crd: the DatabaseBackedApp reads its ManagedDatabase through
/// `cross:` (`phase .cross.db`, `resourceExists .cross.db`, `.cross.db.status.endpoint`) and
/// reaches Ready with the database's endpoint once the database's Deployment is available.
#[tokio::test]
async fn a_cross_crd_app_waits_for_its_database_then_reads_its_endpoint() {
    let cp = testenv::shared_with(testenv::Config::new().workloads(true)).await;
    let client = cp.client().await.unwrap();
    let (supervisor, dir) = run_pack(&client, pack("use-cases-full-stack-cross-crd")).await;
    for file in ["database-cr.yaml", "application-cr.yaml"] {
        runtime::cluster::apply_file(&client, &dir.join(file))
            .await
            .unwrap();
    }
    let gvk = GroupVersionKind::gvk("advanced.orkestra.io", "v1alpha1", "DatabaseBackedApp");
    let apps: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "default",
        &ApiResource::from_gvk_with_plural(&gvk, "databasebackedapps"),
    );
    let endpoint = "my-app-db-postgres.default.svc.cluster.local:5432";
    eventually(
        "the app to turn Ready with the database's endpoint",
        Duration::from_secs(120),
        || async {
            let cr = apps.get_opt("my-app").await.ok()??;
            (status_of(&cr, "phase") == "Ready" && status_of(&cr, "databaseEndpoint") == endpoint)
                .then_some(())
        },
    )
    .await;
    let config_maps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "default");
    let config = config_maps.get("my-app-config").await.unwrap();
    assert_eq!(
        config
            .data
            .unwrap_or_default()
            .get("DB_HOST")
            .map(String::as_str),
        Some(endpoint)
    );
    supervisor.stop().await.unwrap();
}
