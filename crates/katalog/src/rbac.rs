//! RBAC derivation (spec §19.1, §19.2): the ClusterRole rules the runtime and the gateway
//! need for a Katalog, as plain data in a deterministic order.
//!
//! [`Needs::from_katalog`] reads what a Katalog uses (its CRDs, the child kinds its
//! templates declare, watches, secret references, gateway features); [`runtime_rules`]
//! and [`gateway_rules`] turn needs into rules. Rules are merged per API group, resource
//! and resource names, verbs deduplicated in a fixed order, and sorted.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::build::{blocks_of, child_types};
use crate::model::Katalog;
use crate::resources::Kind;

/// The verbs the runtime gets on everything it manages.
pub const DEFAULT_VERBS: [&str; 7] = [
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// Verb order in generated rules.
const VERB_ORDER: [&str; 9] = [
    "get", "list", "watch", "create", "update", "patch", "delete", "escalate", "bind",
];

/// One RBAC rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    /// API groups (`""` is the core group).
    pub api_groups: Vec<String>,
    /// Resources (plural, lowercase; `x/status` for subresources).
    pub resources: Vec<String>,
    /// Restricts the rule to these object names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    /// Verbs, in a fixed order.
    pub verbs: Vec<String>,
}

/// An API group and a plural resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupResource {
    /// API group (`""` for core).
    pub group: String,
    /// Plural resource name.
    pub resource: String,
}

impl GroupResource {
    /// A group and resource.
    pub fn new(group: impl Into<String>, resource: impl Into<String>) -> Self {
        GroupResource {
            group: group.into(),
            resource: resource.into(),
        }
    }
}

/// What the gateway serves, which decides its rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayNeeds {
    /// Some CRD has validation rules (or deletion/namespace protection is on): a
    /// ValidatingWebhookConfiguration.
    pub validating_webhooks: bool,
    /// Some CRD has mutation rules: a MutatingWebhookConfiguration.
    pub mutating_webhooks: bool,
    /// Deletion protection is on; these CR kinds are registered with it.
    pub deletion_protection: Option<Vec<GroupResource>>,
    /// Namespace protection is on.
    pub namespace_protection: bool,
    /// Gateway API tokens are read from Secrets.
    pub token_secrets: bool,
    /// CRDs served by the Gateway API (local routing).
    pub served: Vec<GroupResource>,
    /// CRDs whose conversion webhook the gateway patches into the CRD.
    pub converted: Vec<GroupResource>,
    /// CRDs with `unique` validation rules: the gateway lists their CRs to compare.
    pub unique: Vec<GroupResource>,
}

/// What a Katalog needs from the API server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// Enabled CRDs (the primary resources).
    pub crds: BTreeSet<GroupResource>,
    /// Built-in kinds declared as children by any enabled CRD.
    pub child_kinds: BTreeSet<Kind>,
    /// Third-party kinds declared as `custom:` children.
    pub custom_children: BTreeSet<GroupResource>,
    /// Resources watched as triggers.
    pub watches: BTreeSet<GroupResource>,
    /// Some external call or cross source authenticates with a Secret.
    pub secret_refs: bool,
    /// What enrichment reads (`(group, resource, verb)`), for the layers a CRD turns on
    /// that apply to a kind it declares as a child.
    pub enrichment_reads: BTreeSet<(&'static str, &'static str, &'static str)>,
    /// The gateway's needs, when it has anything to do.
    pub gateway: Option<GatewayNeeds>,
}

pub use crate::resources::plural_of;

/// The API group of an apiVersion (`apps/v1` → `apps`, `v1` → ``).
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Whether a JSON value holds a `secretRef` anywhere.
fn has_secret_ref(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k == "secretRef" || has_secret_ref(v)),
        Value::Array(a) => a.iter().any(has_secret_ref),
        _ => false,
    }
}

