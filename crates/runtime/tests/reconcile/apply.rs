//! Children applied, updated, deleted and pruned; steady state without writes; other field
//! managers left alone.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use runtime::reconcile::Action;
use serde_json::json;

use super::{World, condition};

const WEBSITE: &str = r#"
        status:
          fields:
            - path: phase
              value: Running
            - path: replicasSeen
              value: '{{ .children.deployment.spec.replicas }}'
              type: int
              when: [{field: spec.image, exists: true}]
        onCreate:
          deployments:
            - name: '{{ .metadata.name }}'
              image: '{{ .spec.image }}'
              reconcile: true
          services:
            - name: '{{ .metadata.name }}-svc'
              port: '80'
              reconcile: true
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-config'
              data: {greeting: '{{ .spec.greeting }}'}
"#;

#[tokio::test]
async fn children_get_owner_references_and_labels_status_is_ready_and_a_second_reconcile_writes_nothing()
 {
    let w = World::new("apply", "      labels: {team: '{{ .spec.team }}'}", WEBSITE).await;
    let cr = w
        .create(
            "site",
            json!({"image": "nginx:1.25", "greeting": "hi", "team": "blue"}),
        )
        .await;
    let uid = cr.metadata.uid.clone().unwrap();

    let (result, writes) = w
        .writes_during(async {
            let result = w.reconcile("site").await;
            w.reconciler.events_settled().await;
            result
        })
        .await;
    assert_eq!(result.unwrap(), Action::Done);
    // The whole cost of a first reconcile: the declared labels (with the tracking metadata,
    // but no finalizer: the garbage collector deletes every child), three applies in plan
    // order (onCreate's kinds, then onReconcile's), status, Event.
    let verbs: Vec<&str> = writes
        .iter()
        .map(|w| w.rsplit_once(' ').map_or("", |(head, _)| head))
        .collect();
    assert_eq!(
        verbs,
        [
            "patch widgets",
            "patch deployments",
            "patch services",
            "patch configmaps",
            "patch widgets/status",
            "create events",
        ],
        "{writes:?}"
    );

    let deployments: Api<Deployment> = Api::namespaced(w.admin.clone(), &w.ns);
    let d = deployments.get("site").await.unwrap();
    let refs = d.metadata.owner_references.clone().unwrap();
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].uid, uid);
    assert_eq!(refs[0].controller, Some(true));
    assert_eq!(refs[0].block_owner_deletion, Some(true));
    let labels = d.metadata.labels.clone().unwrap();
    assert_eq!(labels["orkestra-owner"], "site");
    assert_eq!(labels["orkestra.orkspace.io/managed"], "true");
    let cm = w.config_maps().get("site-config").await.unwrap();
    assert_eq!(cm.data.unwrap()["greeting"], "hi");
    let services: Api<k8s_openapi::api::core::v1::Service> =
        Api::namespaced(w.admin.clone(), &w.ns);
    assert!(services.get_opt("site-svc").await.unwrap().is_some());

    let cr = w.get("site").await;
    assert_eq!(cr.metadata.finalizers, None);
    let cr_labels = cr.metadata.labels.clone().unwrap();
    assert_eq!(cr_labels["orkestra.orkspace.io/managed"], "true");
    assert_eq!(cr_labels["team"], "blue");
    let annotations = cr.metadata.annotations.clone().unwrap();
    assert_eq!(
        annotations["orkestra.orkspace.io/managed-by"],
        "apply-katalog"
    );
    assert!(annotations.contains_key("orkestra.orkspace.io/managed-since"));
    let ready = condition(&cr, "Ready");
    assert_eq!(ready["status"], "True");
    assert_eq!(ready["reason"], "ReconcileSucceeded");
    assert_eq!(condition(&cr, "ValidationFailed")["status"], "False");
    assert_eq!(
        cr.data["status"]["observedGeneration"],
        json!(cr.metadata.generation.unwrap())
    );
    assert_eq!(cr.data["status"]["phase"], "Running");
    // The live Deployment (from the apply response) reached the status expressions:
    // replicas were not declared, so the API server defaulted them to 1.
    assert_eq!(cr.data["status"]["replicasSeen"], 1);
    assert!(
        w.event_reasons("site")
            .await
            .contains(&"Reconciled".to_owned())
    );

    let (result, writes) = w.writes_during(w.reconcile("site")).await;
    assert_eq!(result.unwrap(), Action::Done);
    assert!(
        writes.is_empty(),
        "a steady-state reconcile wrote: {writes:?}"
    );
    assert_eq!(w.reconciler.remembered_children(), 3);
}

