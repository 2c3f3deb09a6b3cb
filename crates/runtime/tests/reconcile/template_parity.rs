//! `ork template` shows what `ork run` applies: for every conformance pack with sample CRs and
//! CRD manifests, each sample CR is created, reconciled once, and every object
//! [`katalog::build::preview`] (what `ork template` prints) produces is compared, field by
//! field, with the object the reconcile left in the cluster. A CR the preview refuses (a
//! `deny` rule) must be refused by the reconcile too.

use std::path::Path;
use std::sync::Arc;

use kube::api::{Api, DynamicObject};
use runtime::reconcile::{Error, Reconciler, ReconcilerConfig, Surroundings};
use serde_json::Value;

use super::packs::{documents, install, katalog_util::conformance_dir};

/// The pack's entry file.
fn entry_of(dir: &Path) -> Option<std::path::PathBuf> {
    ["katalog.yaml", "komposer.yaml"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

/// Every YAML document directly in `dir` (not in sub-directories), skipping Orkestra's own
/// document kinds.
fn pack_documents(dir: &Path) -> Vec<Value> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| documents(f))
        .filter(|d| d.is_object())
        .collect()
}

/// Asserts that every field of `want` is in `got` with the same value (the API server adds
/// defaults, ork adds tracking labels). A Secret's `stringData` is compared with `data` as the
/// API server stores it; an ownerReference's uid is the preview's placeholder.
fn assert_contained(want: &Value, got: &Value, path: &str) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                if k == "uid" && path.contains("ownerReferences") {
                    continue;
                }
                let gv = g
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k}: missing in the cluster (want {wv})"));
                assert_contained(wv, gv, &format!("{path}.{k}"));
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            assert_eq!(w.len(), g.len(), "{path}: {want} vs {got}");
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                assert_contained(wv, gv, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(want, got, "{path}"),
    }
}

/// `stringData` as the API server stores it: base64 under `data`.
fn secret_as_stored(mut object: Value) -> Value {
    use base64::Engine as _;
    if object["kind"] == "Secret"
        && let Some(Value::Object(string_data)) =
            object.as_object_mut().and_then(|o| o.remove("stringData"))
    {
        let data = object["data"].as_object().cloned().unwrap_or_default();
        let mut data = data;
        for (k, v) in string_data {
            let text = v.as_str().unwrap_or_default().to_owned();
            data.insert(
                k,
                base64::engine::general_purpose::STANDARD
                    .encode(text)
                    .into(),
            );
        }
        object["data"] = Value::Object(data);
    }
    object
}

async fn live(admin: &kube::Client, object: &Value, default_ns: &str) -> Value {
    let api_version = object["apiVersion"].as_str().unwrap();
    let kind = object["kind"].as_str().unwrap();
    let name = object["metadata"]["name"].as_str().unwrap();
    let gvk = runtime::discovery::gvk_of(api_version, kind).unwrap();
    let (ar, caps) = kube::discovery::pinned_kind(admin, &gvk).await.unwrap();
    let api: Api<DynamicObject> = if caps.scope == kube::discovery::Scope::Namespaced {
        let ns = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or(default_ns);
        Api::namespaced_with(admin.clone(), ns, &ar)
    } else {
        Api::all_with(admin.clone(), &ar)
    };
    let found = api
        .get_opt(name)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{kind} {name}: previewed, but not applied"));
    serde_json::to_value(found).unwrap()
}

async fn ensure_namespace(admin: &kube::Client, name: &str) {
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(admin.clone());
    if namespaces.get_opt(name).await.unwrap().is_none() {
        let ns = serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap();
        let _ = namespaces.create(&Default::default(), &ns).await;
    }
}

