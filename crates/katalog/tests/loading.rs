//! Resolution end to end: Komposer merges, Motif imports, includes, the newest layout, crdFile.

use std::time::Duration;

use crate::util::write_files;

const HEAD: &str = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata:\n  name: demo\n";

fn codes(result: Result<katalog::Loaded, katalog::Diagnostics>) -> Vec<&'static str> {
    match result {
        Ok(_) => Vec::new(),
        Err(d) => d.errors().map(|e| e.code).collect(),
    }
}

#[test]
fn komposer_overrides_merge_field_by_field_onto_imports() {
    let dir = write_files(&[
        (
            "vendor.yaml",
            &format!(
                "{HEAD}spec:\n  crds:\n    db:\n      apiTypes: {{group: vendor.io, version: v1, kind: Db, plural: dbs}}\n      operatorBox:\n        reconciler: {{workers: 2, resync: 45s}}\n        onCreate:\n          configMaps:\n            - name: \"{{{{ .metadata.name }}}}\"\n"
            ),
        ),
        (
            "komposer.yaml",
            "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata: {name: mine, version: 1.0.0}\nimports:\n  files: [./vendor.yaml]\nspec:\n  crds:\n    db:\n      apiTypes: {group: mine.io}\n      operatorBox:\n        reconciler: {workers: 8}\n",
        ),
    ]);
    let loaded = katalog::load(dir.path().join("komposer.yaml"))
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let db = loaded.katalog.crd("db").unwrap();
    assert_eq!(db.gvk.group, "mine.io");
    assert_eq!(db.gvk.kind, "Db");
    assert_eq!(db.settings.workers, 8);
    assert_eq!(db.settings.resync, Duration::from_secs(45));
    assert_eq!(
        db.operator_box()
            .on_create
            .as_ref()
            .unwrap()
            .config_maps
            .len(),
        1
    );
    assert_eq!(db.entry.katalog_name.as_deref(), Some("demo"));
    assert_eq!(loaded.katalog.kind, katalog::model::DocumentKind::Komposer);
}

#[test]
fn komposer_overrides_must_name_an_imported_crd_and_remote_imports_are_not_supported() {
    let dir = write_files(&[
        (
            "vendor.yaml",
            &format!(
                "{HEAD}spec:\n  crds:\n    db:\n      apiTypes: {{group: v.io, version: v1, kind: Db, plural: dbs}}\n"
            ),
        ),
        (
            "komposer.yaml",
            "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata: {name: mine}\nimports:\n  files: [./vendor.yaml, https://example.invalid/k.yaml]\n  registry: [{url: ghcr.io/x/y}]\nspec:\n  crds:\n    cache: {enabled: false}\n",
        ),
    ]);
    let result = katalog::load(dir.path().join("komposer.yaml"));
    let c = codes(result);
    assert!(c.contains(&"override-unknown-crd"), "{c:?}");
    assert_eq!(
        c.iter().filter(|c| **c == "import-unsupported").count(),
        2,
        "{c:?}"
    );
}

#[test]
fn a_crd_imported_twice_is_an_error() {
    let vendor = format!(
        "{HEAD}spec:\n  crds:\n    db:\n      apiTypes: {{group: v.io, version: v1, kind: Db, plural: dbs}}\n"
    );
    let dir = write_files(&[
        ("a.yaml", &vendor),
        ("b.yaml", &vendor),
        (
            "komposer.yaml",
            "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata: {name: m}\nimports:\n  files: [./a.yaml, ./b.yaml]\n",
        ),
    ]);
    assert!(codes(katalog::load(dir.path().join("komposer.yaml"))).contains(&"duplicate-crd"));
}

