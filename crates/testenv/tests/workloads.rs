//! Integration tests of the workloads mode: kube-scheduler and kwok on the real control plane
//! make Deployments Available, Jobs complete or fail, and CronJobs fire. A test binary of its
//! own, because the mode is chosen per control plane and each test binary shares one.

#[allow(dead_code)]
#[path = "util.rs"]
mod util;

use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use testenv::{Config, ControlPlane};
use util::eventually;

/// How long a simulated rollout or Job may take; generous for a loaded 2-core machine.
const CONVERGE: Duration = Duration::from_secs(90);

async fn shared() -> &'static ControlPlane {
    testenv::shared_with(Config::new().workloads(true)).await
}

fn pod_template(labels: serde_json::Value, annotations: serde_json::Value) -> serde_json::Value {
    json!({
        "metadata": {"labels": labels, "annotations": annotations},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "example.invalid/simulated:1"}],
        },
    })
}

fn job(name: &str, annotations: serde_json::Value, backoff_limit: i32) -> Job {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": backoff_limit,
            "template": pod_template(json!({"job": name}), annotations),
        },
    }))
    .unwrap()
}

#[tokio::test]
async fn a_deployment_becomes_available_and_scaling_down_converges() {
    let client = shared().await.client().await.unwrap();
    let ns = testenv::namespace(&client, "deploy").await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "example.invalid/web:1"}]},
            },
        },
    }))
    .unwrap();
    api.create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    eventually("3 available replicas", CONVERGE, || {
        let api = api.clone();
        async move {
            let status = api.get("web").await.ok()?.status?;
            (status.available_replicas == Some(3)).then_some(())
        }
    })
    .await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let listed = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 3);
    for pod in &listed.items {
        let spec = pod.spec.as_ref().unwrap();
        assert!(
            spec.node_name
                .as_deref()
                .unwrap_or("")
                .starts_with("ork-node-"),
            "{:?} not scheduled to a simulated Node",
            pod.metadata.name
        );
        assert_eq!(
            pod.status.as_ref().unwrap().phase.as_deref(),
            Some("Running")
        );
    }

    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 1}})),
    )
    .await
    .unwrap();
    eventually("1 replica and 1 Pod left", CONVERGE, || {
        let (api, pods) = (api.clone(), pods.clone());
        async move {
            let status = api.get("web").await.ok()?.status?;
            let left = pods
                .list(&ListParams::default().labels("app=web"))
                .await
                .ok()?;
            (status.replicas == Some(1)
                && status.available_replicas == Some(1)
                && left.items.len() == 1)
                .then_some(())
        }
    })
    .await;
}

/// StatefulSets and DaemonSets become ready too, and a Service's EndpointSlice lists the
/// simulated Pods' IPs.
#[tokio::test]
async fn statefulsets_daemonsets_and_endpoint_slices_work_on_simulated_nodes() {
    let client = shared().await.client().await.unwrap();
    let ns = testenv::namespace(&client, "sets").await;
    let template = |app: &str| {
        json!({
            "metadata": {"labels": {"app": app}},
            "spec": {"containers": [{"name": app, "image": "example.invalid/app:1"}]},
        })
    };
    let statefulset: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 2,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": template("db"),
        },
    }))
    .unwrap();
    let daemonset: DaemonSet = serde_json::from_value(json!({
        "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template("agent")},
    }))
    .unwrap();
    let service: Service = serde_json::from_value(json!({
        "metadata": {"name": "db"},
        "spec": {"selector": {"app": "db"}, "ports": [{"port": 5432}]},
    }))
    .unwrap();
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &ns);
    let daemons: Api<DaemonSet> = Api::namespaced(client.clone(), &ns);
    let services: Api<Service> = Api::namespaced(client.clone(), &ns);
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), &ns);
    let pp = PostParams::default();
    sets.create(&pp, &statefulset).await.unwrap();
    daemons.create(&pp, &daemonset).await.unwrap();
    services.create(&pp, &service).await.unwrap();

    eventually("2 ready StatefulSet replicas", CONVERGE, || {
        let sets = sets.clone();
        async move { (sets.get("db").await.ok()?.status?.ready_replicas == Some(2)).then_some(()) }
    })
    .await;
    eventually("a ready DaemonSet Pod on every Node", CONVERGE, || {
        let daemons = daemons.clone();
        async move {
            let status = daemons.get("agent").await.ok()?.status?;
            (status.number_ready == testenv::workloads::NODE_COUNT as i32).then_some(())
        }
    })
    .await;
    let addresses = eventually("2 ready endpoints for the Service", CONVERGE, || {
        let slices = slices.clone();
        async move {
            let list = slices
                .list(&ListParams::default().labels("kubernetes.io/service-name=db"))
                .await
                .ok()?;
            let ready: Vec<String> = list
                .items
                .iter()
                .flat_map(|s| s.endpoints.iter().flatten())
                .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
                .flat_map(|e| e.addresses.clone())
                .collect();
            (ready.len() == 2).then_some(ready)
        }
    })
    .await;
    assert!(
        addresses.iter().all(|a| a.starts_with("10.244.")),
        "{addresses:?}"
    );
}

#[tokio::test]
async fn a_job_completes() {
    let client = shared().await.client().await.unwrap();
    let ns = testenv::namespace(&client, "job").await;
    let api: Api<Job> = Api::namespaced(client.clone(), &ns);
    api.create(&PostParams::default(), &job("once", json!({}), 0))
        .await
        .unwrap();
    let status = eventually("the Job to complete", CONVERGE, || {
        let api = api.clone();
        async move {
            let status = api.get("once").await.ok()?.status?;
            (status.succeeded == Some(1)).then_some(status)
        }
    })
    .await;
    let conditions = status.conditions.unwrap_or_default();
    assert!(
        conditions
            .iter()
            .any(|c| c.type_ == "Complete" && c.status == "True"),
        "{conditions:?}"
    );
}