impl Needs {
    /// Reads a Katalog's needs.
    pub fn from_katalog(k: &Katalog) -> Needs {
        let mut n = Needs::default();
        let plural_by_kind: BTreeMap<(String, String), String> = k
            .crds
            .iter()
            .map(|c| {
                (
                    (c.gvk().group.clone(), c.gvk().kind.clone()),
                    c.plural.clone(),
                )
            })
            .collect();
        let mut gw = GatewayNeeds::default();
        for crd in k.enabled_crds() {
            let gr = GroupResource::new(crd.gvk().group.clone(), crd.plural.clone());
            n.crds.insert(gr.clone());
            for (api, kind) in child_types(crd) {
                match Kind::ALL.into_iter().find(|k| {
                    k.api_version() == Some(api.as_str()) && k.kube_kind() == Some(kind.as_str())
                }) {
                    Some(k) => {
                        n.child_kinds.insert(k);
                    }
                    None => {
                        let group = group_of(&api).to_owned();
                        let plural = plural_by_kind
                            .get(&(group.clone(), kind.clone()))
                            .cloned()
                            .unwrap_or_else(|| plural_of(&kind));
                        n.custom_children.insert(GroupResource::new(group, plural));
                    }
                }
            }
            n.secret_refs |= blocks_of(crd)
                .iter()
                .any(|b| b.external.iter().any(has_secret_ref))
                || crate::model::external::calls_of(crd)
                    .iter()
                    .flat_map(|(_, list)| list.iter().flatten())
                    .any(|e| e.auth.as_ref().is_some_and(has_secret_ref));
            let ob = crd.operator_box();
            for w in &ob.watch {
                if let (Some(api), Some(kind)) = (&w.value.api_version, &w.value.kind) {
                    let group = group_of(api).to_owned();
                    let plural = plural_by_kind
                        .get(&(group.clone(), kind.clone()))
                        .cloned()
                        .unwrap_or_else(|| plural_of(kind));
                    n.watches.insert(GroupResource::new(group, plural));
                }
            }
            if ob
                .observe
                .as_ref()
                .is_some_and(|o| o.events.as_ref().is_some_and(|e| !e.value.is_empty()))
            {
                // `observe.events` watches events.k8s.io Events in every namespace.
                n.watches
                    .insert(GroupResource::new("events.k8s.io", "events"));
            }
            if let Some(remote) = ob.reconciler.as_ref().and_then(|r| r.remote.as_ref()) {
                n.secret_refs |= remote.value.auth.as_ref().is_some_and(has_secret_ref);
                for m in crate::remote::managed_kinds(&remote.value) {
                    let api = m.api_version().unwrap_or_default();
                    match Kind::ALL.into_iter().find(|k| {
                        k.api_version() == Some(api.as_str())
                            && k.kube_kind() == Some(m.kind.as_str())
                    }) {
                        Some(k) => {
                            n.child_kinds.insert(k);
                        }
                        None => {
                            n.custom_children
                                .insert(GroupResource::new(m.group, m.plural));
                        }
                    }
                }
            }
            for c in &ob.cross {
                let auth = c.value.source.as_ref().and_then(|s| s.auth.as_ref());
                n.secret_refs |= auth.is_some_and(|a| a.value.secret_ref.is_some());
            }
            let kinds: Vec<String> = child_types(crd).into_iter().map(|(_, k)| k).collect();
            for layer in crate::enrich::layers_of(crd) {
                if kinds.iter().any(|k| layer.applies_to(k)) {
                    for (group, resource, verbs) in layer.reads() {
                        for verb in *verbs {
                            n.enrichment_reads.insert((group, resource, verb));
                        }
                    }
                }
            }
            let e = &crd.entry;
            if let Some(v) = e.validation.as_ref().filter(|v| !v.rules.is_empty()) {
                gw.validating_webhooks = true;
                if !crate::admission::unique_fields(&v.rules).is_empty() {
                    gw.unique.push(gr.clone());
                }
            }
            if e.mutation.as_ref().is_some_and(|m| !m.rules.is_empty()) {
                gw.mutating_webhooks = true;
            }
            if e.serve.is_some() {
                gw.served.push(gr.clone());
            }
            if e.conversion.as_ref().is_some_and(|c| c.update_crd) {
                gw.converted.push(gr.clone());
            }
        }
        let doc = &k.document;
        if let Some(sec) = &doc.security {
            if sec
                .deletion_protection
                .as_ref()
                .is_some_and(|p| p.is_enabled())
            {
                gw.deletion_protection = Some(n.crds.iter().cloned().collect());
                gw.validating_webhooks = true;
            }
            if sec
                .namespace_protection
                .as_ref()
                .is_some_and(|p| p.enabled == Some(true))
            {
                gw.namespace_protection = true;
                gw.validating_webhooks = true;
            }
        }
        if let Some(g) = &doc.gateway {
            let tokens = g.api.as_ref().and_then(|a| a.auth.as_ref());
            gw.token_secrets =
                tokens.is_some_and(|t| t.tokens.iter().any(|t| t.value.secret_ref.is_some()));
        }
        let gateway_on = doc
            .gateway
            .as_ref()
            .is_some_and(|g| g.enabled != Some(false))
            || gw != GatewayNeeds::default();
        if gateway_on {
            n.gateway = Some(gw);
        }
        n
    }
}