#[tokio::test]
async fn a_spec_change_updates_the_child_and_a_false_condition_or_a_shorter_for_each_deletes_children()
 {
    let w = World::new(
        "change",
        "",
        r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-main'
              data: {greeting: '{{ .spec.greeting }}'}
            - name: '{{ .metadata.name }}-extra'
              data: {on: 'yes'}
              when: [{field: spec.extra, equals: 'yes'}]
            - name: '{{ .metadata.name }}-{{ .region }}'
              forEach: {field: spec.regions, as: region}
              data: {region: '{{ .region }}'}
"#,
    )
    .await;
    w.create(
        "app",
        json!({"greeting": "hi", "extra": "yes", "regions": ["eu", "us"]}),
    )
    .await;
    w.reconcile("app").await.unwrap();
    let names = |w: &World| {
        let cms = w.config_maps();
        async move {
            let mut n: Vec<String> = cms
                .list(&Default::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .filter_map(|c| c.metadata.name)
                .filter(|n| n.starts_with("app-"))
                .collect();
            n.sort();
            n
        }
    };
    assert_eq!(
        names(&w).await,
        ["app-eu", "app-extra", "app-main", "app-us"]
    );

    w.set_spec(
        "app",
        json!({"greeting": "hello", "extra": "no", "regions": ["eu"]}),
    )
    .await;
    w.reconcile("app").await.unwrap();
    let main = w.config_maps().get("app-main").await.unwrap();
    assert_eq!(main.data.unwrap()["greeting"], "hello");
    assert_eq!(names(&w).await, ["app-eu", "app-main"]);
}

#[tokio::test]
async fn an_object_of_the_same_name_that_ork_does_not_own_is_never_deleted() {
    let w = World::new(
        "foreign",
        "",
        r#"
        onReconcile:
          configMaps:
            - name: 'taken'
              data: {a: b}
              when: [{field: spec.enabled, equals: 'yes'}]
            - name: 'spoofed'
              data: {a: b}
              when: [{field: spec.enabled, equals: 'yes'}]
"#,
    )
    .await;
    w.create("own", json!({"enabled": "no"})).await;
    let plain = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some("taken".into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("user".to_owned(), "data".to_owned())])),
        ..Default::default()
    };
    w.config_maps()
        .create(&PostParams::default(), &plain)
        .await
        .unwrap();
    // Carries ork's labels for this CR but points at no uid of it.
    let spoofed = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some("spoofed".into()),
            labels: Some(BTreeMap::from([
                ("orkestra-owner".to_owned(), "own".to_owned()),
                ("orkestra.orkspace.io/managed".to_owned(), "true".to_owned()),
            ])),
            ..Default::default()
        },
        ..Default::default()
    };
    w.config_maps()
        .create(&PostParams::default(), &spoofed)
        .await
        .unwrap();

    w.reconcile("own").await.unwrap();
    w.reconcile("own").await.unwrap();

    let taken = w.config_maps().get("taken").await.unwrap();
    assert_eq!(taken.data.unwrap()["user"], "data");
    assert!(w.config_maps().get_opt("spoofed").await.unwrap().is_some());
}

