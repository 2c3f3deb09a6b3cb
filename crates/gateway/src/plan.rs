//! [`Plan`]: what a Katalog asks the gateway to serve, decided once at start. Each route and
//! each webhook exists only when something here needs it.

use katalog::admission::Conversion;
use katalog::model::{Crd, Katalog};

/// `failurePolicy` of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Requests fail while the gateway is unreachable.
    Fail,
    /// Requests pass while the gateway is unreachable.
    Ignore,
}

impl FailurePolicy {
    /// `Ignore` when written so (any case), else `Fail` — the documented default (see
    /// docs/gateway.md).
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some(s) if s.trim().eq_ignore_ascii_case("ignore") => FailurePolicy::Ignore,
            _ => FailurePolicy::Fail,
        }
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FailurePolicy::Fail => "Fail",
            FailurePolicy::Ignore => "Ignore",
        }
    }
}

/// One CRD the gateway handles, with what it serves for it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The Katalog's CRD.
    pub crd: Crd,
    /// Registered with the validating webhook.
    pub validate: bool,
    /// Registered with the mutating webhook.
    pub mutate: bool,
    /// Operations the admission webhooks match (default CREATE, UPDATE).
    pub operations: Vec<String>,
    /// Declared conversion (only when conversion is enabled).
    pub conversion: Option<Conversion>,
    /// CRD deletion is denied (deletion protection on, `protectCRD` not false).
    pub protect_crd: bool,
    /// Namespaces its CRs may not use (global and per-CRD lists merged).
    pub restricted_namespaces: Vec<String>,
    /// The only namespaces its CRs may use (global and per-CRD lists merged); empty = any.
    pub allowed_namespaces: Vec<String>,
}

impl Target {
    /// `plural.group`, the CRD's object name.
    pub fn crd_name(&self) -> String {
        format!("{}.{}", self.crd.plural, self.crd.gvk.group)
    }

    /// Whether namespace protection has anything to check for this CRD.
    pub fn has_namespace_rules(&self) -> bool {
        !self.restricted_namespaces.is_empty() || !self.allowed_namespaces.is_empty()
    }
}

/// Deletion protection settings (spec §16.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionProtection {
    /// `failurePolicy` of its webhooks (default Fail).
    pub failure_policy: FailurePolicy,
    /// Removing the protection label is denied too.
    pub strict_mode: bool,
}

/// What the gateway serves for one Katalog.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The Katalog's name.
    pub katalog: String,
    /// CRDs with anything to serve.
    pub targets: Vec<Target>,
    /// `failurePolicy` of the admission webhooks.
    pub admission_policy: FailurePolicy,
    /// `failurePolicy` of the namespace-protection webhook.
    pub namespace_policy: FailurePolicy,
    /// Deletion protection, when on.
    pub deletion_protection: Option<DeletionProtection>,
    /// Notification routing (the `notification:` block), when declared.
    pub notification: Option<katalog::model::Notification>,
    /// `security.certManager.validFor`.
    pub cert_valid_for: Option<std::time::Duration>,
    /// `security.certManager.rotationThreshold`.
    pub cert_rotate_before: Option<std::time::Duration>,
}

fn has_rules<T>(rules: Option<&[T]>) -> bool {
    rules.is_some_and(|r| !r.is_empty())
}

fn duration(s: Option<&katalog::de::Spanned<String>>) -> Option<std::time::Duration> {
    s.and_then(|s| katalog::condition::parse_duration(&s.value))
        .and_then(|d| std::time::Duration::try_from(d).ok())
}

