//! The webhook configurations of spec §16.2, as data: one per kind of check, each present
//! only when the [`Plan`] needs it, each labelled as this gateway instance's.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::plan::{FailurePolicy, Plan};
use crate::{ClientMode, labels};

/// Route paths.
pub mod paths {
    /// Validation rules.
    pub const VALIDATE: &str = "/validate";
    /// Mutation rules.
    pub const MUTATE: &str = "/mutate";
    /// Conversion.
    pub const CONVERT: &str = "/convert";
    /// Deletion protection (CRDs and labelled objects).
    pub const DELETION: &str = "/deletion-protection";
    /// Namespace protection.
    pub const NAMESPACE: &str = "/namespace-protection";
    /// Strict mode (label removal).
    pub const STRICT: &str = "/strict-mode-protection";
}

/// Where the API server sends a request for `path`, with the CA bundle.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// url or service.
    pub mode: ClientMode,
    /// The HTTPS port the gateway listens on (url mode).
    pub port: u16,
    /// PEM CA bundle.
    pub ca_bundle: String,
}

impl Endpoint {
    /// `clientConfig` for `path`.
    pub fn client_config(&self, path: &str) -> Value {
        let ca = base64::engine::general_purpose::STANDARD.encode(self.ca_bundle.as_bytes());
        match &self.mode {
            ClientMode::Url { host } => json!({
                "url": format!("https://{host}:{}{path}", self.port),
                "caBundle": ca,
            }),
            ClientMode::Service {
                namespace,
                name,
                port,
            } => json!({
                "service": {"namespace": namespace, "name": name, "path": path, "port": port},
                "caBundle": ca,
            }),
        }
    }
}

/// One webhook configuration object.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    /// `ValidatingWebhookConfiguration` or `MutatingWebhookConfiguration`.
    pub kind: &'static str,
    /// Object name.
    pub name: String,
    /// The whole object.
    pub object: Value,
}

impl WebhookConfig {
    /// Whether this is a mutating configuration.
    pub fn is_mutating(&self) -> bool {
        self.kind == "MutatingWebhookConfiguration"
    }
}

/// `timeoutSeconds` of every webhook: how long the API server waits for an answer.
pub const TIMEOUT_SECONDS: u64 = 5;

fn webhook(name: &str, ep: &Endpoint, path: &str, rules: Value, policy: FailurePolicy) -> Value {
    json!({
        "name": name,
        "clientConfig": ep.client_config(path),
        "rules": rules,
        "failurePolicy": policy.as_str(),
        "matchPolicy": "Equivalent",
        "sideEffects": "None",
        "timeoutSeconds": TIMEOUT_SECONDS,
        "admissionReviewVersions": ["v1"],
    })
}

fn rule(group: &str, version: &str, resource: &str, ops: &[String], namespaced: bool) -> Value {
    json!({
        "apiGroups": [group],
        "apiVersions": [version],
        "resources": [resource],
        "operations": ops,
        "scope": if namespaced { "Namespaced" } else { "Cluster" },
    })
}

fn object(kind: &'static str, name: String, instance: &str, webhooks: Vec<Value>) -> WebhookConfig {
    let object = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name, "labels": labels::owned(instance)},
        "webhooks": webhooks,
    });
    WebhookConfig { kind, name, object }
}

