//! What a CRD's Katalog entry declares about the HTTP API and about the features other
//! processes serve for it (§14.2, §16, §17): which `/katalog/{crd}` routes exist
//! (`endpoints:`), and the `admission`, `deletionProtection`, `namespaceProtection`,
//! `conversion` and `autoscaler` blocks of `GET /katalog/{crd}`.
//!
//! The runtime serves no webhook, so these are the *declared* settings only: whether the
//! gateway registers the CRD with its admission, protection and conversion webhooks. The
//! gateway's own counters (`validationTotal`, `blocked`, conversion latencies, …) are not
//! repeated here as zeros, because the Control Center merges the runtime's and the gateway's
//! `/katalog` answers and a zero would hide the gateway's real figure.

use katalog::{Crd, Katalog};
use serde::Serialize;

use crate::reconcile::Protection;

/// Which per-CRD routes are served (`endpoints: {enabled, health, info}`, all true by
/// default).
///
/// * `enabled: false` hides every `/katalog/{crd}…` route (404) and leaves the CRD out of the
///   `crds` list of `/katalog` (it still counts in the totals: the process's health does not
///   depend on what is shown).
/// * `info: false` hides `/katalog/{crd}`, `/katalog/{crd}/raw` and `/katalog/{crd}/enriched`.
/// * `health: false` hides `/katalog/{crd}/health`.
///
/// The CR routes (`/cr`, `/cr/…`, `…/events`) follow `enabled` only: the gateway's `unique`
/// rule reads `/cr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointsView {
    /// Any `/katalog/{crd}…` route at all.
    pub enabled: bool,
    /// `/katalog/{crd}/health`.
    pub health: bool,
    /// `/katalog/{crd}` and its `raw` and `enriched` forms.
    pub info: bool,
}

impl Default for EndpointsView {
    fn default() -> Self {
        Self {
            enabled: true,
            health: true,
            info: true,
        }
    }
}

impl EndpointsView {
    /// The routes `crd` declares.
    pub fn of(crd: &Crd) -> Self {
        let declared = crd.entry.endpoints.clone().unwrap_or_default();
        Self {
            enabled: declared.enabled != Some(false),
            health: declared.health != Some(false),
            info: declared.info != Some(false),
        }
    }

    /// Whether `/katalog/{crd}/health` is served.
    pub fn serves_health(&self) -> bool {
        self.enabled && self.health
    }

    /// Whether `/katalog/{crd}` (and `raw`, `enriched`) is served.
    pub fn serves_info(&self) -> bool {
        self.enabled && self.info
    }
}

/// `admission` of `GET /katalog/{crd}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionView {
    /// The gateway registers this CRD with its validating or mutating webhook: admission
    /// webhooks are on (`security.webhooks.admission.enabled`) and the CRD has validation or
    /// mutation rules it does not opt out of (`webhooks.validation/mutation: false`).
    pub webhooks_enabled: bool,
}

/// A feature that is on or off (`deletionProtection`, `namespaceProtection`, `conversion`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Toggle {
    /// Whether the feature applies to this CRD.
    pub enabled: bool,
}

/// `autoscaler` of `GET /katalog/{crd}`: the declared `autoscale:` block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalerView {
    /// An `autoscale:` block is declared.
    pub enabled: bool,
    /// Whether the autoscaler holds the workers above the baseline right now.
    pub active: bool,
    /// Workers when not scaled.
    pub baseline_workers: usize,
    /// Workers while scaled (`do.workers`), when declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaled_workers: Option<i64>,
    /// Evaluation interval, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Cooldown before restoring the baseline, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<String>,
}

/// Everything a CRD's entry declares that `/katalog/{crd}` shows besides its live state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrdSettings {
    /// Which routes are served.
    pub endpoints: EndpointsView,
    /// `admission`.
    pub admission: AdmissionView,
    /// `deletionProtection`: the CRD's CRs carry the deletion-protection label.
    pub deletion_protection: Toggle,
    /// `namespaceProtection`: namespace protection is on and has namespaces to check.
    pub namespace_protection: Toggle,
    /// `conversion`: conversion is on and the CRD declares a `conversion:` block.
    pub conversion: Toggle,
    /// `autoscaler`.
    pub autoscaler: AutoscalerView,
}