async fn check_pack(admin: &kube::Client, pack: &Path) -> usize {
    let Some(entry) = entry_of(pack) else {
        return 0;
    };
    let name = pack.file_name().unwrap().to_string_lossy().into_owned();
    let loaded = katalog::load(&entry)
        .unwrap_or_else(|d| panic!("{name}: the Katalog does not load:\n{}", d.render()));
    let k = &loaded.katalog;
    let docs = pack_documents(pack);
    let crds: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == "CustomResourceDefinition")
        .collect();
    let crs: Vec<(&katalog::Crd, &Value)> = docs
        .iter()
        .filter_map(|d| {
            let crd = k.crds.iter().find(|c| {
                c.gvk.kind == d["kind"].as_str().unwrap_or_default()
                    && c.gvk.api_version() == d["apiVersion"].as_str().unwrap_or_default()
            })?;
            Some((crd, d))
        })
        .collect();
    if crds.is_empty() || crs.is_empty() {
        return 0;
    }
    for manifest in crds {
        install(admin, manifest).await;
    }
    let ns = testenv::namespace(admin, "parity").await;
    let mut compared = 0;
    for (crd, cr) in crs {
        let gvk = &crd.gvk;
        let resource = kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk(&gvk.group, &gvk.version, &gvk.kind),
            &crd.plural,
        );
        let mut cr = cr.clone();
        // A CRD with a namespace guard gets its CR in the first allowed namespace (under a
        // name of its own there); any other gets the test's namespace.
        let allowed = crd
            .entry
            .allowed_namespaces
            .as_ref()
            .and_then(|a| a.value.first().cloned());
        let api: Api<DynamicObject> = if crd.namespaced {
            let cr_ns = match &allowed {
                Some(allowed) => {
                    ensure_namespace(admin, allowed).await;
                    let unique = testenv::unique_name(cr["metadata"]["name"].as_str().unwrap());
                    cr["metadata"]["name"] = unique.into();
                    allowed.clone()
                }
                None => ns.clone(),
            };
            cr["metadata"]["namespace"] = cr_ns.clone().into();
            Api::namespaced_with(admin.clone(), &cr_ns, &resource)
        } else {
            let unique = testenv::unique_name(cr["metadata"]["name"].as_str().unwrap());
            cr["metadata"]["name"] = unique.into();
            Api::all_with(admin.clone(), &resource)
        };
        let cr_name = cr["metadata"]["name"].as_str().unwrap().to_owned();
        let obj: DynamicObject = serde_json::from_value(cr).unwrap();
        api.create(&Default::default(), &obj).await.unwrap();
        let created = api.get(&cr_name).await.unwrap();
        let reconciler =
            Reconciler::new(k, crd, admin.clone(), ReconcilerConfig::default()).unwrap();
        let mut as_read = serde_json::to_value(&created).unwrap();
        as_read["apiVersion"] = gvk.api_version().into();
        as_read["kind"] = gvk.kind.clone().into();
        let preview = katalog::build::preview(k, &as_read, Some(&crd.name));
        let reconciled = reconciler
            .reconcile(Arc::new(created), &Surroundings::default())
            .await;
        match preview {
            Err(katalog::build::PreviewError::Denied(why)) => {
                assert!(
                    matches!(&reconciled, Err(Error::ValidationDenied(_))),
                    "{name}: {cr_name}: the preview denies ({why}) but the reconcile gave {:?}",
                    reconciled.map_err(|e| e.message())
                );
            }
            Err(katalog::build::PreviewError::NamespaceNotPermitted(_)) => {
                assert!(
                    matches!(reconciled, Ok(runtime::reconcile::Action::Done)),
                    "{name}: {cr_name}: outside the namespace guard, yet reconciled"
                );
                let untouched = api.get(&cr_name).await.unwrap();
                assert!(
                    untouched.metadata.finalizers.is_none(),
                    "{name}: {cr_name}: outside the namespace guard, yet given finalizers"
                );
            }
            Err(e) => panic!("{name}: {cr_name}: no preview: {e}"),
            Ok(objects) => {
                if let Err(e) = &reconciled {
                    panic!("{name}: {cr_name}: the reconcile failed: {}", e.message());
                }
                for object in objects {
                    let cr_ns = as_read["metadata"]["namespace"].as_str().unwrap_or(&ns);
                    let got = live(admin, &object, cr_ns).await;
                    let what = format!(
                        "{name}: {cr_name}: {} {}",
                        object["kind"].as_str().unwrap_or_default(),
                        object["metadata"]["name"].as_str().unwrap_or_default()
                    );
                    assert_contained(&secret_as_stored(object), &got, &what);
                    compared += 1;
                }
            }
        }
        // Leave no finalized CR behind in a shared namespace: delete it and let one more
        // reconcile run its cleanup.
        api.delete(&cr_name, &Default::default()).await.unwrap();
        if let Some(deleting) = api.get_opt(&cr_name).await.unwrap() {
            let _ = reconciler
                .reconcile(Arc::new(deleting), &Surroundings::default())
                .await;
        }
    }
    compared
}

#[tokio::test]
async fn ork_template_shows_what_a_reconcile_applies_for_every_pack_with_sample_crs() {
    let cp = testenv::shared().await;
    let admin = cp.client().await.unwrap();
    let mut packs: Vec<_> = std::fs::read_dir(conformance_dir().join("packs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    packs.sort();
    let mut compared = Vec::new();
    for pack in &packs {
        let n = check_pack(&admin, pack).await;
        if n > 0 {
            compared.push(pack.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    println!("packs compared object by object: {compared:?}");
    // Not vacuous: the packs with CRD manifests and sample CRs were compared.
    assert!(compared.len() >= 15, "{compared:?}");
}