/// Every webhook configuration the plan needs, for `instance`.
pub fn desired(plan: &Plan, instance: &str, ep: &Endpoint) -> Vec<WebhookConfig> {
    let mut out = Vec::new();
    let admission_rules = |pick: fn(&crate::plan::Target) -> bool| -> Vec<Value> {
        plan.targets
            .iter()
            .filter(|t| pick(t))
            .map(|t| {
                rule(
                    &t.crd.gvk.group,
                    &t.crd.gvk.version,
                    &t.crd.plural,
                    &t.operations,
                    t.crd.namespaced,
                )
            })
            .collect()
    };
    let validating = "ValidatingWebhookConfiguration";
    if plan.serves_validate() {
        out.push(object(
            validating,
            format!("{instance}-admission-validation"),
            instance,
            vec![webhook(
                "validate.orkestra.orkspace.io",
                ep,
                paths::VALIDATE,
                Value::Array(admission_rules(|t| t.validate)),
                plan.admission_policy,
            )],
        ));
    }
    if plan.serves_mutate() {
        let mut hook = webhook(
            "mutate.orkestra.orkspace.io",
            ep,
            paths::MUTATE,
            Value::Array(admission_rules(|t| t.mutate)),
            plan.admission_policy,
        );
        hook["reinvocationPolicy"] = json!("IfNeeded");
        out.push(object(
            "MutatingWebhookConfiguration",
            format!("{instance}-admission-mutation"),
            instance,
            vec![hook],
        ));
    }
    if let Some(dp) = &plan.deletion_protection {
        let delete = ["DELETE".to_owned()];
        let mut hooks = Vec::new();
        let protected: Vec<String> = plan
            .targets
            .iter()
            .filter(|t| t.protect_crd)
            .map(|t| format!("'{}'", t.crd_name()))
            .collect();
        if !protected.is_empty() {
            let mut h = webhook(
                "protect.crds.orkestra.orkspace.io",
                ep,
                paths::DELETION,
                json!([rule(
                    "apiextensions.k8s.io",
                    "v1",
                    "customresourcedefinitions",
                    &delete,
                    false
                )]),
                dp.failure_policy,
            );
            // Only this Katalog's CRDs reach the gateway: a stopped gateway never blocks
            // the deletion of anyone else's CRD.
            h["matchConditions"] = json!([{
                "name": "katalog-crds",
                "expression": format!("request.name in [{}]", protected.join(", ")),
            }]);
            hooks.push(h);
        }
        let mut resource_rules = vec![
            rule("apps", "v1", "deployments", &delete, true),
            rule("", "v1", "services", &delete, true),
            rule("networking.k8s.io", "v1", "ingresses", &delete, true),
            // The gateway's namespace carries the label (spec §16.6).
            rule("", "v1", "namespaces", &delete, false),
        ];
        for t in &plan.targets {
            resource_rules.push(rule(
                &t.crd.gvk.group,
                &t.crd.gvk.version,
                &t.crd.plural,
                &delete,
                t.crd.namespaced,
            ));
        }
        let mut h = webhook(
            "protect.resources.orkestra.orkspace.io",
            ep,
            paths::DELETION,
            Value::Array(resource_rules),
            dp.failure_policy,
        );
        h["objectSelector"] =
            json!({"matchLabels": {katalog::labels::DELETION_PROTECTION: katalog::labels::TRUE}});
        hooks.push(h);
        out.push(object(
            validating,
            format!("{instance}-deletion-protection"),
            instance,
            hooks,
        ));
        if dp.strict_mode {
            let mut h = webhook(
                "strict-mode.orkestra.orkspace.io",
                ep,
                paths::STRICT,
                json!([{"apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"], "operations": ["UPDATE"], "scope": "*"}]),
                FailurePolicy::Fail,
            );
            h["objectSelector"] = json!({"matchLabels": {katalog::labels::DELETION_PROTECTION: katalog::labels::TRUE}});
            out.push(object(
                validating,
                format!("{instance}-strict-mode-protection"),
                instance,
                vec![h],
            ));
        }
    }
    if plan.serves_namespace_protection() {
        let ops = ["CREATE".to_owned(), "UPDATE".to_owned()];
        let rules: Vec<Value> = plan
            .targets
            .iter()
            .filter(|t| t.has_namespace_rules())
            .map(|t| {
                rule(
                    &t.crd.gvk.group,
                    &t.crd.gvk.version,
                    &t.crd.plural,
                    &ops,
                    t.crd.namespaced,
                )
            })
            .collect();
        out.push(object(
            validating,
            format!("{instance}-namespace-protection"),
            instance,
            vec![webhook(
                "namespace-protect.orkestra.orkspace.io",
                ep,
                paths::NAMESPACE,
                Value::Array(rules),
                plan.namespace_policy,
            )],
        ));
    }
    out
}

