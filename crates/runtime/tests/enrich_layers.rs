//! The enrichment layers of spec §8.2 beyond `_pods`/`_endpoints`/`_lastJob`/`_warnings`
//! (those are in `enrich.rs`), each read by a status field on a real control plane with
//! simulated workloads: `_replicaSets`, `_backingPods`, `_currentMetrics`/`_scaleTarget`,
//! `_loadBalancerIPs`/`_tlsSecrets`, `_pvcs`, `_pv`, `_pvc`, `_storageClass`, `_owner` and
//! `_node`. Where no controller of the test cluster writes what a layer reads (HPA and
//! Ingress status, a PersistentVolume's `claimRef`, zone labels on a Node), the test plays
//! that controller and waits for the status to follow.
//!
//! The Katalogs also use each way a layer can be declared: target names and their aliases
//! (`currentMetrics`, `loadBalancerIPs`), the struct form with a gate (`anyOf`), and
//! `enrichAll`.

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Node, PersistentVolume, Pod};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use runtime::Supervisor;
use serde_json::{Value, json};

use crate::status_of;

const GROUP: &str = "layers.ork.dev";

/// A namespaced CRD `<plural>.layers.ork.dev` with free-form spec and status.
fn crd(kind: &str, plural: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: {plural}.{GROUP}}}
spec:
  group: {GROUP}
  scope: Namespaced
  names: {{kind: {kind}, plural: {plural}, singular: {singular}}}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {{status: {{}}}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
            status: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
",
        singular = kind.to_lowercase()
    )
}

/// Writes the CRD and `katalog` into a fresh directory and runs the pack.
async fn start(
    client: &kube::Client,
    dir: &Path,
    kind: &str,
    plural: &str,
    katalog: &str,
) -> Supervisor {
    std::fs::write(dir.join("crd.yaml"), crd(kind, plural)).unwrap();
    std::fs::write(dir.join("katalog.yaml"), katalog).unwrap();
    crate::run_pack(client, dir.to_path_buf()).await.0
}

/// Creates the CR `name` of `kind` with `spec` and returns its API.
async fn create_cr(
    client: &kube::Client,
    ns: &str,
    kind: &str,
    plural: &str,
    name: &str,
    spec: Value,
) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(GROUP, "v1", kind);
    let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &resource);
    let mut cr = DynamicObject::new(name, &resource);
    cr.data = json!({ "spec": spec });
    api.create(&PostParams::default(), &cr).await.unwrap();
    api
}

