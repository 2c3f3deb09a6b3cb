//! The memory API through a real `kube::Client`: what the runtime relies on.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::*;

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": name}}, "data": {"k": "v"},
    }))
    .unwrap()
}

fn rv(o: &impl kube::Resource) -> u64 {
    o.meta()
        .resource_version
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn create_get_list_by_label_and_conflicting_create() {
    let api = MemoryApi::new();
    let cms: Api<ConfigMap> = Api::namespaced(api.client(), "ns");
    let made = cms
        .create(&PostParams::default(), &config_map("a"))
        .await
        .unwrap();
    assert!(made.metadata.uid.is_some());
    assert_eq!(made.metadata.namespace.as_deref(), Some("ns"));
    cms.create(&PostParams::default(), &config_map("b"))
        .await
        .unwrap();
    let again = cms.create(&PostParams::default(), &config_map("a")).await;
    assert!(matches!(again, Err(kube::Error::Api(e)) if e.code == 409));
    let got = cms.get("a").await.unwrap();
    assert_eq!(got.data.unwrap()["k"], "v");
    let listed = cms
        .list(&ListParams::default().labels("app=b"))
        .await
        .unwrap();
    let names: Vec<_> = listed
        .items
        .iter()
        .map(|c| c.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["b"]);
    let other: Api<ConfigMap> = Api::namespaced(api.client(), "elsewhere");
    assert!(other.get_opt("a").await.unwrap().is_none());
    let ops = api.ops();
    assert_eq!(ops[0].verb, Verb::Create);
    assert!(ops[0].created);
    assert_eq!(ops[2].code, 409);
    assert_eq!(ops[4].verb, Verb::List);
}

#[tokio::test]
async fn apply_creates_then_merges_and_changes_nothing_when_repeated() {
    let api = MemoryApi::new();
    let cms: Api<ConfigMap> = Api::namespaced(api.client(), "default");
    let pp = PatchParams::apply("orkestra");
    let first = cms
        .patch("a", &pp, &Patch::Apply(&config_map("a")))
        .await
        .unwrap();
    let entry = &first.metadata.managed_fields.as_ref().unwrap()[0];
    assert_eq!(entry.manager.as_deref(), Some("orkestra"));
    assert_eq!(entry.operation.as_deref(), Some("Apply"));
    let same = cms
        .patch("a", &pp, &Patch::Apply(&config_map("a")))
        .await
        .unwrap();
    assert_eq!(
        rv(&same),
        rv(&first),
        "an apply that changes nothing keeps the version"
    );
    let more = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"},
        "data": {"other": "x"}});
    let merged = cms.patch("a", &pp, &Patch::Apply(&more)).await.unwrap();
    assert!(rv(&merged) > rv(&first));
    let data = merged.data.unwrap();
    assert_eq!((data["k"].as_str(), data["other"].as_str()), ("v", "x"));
    let ops = api.ops();
    assert!(ops[0].created && ops[0].verb == Verb::Apply);
    assert!(!ops[1].changed && !ops[1].created);
    assert!(ops[2].changed);
}

#[tokio::test]
async fn generation_follows_spec_and_status_is_its_own_subresource() {
    let api = MemoryApi::new();
    let deployments: Api<Deployment> = Api::namespaced(api.client(), "default");
    let d: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {}, "template": {}},
        "status": {"replicas": 9},
    }))
    .unwrap();
    let made = deployments
        .create(&PostParams::default(), &d)
        .await
        .unwrap();
    assert_eq!(made.metadata.generation, Some(1));
    let labelled = deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        labelled.metadata.generation,
        Some(1),
        "metadata does not bump generation"
    );
    let scaled = deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}, "status": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.metadata.generation, Some(2));
    assert_eq!(
        scaled.status.as_ref().and_then(|s| s.replicas),
        Some(9),
        "the main resource ignores status"
    );
    let status = deployments
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"readyReplicas": 3}, "spec": {"replicas": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(status.metadata.generation, Some(2));
    assert_eq!(status.spec.replicas, Some(3), "/status ignores the spec");
    assert_eq!(status.status.unwrap().ready_replicas, Some(3));
    let cms: Api<ConfigMap> = Api::namespaced(api.client(), "default");
    cms.create(&PostParams::default(), &config_map("c"))
        .await
        .unwrap();
    let no_status = cms
        .patch_status(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {}})),
        )
        .await;
    assert!(matches!(no_status, Err(kube::Error::Api(e)) if e.code == 404));
}