/// Collects grants and emits merged, ordered rules.
#[derive(Debug, Default)]
struct Rules {
    grants: BTreeMap<(String, String, Vec<String>), BTreeSet<usize>>,
}

impl Rules {
    fn grant(&mut self, group: &str, resource: &str, names: &[&str], verbs: &[&str]) {
        let mut names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        names.sort();
        let entry = self
            .grants
            .entry((group.to_owned(), resource.to_owned(), names))
            .or_default();
        for v in verbs {
            let i = VERB_ORDER
                .iter()
                .position(|o| o == v)
                .unwrap_or(VERB_ORDER.len());
            entry.insert(i);
        }
    }

    fn finish(self) -> Vec<PolicyRule> {
        self.grants
            .into_iter()
            .map(|((group, resource, names), verbs)| PolicyRule {
                api_groups: vec![group],
                resources: vec![resource],
                resource_names: names,
                verbs: verbs
                    .into_iter()
                    .filter_map(|i| VERB_ORDER.get(i))
                    .map(|v| v.to_string())
                    .collect(),
            })
            .collect()
    }
}

/// The runtime's ClusterRole rules (spec §19.1).
pub fn runtime_rules(n: &Needs) -> Vec<PolicyRule> {
    let mut r = Rules::default();
    r.grant(
        "coordination.k8s.io",
        "leases",
        &[],
        &["get", "list", "watch", "create", "update"],
    );
    r.grant("", "events", &[], &["create", "patch"]);
    // The reconciler records CR Events through events.k8s.io/v1, a group of its own, and the
    // HTTP API's `/katalog/{crd}/cr/…/events` lists them there (a field-selected list; no
    // watch, no get).
    r.grant("events.k8s.io", "events", &[], &["list", "create", "patch"]);
    if n.secret_refs {
        r.grant("", "secrets", &[], &["get"]);
    }
    for c in &n.crds {
        r.grant(&c.group, &c.resource, &[], &DEFAULT_VERBS);
        r.grant(
            &c.group,
            &format!("{}/status", c.resource),
            &[],
            &["get", "update", "patch"],
        );
    }
    for w in &n.watches {
        r.grant(&w.group, &w.resource, &[], &["get", "list", "watch"]);
    }
    for kind in &n.child_kinds {
        if let Some((group, resource)) = kind.group_resource() {
            r.grant(group, resource, &[], &DEFAULT_VERBS);
            if matches!(kind, Kind::Role | Kind::ClusterRole) {
                r.grant(group, resource, &[], &["escalate", "bind"]);
            }
        }
    }
    for c in &n.custom_children {
        r.grant(&c.group, &c.resource, &[], &DEFAULT_VERBS);
    }
    for (group, resource, verb) in &n.enrichment_reads {
        r.grant(group, resource, &[], &[verb]);
    }
    r.finish()
}