/// Polls `name`'s status until every `(field, value)` of `expected` holds; on timeout,
/// fails naming the fields as last seen.
async fn wait_status(
    api: &Api<DynamicObject>,
    name: &str,
    what: &str,
    expected: &[(&str, &str)],
) -> DynamicObject {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(150);
    loop {
        let cr = api.get_opt(name).await.ok().flatten();
        if let Some(cr) = &cr
            && expected.iter().all(|(f, v)| status_of(cr, f) == *v)
        {
            return cr.clone();
        }
        if tokio::time::Instant::now() >= deadline {
            let seen: Vec<(String, String)> = expected
                .iter()
                .map(|(f, _)| {
                    let v = cr.as_ref().map(|c| status_of(c, f)).unwrap_or_default();
                    ((*f).to_owned(), v)
                })
                .collect();
            panic!("timed out waiting for {what}: expected {expected:?}, last seen {seen:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

const WEB_KATALOG: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: web-layers}
spec:
  crds:
    web:
      crdFile: ./crd.yaml
      # Aliases: `currentMetrics` turns on the hpa layer, `loadBalancerIPs` the ingress one.
      enrich: [replicaSets, backingPods, currentMetrics, loadBalancerIPs]
      operatorBox:
        reconciler: {resync: 1s}
        status:
          fields:
            - path: replicaSets
              value: "{{ len .children.deployment._replicaSets }}"
            - path: newestRevision
              value: '{{ with .children.deployment._replicaSets }}{{ index (index . 0).metadata.annotations "deployment.kubernetes.io/revision" }}{{ end }}'
            - path: newestImage
              value: "{{ with .children.deployment._replicaSets }}{{ (index (index . 0).spec.template.spec.containers 0).image }}{{ end }}"
            - path: backingPods
              value: "{{ len .children.service._backingPods }}"
            - path: backingReady
              value: "{{ range .children.service._backingPods }}{{ if .ready }}r{{ else }}n{{ end }}{{ end }}"
            - path: scaleTarget
              value: "{{ .children.hpa._scaleTarget.kind }}/{{ .children.hpa._scaleTarget.name }}"
            - path: metrics
              value: "{{ range .children.hpa._currentMetrics }}{{ .type }}:{{ .name }}={{ .current.averageUtilization }};{{ end }}"
            - path: loadBalancer
              value: "{{ range .children.ingress._loadBalancerIPs }}{{ . }};{{ end }}"
            - path: tlsSecrets
              value: "{{ range .children.ingress._tlsSecrets }}{{ .metadata.name }}:{{ .type }};{{ end }}"
        onReconcile:
          deployments:
            - name: "{{ .metadata.name }}"
              image: "{{ .spec.image }}"
              replicas: "{{ .spec.replicas }}"
              port: "8080"
          services:
            - name: "{{ .metadata.name }}"
              port: "80"
              targetPort: "8080"
          ingresses:
            - name: "{{ .metadata.name }}"
              host: web.example.com
              serviceName: "{{ .metadata.name }}"
              servicePort: "80"
              tls:
                create: true
                hosts: [web.example.com]
          hpa:
            - name: "{{ .metadata.name }}"
              scaleTargetRef: {kind: Deployment, name: "{{ .metadata.name }}"}
              minReplicas: "2"
              maxReplicas: "5"
              targetCPUUtilizationPercentage: "70"
"#;

/// `_replicaSets` follows a rollout (a second ReplicaSet, newest first), `_backingPods` the
/// Service's ready Pods, `_scaleTarget`/`_currentMetrics` the HPA and `_loadBalancerIPs`/
/// `_tlsSecrets` the Ingress, each as the live objects say.
#[tokio::test]
async fn deployment_service_hpa_and_ingress_layers_follow_the_live_objects() {
    let cp = testenv::shared_with(testenv::Config::new().workloads(true)).await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "layers-web").await;
    let dir = tempfile::tempdir().unwrap();
    let supervisor = start(&client, dir.path(), "Web", "webs", WEB_KATALOG).await;
    let webs = create_cr(
        &client,
        &ns,
        "Web",
        "webs",
        "web",
        json!({"image": "nginx:1.0", "replicas": 2}),
    )
    .await;

    wait_status(
        &webs,
        "web",
        "one ReplicaSet, two ready backing Pods, the HPA target and the TLS Secret",
        &[
            ("replicaSets", "1"),
            ("newestRevision", "1"),
            ("newestImage", "nginx:1.0"),
            ("backingPods", "2"),
            ("backingReady", "rr"),
            ("scaleTarget", "Deployment/web"),
            ("metrics", ""),
            ("loadBalancer", ""),
            ("tlsSecrets", "web-tls:kubernetes.io/tls;"),
        ],
    )
    .await;

    // A rollout: the Deployment gets a second ReplicaSet, listed first.
    webs.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"image": "nginx:2.0"}})),
    )
    .await
    .unwrap();
    // The test plays the HPA controller and the ingress controller: their status is what
    // `_currentMetrics` and `_loadBalancerIPs` read.
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), &ns);
    hpas.patch_status(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {
            "currentReplicas": 2,
            "desiredReplicas": 2,
            "currentMetrics": [{
                "type": "Resource",
                "resource": {"name": "cpu", "current": {"averageUtilization": 42}},
            }],
        }})),
    )
    .await
    .unwrap();
    let ingresses: Api<Ingress> = Api::namespaced(client.clone(), &ns);
    ingresses
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"loadBalancer": {"ingress": [
                {"ip": "203.0.113.7"},
                {"hostname": "lb.example.com"},
            ]}}})),
        )
        .await
        .unwrap();
    wait_status(
        &webs,
        "web",
        "two ReplicaSets with revision 2 first, the HPA's metric and the Ingress addresses",
        &[
            ("replicaSets", "2"),
            ("newestRevision", "2"),
            ("newestImage", "nginx:2.0"),
            ("backingPods", "2"),
            ("backingReady", "rr"),
            ("metrics", "Resource:cpu=42;"),
            ("loadBalancer", "203.0.113.7;lb.example.com;"),
        ],
    )
    .await;
    supervisor.stop().await.unwrap();
}

