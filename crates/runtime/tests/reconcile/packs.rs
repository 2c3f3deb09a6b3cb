//! Conformance packs that run on a bare control plane, reconciled once directly: each sample
//! CR produces exactly the children its Katalog plans, owned and labelled, and becomes Ready.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use runtime::reconcile::{Reconciler, ReconcilerConfig, Surroundings};
use serde_json::Value;

use super::{condition, eventually};

// The corpus locator of katalog's tests (`../shared/conformance` or `ORK_CONFORMANCE_DIR`).
#[path = "../../../katalog/tests/util.rs"]
#[allow(dead_code)]
pub(super) mod katalog_util;

use katalog_util::conformance_dir;

/// Every YAML document of a file, as JSON.
pub(super) fn documents(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let sources = katalog::yaml::SourceMap::default();
    katalog::yaml::parse_documents(&text, 0)
        .unwrap_or_else(|e| panic!("parsing {}: {e:?}", path.display()))
        .iter()
        .map(|node| {
            katalog::de::from_node::<Value>(node, &sources)
                .0
                .unwrap_or_else(|e| panic!("decoding {}: {e:?}", path.display()))
        })
        .collect()
}

/// Installs (or re-applies) a CRD manifest and waits until it is Established.
pub(super) async fn install(client: &kube::Client, crd: &Value) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let name = crd["metadata"]["name"].as_str().unwrap().to_owned();
    crds.patch(
        &name,
        &PatchParams::apply("ork-test-packs").force(),
        &Patch::Apply(crd),
    )
    .await
    .unwrap();
    eventually(
        "the pack's CRD to be Established",
        Duration::from_secs(30),
        || {
            let crds = crds.clone();
            let name = name.clone();
            async move {
                crds.get(&name)
                    .await
                    .ok()?
                    .status?
                    .conditions?
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
                    .then_some(())
            }
        },
    )
    .await;
}

async fn run(pack: &str) {
    let dir = conformance_dir().join("packs").join(pack);
    let loaded = katalog::load(dir.join("katalog.yaml"))
        .unwrap_or_else(|d| panic!("{pack}: the Katalog does not load: {d:?}"));
    let crd = &loaded.katalog.crds[0];
    let cp = testenv::shared().await;
    let admin = cp.client().await.unwrap();
    let mut has_status = false;
    for manifest in documents(&dir.join("crd.yaml")) {
        has_status |= manifest
            .pointer("/spec/versions/0/subresources/status")
            .is_some();
        install(&admin, &manifest).await;
    }
    let gvk = &crd.gvk;
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(&gvk.group, &gvk.version, &gvk.kind),
        &crd.plural,
    );
    let reconciler = Reconciler::new(
        &loaded.katalog,
        crd,
        admin.clone(),
        ReconcilerConfig::default(),
    )
    .unwrap();

    for mut cr in documents(&dir.join("cr.yaml")) {
        // A name of its own, so that other tests using the same pack do not collide.
        let name = testenv::unique_name(cr["metadata"]["name"].as_str().unwrap());
        cr["metadata"]["name"] = name.clone().into();
        let ns = cr["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_owned();
        let api: Api<DynamicObject> = Api::namespaced_with(admin.clone(), &ns, &resource);
        let obj: DynamicObject = serde_json::from_value(cr).unwrap();
        api.create(&Default::default(), &obj).await.unwrap();

        let cr = Arc::new(api.get(&name).await.unwrap());
        reconciler
            .reconcile(cr, &Surroundings::default())
            .await
            .unwrap_or_else(|e| panic!("{pack}: {name}: {}", e.message()));
        let cr = api.get(&name).await.unwrap();
        if has_status {
            assert_eq!(
                condition(&cr, "Ready")["status"],
                "True",
                "{pack}: {name} is not Ready"
            );
        }
        // No finalizer: these packs' children are all owned by the CR (the garbage collector
        // deletes them) and none declares onDelete or finalizers.
        assert!(
            crd.operator_box().on_delete.is_none()
                && crd
                    .finalizers
                    .iter()
                    .all(|f| f == "orkestra.orkspace.io/cleanup")
        );
        assert_eq!(cr.metadata.finalizers, None, "{pack}: {name}");

        // Exactly the planned children exist, each owned by the CR.
        let plan = katalog::build::Builder::new(&katalog::build::EngineRender::new(
            katalog::build::engine_for(&loaded.katalog).unwrap(),
        ))
        .for_crd(crd)
        .build(
            &serde_json::to_value(&cr).unwrap(),
            katalog::build::hooks_of(crd),
            &Default::default(),
        )
        .unwrap();
        assert!(!plan.children.is_empty(), "{pack}: nothing planned");
        for kind in reconciler.child_kinds() {
            let gvk = runtime::discovery::gvk_of(&kind.0, &kind.1).unwrap();
            let (ar, _) = kube::discovery::pinned_kind(&admin, &gvk).await.unwrap();
            let children: Api<DynamicObject> = Api::namespaced_with(admin.clone(), &ns, &ar);
            let mut found: Vec<String> = children
                .list(&kube::api::ListParams::default().labels(&format!("orkestra-owner={name}")))
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|o| {
                    let refs = o.metadata.owner_references.clone().unwrap_or_default();
                    assert!(
                        refs.iter()
                            .any(|r| Some(&r.uid) == cr.metadata.uid.as_ref()),
                        "{pack}: {:?} is not owned by {name}",
                        o.metadata.name
                    );
                    o.metadata.name.unwrap()
                })
                .collect();
            found.sort();
            let mut planned: Vec<String> = plan
                .children
                .iter()
                .filter(|c| c.object_ref().kind == kind.1)
                .map(|c| c.object_ref().name)
                .collect();
            planned.sort();
            assert_eq!(found, planned, "{pack}: {} children of {name}", kind.1);
        }
        // Without a finalizer the CR goes at once; the garbage collector takes its children.
        api.delete(&name, &Default::default()).await.unwrap();
        assert!(
            api.get_opt(&name).await.unwrap().is_none(),
            "{pack}: {name}"
        );
    }
}

#[tokio::test]
async fn beginner_01_hello_website() {
    run("beginner-01-hello-website").await;
}

#[tokio::test]
async fn beginner_02_with_serviceaccount() {
    run("beginner-02-with-serviceaccount").await;
}

#[tokio::test]
async fn intermediate_04_multi_resource() {
    run("intermediate-04-multi-resource").await;
}