impl CrdSettings {
    /// What `katalog` declares for `crd`.
    pub fn of(katalog: &Katalog, crd: &Crd) -> Self {
        let security = katalog.document.security.clone().unwrap_or_default();
        let e = &crd.entry;
        let admission_on = security
            .webhooks
            .as_ref()
            .and_then(|w| w.admission.as_ref())
            .is_some_and(|a| a.enabled == Some(true));
        let hooks = e.webhooks.clone().unwrap_or_default();
        let validates = hooks.validation != Some(false)
            && e.validation.as_ref().is_some_and(|v| !v.rules.is_empty());
        let mutates = hooks.mutation != Some(false)
            && e.mutation.as_ref().is_some_and(|m| !m.rules.is_empty());
        let namespace_lists = |global: &[String], own: usize| !global.is_empty() || own > 0;
        let own_lists = [&e.restricted_namespaces, &e.allowed_namespaces]
            .iter()
            .filter_map(|l| l.as_ref())
            .map(|l| l.value.len())
            .sum();
        let namespace_protection = security
            .namespace_protection
            .as_ref()
            .filter(|n| n.enabled == Some(true))
            .is_some_and(|n| {
                namespace_lists(&n.restricted_namespaces, own_lists)
                    || namespace_lists(&n.allowed_namespaces, own_lists)
            });
        let conversion_on = security
            .conversion
            .as_ref()
            .is_some_and(|c| c.enabled == Some(true));
        let autoscale = crd.operator_box().autoscale.as_ref().map(|a| &a.value);
        Self {
            endpoints: EndpointsView::of(crd),
            admission: AdmissionView {
                webhooks_enabled: crd.enabled && admission_on && (validates || mutates),
            },
            deletion_protection: Toggle {
                enabled: crd.enabled && Protection::of(katalog, crd).protect,
            },
            namespace_protection: Toggle {
                enabled: crd.enabled && namespace_protection,
            },
            conversion: Toggle {
                enabled: crd.enabled && conversion_on && e.conversion.is_some(),
            },
            autoscaler: AutoscalerView {
                enabled: autoscale.is_some(),
                active: false,
                baseline_workers: usize::try_from(crd.settings.workers).unwrap_or(usize::MAX),
                scaled_workers: autoscale
                    .and_then(|a| a.action.as_ref())
                    .and_then(|d| d.workers.as_ref())
                    .map(|w| w.value),
                interval: autoscale
                    .and_then(|a| a.interval.as_ref())
                    .map(|s| s.value.clone()),
                cooldown: autoscale
                    .and_then(|a| a.cooldown.as_ref())
                    .map(|s| s.value.clone()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn katalog(yaml: &str) -> Katalog {
        katalog::load_text("katalog.yaml", yaml)
            .unwrap_or_else(|d| panic!("{}", d.render()))
            .katalog
    }

    const PLAIN: &str = r#"
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: shop}
spec:
  crds:
    website:
      apiTypes: {group: example.com, version: v1, kind: Website, plural: websites}
"#;

    const GUARDED: &str = r#"
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: shop}
security:
  webhooks:
    admission: {enabled: true}
  deletionProtection: {enabled: true}
  namespaceProtection: {enabled: true, restrictedNamespaces: [kube-system]}
spec:
  crds:
    website:
      apiTypes: {group: example.com, version: v1, kind: Website, plural: websites}
      validation:
        rules:
          - {field: spec.image, operator: exists, message: "an image", action: deny}
      operatorBox:
        autoscale:
          interval: 15s
          cooldown: 2m
          conditions:
            when:
              - {field: metrics.queueDepth, greaterThan: "80"}
          do: {workers: 8}
    plain:
      apiTypes: {group: example.com, version: v1, kind: Plain, plural: plains}
      deletionProtection: {enabled: false}
      webhooks: {validation: false}
      validation:
        rules:
          - {field: spec.image, operator: exists, message: "an image", action: deny}
"#;

    #[test]
    fn a_plain_crd_serves_every_route_and_declares_no_gateway_feature() {
        let k = katalog(PLAIN);
        let settings = CrdSettings::of(&k, &k.crds[0]);
        assert_eq!(settings.endpoints, EndpointsView::default());
        assert!(!settings.admission.webhooks_enabled);
        assert!(!settings.deletion_protection.enabled);
        assert!(!settings.namespace_protection.enabled);
        assert!(!settings.conversion.enabled);
        assert!(!settings.autoscaler.enabled);
        assert_eq!(settings.autoscaler.baseline_workers, 3);
    }

    #[test]
    fn declared_security_and_autoscale_show_per_crd_with_opt_outs() {
        let k = katalog(GUARDED);
        let website = CrdSettings::of(&k, k.crd("website").unwrap());
        assert!(website.admission.webhooks_enabled);
        assert!(website.deletion_protection.enabled);
        assert!(website.namespace_protection.enabled);
        assert!(!website.conversion.enabled);
        assert_eq!(
            website.autoscaler,
            AutoscalerView {
                enabled: true,
                active: false,
                baseline_workers: 3,
                scaled_workers: Some(8),
                interval: Some("15s".into()),
                cooldown: Some("2m".into()),
            }
        );
        let plain = CrdSettings::of(&k, k.crd("plain").unwrap());
        assert!(
            !plain.admission.webhooks_enabled,
            "webhooks.validation: false"
        );
        assert!(!plain.deletion_protection.enabled, "deletionProtection off");
        assert!(
            plain.namespace_protection.enabled,
            "the global list applies"
        );
    }

    #[test]
    fn endpoints_false_hides_what_it_names() {
        let with = |endpoints: &str| {
            let k = katalog(&PLAIN.replace(
                "plural: websites}",
                &format!("plural: websites}}\n      endpoints: {endpoints}"),
            ));
            CrdSettings::of(&k, &k.crds[0]).endpoints
        };
        let no_health = with("{health: false}");
        assert!(!no_health.serves_health() && no_health.serves_info());
        let no_info = with("{info: false}");
        assert!(no_info.serves_health() && !no_info.serves_info());
        let none = with("{enabled: false}");
        assert!(!none.enabled && !none.serves_health() && !none.serves_info());
    }
}
