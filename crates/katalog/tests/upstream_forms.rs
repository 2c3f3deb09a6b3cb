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

/// `diagnostics` of a load, warnings or errors alike.
fn all_diagnostics(
    result: &Result<katalog::Loaded, katalog::Diagnostics>,
) -> Vec<katalog::Diagnostic> {
    match result {
        Ok(l) => l.warnings.clone(),
        Err(d) => d.items.clone(),
    }
}

const APP: &str = "apiTypes: {group: a.io, version: v1, kind: App, plural: apps}";

#[test]
fn profile_classes_written_as_lists_are_keyed_by_name() {
    let dir = write_files(&[(
        "katalog.yaml",
        &format!(
            "{HEAD}profiles:\n  limitRanges:\n    - name: minimal\n      description: Low defaults\n      limits: [{{type: Container, max: {{cpu: \"1\"}}}}]\n  reconciler:\n    - name: local-dev\n      description: one worker\n      workers: 1\n      resync: 15s\n      queue: {{maxDepth: 50}}\nspec:\n  crds:\n    app:\n      {APP}\n      operatorBox:\n        reconciler: {{profile: local-dev}}\n        onCreate:\n          limitRanges:\n            - {{name: lr, profile: minimal}}\n"
        ),
    )]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let minimal = &loaded.katalog.profiles.limit_ranges["minimal"].value;
    assert_eq!(
        minimal,
        &serde_json::json!({"limits": [{"type": "Container", "max": {"cpu": "1"}}]}),
        "the entry without its name and description"
    );
    let app = loaded.katalog.crd("app").unwrap();
    assert_eq!(
        app.settings.workers, 1,
        "the list-form reconciler profile applies"
    );
    assert_eq!(app.settings.max_depth, 50);
    assert!(
        loaded.warnings.is_empty(),
        "the list form is current upstream form: {:?}",
        loaded.warnings
    );
}

#[test]
fn a_list_form_profile_needs_a_name_given_once() {
    let dir = write_files(&[(
        "katalog.yaml",
        &format!(
            "{HEAD}profiles:\n  pdb:\n    - {{name: one, minAvailable: \"1\"}}\n    - {{name: one, minAvailable: \"2\"}}\n    - {{minAvailable: \"3\"}}\nspec:\n  crds:\n    app:\n      {APP}\n"
        ),
    )]);
    let diagnostics = all_diagnostics(&katalog::load(dir.path().join("katalog.yaml")));
    let duplicate = diagnostics
        .iter()
        .find(|d| d.code == "duplicate-profile")
        .expect("the second `one` is refused");
    assert_eq!(duplicate.line, 7);
    let unnamed = diagnostics
        .iter()
        .find(|d| d.code == "missing-field")
        .expect("the entry without a name is refused");
    assert_eq!(unnamed.line, 8);
    assert!(unnamed.is_error() && duplicate.is_error());
}

#[test]
fn crd_names_may_be_camel_case_as_upstream_writes_them() {
    let dir = write_files(&[(
        "katalog.yaml",
        &format!("{HEAD}spec:\n  crds:\n    declarativeApp:\n      {APP}\n"),
    )]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    assert!(loaded.katalog.crd("declarativeApp").is_some());
    for bad in ["my_app", "-app", "app.", "App Name"] {
        let dir = write_files(&[(
            "katalog.yaml",
            &format!("{HEAD}spec:\n  crds:\n    \"{bad}\":\n      {APP}\n"),
        )]);
        assert!(
            codes(katalog::load(dir.path().join("katalog.yaml"))).contains(&"invalid-crd-name"),
            "`{bad}` is refused"
        );
    }
}

#[test]
fn a_cluster_scoped_built_in_without_selector_is_a_warning_a_namespaced_one_an_error() {
    let katalog_for = |kind: &str| {
        write_files(&[(
            "katalog.yaml",
            &format!("{HEAD}spec:\n  crds:\n    governed:\n      apiTypes: {{kind: {kind}}}\n"),
        )])
    };
    let dir = katalog_for("Namespace");
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let warning = loaded
        .warnings
        .iter()
        .find(|d| d.code == "built-in-without-selector")
        .expect("a warning that every Namespace is reconciled");
    assert!(warning.message.contains("every Namespace"));
    let dir = katalog_for("ConfigMap");
    let result = katalog::load(dir.path().join("katalog.yaml"));
    assert!(result.is_err());
    assert!(codes(result).contains(&"built-in-without-selector"));
}

#[test]
fn a_participant_only_conversion_block_converts_nothing_and_says_so() {
    let dir = write_files(&[(
        "katalog.yaml",
        &format!(
            "{HEAD}spec:\n  crds:\n    app:\n      {APP}\n      conversion:\n        participant: true\n"
        ),
    )]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let warning = loaded
        .warnings
        .iter()
        .find(|d| d.path.as_deref() == Some("spec.crds.app.conversion.participant"))
        .expect("a warning that the marker has no effect");
    assert_eq!(warning.code, "not-supported-yet");
    let app = loaded.katalog.crd("app").unwrap();
    assert!(katalog::admission::Conversion::of(app).is_none());
    // With paths, the block converts and still needs its storage version.
    let dir = write_files(&[(
        "katalog.yaml",
        &format!(
            "{HEAD}spec:\n  crds:\n    app:\n      {APP}\n      conversion:\n        participant: true\n        paths: [{{from: v1alpha1, to: v1}}]\n"
        ),
    )]);
    assert!(
        codes(katalog::load(dir.path().join("katalog.yaml"))).contains(&"missing-storage-version")
    );
}

/// A Katalog whose `app` CRD creates the Deployment `deployment` (YAML flow map body).
fn deployment_katalog(deployment: &str) -> tempfile::TempDir {
    write_files(&[(
        "katalog.yaml",
        &format!(
            "{HEAD}spec:\n  crds:\n    app:\n      {APP}\n      operatorBox:\n        onCreate:\n          deployments:\n            - {deployment}\n"
        ),
    )])
}

#[test]
fn env_from_names_written_bare_read_as_name_maps_with_a_warning() {
    let dir = deployment_katalog(
        "{name: web, image: nginx, envFrom: {secretRef: [\"{{ .metadata.name }}-creds\"], configMapRef: [{name: cfg}]}}",
    );
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let app = loaded.katalog.crd("app").unwrap();
    let deployment = &app.operator_box().on_create.as_ref().unwrap().deployments[0];
    let env_from = deployment.env_from.as_ref().unwrap();
    assert_eq!(
        env_from.secret_ref[0].name.as_str(),
        "{{ .metadata.name }}-creds"
    );
    assert_eq!(env_from.config_map_ref[0].name.as_str(), "cfg");
    let paths: Vec<_> = loaded
        .warnings
        .iter()
        .filter(|d| d.code == "deprecated-form")
        .filter_map(|d| d.path.as_deref())
        .collect();
    assert_eq!(
        paths,
        ["spec.crds.app.operatorBox.onCreate.deployments[0].envFrom.secretRef"],
        "one warning, for the list that used bare names"
    );
}

#[test]
fn an_autoscale_step_may_jump_to_a_target_but_not_also_step() {
    let dir = deployment_katalog(
        "{name: web, image: nginx, autoscale: {min: 2, max: 8, scaleUp: {target: 8, conditions: {when: [{field: spec.busy, equals: \"true\"}]}}}}",
    );
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let app = loaded.katalog.crd("app").unwrap();
    let deployment = &app.operator_box().on_create.as_ref().unwrap().deployments[0];
    let up = deployment
        .autoscale
        .as_ref()
        .unwrap()
        .scale_up
        .as_ref()
        .unwrap();
    assert_eq!(up.target.as_ref().map(|t| t.as_str()), Some("8"));
    let dir = deployment_katalog(
        "{name: web, image: nginx, autoscale: {max: 8, scaleDown: {target: 2, decrement: 1}}}",
    );
    assert!(
        codes(katalog::load(dir.path().join("katalog.yaml")))
            .contains(&"autoscale-target-and-step")
    );
}

#[test]
fn enrich_targets_are_read_in_any_case_as_their_canonical_name() {
    let dir = write_files(&[(
        "katalog.yaml",
        &format!(
            "{HEAD}spec:\n  crds:\n    app:\n      {APP}\n      enrich:\n        - Pods\n        - replicasets:\n            or: [{{field: spec.debug, equals: \"true\"}}]\n"
        ),
    )]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let enrich: Vec<_> = loaded
        .katalog
        .crd("app")
        .unwrap()
        .entry
        .enrich
        .iter()
        .map(|e| e.value.clone())
        .collect();
    assert_eq!(enrich[0], serde_json::json!("pods"));
    assert!(enrich[1].get("replicaSets").is_some(), "{:?}", enrich[1]);
    let dir = write_files(&[(
        "katalog.yaml",
        &format!("{HEAD}spec:\n  crds:\n    app:\n      {APP}\n      enrich: [replicas]\n"),
    )]);
    assert!(
        codes(katalog::load(dir.path().join("katalog.yaml"))).contains(&"unknown-enrich-target")
    );
}

#[test]
fn an_env_map_entry_of_the_wrong_shape_names_the_variable_and_the_accepted_shapes() {
    let dir = deployment_katalog(
        "{name: web, image: nginx, env: {API_KEY: {secretKeyRef: {name: s, key: k}}}}",
    );
    let diagnostics = all_diagnostics(&katalog::load(dir.path().join("katalog.yaml")));
    let error = diagnostics
        .iter()
        .find(|d| d.code == "invalid-value")
        .expect("the entry is refused");
    assert!(
        error.message.contains("env `API_KEY`") && error.message.contains("valueFrom"),
        "{}",
        error.message
    );
    let dir = deployment_katalog(
        "{name: web, image: nginx, env: {PLAIN: x, FROM: {valueFrom: {secretKeyRef: {name: s, key: k}}}}}",
    );
    assert!(katalog::load(dir.path().join("katalog.yaml")).is_ok());
}

/// A Katalog with a typed Go extension point written as `block` under `operatorBox`.
fn typed_katalog(block: &str) -> String {
    let indented: String = block.lines().map(|l| format!("        {l}\n")).collect();
    format!(
        "{HEAD}spec:\n  crds:\n    database:\n      apiTypes: {{group: a.io, version: v1, kind: Database, plural: databases, location: example.com/api/v1}}\n      operatorBox:\n{indented}"
    )
}

/// Upstream's loader decodes strictly (unknown keys are errors) and its `HookDeclaration`
/// and `ConstructorDeclaration` know only `managedResources`, so the `resources:` that
/// `advanced/09-hooks`, `10-constructor` and their copies write is refused there too. ork
/// keeps the error, naming the new key; written as upstream reads it, the hook is refused
/// for what it is: Go code ork does not run.
#[test]
fn hook_and_constructor_resources_stay_refused_as_upstream_refuses_them() {
    for key in ["hooks", "constructor"] {
        let default = if key == "constructor" {
            "default: false\n  "
        } else {
            ""
        };
        let old = typed_katalog(&format!(
            "reconciler:\n  {default}{key}:\n    location: example.com/hooks\n    function: Hooks\n    resources: [{{kind: StatefulSet}}]\n"
        ));
        let err = katalog::load_text("katalog.yaml", old).unwrap_err();
        let renamed = err
            .errors()
            .find(|e| e.code == "renamed-key")
            .unwrap_or_else(|| panic!("{key}: {}", err.render()));
        assert!(renamed.message.contains("`managedResources`"), "{key}");
        let current = typed_katalog(&format!(
            "reconciler:\n  {default}{key}:\n    location: example.com/hooks\n    function: Hooks\n    managedResources: [{{kind: StatefulSet}}]\n"
        ));
        let err = katalog::load_text("katalog.yaml", current).unwrap_err();
        let codes: Vec<&str> = err.errors().map(|e| e.code).collect();
        assert_eq!(codes, ["not-implemented"], "{key}: {}", err.render());
    }
}

/// `hooks:`/`constructor:` directly under `operatorBox` (`11-mixed-operator-pattern/09-hooks`,
/// `from-controller-runtime/03-hooks-only`, `05-constructor-orkestra-resources`): no layout of
/// upstream's `OperatorBoxConfig` has these keys (they live under `reconciler:`), and its
/// strict decoding refuses them; so does ork.
#[test]
fn hooks_written_directly_under_the_operator_box_stay_refused() {
    for key in ["hooks", "constructor"] {
        let text = typed_katalog(&format!(
            "{key}:\n  location: example.com/hooks\n  function: Hooks\n  managedResources: [{{kind: Service}}]\n"
        ));
        let err = katalog::load_text("katalog.yaml", text).unwrap_err();
        let unknown = err
            .errors()
            .find(|e| e.code == "unknown-key")
            .unwrap_or_else(|| panic!("{key}: {}", err.render()));
        assert_eq!(
            unknown.path.as_deref(),
            Some(format!("spec.crds.database.operatorBox.{key}").as_str())
        );
    }
}

/// `advanced/10-constructor` writes the early form: `reconciler:` on the entry is the operator
/// box, and its `constructor:` sits beside `default: false` as it did then. ork reads it as
/// `operatorBox.reconciler.constructor`, so the Katalog is refused for what it declares (Go code
/// ork does not run), not for an unknown key.
#[test]
fn an_early_operator_box_constructor_is_read_in_todays_place_and_refused_as_go_code() {
    let text = format!(
        "{HEAD}spec:\n  crds:\n    pipeline:\n      apiTypes: {{group: a.io, version: v1, kind: Pipeline, plural: pipelines, location: example.com/api/v1}}\n      reconciler:\n        default: false\n        constructor:\n          location: example.com/reconciler\n          function: NewPipelineReconciler\n          managedResources: [{{kind: Job}}]\n"
    );
    let err = katalog::load_text("katalog.yaml", text).unwrap_err();
    let codes: Vec<&str> = err.items.iter().map(|d| d.code).collect();
    assert!(codes.contains(&"not-implemented"), "{}", err.render());
    assert!(!codes.contains(&"unknown-key"), "{}", err.render());
    let moved = err
        .items
        .iter()
        .find(|d| d.code == "deprecated-form" && d.message.contains("constructor"))
        .unwrap_or_else(|| panic!("{}", err.render()));
    assert_eq!(
        moved.path.as_deref(),
        Some("spec.crds.pipeline.reconciler.constructor")
    );
}