/// The `spec.conversion` a CRD gets while the gateway runs.
pub fn crd_conversion(ep: &Endpoint) -> Value {
    json!({
        "strategy": "Webhook",
        "webhook": {
            "clientConfig": ep.client_config(paths::CONVERT),
            "conversionReviewVersions": ["v1"],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::katalog;

    fn ep() -> Endpoint {
        Endpoint {
            mode: ClientMode::Url {
                host: "127.0.0.1".into(),
            },
            port: 9443,
            ca_bundle: "CA".into(),
        }
    }

    #[test]
    fn admission_configurations_carry_rules_policy_and_our_labels() {
        let plan = Plan::from_katalog(&katalog(
            "security:\n  webhooks:\n    admission: {enabled: true}\n    failurePolicy: Ignore",
            "validation:\n  rules: [{field: spec.a, exists: true}]\nmutation:\n  rules: [{field: spec.a, default: x}]\n",
        ));
        let cfgs = desired(&plan, "ork-demo", &ep());
        assert_eq!(
            cfgs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            [
                "ork-demo-admission-validation",
                "ork-demo-admission-mutation"
            ]
        );
        let v = &cfgs[0].object["webhooks"][0];
        assert_eq!(v["clientConfig"]["url"], "https://127.0.0.1:9443/validate");
        assert_eq!(v["clientConfig"]["caBundle"], "Q0E=");
        assert_eq!(v["failurePolicy"], "Ignore");
        assert_eq!(v["sideEffects"], "None");
        assert_eq!(v["rules"][0]["resources"], json!(["apps"]));
        assert_eq!(v["rules"][0]["operations"], json!(["CREATE", "UPDATE"]));
        assert_eq!(
            cfgs[1].object["webhooks"][0]["reinvocationPolicy"],
            "IfNeeded"
        );
        assert!(cfgs[1].is_mutating());
        assert_eq!(
            cfgs[0].object["metadata"]["labels"][labels::INSTANCE],
            "ork-demo"
        );
    }

    #[test]
    fn deletion_protection_limits_crd_checks_to_the_katalog_crds() {
        let plan = Plan::from_katalog(&katalog(
            "security:\n  deletionProtection: {strictMode: true}",
            "",
        ));
        let cfgs = desired(&plan, "g", &ep());
        assert_eq!(cfgs.len(), 2);
        let crds = &cfgs[0].object["webhooks"][0];
        assert_eq!(
            crds["matchConditions"][0]["expression"],
            "request.name in ['apps.demo.ork.dev']"
        );
        assert_eq!(crds["failurePolicy"], "Fail");
        let res = &cfgs[0].object["webhooks"][1];
        assert_eq!(
            res["objectSelector"]["matchLabels"]["orkestra.io/deletion-protection"],
            "true"
        );
        assert!(
            res["rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["resources"] == json!(["namespaces"]) && r["scope"] == "Cluster")
        );
        assert_eq!(cfgs[1].name, "g-strict-mode-protection");
    }

    #[test]
    fn nothing_declared_means_no_configuration() {
        let plan = Plan::from_katalog(&katalog("", ""));
        assert!(desired(&plan, "g", &ep()).is_empty());
    }

    #[test]
    fn service_mode_names_the_service() {
        let e = Endpoint {
            mode: ClientMode::Service {
                namespace: "ork".into(),
                name: "gw".into(),
                port: 443,
            },
            ..ep()
        };
        let c = crd_conversion(&e);
        assert_eq!(c["webhook"]["clientConfig"]["service"]["path"], "/convert");
        assert_eq!(c["strategy"], "Webhook");
    }
}