const VAULT_KATALOG: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: vault-layers}
spec:
  crds:
    vault:
      crdFile: ./crd.yaml
      enrich:
        - pvcs
        - pvc
        - pv
        # The struct form with `anyOf` (read as `or`): on once either field says so.
        - storageClass:
            anyOf:
              - field: spec.showClass
                equals: "true"
              - field: spec.debug
                equals: "true"
      operatorBox:
        reconciler: {resync: 1s}
        status:
          fields:
            - path: claims
              value: "{{ range .children.statefulset._pvcs }}{{ .metadata.name }}={{ .spec.resources.requests.storage }};{{ end }}"
            - path: volume
              value: "{{ with .children.pvc._pv }}{{ .metadata.name }}:{{ .spec.capacity.storage }}{{ end }}"
            - path: storageClass
              value: "{{ with .children.pvc._storageClass }}{{ .metadata.name }}:{{ .provisioner }}{{ end }}"
            - path: boundClaim
              value: "{{ with .children.pv._pvc }}{{ .metadata.namespace }}/{{ .metadata.name }}{{ end }}"
        onReconcile:
          statefulSets:
            - name: "{{ .metadata.name }}"
              image: busybox
              replicas: "1"
              volumeClaimTemplates:
                - name: data
                  storageSize: 2Gi
          persistentVolumes:
            - name: "{{ .spec.volume }}"
              storageClassName: "{{ .spec.storageClass }}"
              storage: 1Gi
              hostPath: {path: /tmp/ork-layers}
          persistentVolumeClaims:
            - name: "{{ .metadata.name }}-claim"
              storageClassName: "{{ .spec.storageClass }}"
              storage: 1Gi
              volumeName: "{{ .spec.volume }}"
"#;

/// `_pvcs` lists the claim the StatefulSet controller made, `_pv` and `_storageClass` the
/// volume and class a claim names (the class only once its `anyOf` gate holds), and `_pvc`
/// the claim a volume's `claimRef` names once it is bound.
#[tokio::test]
async fn storage_layers_read_the_claims_volume_and_class_the_objects_name() {
    let cp = testenv::shared_with(testenv::Config::new().workloads(true)).await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "layers-vault").await;
    let class = format!("{ns}-slow");
    let volume = format!("{ns}-pv");
    let classes: Api<StorageClass> = Api::all(client.clone());
    let sc: StorageClass = serde_json::from_value(json!({
        "metadata": {"name": class},
        "provisioner": "ork.dev/none",
    }))
    .unwrap();
    classes.create(&PostParams::default(), &sc).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let supervisor = start(&client, dir.path(), "Vault", "vaults", VAULT_KATALOG).await;
    let vaults = create_cr(
        &client,
        &ns,
        "Vault",
        "vaults",
        "vault",
        json!({"storageClass": class, "volume": volume, "showClass": "false"}),
    )
    .await;
    wait_status(
        &vaults,
        "vault",
        "the StatefulSet's claim and the claim's volume; no class (gated off), no claim on the volume yet",
        &[
            ("claims", "data-vault-0=2Gi;"),
            ("volume", &format!("{volume}:1Gi")),
            ("storageClass", ""),
            ("boundClaim", ""),
        ],
    )
    .await;

    // One of the `anyOf` conditions holds: the class shows.
    vaults
        .patch(
            "vault",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"showClass": "true"}})),
        )
        .await
        .unwrap();
    wait_status(
        &vaults,
        "vault",
        "the claim's class once the gate opens",
        &[("storageClass", &format!("{class}:ork.dev/none"))],
    )
    .await;

    // The test plays the volume binder: the volume's claimRef names the claim.
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    volumes
        .patch(
            &volume,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"claimRef": {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "namespace": ns, "name": "vault-claim",
            }}})),
        )
        .await
        .unwrap();
    wait_status(
        &vaults,
        "vault",
        "the volume's bound claim",
        &[("boundClaim", &format!("{ns}/vault-claim"))],
    )
    .await;
    supervisor.stop().await.unwrap();
}

const CELL_KATALOG: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: cell-layers}
spec:
  crds:
    cell:
      crdFile: ./crd.yaml
      enrichAll: true
      operatorBox:
        reconciler: {resync: 1s}
        status:
          fields:
            - path: owner
              value: "{{ with .children.replicaset._owner }}{{ .kind }}/{{ .name }}/{{ .uid }}{{ end }}"
            - path: node
              value: "{{ with .children.pod._node }}{{ .name }}@{{ .zone }}/{{ .region }}/{{ .instanceType }}{{ end }}"
        onReconcile:
          replicaSets:
            - name: "{{ .metadata.name }}"
              image: busybox
              replicas: "1"
          pods:
            - name: "{{ .metadata.name }}-probe"
              image: busybox
"#;