#[tokio::test]
async fn replicas_owned_by_another_field_manager_are_left_alone() {
    let w = World::new(
        "replicas",
        "",
        r#"
        onReconcile:
          deployments:
            - name: '{{ .metadata.name }}'
              image: '{{ .spec.image }}'
"#,
    )
    .await;
    w.create("web", json!({"image": "nginx:1.25"})).await;
    w.reconcile("web").await.unwrap();
    let deployments: Api<Deployment> = Api::namespaced(w.admin.clone(), &w.ns);
    let d = deployments.get("web").await.unwrap();
    let ork_fields = d
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .find(|m| m.manager.as_deref() == Some("orkestra"))
        .unwrap();
    let owned = serde_json::to_string(&ork_fields.fields_v1).unwrap();
    assert!(!owned.contains("f:replicas"), "ork owns replicas: {owned}");

    // An autoscaler takes the replica count.
    let scale = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"}, "spec": {"replicas": 3}});
    deployments
        .patch(
            "web",
            &PatchParams::apply("fake-hpa").force(),
            &Patch::Apply(&scale),
        )
        .await
        .unwrap();

    // A spec change makes ork apply again; the count stays the autoscaler's.
    w.set_spec("web", json!({"image": "nginx:1.27"})).await;
    w.reconcile("web").await.unwrap();
    let d = deployments.get("web").await.unwrap();
    let spec = d.spec;
    assert_eq!(spec.replicas, Some(3));
    assert_eq!(
        spec.template.spec.unwrap().containers[0].image.as_deref(),
        Some("nginx:1.27")
    );
}

