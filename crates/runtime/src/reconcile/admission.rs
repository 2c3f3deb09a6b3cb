//! Reconcile-time normalize, mutation and validation (spec §9.2 step 5), through the same rule
//! engine as the gateway ([`katalog::admission`] at [`Stage::Reconcile`], so
//! `fires.reconcile: false` rules are skipped).
//!
//! Normalize and mutation are applied in memory only: templates render the canonical,
//! mutated CR, nothing is written back (the gateway persists mutations at admission). With
//! `mutation.mutateFirst: true` validation sees the mutated CR, otherwise the normalized one.
//!
//! A failing `deny` rule stops the reconcile (`ValidationFailed=True`, no retry until the CR
//! changes); a failing `warn` rule is reported (`ValidationWarning=True` and an Event).
//! Messages read `field "spec.x": <message>`, joined with `; ` (§10.1).

use katalog::Crd;
use katalog::admission::{self, Finding, Input, Siblings, Stage};
use katalog::render::Render;
use serde_json::Value;
use time::OffsetDateTime;

/// What mutation and validation made of a CR.
#[derive(Debug, Clone, PartialEq)]
pub struct Admission {
    /// The CR to render from (mutated when the CRD declares mutation rules).
    pub object: Value,
    /// Failed `deny` rules and mutation rules that could not be carried out.
    pub denied: Option<String>,
    /// Failed `warn` rules.
    pub warned: Option<String>,
}

/// `field "x": message; …`, or `None` for no findings.
fn describe(findings: &[Finding]) -> Option<String> {
    if findings.is_empty() {
        return None;
    }
    let lines: Vec<String> = findings
        .iter()
        .map(|f| match &f.field {
            Some(field) => format!("field {field:?}: {}", f.message),
            None => f.message.clone(),
        })
        .collect();
    Some(lines.join("; "))
}

/// Normalizes, mutates and validates `object` (the CR plus extra keys templates may read)
/// for `crd`. With `normalize.audit`, the changes are under `_normalizeChanges` (a list of
/// `{field, from, to}`), when there are any. `siblings` are the values of the other CRs for
/// `unique` rules (`None`: unknown, and `unique` passes).
pub fn admit(
    crd: &Crd,
    object: &Value,
    render: &dyn Render,
    now: OffsetDateTime,
    siblings: Option<&Siblings>,
) -> Admission {
    let normalized = crd.entry.normalize.as_ref().map(|rules| {
        let input = Input::new(object, render, Stage::Reconcile).at(now);
        let mut normalized = admission::normalize(rules, &input);
        if rules.audit == Some(true)
            && !normalized.changes.is_empty()
            && let Some(map) = normalized.object.as_object_mut()
        {
            let changes = serde_json::to_value(&normalized.changes).unwrap_or_default();
            map.insert("_normalizeChanges".into(), changes);
        }
        normalized
    });
    let (object, normalize_errors) = match &normalized {
        Some(n) => (&n.object, n.errors.clone()),
        None => (object, Vec::new()),
    };
    let mut input = Input::new(object, render, Stage::Reconcile).at(now);
    if let Some(siblings) = siblings {
        input = input.with_siblings(siblings);
    }
    let mutated = match &crd.entry.mutation {
        Some(m) => admission::mutate(&m.rules, &input),
        None => admission::Mutated::unchanged(object.clone()),
    };
    let mutate_first = crd
        .entry
        .mutation
        .as_ref()
        .and_then(|m| m.mutate_first)
        .unwrap_or(false);
    let verdict = match &crd.entry.validation {
        Some(v) if mutate_first => {
            admission::validate(&v.rules, &input.with_object(&mutated.object))
        }
        Some(v) => admission::validate(&v.rules, &input),
        None => admission::Verdict::default(),
    };
    let mut denied = normalize_errors;
    denied.extend(verdict.denied);
    denied.extend(mutated.errors);
    Admission {
        denied: describe(&denied),
        warned: describe(&verdict.warnings),
        object: mutated.object,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gotmpl::Engine;
    use katalog::build::EngineRender;
    use serde_json::json;

    fn crd(rules: &str) -> Crd {
        crate::reconcile::fixtures::katalog("", rules).crds[0].clone()
    }

    const RULES: &str = r#"      validation:
        rules:
          - {field: spec.replicas, lessThanOrEqual: 5, message: "at most 5"}
          - {field: spec.image, notContains: ":latest", action: warn, message: "pin the tag"}
      mutation:
        mutateFirst: true
        rules:
          - {field: spec.replicas, default: "2", valueType: int}"#;

    #[test]
    fn failing_deny_and_warn_rules_are_described_by_field() {
        let render = EngineRender::new(Engine::new());
        let c = crd(RULES);
        let data = json!({"spec": {"replicas": 9, "image": "nginx:latest"}});
        let a = admit(&c, &data, &render, OffsetDateTime::now_utc(), None);
        assert_eq!(
            a.denied.as_deref(),
            Some("field \"spec.replicas\": at most 5")
        );
        assert_eq!(
            a.warned.as_deref(),
            Some("field \"spec.image\": pin the tag")
        );
    }

    #[test]
    fn mutation_defaults_are_rendered_from_and_validated_when_mutate_first() {
        let render = EngineRender::new(Engine::new());
        let c = crd(RULES);
        let data = json!({"spec": {"image": "nginx:1.25"}});
        let a = admit(&c, &data, &render, OffsetDateTime::now_utc(), None);
        assert_eq!(a.object["spec"]["replicas"], 2);
        assert_eq!(a.denied, None);
        assert_eq!(a.warned, None);
    }
}