/// `_owner` is the ReplicaSet's controller (the CR, uid and all), and `_node` the Node the
/// scheduler put the Pod on, following the zone labels added to that Node; both turned on by
/// `enrichAll`.
#[tokio::test]
async fn owner_and_node_layers_name_the_controller_and_the_pods_node() {
    let cp = testenv::shared_with(testenv::Config::new().workloads(true)).await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "layers-cell").await;
    let dir = tempfile::tempdir().unwrap();
    let supervisor = start(&client, dir.path(), "Cell", "cells", CELL_KATALOG).await;
    let cells = create_cr(&client, &ns, "Cell", "cells", "cell", json!({})).await;
    let uid = cells.get("cell").await.unwrap().metadata.uid.unwrap();

    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let node = testenv::eventually(
        "the probe Pod to be scheduled",
        Duration::from_secs(90),
        || async {
            pods.get_opt("cell-probe")
                .await
                .ok()??
                .spec?
                .node_name
                .filter(|n| !n.is_empty())
        },
    )
    .await;
    assert!(node.starts_with("ork-node-"), "scheduled on {node}");
    wait_status(
        &cells,
        "cell",
        "the ReplicaSet's owner and the Pod's unlabelled Node",
        &[
            ("owner", &format!("Cell/cell/{uid}")),
            ("node", &format!("{node}@//")),
        ],
    )
    .await;

    // Zone, region and instance type come from the Node's well-known labels.
    let nodes: Api<Node> = Api::all(client.clone());
    nodes
        .patch(
            &node,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {
                "topology.kubernetes.io/zone": "zone-a",
                "topology.kubernetes.io/region": "region-1",
                "node.kubernetes.io/instance-type": "kwok-small",
            }}})),
        )
        .await
        .unwrap();
    wait_status(
        &cells,
        "cell",
        "the Node's zone, region and instance type",
        &[("node", &format!("{node}@zone-a/region-1/kwok-small"))],
    )
    .await;
    supervisor.stop().await.unwrap();
}

const PAIR_KATALOG: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: pair-layers}
spec:
  crds:
    pair:
      crdFile: ./crd.yaml
      enrich:
        - pods
        - events:
            when:
              - field: spec.debug
                equals: "true"
      operatorBox:
        reconciler: {resync: 1s}
        status:
          fields:
            - path: frontPods
              value: '{{ len (index .children.deployments "front")._pods }}'
            - path: backPods
              value: '{{ len (index .children.deployments "back")._pods }}'
            - path: workerPods
              value: "{{ len .children.statefulset._pods }}"
            - path: frontWarnings
              value: '{{ range (index .children.deployments "front")._warnings }}{{ .message }};{{ end }}'
            - path: backWarnings
              value: '{{ range (index .children.deployments "back")._warnings }}{{ .message }};{{ end }}'
        onReconcile:
          deployments:
            - name: front
              image: nginx
              replicas: "2"
            - name: back
              image: nginx
              replicas: "1"
          statefulSets:
            - name: worker
              image: busybox
              replicas: "1"
"#;

/// Workloads of one CR share its owner selector, so a label LIST returns every sibling's
/// Pods: `_pods` (and a workload's `_warnings` about its Pods) keep only the workload's own.
#[tokio::test]
async fn sibling_workloads_of_one_cr_each_count_only_their_own_pods() {
    let cp = testenv::shared_with(testenv::Config::new().workloads(true)).await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "layers-pair").await;
    let dir = tempfile::tempdir().unwrap();
    let supervisor = start(&client, dir.path(), "Pair", "pairs", PAIR_KATALOG).await;
    let pairs = create_cr(
        &client,
        &ns,
        "Pair",
        "pairs",
        "pair",
        json!({"debug": "false"}),
    )
    .await;
    wait_status(
        &pairs,
        "pair",
        "each workload's own Pods",
        &[("frontPods", "2"), ("backPods", "1"), ("workerPods", "1")],
    )
    .await;

    // A Warning about one of `back`'s Pods shows on `back` only (`_pods` is on, and the
    // Events layer also lists Pods itself when it is not).
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let back_pod = pods
        .list(&kube::api::ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find_map(|p| p.metadata.name.filter(|n| n.starts_with("back-")))
        .expect("a Pod of back");
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), &ns);
    let event: k8s_openapi::api::core::v1::Event = serde_json::from_value(json!({
        "metadata": {"name": "back.warning"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": back_pod, "namespace": ns},
        "reason": "BackOff",
        "message": "back is crashing",
        "type": "Warning",
        "count": 1,
        "lastTimestamp": "2026-01-01T00:00:00Z",
        "source": {"component": "test"},
    }))
    .unwrap();
    events.create(&PostParams::default(), &event).await.unwrap();
    pairs
        .patch(
            "pair",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"debug": "true"}})),
        )
        .await
        .unwrap();
    wait_status(
        &pairs,
        "pair",
        "the Pod's Warning on its own Deployment only",
        &[
            ("backWarnings", "back is crashing;"),
            ("frontWarnings", ""),
            ("frontPods", "2"),
            ("backPods", "1"),
        ],
    )
    .await;
    supervisor.stop().await.unwrap();
}
