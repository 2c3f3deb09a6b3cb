//! Simulated workloads: kube-scheduler plus kwok playing the kubelets of a few fake Nodes, so
//! Deployments become Available, Jobs complete and CronJobs fire, without running a container.
//!
//! # What the simulated kubelets do
//!
//! kwok runs outside the cluster and manages the Nodes this module creates ([`NODE_COUNT`] of
//! them, each with [`NODE_CPU`] CPUs, [`NODE_MEMORY`] of memory and room for [`NODE_PODS`]
//! Pods). Once kube-scheduler binds a Pod to one of them:
//!
//! - every Pod goes from `Pending` straight to `Running` with all containers ready (the `Ready`
//!   condition true, a Pod IP from `10.244.0.0/16`);
//! - a Pod owned by a Job then ends `Succeeded`, each container terminated with exit code 0;
//! - a Pod owned by a Job and annotated [`SIMULATE_ANNOTATION`]`: `[`SIMULATE_FAIL`] ends
//!   `Failed` instead, each container terminated with exit code 1 (reason `Error`); put the
//!   annotation on the Job's Pod template to test failure paths (backoff limit, `Failed`
//!   condition, state machines that react to failed Jobs);
//! - a Pod being deleted is removed at once (no grace period runs out).
//!
//! Pods of other owners (ReplicaSets, StatefulSets, DaemonSets, bare Pods) keep running.
//! Container commands, images, probes and resources other than requests are ignored.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{ListParams, PostParams};

use crate::components::component_args;

/// The kube-controller-manager controllers the workloads mode adds to
/// [`crate::DEFAULT_CONTROLLERS`].
pub const WORKLOAD_CONTROLLERS: &[&str] = &[
    "deployment-controller",
    "replicaset-controller",
    "job-controller",
    "statefulset-controller",
    "daemonset-controller",
    "cronjob-controller",
    "endpointslice-controller",
    "disruption-controller",
];

/// The Pod annotation that chooses how a simulated Job Pod ends; see [`SIMULATE_FAIL`].
pub const SIMULATE_ANNOTATION: &str = "ork.dev/simulate";

/// The value of [`SIMULATE_ANNOTATION`] that makes a Job's Pod fail (exit code 1) instead of
/// succeeding.
pub const SIMULATE_FAIL: &str = "fail";

/// How many simulated Nodes the workloads mode creates.
pub const NODE_COUNT: usize = 3;

/// Each simulated Node's CPU capacity.
pub const NODE_CPU: &str = "32";

/// Each simulated Node's memory capacity.
pub const NODE_MEMORY: &str = "256Gi";

/// How many Pods each simulated Node takes.
pub const NODE_PODS: &str = "110";

/// The annotation (key and value) that tells kwok a Node is one of ours to play.
const MANAGED_BY: (&str, &str) = ("kwok.x-k8s.io/node", "fake");

/// The names of the simulated Nodes.
pub fn node_names() -> Vec<String> {
    (0..NODE_COUNT).map(node_name).collect()
}

fn node_name(index: usize) -> String {
    format!("ork-node-{index}")
}

/// kwok's configuration: which Nodes it plays, the Pod network, and the stages Nodes and Pods
/// go through (kwok's Stage API; a stage applies when its selector matches, and its
/// `statusTemplate` is a Go template rendered into the object's new status).
pub(crate) fn kwok_config() -> String {
    let (key, value) = MANAGED_BY;
    format!(
        r#"apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  cidr: 10.244.0.0/16
  manageAllNodes: false
  manageNodesWithAnnotationSelector: {key}={value}
  nodeLeaseDurationSeconds: 40
  # kwok applies no defaults to a configuration file's options; these are its usual values.
  nodeLeaseParallelism: 4
  nodePlayStageParallelism: 4
  podPlayStageParallelism: 4
  podsOnNodeSyncParallelism: 1
{NODE_READY}
{POD_RUNNING}
{succeeds}
{fails}
{POD_DELETED}"#,
        succeeds = job_pod_end(&SUCCEEDS),
        fails = job_pod_end(&FAILS),
    )
}