impl Plan {
    /// Reads what `katalog` declares.
    pub fn from_katalog(katalog: &Katalog) -> Plan {
        let doc = &katalog.document;
        let security = doc.security.clone().unwrap_or_default();
        let webhooks = security.webhooks.clone().unwrap_or_default();
        let admission_on = webhooks
            .admission
            .as_ref()
            .is_some_and(|a| a.enabled == Some(true));
        let conversion_on = security
            .conversion
            .as_ref()
            .is_some_and(|c| c.enabled == Some(true));
        let deletion_protection = security
            .deletion_protection
            .as_ref()
            .filter(|p| p.is_enabled())
            .map(|p| DeletionProtection {
                failure_policy: FailurePolicy::parse(
                    p.failure_policy.as_ref().map(|s| s.value.as_str()),
                ),
                strict_mode: p.strict_mode == Some(true),
            });
        let ns = security
            .namespace_protection
            .clone()
            .filter(|n| n.enabled == Some(true));
        let mut targets = Vec::new();
        for crd in katalog.enabled_crds() {
            let e = &crd.entry;
            let hooks = e.webhooks.clone().unwrap_or_default();
            let validate = admission_on
                && hooks.validation != Some(false)
                && has_rules(e.validation.as_ref().map(|v| v.rules.as_slice()));
            let mutate = admission_on
                && hooks.mutation != Some(false)
                && has_rules(e.mutation.as_ref().map(|m| m.rules.as_slice()));
            let conversion = if conversion_on {
                Conversion::of(crd)
            } else {
                None
            };
            let protect_crd = deletion_protection.is_some()
                && !crd.built_in
                && e.deletion_protection
                    .as_ref()
                    .is_none_or(|d| d.protects_crd());
            let list = |own: &Option<katalog::de::Spanned<Vec<String>>>, global: &[String]| {
                let mut v: Vec<String> = global.to_vec();
                if let Some(own) = own {
                    v.extend(own.value.iter().cloned());
                }
                v.sort();
                v.dedup();
                v
            };
            let (restricted, allowed) = match &ns {
                Some(n) => (
                    list(&e.restricted_namespaces, &n.restricted_namespaces),
                    list(&e.allowed_namespaces, &n.allowed_namespaces),
                ),
                None => (Vec::new(), Vec::new()),
            };
            let operations = if hooks.operations.is_empty() {
                vec!["CREATE".to_owned(), "UPDATE".to_owned()]
            } else {
                hooks
                    .operations
                    .iter()
                    .map(|o| o.to_ascii_uppercase())
                    .collect()
            };
            let target = Target {
                crd: crd.clone(),
                validate,
                mutate,
                operations,
                conversion,
                protect_crd,
                restricted_namespaces: restricted,
                allowed_namespaces: allowed,
            };
            if target.validate
                || target.mutate
                || target.conversion.is_some()
                || target.protect_crd
                || target.has_namespace_rules()
                || deletion_protection.is_some()
            {
                targets.push(target);
            }
        }
        Plan {
            katalog: katalog.name.clone(),
            targets,
            admission_policy: FailurePolicy::parse(
                webhooks.failure_policy.as_ref().map(|s| s.value.as_str()),
            ),
            namespace_policy: FailurePolicy::parse(
                ns.as_ref()
                    .and_then(|n| n.failure_policy.as_ref())
                    .map(|s| s.value.as_str()),
            ),
            deletion_protection,
            notification: doc.notification.as_ref().map(|n| n.value.clone()),
            cert_valid_for: duration(
                security
                    .cert_manager
                    .as_ref()
                    .and_then(|c| c.valid_for.as_ref()),
            ),
            cert_rotate_before: duration(
                security
                    .cert_manager
                    .as_ref()
                    .and_then(|c| c.rotation_threshold.as_ref()),
            ),
        }
    }

    /// Some CRD is validated at admission.
    pub fn serves_validate(&self) -> bool {
        self.targets.iter().any(|t| t.validate)
    }

    /// Some CRD is mutated at admission.
    pub fn serves_mutate(&self) -> bool {
        self.targets.iter().any(|t| t.mutate)
    }

    /// Some CRD has declared conversion.
    pub fn serves_convert(&self) -> bool {
        self.targets.iter().any(|t| t.conversion.is_some())
    }

    /// Some CRD has namespace rules.
    pub fn serves_namespace_protection(&self) -> bool {
        self.targets.iter().any(Target::has_namespace_rules)
    }