/// The gateway's ClusterRole rules (spec §19.2); empty when the gateway has nothing to do.
pub fn gateway_rules(n: &Needs) -> Vec<PolicyRule> {
    let Some(g) = &n.gateway else {
        return Vec::new();
    };
    let mut r = Rules::default();
    let admission = "admissionregistration.k8s.io";
    if g.validating_webhooks {
        r.grant(
            admission,
            "validatingwebhookconfigurations",
            &[],
            &DEFAULT_VERBS,
        );
    }
    if g.mutating_webhooks {
        r.grant(
            admission,
            "mutatingwebhookconfigurations",
            &[],
            &DEFAULT_VERBS,
        );
    }
    // A gateway removes its instance's configurations of both kinds that it no longer serves
    // (left by an earlier version of the Katalog), so it lists and deletes the kind it does
    // not register too.
    if g.validating_webhooks != g.mutating_webhooks {
        let other = if g.validating_webhooks {
            "mutatingwebhookconfigurations"
        } else {
            "validatingwebhookconfigurations"
        };
        r.grant(admission, other, &[], &["list", "delete"]);
    }
    if g.validating_webhooks || g.mutating_webhooks || !g.converted.is_empty() {
        r.grant("", "secrets", &[], &DEFAULT_VERBS);
    }
    if let Some(kinds) = &g.deletion_protection {
        r.grant("", "namespaces", &[], &["get", "patch"]);
        for k in kinds {
            r.grant(&k.group, &k.resource, &[], &["get"]);
        }
    }
    if g.namespace_protection {
        r.grant("", "namespaces", &[], &["get", "patch"]);
    }
    if g.token_secrets {
        r.grant("", "secrets", &[], &["get", "create"]);
    }
    let crds = "apiextensions.k8s.io";
    for s in &g.served {
        r.grant(
            &s.group,
            &s.resource,
            &[],
            &["get", "list", "create", "update", "patch", "delete"],
        );
        let name = format!("{}.{}", s.resource, s.group);
        r.grant(crds, "customresourcedefinitions", &[&name], &["get"]);
    }
    for u in &g.unique {
        r.grant(&u.group, &u.resource, &[], &["list"]);
    }
    // The gateway reads and patches each converted CRD.
    for c in &g.converted {
        let name = format!("{}.{}", c.resource, c.group);
        r.grant(
            crds,
            "customresourcedefinitions",
            &[&name],
            &["get", "patch"],
        );
    }
    // A gateway with anything to do lists, at start and at stop, the CRDs its instance
    // labelled, to restore the conversion of those no longer declared (an earlier version of
    // the Katalog may have converted them); a list cannot be narrowed by name.
    if !r.grants.is_empty() {
        r.grant(crds, "customresourcedefinitions", &[], &["list"]);
    }
    r.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(group: &str, resource: &str, verbs: &[&str]) -> PolicyRule {
        PolicyRule {
            api_groups: vec![group.into()],
            resources: vec![resource.into()],
            resource_names: vec![],
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn plurals_follow_english_rules() {
        assert_eq!(plural_of("PostgreSQLInstance"), "postgresqlinstances");
        assert_eq!(plural_of("Policy"), "policies");
        assert_eq!(plural_of("Gateway"), "gateways");
        assert_eq!(plural_of("Ingress"), "ingresses");
    }

    #[test]
    fn runtime_rules_cover_crds_children_and_basics_in_a_fixed_order() {
        let mut n = Needs::default();
        n.crds.insert(GroupResource::new("demo.io", "websites"));
        n.child_kinds
            .extend([Kind::Deployment, Kind::Role, Kind::Service]);
        n.custom_children
            .insert(GroupResource::new("db.io", "databases"));
        let rules = runtime_rules(&n);
        let all = DEFAULT_VERBS;
        assert_eq!(
            rules,
            [
                rule("", "events", &["create", "patch"]),
                rule("", "services", &all),
                rule("apps", "deployments", &all),
                rule(
                    "coordination.k8s.io",
                    "leases",
                    &["get", "list", "watch", "create", "update"]
                ),
                rule("db.io", "databases", &all),
                rule("demo.io", "websites", &all),
                rule("demo.io", "websites/status", &["get", "update", "patch"]),
                rule("events.k8s.io", "events", &["list", "create", "patch"]),
                rule(
                    "rbac.authorization.k8s.io",
                    "roles",
                    &[
                        "get", "list", "watch", "create", "update", "patch", "delete", "escalate",
                        "bind"
                    ]
                ),
            ]
        );
    }

    #[test]
    fn watch_entries_of_both_layouts_grant_only_get_list_watch_on_the_watched_kind() {
        let text = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: t}\nspec:\n  crds:\n    web:\n      apiTypes: {group: demo.io, version: v1, kind: Web, plural: webs}\n      operatorBox:\n        watch:\n          - {apiVersion: v1, kind: ConfigMap}\n        observe:\n          watch:\n            - {apiVersion: apps/v1, kind: StatefulSet, keyFrom: {label: owner}}\n";
        let k = crate::load_text("/nonexistent/k.yaml", text)
            .unwrap_or_else(|d| panic!("{}", d.render()))
            .katalog;
        let rules = runtime_rules(&Needs::from_katalog(&k));
        let read = ["get", "list", "watch"];
        assert!(rules.contains(&rule("", "configmaps", &read)));
        assert!(rules.contains(&rule("apps", "statefulsets", &read)));
    }

    #[test]
    fn observe_events_grants_watch_on_events_only_when_declared() {
        let with = |observe: &str| {
            let text = format!(
                "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n    web:\n      apiTypes: {{group: demo.io, version: v1, kind: Web, plural: webs}}\n      operatorBox:\n{observe}"
            );
            let k = crate::load_text("/nonexistent/k.yaml", text)
                .unwrap_or_else(|d| panic!("{}", d.render()))
                .katalog;
            runtime_rules(&Needs::from_katalog(&k))
                .into_iter()
                .find(|r| r.api_groups == ["events.k8s.io"])
                .unwrap()
                .verbs
        };
        assert!(!with("        reconciler: {workers: 1}\n").contains(&"watch".to_owned()));
        let verbs =
            with("        observe:\n          events:\n            failed: {reason: BackOff}\n");
        assert!(verbs.contains(&"watch".to_owned()) && verbs.contains(&"list".to_owned()));
    }

    #[test]
    fn a_remote_reconciler_is_granted_its_managed_kinds_and_its_secret() {
        let text = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: t}\nspec:\n  crds:\n    web:\n      apiTypes: {group: demo.io, version: v1, kind: Web, plural: webs}\n      operatorBox:\n        reconciler:\n          default: false\n          remote:\n            endpoint: http://r/reconcile\n            auth: {secretRef: {name: s, key: k}}\n            managedResources:\n              - {kind: Deployment}\n              - {apiVersion: example.com/v1, kind: Gadget}\n";
        let k = crate::load_text("/nonexistent/k.yaml", text)
            .unwrap_or_else(|d| panic!("{}", d.render()))
            .katalog;
        let rules = runtime_rules(&Needs::from_katalog(&k));
        assert!(rules.contains(&rule("apps", "deployments", &DEFAULT_VERBS)));
        assert!(rules.contains(&rule("example.com", "gadgets", &DEFAULT_VERBS)));
        assert!(rules.contains(&rule("", "secrets", &["get"])));
        assert!(!rules.iter().any(|r| r.resources == ["services"]));
    }

    #[test]
    fn grants_on_the_same_resource_merge_their_verbs() {
        let mut n = Needs::default();
        n.watches.insert(GroupResource::new("", "services"));
        n.child_kinds.insert(Kind::Service);
        n.secret_refs = true;
        let rules = runtime_rules(&n);
        let services: Vec<_> = rules
            .iter()
            .filter(|r| r.resources == ["services"])
            .collect();
        assert_eq!(services.len(), 1);
        assert_eq!(services[0].verbs, DEFAULT_VERBS);
        assert!(rules.contains(&rule("", "secrets", &["get"])));
    }

    #[test]
    fn the_gateway_needs_nothing_without_gateway_features() {
        assert!(gateway_rules(&Needs::default()).is_empty());
    }

    #[test]
    fn gateway_rules_follow_its_features() {
        let n = Needs {
            gateway: Some(GatewayNeeds {
                validating_webhooks: true,
                deletion_protection: Some(vec![GroupResource::new("demo.io", "apps")]),
                served: vec![GroupResource::new("demo.io", "cronjobs")],
                ..GatewayNeeds::default()
            }),
            ..Needs::default()
        };
        let rules = gateway_rules(&n);
        assert!(rules.contains(&rule(
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations",
            &DEFAULT_VERBS
        )));
        // Only to remove what an earlier version of the Katalog registered.
        assert!(rules.contains(&rule(
            "admissionregistration.k8s.io",
            "mutatingwebhookconfigurations",
            &["list", "delete"]
        )));
        assert!(rules.contains(&rule("", "namespaces", &["get", "patch"])));
        assert!(rules.contains(&rule("demo.io", "apps", &["get"])));
        let crd = rules
            .iter()
            .find(|r| r.resources == ["customresourcedefinitions"] && !r.resource_names.is_empty())
            .unwrap();
        assert_eq!(crd.resource_names, ["cronjobs.demo.io"]);
        assert_eq!(crd.verbs, ["get"]);
        assert!(rules.contains(&rule(
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            &["list"]
        )));
    }
}