#[test]
fn motif_resources_inputs_and_notes_are_merged() {
    let dir = write_files(&[
        (
            "motifs/pg.yaml",
            "apiVersion: orkestra.orkspace.io/v1\nkind: Motif\nmetadata: {name: pg}\ninputs:\n  - {name: image}\n  - {name: size, default: 10Gi}\nnotes:\n  functions:\n    - {name: pgHost, expression: \"{{ .metadata.name }}-pg\"}\nresources:\n  onCreate:\n    secrets:\n      - name: \"{{ .metadata.name }}-creds\"\n  services:\n    - name: \"{{ pgHost }}\"\n      port: \"5432\"\n",
        ),
        (
            "katalog.yaml",
            &format!(
                "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      imports:\n        - motif: ./motifs/pg.yaml\n          with: {{image: \"{{{{ .spec.image }}}}\"}}\n"
            ),
        ),
    ]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let app = loaded.katalog.crd("app").unwrap();
    let b = app.operator_box();
    assert_eq!(b.on_create.as_ref().unwrap().secrets.len(), 1);
    assert_eq!(b.on_reconcile.as_ref().unwrap().services.len(), 1);
    assert_eq!(app.inputs.get("size").map(String::as_str), Some("10Gi"));
    assert_eq!(
        app.inputs.get("image").map(String::as_str),
        Some("{{ .spec.image }}")
    );
    assert!(
        loaded
            .katalog
            .notes
            .iter()
            .any(|n| n.name.value == "pgHost")
    );
}

#[test]
fn a_missing_motif_input_is_an_error() {
    let dir = write_files(&[
        (
            "m.yaml",
            "apiVersion: orkestra.orkspace.io/v1\nkind: Motif\nmetadata: {name: m}\ninputs: [{name: image}]\n",
        ),
        (
            "katalog.yaml",
            &format!(
                "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      imports: [{{motif: ./m.yaml}}]\n"
            ),
        ),
    ]);
    assert!(codes(katalog::load(dir.path().join("katalog.yaml"))).contains(&"motif-input-missing"));
}

#[test]
fn the_newest_layout_maps_onto_the_same_model() {
    let text = format!(
        "{HEAD}spec:\n  crds:\n    web:\n      apiTypes: {{group: w.io, version: v1, kind: Web, plural: webs}}\n      admission:\n        validation:\n          rules: [{{field: spec.image, operator: exists, action: deny}}]\n      operatorBox:\n        observe:\n          cross: [{{crd: web, as: self}}]\n        runtime:\n          finalizers: [w.io/cleanup]\n          allowedNamespaces: [prod]\n        reconcile:\n          workers: 6\n          onReconcile:\n            services: [{{port: \"80\"}}]\n        emit:\n          status:\n            fields: [{{path: phase, value: Running}}]\n"
    );
    let loaded =
        katalog::load_text("katalog.yaml", text).unwrap_or_else(|d| panic!("{}", d.render()));
    let web = loaded.katalog.crd("web").unwrap();
    assert_eq!(web.settings.workers, 6);
    assert_eq!(web.finalizers, ["w.io/cleanup"]);
    assert_eq!(
        web.entry.allowed_namespaces.as_ref().unwrap().value,
        ["prod"]
    );
    assert_eq!(web.entry.validation.as_ref().unwrap().rules.len(), 1);
    let b = web.operator_box();
    assert_eq!(b.cross.len(), 1);
    assert_eq!(b.status.as_ref().unwrap().fields.len(), 1);
    assert_eq!(b.on_reconcile.as_ref().unwrap().services.len(), 1);
    assert!(b.reconcile.is_none() && b.runtime.is_none() && b.emit.is_none());
}

#[test]
fn a_setting_in_both_layouts_is_a_conflict() {
    let text = format!(
        "{HEAD}spec:\n  crds:\n    web:\n      apiTypes: {{group: w.io, version: v1, kind: Web, plural: webs}}\n      operatorBox:\n        status: {{fields: [{{path: a, value: b}}]}}\n        emit:\n          status: {{fields: [{{path: a, value: c}}]}}\n"
    );
    assert!(codes(katalog::load_text("katalog.yaml", text)).contains(&"layout-conflict"));
}

#[test]
fn reconciler_include_is_merged_under_the_inline_block() {
    let dir = write_files(&[
        ("shared.yaml", "reconciler:\n  workers: 9\n  resync: 2m\n"),
        (
            "katalog.yaml",
            &format!(
                "{HEAD}spec:\n  crds:\n    web:\n      apiTypes: {{group: w.io, version: v1, kind: Web, plural: webs}}\n      operatorBox:\n        reconciler:\n          include: ./shared.yaml\n          workers: 4\n"
            ),
        ),
    ]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let s = &loaded.katalog.crd("web").unwrap().settings;
    assert_eq!(s.workers, 4);
    assert_eq!(s.resync, Duration::from_secs(120));
}

#[test]
fn crd_file_fills_api_types_and_scope() {
    let dir = write_files(&[
        (
            "crd.yaml",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: webs.w.io}\nspec:\n  group: w.io\n  scope: Cluster\n  names: {kind: Web, plural: webs}\n  versions: [{name: v1, served: true, storage: true}]\n",
        ),
        (
            "katalog.yaml",
            &format!("{HEAD}spec:\n  crds:\n    web:\n      crdFile: ./crd.yaml\n"),
        ),
    ]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let web = loaded.katalog.crd("web").unwrap();
    assert_eq!(web.gvk.api_version(), "w.io/v1");
    assert_eq!(web.plural, "webs");
    assert!(!web.namespaced);
}

#[test]
fn built_in_kinds_are_enriched_and_need_a_label_selector() {
    let text = format!("{HEAD}spec:\n  crds:\n    cms:\n      apiTypes: {{kind: ConfigMap}}\n");
    assert!(codes(katalog::load_text("katalog.yaml", text)).contains(&"built-in-without-selector"));
    let text = format!(
        "{HEAD}spec:\n  crds:\n    cms:\n      apiTypes: {{kind: ConfigMap}}\n      labelSelector: {{app: x}}\n"
    );
    let loaded =
        katalog::load_text("katalog.yaml", text).unwrap_or_else(|d| panic!("{}", d.render()));
    let cms = loaded.katalog.crd("cms").unwrap();
    assert!(cms.built_in);
    assert_eq!(cms.gvk.api_version(), "v1");
    assert_eq!(cms.plural, "configmaps");
}

#[test]
fn start_order_puts_dependencies_first() {
    let text = format!(
        "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      dependsOn: {{db: healthy}}\n    db:\n      apiTypes: {{group: a.io, version: v1, kind: Db, plural: dbs}}\n"
    );
    let loaded =
        katalog::load_text("katalog.yaml", text).unwrap_or_else(|d| panic!("{}", d.render()));
    assert_eq!(loaded.katalog.start_order(), ["db", "app"]);
}

#[test]
fn warnings_do_not_make_a_katalog_invalid() {
    let text = format!(
        "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        reconciler:\n          queue: {{degradeThreshold: 4}}\n"
    );
    let loaded =
        katalog::load_text("katalog.yaml", text).unwrap_or_else(|d| panic!("{}", d.render()));
    assert!(loaded.warnings.iter().any(|w| w.code == "deprecated-key"));
    assert_eq!(
        loaded
            .katalog
            .crd("app")
            .unwrap()
            .settings
            .failure_threshold,
        4
    );
}

#[test]
fn every_unknown_key_is_reported_in_one_run() {
    let text = format!(
        "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps, plurl: x}}\n      operatorBox:\n        reconciler: {{workerz: 2}}\n        cross: [{{crd: app, labels: {{a: b}}}}]\n"
    );
    let err = katalog::load_text("katalog.yaml", text).unwrap_err();
    let paths: Vec<&str> = err.errors().filter_map(|e| e.path.as_deref()).collect();
    assert!(paths.contains(&"spec.crds.app.apiTypes.plurl"), "{paths:?}");
    assert!(
        paths.contains(&"spec.crds.app.operatorBox.reconciler.workerz"),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"spec.crds.app.operatorBox.cross[0].labels"),
        "{paths:?}"
    );
    let renamed = err.errors().find(|e| e.code == "renamed-key").unwrap();
    assert!(renamed.message.contains("labelSelector"));
}

#[test]
fn block_includes_must_exist_and_their_templates_are_checked() {
    let text = format!(
        "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      serve:\n        enabled: true\n        include: ./serve/app.yaml\n"
    );
    let dir = write_files(&[("katalog.yaml", &text)]);
    assert!(codes(katalog::load(dir.path().join("katalog.yaml"))).contains(&"file-not-found"));
    let dir = write_files(&[
        ("katalog.yaml", &text),
        (
            "serve/app.yaml",
            "fields:\n  schedule:\n    values:\n      schedule.minute: '{{ cronMinute .value'\n",
        ),
    ]);
    assert!(codes(katalog::load(dir.path().join("katalog.yaml"))).contains(&"template-syntax"));
}

#[test]
fn placeholder_resource_keys_of_spec_6_1_are_accepted() {
    let text = format!(
        "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        onCreate:\n          volumes: []\n          serviceMonitors: []\n          daemonSets: []\n          storageClasses: []\n          podTemplates: []\n"
    );
    if let Err(d) = katalog::load_text("katalog.yaml", text) {
        panic!("{}", d.render());
    }
}

#[test]
fn oci_and_short_name_motifs_are_not_supported_yet() {
    let text = format!(
        "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      imports:\n        - motif: postgres:v1.0.0\n        - {{motif: ghcr.io/org/pg, oci: true}}\n"
    );
    let err = katalog::load_text("katalog.yaml", text).unwrap_err();
    let unsupported: Vec<_> = err
        .errors()
        .filter(|e| e.code == "import-unsupported")
        .collect();
    assert_eq!(unsupported.len(), 2);
    assert!(unsupported[0].message.contains("postgres:v1.0.0"));
}

#[test]
fn dev_mode_files_must_exist_and_katalogs_may_not_import_files() {
    let text = format!(
        "{HEAD}imports:\n  files: [./other.yaml]\nspec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      crFiles: [./cr.yaml]\n      setup: [./setup.yaml]\n"
    );
    let dir = write_files(&[("katalog.yaml", &text), ("setup.yaml", "kind: Namespace\n")]);
    let c = codes(katalog::load(dir.path().join("katalog.yaml")));
    assert_eq!(
        c.iter().filter(|c| **c == "file-not-found").count(),
        1,
        "{c:?}"
    );
    assert!(c.contains(&"imports-on-katalog"), "{c:?}");
}

#[test]
fn values_of_the_wrong_type_are_all_reported_without_follow_up_errors() {
    let text = format!(
        "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        reconciler: {{workers: many, resync: [1]}}\n        onCreate:\n          deployments: oops\n      enabled: perhaps\n      operatorBx: {{}}\n"
    );
    let err = katalog::load_text("katalog.yaml", text).unwrap_err();
    let found: Vec<(&str, &str)> = err
        .errors()
        .map(|e| (e.code, e.path.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "invalid-value",
                "spec.crds.app.operatorBox.reconciler.workers"
            ),
            (
                "invalid-value",
                "spec.crds.app.operatorBox.reconciler.resync"
            ),
            (
                "invalid-value",
                "spec.crds.app.operatorBox.onCreate.deployments"
            ),
            ("invalid-value", "spec.crds.app.enabled"),
            ("unknown-key", "spec.crds.app.operatorBx"),
        ]
    );
}

