//! RBAC derived from the conformance packs.

use katalog::rbac::{Needs, PolicyRule, gateway_rules, runtime_rules};

use super::packs::packs;

fn rules_of(pack: &str) -> (Vec<PolicyRule>, Vec<PolicyRule>) {
    let p = packs().into_iter().find(|p| p.name == pack).unwrap();
    let loaded = katalog::load(&p.entry).unwrap();
    let needs = Needs::from_katalog(&loaded.katalog);
    (runtime_rules(&needs), gateway_rules(&needs))
}

fn has(rules: &[PolicyRule], group: &str, resource: &str, verb: &str) -> bool {
    rules.iter().any(|r| {
        r.api_groups == [group] && r.resources == [resource] && r.verbs.iter().any(|v| v == verb)
    })
}

#[test]
fn the_runtime_gets_its_crd_and_exactly_the_child_kinds_it_declares() {
    let (runtime, gateway) = rules_of("beginner-02-with-serviceaccount");
    assert!(has(&runtime, "demo.orkestra.io", "websites", "watch"));
    assert!(has(
        &runtime,
        "demo.orkestra.io",
        "websites/status",
        "patch"
    ));
    assert!(has(&runtime, "", "serviceaccounts", "create"));
    assert!(has(&runtime, "apps", "deployments", "delete"));
    assert!(has(&runtime, "", "services", "update"));
    assert!(has(&runtime, "coordination.k8s.io", "leases", "update"));
    assert!(!runtime.iter().any(|r| r.resources == ["configmaps"]));
    assert!(!runtime.iter().any(|r| r.resources == ["secrets"]));
    assert!(gateway.is_empty());
}

#[test]
fn custom_children_are_granted_on_their_plural() {
    let (runtime, gateway) = rules_of("ecosystem-crossplane");
    assert!(has(
        &runtime,
        "database.myorg.io",
        "postgresqlinstances",
        "create"
    ));
    assert!(has(
        &gateway,
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        "create"
    ));
}

#[test]
fn deletion_protection_gives_the_gateway_namespaces_and_the_protected_kinds() {
    let (_, gateway) = rules_of("security-deletion-protection");
    assert!(has(&gateway, "", "namespaces", "patch"));
    assert!(has(&gateway, "security.orkestra.io", "apps", "get"));
}

#[test]
fn derived_rules_are_deterministic_and_sorted() {
    for pack in packs() {
        let Ok(loaded) = katalog::load(&pack.entry) else {
            continue;
        };
        let a = runtime_rules(&Needs::from_katalog(&loaded.katalog));
        let b = runtime_rules(&Needs::from_katalog(&loaded.katalog));
        assert_eq!(a, b, "{}", pack.name);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(a, sorted, "{}", pack.name);
    }
}

/// Whether any file of the pack's directory names a Secret (`secret` in any case, which
/// covers `secretRef`, `kind: Secret`, `secrets:` and `secretName`).
fn mentions_secrets(entry: &std::path::Path) -> bool {
    let dir = entry.parent().unwrap();
    walk(dir)
        .iter()
        .any(|f| std::fs::read_to_string(f).is_ok_and(|t| t.to_lowercase().contains("secret")))
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_katalog_that_names_no_secret_gets_no_secret_access() {
    let mut checked = 0;
    for pack in packs() {
        let Ok(loaded) = katalog::load(&pack.entry) else {
            continue;
        };
        if mentions_secrets(&pack.entry) {
            continue;
        }
        let needs = Needs::from_katalog(&loaded.katalog);
        let runtime = runtime_rules(&needs);
        assert!(
            !runtime.iter().any(|r| r.resources == ["secrets"]),
            "{}: the runtime may touch Secrets: {runtime:?}",
            pack.name
        );
        // The gateway's only Secret is its own TLS material, kept when it serves webhooks.
        let gw = needs.gateway.clone().unwrap_or_default();
        let tls = gw.validating_webhooks || gw.mutating_webhooks || !gw.converted.is_empty();
        let gateway = gateway_rules(&needs);
        let secrets: Vec<_> = gateway
            .iter()
            .filter(|r| r.resources == ["secrets"])
            .collect();
        assert!(
            tls || secrets.is_empty(),
            "{}: the gateway may touch Secrets without needing TLS material: {secrets:?}",
            pack.name
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} packs name no Secret");
}

#[test]
fn a_secret_ref_grants_the_runtime_only_get_on_secrets() {
    let text = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: t}\nspec:\n  crds:\n    web:\n      apiTypes: {group: demo.io, version: v1, kind: Web, plural: webs}\n";
    let plain = katalog::load_text("/nonexistent/k.yaml", text)
        .unwrap_or_else(|d| panic!("{}", d.render()))
        .katalog;
    let mut needs = Needs::from_katalog(&plain);
    assert!(
        !runtime_rules(&needs)
            .iter()
            .any(|r| r.resources == ["secrets"])
    );
    assert!(gateway_rules(&needs).is_empty());
    needs.secret_refs = true;
    let secrets: Vec<_> = runtime_rules(&needs)
        .into_iter()
        .filter(|r| r.resources == ["secrets"])
        .collect();
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0].verbs, ["get"]);
}

fn needs_of(entry: &str) -> Needs {
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n    web:\n      apiTypes: {{group: demo.io, version: v1, kind: Web, plural: webs}}\n{entry}"
    );
    let loaded = katalog::load_text("/nonexistent/k.yaml", text)
        .unwrap_or_else(|d| panic!("{}", d.render()));
    Needs::from_katalog(&loaded.katalog)
}

#[test]
fn enrichment_grants_only_the_reads_of_layers_that_apply_to_declared_children() {
    let deployment = "      operatorBox:\n        onCreate:\n          deployments:\n            - {name: web, image: nginx}\n";
    let plain = runtime_rules(&needs_of(deployment));
    assert!(!plain.iter().any(|r| r.resources == ["pods"]));
    let enriched = runtime_rules(&needs_of(&format!(
        "      enrich: [pods, events, endpoints]\n{deployment}"
    )));
    let verbs = |resource: &str| -> Vec<String> {
        enriched
            .iter()
            .find(|r| r.resources == [resource])
            .map(|r| r.verbs.clone())
            .unwrap_or_default()
    };
    assert_eq!(verbs("pods"), ["list"]);
    // Events were already granted for writing; enrichment adds `list`.
    assert!(verbs("events").contains(&"list".to_owned()));
    // `endpoints` applies to Services only: this CRD declares none.
    assert!(!enriched.iter().any(|r| r.resources == ["endpointslices"]));
    // enrichAll on a Deployment: no Secret, Node or storage reads.
    let all = runtime_rules(&needs_of(&format!("      enrichAll: true\n{deployment}")));
    for resource in [
        "secrets",
        "nodes",
        "persistentvolumeclaims",
        "storageclasses",
    ] {
        assert!(!all.iter().any(|r| r.resources == [resource]), "{resource}");
    }
    assert!(all.iter().any(|r| r.resources == ["replicasets"]));
}