#[tokio::test]
async fn a_job_marked_to_fail_ends_failed_after_its_backoff_limit() {
    let client = shared().await.client().await.unwrap();
    let ns = testenv::namespace(&client, "job-fail").await;
    let api: Api<Job> = Api::namespaced(client.clone(), &ns);
    let annotations = json!({ testenv::SIMULATE_ANNOTATION: testenv::SIMULATE_FAIL });
    api.create(&PostParams::default(), &job("doomed", annotations, 1))
        .await
        .unwrap();
    let status = eventually("the Job to fail", CONVERGE, || {
        let api = api.clone();
        async move {
            let status = api.get("doomed").await.ok()?.status?;
            let failed = status
                .conditions
                .as_ref()?
                .iter()
                .find(|c| c.type_ == "Failed" && c.status == "True")?
                .clone();
            Some((status, failed))
        }
    })
    .await;
    let (status, condition) = status;
    assert_eq!(condition.reason.as_deref(), Some("BackoffLimitExceeded"));
    assert_eq!(status.failed, Some(2), "backoff limit 1 means two attempts");
    assert_eq!(status.succeeded.unwrap_or(0), 0);

    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let listed = pods
        .list(&ListParams::default().labels("job=doomed"))
        .await
        .unwrap();
    assert!(!listed.items.is_empty());
    for pod in listed.items {
        let status = pod.status.unwrap();
        assert_eq!(status.phase.as_deref(), Some("Failed"));
        let terminated = status.container_statuses.unwrap()[0]
            .state
            .clone()
            .unwrap()
            .terminated
            .unwrap();
        assert_eq!(terminated.exit_code, 1);
    }
}

#[tokio::test]
async fn a_cronjob_creates_a_job_on_schedule_that_completes() {
    let client = shared().await.client().await.unwrap();
    let ns = testenv::namespace(&client, "cron").await;
    let api: Api<CronJob> = Api::namespaced(client.clone(), &ns);
    let cronjob: CronJob = serde_json::from_value(json!({
        "metadata": {"name": "tick"},
        "spec": {
            "schedule": "* * * * *",
            "jobTemplate": {"spec": {
                "backoffLimit": 0,
                "template": pod_template(json!({"cron": "tick"}), json!({})),
            }},
        },
    }))
    .unwrap();
    api.create(&PostParams::default(), &cronjob).await.unwrap();
    let jobs: Api<Job> = Api::namespaced(client.clone(), &ns);
    // The schedule fires at the next full minute: up to 60 s, plus the controller's delay.
    let name = eventually(
        "a Job completed from the CronJob",
        CONVERGE + CONVERGE,
        || {
            let jobs = jobs.clone();
            async move {
                let list = jobs.list(&ListParams::default()).await.ok()?;
                list.items.into_iter().find_map(|job| {
                    let owned = job
                        .metadata
                        .owner_references
                        .as_ref()?
                        .iter()
                        .any(|o| o.kind == "CronJob" && o.name == "tick");
                    let succeeded = job.status.as_ref()?.succeeded == Some(1);
                    (owned && succeeded).then(|| job.metadata.name.clone().unwrap_or_default())
                })
            }
        },
    )
    .await;
    assert!(name.starts_with("tick-"), "{name}");
    eventually("the CronJob to record its last success", CONVERGE, || {
        let api = api.clone();
        async move { api.get("tick").await.ok()?.status?.last_successful_time }
    })
    .await;
}

/// A dedicated control plane in the workloads mode: its Nodes are Ready when start returns,
/// and after stop none of its processes (kube-scheduler and kwok included) is left.
#[tokio::test]
async fn start_then_stop_in_workloads_mode_leaves_no_process() {
    let mut cp = ControlPlane::start(Config::new().workloads(true))
        .await
        .unwrap();
    let pids = cp.pids();
    assert_eq!(
        pids.len(),
        6,
        "etcd, apiserver, controller manager, scheduler, kwok, janitor: {pids:?}"
    );
    assert!(pids.iter().all(|&p| testenv::is_alive(p)));

    let client = cp.client().await.unwrap();
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client);
    let listed = nodes.list(&ListParams::default()).await.unwrap();
    let ready = listed
        .items
        .iter()
        .filter(|n| {
            n.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .count();
    assert_eq!(ready, testenv::workloads::NODE_COUNT);

    cp.stop(Duration::from_secs(10));
    drop(cp);
    crate::util::assert_all_gone(&pids);
}

/// kwok is needed only by the workloads mode: a binaries directory without it still serves a
/// plain control plane, and the workloads mode refuses it at once, naming kwok and the build.
#[tokio::test]
async fn without_kwok_only_the_workloads_mode_refuses_to_start_and_says_how_to_build_it() {
    let real = testenv::Binaries::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubectl",
    ] {
        std::os::unix::fs::symlink(real.path(name), dir.path().join(name)).unwrap();
    }
    assert!(testenv::Binaries::locate_in(dir.path().to_path_buf()).is_ok());

    let config = Config::new().workloads(true).binaries_dir(dir.path());
    let err = ControlPlane::start(config).await.unwrap_err().to_string();
    assert!(err.contains("kwok"), "{err}");
    assert!(err.contains("control-plane/build.sh"), "{err}");
}
