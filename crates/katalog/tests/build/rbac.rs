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