#[tokio::test]
async fn a_stale_resource_version_conflicts() {
    let api = MemoryApi::new();
    let cms: Api<ConfigMap> = Api::namespaced(api.client(), "default");
    let made = cms
        .create(&PostParams::default(), &config_map("a"))
        .await
        .unwrap();
    let v = made.metadata.resource_version.clone().unwrap();
    let p = json!({"metadata": {"resourceVersion": v, "labels": {"x": "1"}}});
    cms.patch("a", &PatchParams::default(), &Patch::Merge(&p))
        .await
        .unwrap();
    let stale = cms
        .patch("a", &PatchParams::default(), &Patch::Merge(&p))
        .await;
    assert!(matches!(stale, Err(kube::Error::Api(e)) if e.code == 409));
    let json_patch: json_patch::Patch =
        serde_json::from_value(json!([{"op": "add", "path": "/data/j", "value": "p"}])).unwrap();
    let patched = cms
        .patch("a", &PatchParams::default(), &Patch::<()>::Json(json_patch))
        .await
        .unwrap();
    assert_eq!(patched.data.unwrap()["j"], "p");
}

#[tokio::test]
async fn finalizers_hold_a_deleted_object_until_they_are_removed() {
    let api = MemoryApi::new();
    let cms: Api<ConfigMap> = Api::namespaced(api.client(), "default");
    let mut cm = config_map("a");
    cm.metadata.finalizers = Some(vec!["x/y".into()]);
    let owner = cms.create(&PostParams::default(), &cm).await.unwrap();
    let mut child = config_map("child");
    child.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "a".into(),
            uid: owner.metadata.uid.clone().unwrap(),
            ..Default::default()
        },
    ]);
    cms.create(&PostParams::default(), &child).await.unwrap();
    cms.delete("a", &DeleteParams::default()).await.unwrap();
    let held = cms.get("a").await.unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());
    let cleared = json!({"metadata": {"finalizers": null}});
    cms.patch("a", &PatchParams::default(), &Patch::Merge(&cleared))
        .await
        .unwrap();
    assert!(
        cms.get_opt("a").await.unwrap().is_none(),
        "gone once the finalizer is"
    );
    assert!(
        cms.get_opt("child").await.unwrap().is_none(),
        "its dependents go after it"
    );
    let gone = cms.delete("a", &DeleteParams::default()).await;
    assert!(matches!(gone, Err(kube::Error::Api(e)) if e.code == 404));
}

#[tokio::test]
async fn discovery_answers_for_served_kinds_only() {
    let api = MemoryApi::new();
    api.add_kind(Kind {
        group: "example.com".into(),
        version: "v1".into(),
        kind: "Website".into(),
        plural: "websites".into(),
        namespaced: true,
        status: true,
    });
    let client = api.client();
    let gvk = kube::api::GroupVersionKind::gvk("example.com", "v1", "Website");
    let (resource, caps) = kube::discovery::pinned_kind(&client, &gvk).await.unwrap();
    assert_eq!(resource.plural, "websites");
    assert!(caps.subresources.iter().any(|(r, _)| r.plural == "status"));
    let (cm, _) = kube::discovery::pinned_kind(
        &client,
        &kube::api::GroupVersionKind::gvk("", "v1", "ConfigMap"),
    )
    .await
    .unwrap();
    assert_eq!(cm.plural, "configmaps");
    let missing = kube::api::GroupVersionKind::gvk("nope.io", "v1", "Nope");
    assert!(
        kube::discovery::pinned_kind(&client, &missing)
            .await
            .is_err()
    );
}