    /// Strict mode is on.
    pub fn serves_strict_mode(&self) -> bool {
        self.deletion_protection
            .as_ref()
            .is_some_and(|d| d.strict_mode)
    }

    /// Nothing needs an HTTPS route or a webhook.
    pub fn is_empty(&self) -> bool {
        !self.serves_validate()
            && !self.serves_mutate()
            && !self.serves_convert()
            && !self.serves_namespace_protection()
            && self.deletion_protection.is_none()
    }

    /// The target for a group and plural resource.
    pub fn target(&self, group: &str, plural: &str) -> Option<&Target> {
        self.targets
            .iter()
            .find(|t| t.crd.gvk.group == group && t.crd.plural == plural)
    }

    /// The target for a group and kind.
    pub fn target_by_kind(&self, group: &str, kind: &str) -> Option<&Target> {
        self.targets
            .iter()
            .find(|t| t.crd.gvk.group == group && t.crd.gvk.kind == kind)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A Katalog with one CRD `app` (`demo.ork.dev/v1 App`), the given top-level blocks and
    /// CRD entry lines.
    pub(crate) fn katalog(top: &str, entry: &str) -> Katalog {
        let entry: String = entry.lines().map(|l| format!("      {l}\n")).collect();
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata:
  name: demo
gateway:
  enabled: true
{top}
spec:
  crds:
    app:
      apiTypes: {{group: demo.ork.dev, version: v1, kind: App, plural: apps}}
{entry}"
        );
        match katalog::load_text("katalog.yaml", text) {
            Ok(l) => l.katalog,
            Err(d) => panic!("{}", d.render()),
        }
    }

    const RULES: &str = "validation:
  rules: [{field: spec.image, exists: true}]
mutation:
  rules: [{field: spec.replicas, default: 1}]
";

    #[test]
    fn admission_webhooks_need_the_security_switch_and_rules() {
        let off = Plan::from_katalog(&katalog("", RULES));
        assert!(off.is_empty());
        let on = Plan::from_katalog(&katalog(
            "security:\n  webhooks:\n    admission: {enabled: true}\n    failurePolicy: Ignore",
            RULES,
        ));
        assert!(on.serves_validate() && on.serves_mutate());
        assert!(!on.serves_convert() && on.deletion_protection.is_none());
        assert_eq!(on.admission_policy, FailurePolicy::Ignore);
        assert_eq!(on.targets[0].operations, ["CREATE", "UPDATE"]);
        let no_mutation = Plan::from_katalog(&katalog(
            "security:\n  webhooks:\n    admission: {enabled: true}",
            &format!("{RULES}webhooks: {{mutation: false}}\n"),
        ));
        assert!(!no_mutation.serves_mutate());
        assert_eq!(no_mutation.admission_policy, FailurePolicy::Fail);
    }

    #[test]
    fn deletion_protection_and_namespace_lists_are_read() {
        let p = Plan::from_katalog(&katalog(
            "security:
  deletionProtection: {strictMode: true}
  namespaceProtection: {enabled: true, restrictedNamespaces: [kube-system]}",
            "restrictedNamespaces: [prod]\n",
        ));
        let dp = p.deletion_protection.as_ref().unwrap();
        assert!(dp.strict_mode);
        assert_eq!(dp.failure_policy, FailurePolicy::Fail);
        assert!(p.targets[0].protect_crd);
        assert_eq!(p.targets[0].restricted_namespaces, ["kube-system", "prod"]);
        assert!(p.serves_namespace_protection() && p.serves_strict_mode());
    }

    #[test]
    fn conversion_needs_the_security_switch() {
        let conv = "conversion:
  storageVersion: v1
  paths: [{from: v1alpha1, to: v1, spec: {a: '{{ .spec.b }}'}}]
";
        assert!(!Plan::from_katalog(&katalog("", conv)).serves_convert());
        let p = Plan::from_katalog(&katalog("security:\n  conversion: {enabled: true}", conv));
        assert!(p.serves_convert());
        assert_eq!(
            p.target("demo.ork.dev", "apps").unwrap().crd_name(),
            "apps.demo.ork.dev"
        );
    }
}