fn rule_fields(crd: &katalog::Crd, mutation: bool) -> Vec<String> {
    if mutation {
        crd.entry
            .mutation
            .as_ref()
            .unwrap()
            .rules
            .iter()
            .map(|r| r.value.field.clone().unwrap_or_default())
            .collect()
    } else {
        crd.entry
            .validation
            .as_ref()
            .unwrap()
            .rules
            .iter()
            .map(|r| r.value.field.clone().unwrap_or_default())
            .collect()
    }
}

#[test]
fn rule_includes_come_before_inline_rules_and_motif_rules_after() {
    let dir = write_files(&[
        (
            "admission/rules.yaml",
            "rules:\n  - {field: spec.image, prefix: \"registry.internal/\", message: internal images only}\n",
        ),
        (
            "admission/defaults.yaml",
            "rules:\n  - {field: spec.tier, default: gold}\n",
        ),
        (
            "m.yaml",
            "apiVersion: orkestra.orkspace.io/v1\nkind: Motif\nmetadata: {name: m}\nadmission:\n  validation:\n    include: ./admission/rules.yaml\n    rules:\n      - {field: spec.port, lessThan: 65536}\n  mutation:\n    rules:\n      - {field: spec.region, default: eu}\n",
        ),
        (
            "katalog.yaml",
            &format!(
                "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      imports: [{{motif: ./m.yaml}}]\n      validation:\n        include: ./admission/rules.yaml\n        rules:\n          - {{field: spec.replicas, greaterThan: 0}}\n      mutation:\n        include: ./admission/defaults.yaml\n"
            ),
        ),
    ]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let app = loaded.katalog.crd("app").unwrap();
    assert_eq!(
        rule_fields(app, false),
        ["spec.image", "spec.replicas", "spec.image", "spec.port"]
    );
    assert_eq!(rule_fields(app, true), ["spec.tier", "spec.region"]);
    assert!(app.entry.validation.as_ref().unwrap().include.is_none());
}

#[test]
fn rule_includes_under_the_newest_admission_layout_are_merged() {
    let dir = write_files(&[
        (
            "rules.yaml",
            "rules:\n  - {field: spec.image, exists: true}\n",
        ),
        (
            "katalog.yaml",
            &format!(
                "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      admission:\n        validation:\n          include: ./rules.yaml\n"
            ),
        ),
    ]);
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    assert_eq!(
        rule_fields(loaded.katalog.crd("app").unwrap(), false),
        ["spec.image"]
    );
}

#[test]
fn a_rule_file_without_rules_and_unmerged_motif_admission_keys_are_errors() {
    let dir = write_files(&[
        (
            "rules.yaml",
            "rule:\n  - {field: spec.image, exists: true}\n",
        ),
        (
            "defaults.yaml",
            "external: []\nrules:\n  - {field: spec.tier, default: gold}\n",
        ),
        (
            "m.yaml",
            "apiVersion: orkestra.orkspace.io/v1\nkind: Motif\nmetadata: {name: m}\nadmission:\n  webhooks: {validation: false}\n  mutation:\n    mutateFirst: true\n",
        ),
        (
            "katalog.yaml",
            &format!(
                "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      imports: [{{motif: ./m.yaml}}]\n      validation: {{include: ./rules.yaml}}\n      mutation: {{include: ./defaults.yaml}}\n"
            ),
        ),
    ]);
    let errors = match katalog::load(dir.path().join("katalog.yaml")) {
        Ok(_) => panic!("loaded"),
        Err(d) => d.render(),
    };
    assert!(
        errors.contains("has no top-level `rules:` list"),
        "{errors}"
    );
    assert!(
        errors.contains("`external` in `./defaults.yaml` is not read"),
        "{errors}"
    );
    assert!(
        errors.contains("`admission.webhooks` is not merged"),
        "{errors}"
    );
    assert!(
        errors.contains("`admission.mutation.mutateFirst` is not merged"),
        "{errors}"
    );
}

/// A Katalog whose CRD `app` has `reconciler:` body `reconciler` and `preReconcile:` body
/// `pre` (flow YAML, `{}` for none).
fn queue_katalog(reconciler: &str, pre: &str) -> String {
    format!(
        "{HEAD}spec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        reconciler: {reconciler}\n        preReconcile: {pre}\n"
    )
}

/// (code, line, col) of every problem of `severity`.
fn problems(
    text: String,
    severity: katalog::Severity,
) -> Vec<(&'static str, u32, u32, Option<String>)> {
    let items = match katalog::load_text("katalog.yaml", text) {
        Ok(loaded) => loaded.warnings,
        Err(d) => d.items,
    };
    items
        .into_iter()
        .filter(|d| d.severity == severity)
        .map(|d| (d.code, d.line, d.col, d.path))
        .collect()
}

#[test]
fn queue_behaviour_is_checked_where_it_is_written() {
    use katalog::Severity::{Error, Warning};
    let path = |rest: &str| Some(format!("spec.crds.app.operatorBox.reconciler.queue.{rest}"));
    // onThreshold.value out of 1..=100, onLimit with a value, behaviour on an unlimited queue.
    let bad = queue_katalog(
        "{queue: {behaviour: {onThreshold: {value: 101}, onLimit: {value: 5}}}}",
        "{}",
    );
    let errors = problems(bad, Error);
    for (code, rest) in [
        ("behaviour-without-limit", "behaviour"),
        ("invalid-value", "behaviour.onThreshold.value"),
        ("invalid-value", "behaviour.onLimit.value"),
    ] {
        let found = errors
            .iter()
            .find(|e| e.0 == code && e.3 == path(rest))
            .unwrap_or_else(|| panic!("no {code} at {rest} in {errors:?}"));
        assert_eq!(found.1, 10, "{found:?} is on the reconciler line");
        assert!(found.2 > 20, "{found:?} points into the line");
    }
    // `drop: false` warnings, and maxDepth without behaviour.
    let odd = queue_katalog(
        "{queue: {maxDepth: 10, behaviour: {onThreshold: {value: 50, drop: false}, onLimit: {drop: false}}}}",
        "{}",
    );
    let codes: Vec<_> = problems(odd, Warning).into_iter().map(|w| w.0).collect();
    assert!(codes.contains(&"threshold-always-drops"), "{codes:?}");
    assert!(codes.contains(&"limit-never-drops"), "{codes:?}");
    let alone = problems(queue_katalog("{queue: {maxDepth: 10}}", "{}"), Warning);
    assert!(
        alone
            .iter()
            .any(|w| w.0 == "depth-without-behaviour" && w.3 == path("maxDepth") && w.1 == 10),
        "{alone:?}"
    );
    // A valid behaviour loads without a `not-implemented` warning.
    let good = queue_katalog(
        "{queue: {maxDepth: 10, behaviour: {onThreshold: {value: 50, when: [{field: spec.shed, equals: 'true'}]}, onLimit: {drop: true}}}}",
        "{}",
    );
    let warnings = problems(good, Warning);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn event_aware_belongs_to_the_reconcile_gate() {
    use katalog::Severity::Warning;
    let on_reconcile = queue_katalog(
        "{}",
        "{sentinels: [generationChanged], reconcileGate: {eventAware: true, sentinels: [generationChanged]}}",
    );
    let warnings = problems(on_reconcile, Warning);
    assert!(warnings.is_empty(), "{warnings:?}");
    let on_enqueue = queue_katalog(
        "{}",
        "{sentinels: [generationChanged], enqueueGate: {eventAware: true, sentinels: [generationChanged]}}",
    );
    let warnings = problems(on_enqueue, Warning);
    assert!(
        warnings.iter().any(|w| w.0 == "event-aware-enqueue-gate"
            && w.1 == 11
            && w.3.as_deref()
                == Some("spec.crds.app.operatorBox.preReconcile.enqueueGate.eventAware")),
        "{warnings:?}"
    );
}