/// A Node that is not Ready yet becomes Ready with the usual healthy conditions; the capacity
/// and addresses it was created with stay (kwok patches the status, and a strategic merge keeps
/// what the template leaves out).
const NODE_READY: &str = r#"---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ork-node-ready
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ["True"]
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {type: Ready, status: "True", reason: KubeletReady, message: "simulated by kwok", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }}}
      - {type: MemoryPressure, status: "False", reason: KubeletHasSufficientMemory, message: "simulated", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }}}
      - {type: DiskPressure, status: "False", reason: KubeletHasNoDiskPressure, message: "simulated", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }}}
      - {type: PIDPressure, status: "False", reason: KubeletHasSufficientPID, message: "simulated", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }}}
      - {type: NetworkUnavailable, status: "False", reason: RouteCreated, message: "simulated", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }}}
      nodeInfo:
        architecture: amd64
        operatingSystem: linux
        kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
        kubeProxyVersion: {{ printf "kwok-%s" Version | Quote }}
        containerRuntimeVersion: {{ printf "kwok-%s" Version | Quote }}
        kernelVersion: {{ printf "kwok-%s" Version | Quote }}
        osImage: simulated
        machineID: ""
        systemUUID: ""
        bootID: ""
      phase: Running"#;

/// A scheduled Pending Pod runs with every container started and ready.
const POD_RUNNING: &str = r#"---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ork-pod-running
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: .metadata.deletionTimestamp, operator: DoesNotExist}
    - {key: .status.phase, operator: In, values: [Pending]}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {type: PodReadyToStartContainers, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: Ready, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: ContainersReady, status: "True", lastTransitionTime: {{ $now | Quote }}}
      {{ range .spec.readinessGates }}
      - {type: {{ .conditionType | Quote }}, status: "True", lastTransitionTime: {{ $now | Quote }}}
      {{ end }}
      {{ with .spec.initContainers }}
      initContainerStatuses:
      {{ range . }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        ready: true
        restartCount: 0
        state: {terminated: {exitCode: 0, reason: Completed, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}
      {{ end }}
      {{ end }}
      containerStatuses:
      {{ range .spec.containers }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        ready: true
        started: true
        restartCount: 0
        state: {running: {startedAt: {{ $now | Quote }}}}
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
      phase: Running
      startTime: {{ $now | Quote }}"#;

/// How a running Job Pod ends: the stage's name, how it selects on [`SIMULATE_ANNOTATION`], and
/// what its containers' termination looks like.
struct JobPodEnd {
    stage: &'static str,
    operator: &'static str,
    phase: &'static str,
    exit_code: u8,
    reason: &'static str,
    message: &'static str,
}

/// A running Pod of a Job, unless told to fail, succeeds.
const SUCCEEDS: JobPodEnd = JobPodEnd {
    stage: "ork-job-pod-succeeded",
    operator: "NotIn",
    phase: "Succeeded",
    exit_code: 0,
    reason: "Completed",
    message: "simulated success",
};

/// A running Pod of a Job annotated `ork.dev/simulate: fail` fails with exit code 1.
const FAILS: JobPodEnd = JobPodEnd {
    stage: "ork-job-pod-failed",
    operator: "In",
    phase: "Failed",
    exit_code: 1,
    reason: "Error",
    message: "simulated failure (ork.dev/simulate: fail)",
};

/// The kwok Stage for one way a Job Pod ends.
fn job_pod_end(end: &JobPodEnd) -> String {
    let JobPodEnd {
        stage,
        operator,
        phase,
        exit_code,
        reason,
        message,
    } = end;
    format!(
        r#"---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: {stage}
spec:
  resourceRef: {{apiGroup: v1, kind: Pod}}
  selector:
    matchExpressions:
    - {{key: .metadata.deletionTimestamp, operator: DoesNotExist}}
    - {{key: .status.phase, operator: In, values: [Running]}}
    - {{key: '.metadata.ownerReferences.[].kind', operator: In, values: [Job]}}
    - {{key: '.metadata.annotations["{SIMULATE_ANNOTATION}"]', operator: {operator}, values: [{SIMULATE_FAIL}]}}
  next:
    statusTemplate: |
      {{{{ $now := Now }}}}
      conditions:
      - {{type: Ready, status: "False", reason: Pod{phase}, lastTransitionTime: {{{{ $now | Quote }}}}}}
      - {{type: ContainersReady, status: "False", reason: Pod{phase}, lastTransitionTime: {{{{ $now | Quote }}}}}}
      containerStatuses:
      {{{{ range .spec.containers }}}}
      - name: {{{{ .name | Quote }}}}
        image: {{{{ .image | Quote }}}}
        ready: false
        started: false
        restartCount: 0
        state: {{terminated: {{exitCode: {exit_code}, reason: {reason}, message: "{message}", startedAt: {{{{ $now | Quote }}}}, finishedAt: {{{{ $now | Quote }}}}}}}}
      {{{{ end }}}}
      phase: {phase}"#
    )
}

/// A Pod being deleted goes away at once, as if its kubelet had confirmed the containers gone.
const POD_DELETED: &str = r#"---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ork-pod-deleted
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: .metadata.deletionTimestamp, operator: Exists}
  next:
    delete: true
"#;

/// kwok's command line: out of cluster, with the admin kubeconfig and our configuration only
/// (never the user's `~/.kwok/kwok.yaml`).
pub(crate) fn kwok_args(kubeconfig: &Path, config: &Path) -> Vec<String> {
    vec![
        format!("--kubeconfig={}", kubeconfig.display()),
        format!("--config={}", config.display()),
    ]
}

/// kube-scheduler's command line: loopback, no leader election, no serving port (its
/// `--kube-api-qps`/`--kube-api-burst` are deprecated in favour of a `--config` file, but
/// honoured without one).
pub(crate) fn scheduler_args(kubeconfig: &Path) -> Vec<String> {
    component_args(kubeconfig)
}

/// The simulated Node number `index` as created: schedulable, no taints, its capacity and
/// addresses (InternalIP `10.243.0.<index + 1>`) in its status.
fn node(index: usize) -> Node {
    let name = node_name(index);
    let ip = format!("10.243.0.{}", index + 1);
    let (key, value) = MANAGED_BY;
    let resources = serde_json::json!({"cpu": NODE_CPU, "memory": NODE_MEMORY, "pods": NODE_PODS});
    serde_json::from_value(serde_json::json!({
        "metadata": {
            "name": name,
            "annotations": {key: value},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "spec": {},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name},
            ],
        },
    }))
    .expect("a Node literal is a valid Node")
}

