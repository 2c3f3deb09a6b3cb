//! `ork template`'s library half: picking the CRD and adding placeholder owners.

use katalog::build::{PLACEHOLDER_UID, PreviewError, preview};

use super::packs::{packs, read_crs};

fn pack(name: &str) -> (katalog::Loaded, Vec<serde_json::Value>) {
    let p = packs().into_iter().find(|p| p.name == name).unwrap();
    let crs = p.crs.iter().flat_map(|f| read_crs(f)).collect();
    (katalog::load(&p.entry).unwrap(), crs)
}

#[test]
fn the_crs_kind_picks_the_crd_and_children_get_placeholder_owners() {
    let (loaded, crs) = pack("beginner-02-with-serviceaccount");
    let objects = preview(&loaded.katalog, &crs[0], None).unwrap();
    assert_eq!(objects.len(), 3);
    for o in &objects {
        assert_eq!(o["metadata"]["ownerReferences"][0]["uid"], PLACEHOLDER_UID);
        assert_eq!(o["metadata"]["ownerReferences"][0]["kind"], "Website");
    }
}

#[test]
fn a_kind_no_crd_has_or_an_unknown_crd_name_is_an_error() {
    let (loaded, crs) = pack("beginner-02-with-serviceaccount");
    let mut other = crs[0].clone();
    other["kind"] = "Gadget".into();
    assert!(matches!(
        preview(&loaded.katalog, &other, None),
        Err(PreviewError::NoCrdForKind { .. })
    ));
    assert!(matches!(
        preview(&loaded.katalog, &crs[0], Some("nope")),
        Err(PreviewError::UnknownCrd(_))
    ));
    assert_eq!(
        preview(&loaded.katalog, &crs[0], Some("website"))
            .unwrap()
            .len(),
        3
    );
}

/// A Katalog importing a Motif whose Deployment image is the templated input `image`, with a
/// mutation default and a deny rule.
fn motif_katalog() -> (tempfile::TempDir, katalog::Loaded) {
    let dir = crate::util::write_files(&[
        (
            "web.yaml",
            "apiVersion: orkestra.orkspace.io/v1\nkind: Motif\nmetadata: {name: web}\ninputs:\n  - {name: image}\nresources:\n  deployments:\n    - name: \"{{ .metadata.name }}\"\n      image: \"{{ .inputs.image }}\"\n      replicas: \"{{ .spec.replicas }}\"\n",
        ),
        (
            "katalog.yaml",
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: motif}\nspec:\n  crds:\n    app:\n      apiTypes: {group: a.io, version: v1, kind: App, plural: apps}\n      imports:\n        - motif: ./web.yaml\n          with: {image: \"{{ .spec.registry }}/{{ .spec.image }}\"}\n      mutation:\n        rules:\n          - {field: spec.replicas, default: \"2\", valueType: int}\n      validation:\n        rules:\n          - {field: spec.image, notContains: \":latest\", message: pin the tag}\n",
        ),
    ]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    (dir, loaded)
}

fn app(spec: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "a.io/v1", "kind": "App",
        "metadata": {"name": "shop", "namespace": "prod"}, "spec": spec,
    })
}

#[test]
fn a_templated_motif_input_renders_the_crs_value_after_mutation() {
    let (_dir, loaded) = motif_katalog();
    let cr = app(serde_json::json!({"registry": "reg.io", "image": "shop:1.2"}));
    let objects = preview(&loaded.katalog, &cr, None).unwrap();
    let deployment = objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("the Motif's Deployment");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "reg.io/shop:1.2"
    );
    assert_eq!(deployment["spec"]["replicas"], 2, "the mutation default");
}

#[test]
fn a_cr_a_deny_rule_refuses_has_no_preview() {
    let (_dir, loaded) = motif_katalog();
    let cr = app(serde_json::json!({"registry": "reg.io", "image": "shop:latest"}));
    match preview(&loaded.katalog, &cr, None) {
        Err(PreviewError::Denied(why)) => assert!(why.contains("pin the tag"), "{why}"),
        other => panic!("expected a denial, got {other:?}"),
    }
}

#[test]
fn a_cr_outside_the_namespace_guard_has_no_preview() {
    let dir = crate::util::write_files(&[(
        "katalog.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: guard}\nspec:\n  crds:\n    app:\n      apiTypes: {group: a.io, version: v1, kind: App, plural: apps}\n      allowedNamespaces: [prod]\n      operatorBox:\n        onReconcile:\n          configMaps: [{name: \"{{ .metadata.name }}\"}]\n",
    )]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let mut cr = app(serde_json::json!({}));
    assert_eq!(preview(&loaded.katalog, &cr, None).unwrap().len(), 1);
    cr["metadata"]["namespace"] = "dev".into();
    assert!(matches!(
        preview(&loaded.katalog, &cr, None),
        Err(PreviewError::NamespaceNotPermitted(ns)) if ns == "dev"
    ));
}

#[test]
fn a_deployment_autoscale_step_that_fires_shows_the_count_the_first_apply_writes() {
    let dir = crate::util::write_files(&[(
        "katalog.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: scale}\nspec:\n  crds:\n    app:\n      apiTypes: {group: a.io, version: v1, kind: App, plural: apps}\n      operatorBox:\n        onReconcile:\n          deployments:\n            - name: web\n              image: nginx\n              replicas: 2\n              autoscale:\n                max: 8\n                scaleUp: {target: 8, conditions: {when: [{field: spec.depth, greaterThan: '100'}]}}\n",
    )]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let replicas = |depth: i64| {
        let objects = preview(
            &loaded.katalog,
            &app(serde_json::json!({"depth": depth})),
            None,
        )
        .unwrap();
        let d = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
        assert!(
            d["metadata"]["annotations"]
                .get(katalog::build::LAST_SCALE_ANNOTATION)
                .is_none(),
            "the time of a change is the apply's own"
        );
        d["spec"]["replicas"].clone()
    };
    assert_eq!(replicas(500), 8);
    assert_eq!(replicas(5), 2);
}