#[tokio::test]
async fn a_child_changed_by_hand_is_put_back_on_the_next_reconcile() {
    let w = World::new(
        "drift",
        "",
        r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-config'
              data: {greeting: '{{ .spec.greeting }}'}
"#,
    )
    .await;
    w.create("d", json!({"greeting": "hi"})).await;
    w.reconcile("d").await.unwrap();
    let edit = json!({"data": {"greeting": "hacked"}});
    w.config_maps()
        .patch("d-config", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    w.reconcile("d").await.unwrap();
    let cm = w.config_maps().get("d-config").await.unwrap();
    assert_eq!(cm.data.unwrap()["greeting"], "hi");

    w.config_maps()
        .delete("d-config", &Default::default())
        .await
        .unwrap();
    w.reconcile("d").await.unwrap();
    assert!(w.config_maps().get_opt("d-config").await.unwrap().is_some());
}

#[tokio::test]
async fn on_create_children_are_created_once_never_updated_and_never_pruned() {
    let w = World::new(
        "once",
        "",
        r#"
        onCreate:
          configMaps:
            - name: '{{ .metadata.name }}-seed'
              data: {greeting: '{{ .spec.greeting }}'}
              when: [{field: spec.seed, equals: 'yes'}]
"#,
    )
    .await;
    w.create("o", json!({"greeting": "hi", "seed": "yes"}))
        .await;
    w.reconcile("o").await.unwrap();
    assert_eq!(
        w.config_maps().get("o-seed").await.unwrap().data.unwrap()["greeting"],
        "hi"
    );

    w.set_spec("o", json!({"greeting": "changed", "seed": "no"}))
        .await;
    let (result, writes) = w.writes_during(w.reconcile("o")).await;
    result.unwrap();
    let seed = w.config_maps().get("o-seed").await.unwrap();
    assert_eq!(seed.data.unwrap()["greeting"], "hi");
    assert!(
        writes.iter().all(|w| !w.contains("configmaps")),
        "an onCreate child was written or deleted: {writes:?}"
    );
}

#[tokio::test]
async fn a_cr_outside_the_allowed_namespaces_is_left_untouched() {
    let w = World::new(
        "guard",
        "      allowedNamespaces: [somewhere-else]",
        r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-config'
              data: {a: b}
"#,
    )
    .await;
    w.create("g", json!({})).await;
    let (result, writes) = w.writes_during(w.reconcile("g")).await;
    assert_eq!(result.unwrap(), Action::Done);
    assert!(writes.is_empty(), "{writes:?}");
    let cr = w.get("g").await;
    assert!(cr.metadata.finalizers.is_none());
}

/// A cache of ConfigMaps that answers from a snapshot the test takes, counting its reads.
struct Snapshot {
    objects: std::sync::Mutex<Vec<kube::api::DynamicObject>>,
    reads: std::sync::atomic::AtomicUsize,
}

impl runtime::reconcile::owned::ChildCache for Snapshot {
    fn objects(
        &self,
        resource: &kube::api::ApiResource,
        _namespace: Option<&str>,
        _owner_label: &str,
    ) -> Option<Vec<kube::api::DynamicObject>> {
        if resource.kind != "ConfigMap" {
            return None;
        }
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(self.objects.lock().unwrap().clone())
    }
}

#[tokio::test]
async fn a_child_cache_is_read_instead_of_listing_and_a_stale_one_never_causes_a_wrong_delete() {
    let cache = std::sync::Arc::new(Snapshot {
        objects: Default::default(),
        reads: Default::default(),
    });
    let w = World::new_with(
        "cache",
        "",
        r#"
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}-{{ .item }}'
              forEach: {field: spec.names}
              data: {a: b}
"#,
        runtime::reconcile::ReconcilerConfig::default().child_cache(cache.clone()),
    )
    .await;
    w.create("c", json!({"names": ["one", "two"]})).await;
    // The cache has seen nothing yet: both children are applied.
    w.reconcile("c").await.unwrap();
    assert!(cache.reads.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    let cms: Api<kube::api::DynamicObject> = Api::namespaced_with(
        w.admin.clone(),
        &w.ns,
        &kube::api::ApiResource::erase::<ConfigMap>(&()),
    );
    let snapshot = cms.list(&Default::default()).await.unwrap().items;
    *cache.objects.lock().unwrap() = snapshot;

    // Up to date: nothing is written.
    let (result, writes) = w.writes_during(w.reconcile("c")).await;
    result.unwrap();
    assert!(writes.is_empty(), "{writes:?}");

    // The list shrinks; the (now stale) cache still shows both: "two" is pruned, "one" kept.
    w.set_spec("c", json!({"names": ["one"]})).await;
    w.reconcile("c").await.unwrap();
    assert!(w.config_maps().get_opt("c-one").await.unwrap().is_some());
    assert!(w.config_maps().get_opt("c-two").await.unwrap().is_none());
    // Still stale (shows "two", which is gone): reconciling again deletes nothing else.
    w.reconcile("c").await.unwrap();
    assert!(w.config_maps().get_opt("c-one").await.unwrap().is_some());
}

#[tokio::test]
async fn a_custom_child_of_another_crd_is_applied_with_its_initial_status() {
    // A second CRD serves as the child kind.
    let admin = testenv::shared().await.client().await.unwrap();
    let child_kind = super::util::TestCrd::install(&admin).await;
    let group = child_kind.resource.group.clone();
    let w = World::new(
        "custom",
        "",
        &format!(
            r#"
        onReconcile:
          custom:
            - apiVersion: {group}/v1
              kind: Widget
              metadata:
                name: '{{{{ .metadata.name }}}}-part'
                namespace: '{{{{ .metadata.namespace }}}}'
              spec: {{size: '{{{{ .spec.size }}}}'}}
              status: {{phase: Pending}}
"#
        ),
    )
    .await;
    w.create("c", json!({"size": "3"})).await;
    w.reconcile("c").await.unwrap();
    let parts = child_kind.api(&w.admin, &w.ns);
    let part = parts.get("c-part").await.unwrap();
    assert_eq!(part.data["spec"]["size"], 3);
    assert_eq!(part.data["status"]["phase"], "Pending");
    let refs = part.metadata.owner_references.unwrap();
    assert_eq!(refs[0].kind, "Widget");
    assert_eq!(
        w.reconciler.child_kinds(),
        [(format!("{group}/v1"), "Widget".to_owned())]
    );

    // The initial status is not forced back once the child's own controller changed it.
    let status = json!({"status": {"phase": "Ready"}});
    parts
        .patch_status("c-part", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    w.reconcile("c").await.unwrap();
    assert_eq!(
        parts.get("c-part").await.unwrap().data["status"]["phase"],
        "Ready"
    );
}
