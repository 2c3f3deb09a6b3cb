//! `ork validate` on `external:` calls wherever they are declared (spec §11.1): names,
//! protocols, methods, auth, the enqueue gate, and calls of resource blocks.

const KATALOG: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: ext}
spec:
  crds:
    app:
      apiTypes: {group: a.io, version: v1, kind: App, plural: apps}
      validation:
        external:
          - name: docs
            url: "mongodb://docs:27017"
            protocol: mongo
      mutation:
        external:
          - name: broker
            url: "kafka:9092"
            protocol: kafka
      operatorBox:
        preReconcile:
          external:
            - name: both
              url: "http://x"
              token: "$TOKEN"
              auth: {secretRef: {name: s, key: k}}
          enqueueGate:
            external:
              - name: early
                url: "http://x"
        onReconcile:
          external:
            - name: check
              url: "http://x/{{ .metadata.name }}"
              method: FETCH
            - name: typo
              url: "http://x"
              retries: 3
            - name: check
              url: "http://y"
"#;

fn found(text: &str) -> Vec<(String, String, u32)> {
    let err = katalog::load_text("katalog.yaml", text.to_string()).expect_err("invalid");
    err.errors()
        .map(|e| {
            (
                e.code.to_string(),
                e.path.clone().unwrap_or_default(),
                e.line,
            )
        })
        .collect()
}

#[test]
fn every_external_problem_is_reported_with_its_path_and_line() {
    let found = found(KATALOG);
    let has = |code: &str, path: &str| found.iter().find(|(c, p, _)| c == code && p == path);
    let crd = "spec.crds.app";
    for (code, path) in [
        (
            "unsupported-external-protocol",
            "validation.external[0].protocol",
        ),
        (
            "unsupported-external-protocol",
            "mutation.external[0].protocol",
        ),
        (
            "external-auth-exclusive",
            "operatorBox.preReconcile.external[0]",
        ),
        (
            "external-in-enqueue-gate",
            "operatorBox.preReconcile.enqueueGate.external[0]",
        ),
        (
            "invalid-value",
            "operatorBox.onReconcile.external[0].method",
        ),
        ("invalid-external", "operatorBox.onReconcile.external[1]"),
        (
            "duplicate-external",
            "operatorBox.onReconcile.external[2].name",
        ),
    ] {
        assert!(
            has(code, &format!("{crd}.{path}")).is_some(),
            "no {code} at {path} in {found:#?}"
        );
    }
    // Typed places point at the call's name.
    let mongo = has(
        "unsupported-external-protocol",
        &format!("{crd}.validation.external[0].protocol"),
    );
    assert_eq!(mongo.map(|(_, _, line)| *line), Some(10), "{found:#?}");
}

#[test]
fn the_message_names_the_call_and_the_protocol() {
    let err = katalog::load_text("katalog.yaml", KATALOG.to_string()).expect_err("invalid");
    let text = err.render();
    assert!(text.contains("`docs` uses protocol `mongo`"), "{text}");
    assert!(text.contains("`broker` uses protocol `kafka`"), "{text}");
}

#[test]
fn well_formed_calls_in_every_place_validate() {
    let text = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: ext}
spec:
  crds:
    app:
      apiTypes: {group: a.io, version: v1, kind: App, plural: apps}
      validation:
        external:
          - {name: policy, url: "http://opa/v1/data", method: post, body: "{}"}
      operatorBox:
        preReconcile:
          external:
            - name: secret
              url: "https://vault/v1/x"
              auth: {secretRef: {name: vault, key: token}}
          reconcileGate:
            external:
              - {name: gate, url: "http://x", timeout: 2s, continueOnError: true}
        onReconcile:
          external:
            - {name: load, url: "http://prom:9090", protocol: prometheus, query: "up"}
            - {name: check, url: "http://x/{{ .external.load.status }}", sleep: 1s, retryBackoff: 1s}
"#;
    let loaded = katalog::load_text("katalog.yaml", text.to_string())
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let warned: Vec<_> = loaded.warnings.iter().map(|w| w.code).collect();
    assert!(warned.is_empty(), "{warned:?}");
}

#[test]
fn an_admission_only_call_is_refused_where_no_admission_webhook_runs() {
    let call = "        external:\n          - {name: policy, url: \"http://opa\", fires: {reconcile: false}}\n        rules:\n          - {field: spec.x, operator: exists}\n";
    let text = KATALOG_HEAD.to_string() + "      validation:\n" + call;
    let refused = found(&text);
    assert!(
        refused
            .iter()
            .any(|(c, p, _)| c == "external-admission-only"
                && p == "spec.crds.app.validation.external[0].fires"),
        "{refused:#?}"
    );
    let with_webhooks = text.replacen(
        "spec:\n",
        "gateway: {enabled: true}\nsecurity:\n  webhooks:\n    admission: {enabled: true}\nspec:\n",
        1,
    );
    if let Err(d) = katalog::load_text("katalog.yaml", with_webhooks.clone()) {
        panic!("{}", d.render());
    }
    let turned_off = with_webhooks.replacen(
        "      validation:\n",
        "      webhooks: {validation: false}\n      validation:\n",
        1,
    );
    let refused = found(&turned_off);
    assert!(
        refused
            .iter()
            .any(|(c, _, _)| c == "external-admission-only"),
        "{refused:#?}"
    );
}

#[test]
fn redis_and_postgres_calls_need_a_query_and_take_no_http_field() {
    let text = KATALOG_HEAD.to_string()
        + "      operatorBox:\n        onReconcile:\n          external:\n            - {name: hits, url: 'redis://c:6379', protocol: redis, query: 'GET hits'}\n            - {name: rows, url: 'postgres://u@db/app', protocol: postgres}\n            - {name: bad, url: 'redis://c:6379', protocol: redis, query: PING, method: POST, expectedStatus: 200}\n";
    let found = found(&text);
    let at = |code: &str, path: &str| {
        found.iter().any(|(c, p, _)| {
            c == code && p == &format!("spec.crds.app.operatorBox.onReconcile.external[{path}")
        })
    };
    assert!(at("missing-field", "1].query"), "{found:#?}");
    assert!(
        at("external-field-not-for-protocol", "2].method"),
        "{found:#?}"
    );
    assert!(
        at("external-field-not-for-protocol", "2].expectedStatus"),
        "{found:#?}"
    );
    assert!(
        !found.iter().any(|(_, p, _)| p.contains("external[0]")),
        "{found:#?}"
    );
}

const KATALOG_HEAD: &str = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: ext}\nspec:\n  crds:\n    app:\n      apiTypes: {group: a.io, version: v1, kind: App, plural: apps}\n";

#[test]
fn a_secret_ref_in_any_place_asks_for_secrets_and_delete_groups_hold_no_call() {
    let text = KATALOG_HEAD.to_string()
        + "      operatorBox:\n        preReconcile:\n          external:\n            - {name: vault, url: 'https://v', auth: {secretRef: {name: s, key: k}}}\n";
    let loaded =
        katalog::load_text("katalog.yaml", text).unwrap_or_else(|d| panic!("{}", d.render()));
    assert!(katalog::rbac::Needs::from_katalog(&loaded.katalog).secret_refs);

    let text = KATALOG_HEAD.to_string()
        + "      operatorBox:\n        onDelete:\n          ordered: true\n          groups:\n            - name: first\n              external: [{name: drain, url: 'http://x'}]\n";
    let found = found(&text);
    assert!(
        found.iter().any(|(c, p, _)| c == "external-in-delete-group"
            && p == "spec.crds.app.operatorBox.onDelete.groups[0].external"),
        "{found:#?}"
    );
}