/// Creates the simulated Nodes; those that already exist (a persistent cluster) are kept.
pub(crate) async fn create_nodes(client: &kube::Client) -> Result<(), kube::Error> {
    let nodes: Api<Node> = Api::all(client.clone());
    for index in 0..NODE_COUNT {
        match nodes.create(&PostParams::default(), &node(index)).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether every simulated Node reports `Ready`.
pub(crate) async fn nodes_ready(client: &kube::Client) -> bool {
    let nodes: Api<Node> = Api::all(client.clone());
    let Ok(list) = nodes.list(&ListParams::default()).await else {
        return false;
    };
    let ready: BTreeMap<String, bool> = list
        .items
        .iter()
        .map(|n| (n.metadata.name.clone().unwrap_or_default(), is_ready(n)))
        .collect();
    node_names()
        .iter()
        .all(|name| ready.get(name).copied().unwrap_or(false))
}

fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kwok_configuration_plays_only_our_nodes_and_has_every_stage() {
        let config = kwok_config();
        assert!(config.contains("manageNodesWithAnnotationSelector: kwok.x-k8s.io/node=fake"));
        for stage in [
            "ork-node-ready",
            "ork-pod-running",
            "ork-job-pod-succeeded",
            "ork-job-pod-failed",
            "ork-pod-deleted",
        ] {
            assert_eq!(
                config.matches(&format!("name: {stage}\n")).count(),
                1,
                "{stage}"
            );
        }
        assert_eq!(config.matches("\n---\n").count(), 5, "{config}");
    }

    #[test]
    fn the_fail_stages_select_on_the_documented_annotation() {
        let selector = r#"'.metadata.annotations["ork.dev/simulate"]'"#;
        let succeeds = job_pod_end(&SUCCEEDS);
        assert!(
            succeeds.contains(&format!(
                "{{key: {selector}, operator: NotIn, values: [fail]}}"
            )),
            "{succeeds}"
        );
        assert!(
            succeeds.contains("exitCode: 0, reason: Completed"),
            "{succeeds}"
        );
        let fails = job_pod_end(&FAILS);
        assert!(
            fails.contains(&format!(
                "{{key: {selector}, operator: In, values: [fail]}}"
            )),
            "{fails}"
        );
        assert!(fails.contains("exitCode: 1, reason: Error"), "{fails}");
        assert!(fails.contains("\n      phase: Failed"), "{fails}");
    }

    #[test]
    fn a_simulated_node_is_managed_by_kwok_untainted_and_has_capacity() {
        let node = node(7);
        assert_eq!(node.metadata.name.as_deref(), Some("ork-node-7"));
        let annotations = node.metadata.annotations.unwrap();
        assert_eq!(annotations[MANAGED_BY.0], MANAGED_BY.1);
        assert!(node.spec.unwrap().taints.is_none());
        let status = node.status.unwrap();
        assert_eq!(status.capacity.unwrap()["pods"].0, NODE_PODS);
        assert_eq!(status.allocatable.unwrap()["cpu"].0, NODE_CPU);
        assert_eq!(status.addresses.unwrap()[0].address, "10.243.0.8");
    }

    #[test]
    fn there_are_as_many_node_names_as_nodes_and_they_differ() {
        let names = node_names();
        assert_eq!(names.len(), NODE_COUNT);
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), NODE_COUNT);
    }
}
