//! Forms upstream's own examples write that ork accepts, each with its effect or its warning.

use crate::util::write_files;

const HEAD: &str = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: t}\n";

fn codes(result: Result<katalog::Loaded, katalog::Diagnostics>) -> Vec<&'static str> {
    match result {
        Ok(l) => l.warnings.iter().map(|d| d.code).collect(),
        Err(d) => d.items.iter().map(|d| d.code).collect(),
    }
}

/// A Katalog importing a Motif with the given `inputs:` list and `with:` map.
fn motif_katalog(inputs: &str, with: &str) -> tempfile::TempDir {
    write_files(&[
        (
            "m.yaml",
            &format!(
                "apiVersion: orkestra.orkspace.io/v1\nkind: Motif\nmetadata: {{name: m}}\ninputs:\n{inputs}"
            ),
        ),
        (
            "katalog.yaml",
            &format!(
                "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      imports: [{{motif: ./m.yaml, with: {with}}}]\n"
            ),
        ),
    ])
}

#[test]
fn motif_input_required_false_without_default_binds_the_empty_string() {
    let dir = motif_katalog("  - {name: image, required: false}\n", "{}");
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let app = loaded.katalog.crd("app").unwrap();
    assert_eq!(app.inputs.get("image").map(String::as_str), Some(""));
}

#[test]
fn motif_input_required_true_must_be_bound() {
    let dir = motif_katalog("  - {name: image, required: true}\n", "{}");
    assert!(codes(katalog::load(dir.path().join("katalog.yaml"))).contains(&"motif-input-missing"));
    let dir = motif_katalog("  - {name: image, required: true}\n", "{image: nginx}");
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let app = loaded.katalog.crd("app").unwrap();
    assert_eq!(app.inputs.get("image").map(String::as_str), Some("nginx"));
}

#[test]
fn motif_input_type_checks_literal_values() {
    let dir = motif_katalog("  - {name: replicas, default: 1, type: integer}\n", "{}");
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    assert_eq!(
        loaded
            .katalog
            .crd("app")
            .unwrap()
            .inputs
            .get("replicas")
            .map(String::as_str),
        Some("1")
    );
    let dir = motif_katalog("  - {name: replicas, type: integer}\n", "{replicas: many}");
    assert!(codes(katalog::load(dir.path().join("katalog.yaml"))).contains(&"motif-input-type"));
    let dir = motif_katalog(
        "  - {name: replicas, type: integer}\n",
        "{replicas: \"{{ .spec.replicas }}\"}",
    );
    assert!(katalog::load(dir.path().join("katalog.yaml")).is_ok());
}

#[test]
fn object_list_is_the_deprecated_name_of_list() {
    let dir = write_files(&[(
        "katalog.yaml",
        &format!(
            "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps, object: App, objectList: AppList}}\n"
        ),
    )]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let api = loaded
        .katalog
        .crd("app")
        .unwrap()
        .entry
        .api_types
        .clone()
        .unwrap();
    assert_eq!(api.value.list.as_deref(), Some("AppList"));
    let warning = loaded
        .warnings
        .iter()
        .find(|d| d.code == "deprecated-key")
        .expect("a deprecation warning");
    assert!(warning.message.contains("`objectList`") && warning.message.contains("`list`"));
    assert_eq!(warning.line, 7);
}

#[test]
fn cross_source_type_is_the_deprecated_name_of_protocol() {
    let dir = write_files(&[(
        "katalog.yaml",
        &format!(
            "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        cross:\n          - crd: app\n            source: {{host: \"http://other:8080\", type: health}}\n            as: other\n"
        ),
    )]);
    let result = katalog::load(dir.path().join("katalog.yaml"));
    let diagnostics = match &result {
        Ok(l) => l.warnings.clone(),
        Err(d) => d.items.clone(),
    };
    let deprecated = diagnostics
        .iter()
        .find(|d| d.code == "deprecated-key")
        .expect("a deprecation warning");
    assert!(!deprecated.is_error());
    assert!(deprecated.message.contains("`protocol`"));
    assert!(
        !diagnostics
            .iter()
            .any(|d| d.code == "renamed-key" || d.code == "unknown-key"),
        "{diagnostics:?}"
    );
}

#[test]
fn the_early_form_reads_as_todays_form_with_warnings() {
    let dir = write_files(&[(
        "katalog.yaml",
        "apiVersion: orkestra.konductor.io/v1Alpha\nkind: Katalog\nmetadata: {name: t}\nspec:\n  crds:\n    - name: web\n      apiTypes: {group: a.io, version: v1, kind: Web, plural: webs}\n      reconciler:\n        onCreate:\n          configMaps:\n            - name: \"{{ .metadata.name }}\"\n",
    )]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let web = loaded
        .katalog
        .crd("web")
        .expect("the list entry is keyed by its name");
    assert_eq!(
        web.operator_box()
            .on_create
            .as_ref()
            .unwrap()
            .config_maps
            .len(),
        1,
        "`reconciler:` on the entry is the operator box"
    );
    let paths: Vec<_> = loaded
        .warnings
        .iter()
        .filter(|d| d.code == "deprecated-form")
        .filter_map(|d| d.path.clone())
        .collect();
    assert_eq!(
        paths,
        ["apiVersion", "spec.crds", "spec.crds.web.reconciler"],
        "one warning per rewrite"
    );
}

#[test]
fn an_early_crd_list_entry_without_a_name_is_an_error() {
    let dir = write_files(&[(
        "katalog.yaml",
        &format!(
            "{HEAD}spec:\n  crds:\n    - apiTypes: {{group: a.io, version: v1, kind: Web, plural: webs}}\n"
        ),
    )]);
    assert!(codes(katalog::load(dir.path().join("katalog.yaml"))).contains(&"missing-field"));
}

#[test]
fn an_early_komposer_imports_its_sources() {
    let dir = write_files(&[
        (
            "base.yaml",
            &format!(
                "{HEAD}spec:\n  crds:\n    web:\n      apiTypes: {{group: a.io, version: v1, kind: Web, plural: webs}}\n      workers: 2\n"
            ),
        ),
        (
            "komposer.yaml",
            "apiVersion: orkestra.konductor.io/v1Alpha\nkind: Komposer\nmetadata: {name: k}\nsources:\n  files: [./base.yaml]\nspec:\n  crds:\n    - name: web\n      workers: 4\n",
        ),
    ]);
    let loaded = katalog::load(dir.path().join("komposer.yaml"))
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let web = loaded.katalog.crd("web").expect("imported from sources");
    assert_eq!(web.settings.workers, 4, "the override applies");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|d| d.code == "deprecated-form" && d.path.as_deref() == Some("sources"))
    );
}
