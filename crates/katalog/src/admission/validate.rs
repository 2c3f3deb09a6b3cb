//! Validation rules (spec §16.3): every violated `deny` rule denies, every violated `warn`
//! rule warns, each with its rendered message.

use serde::Serialize;

use super::{Error, Input, chain, condition_of, gates_pass, rule_name};
use crate::condition::Env;
use crate::de::Spanned;
use crate::model::ValidationRule;
use crate::render::render_text;

/// One violated rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's `name`, else its `field`, else `rules[i]`.
    pub rule: String,
    /// The field the rule checks, when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The rendered `message`, or a description of the failure.
    pub message: String,
}

/// What validation decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Violated `deny` rules (and rules that could not be evaluated), in rule order.
    pub denied: Vec<Finding>,
    /// Violated `warn` rules, in rule order.
    pub warnings: Vec<Finding>,
}

impl Verdict {
    /// Whether no `deny` rule is violated.
    pub fn is_allowed(&self) -> bool {
        self.denied.is_empty()
    }

    /// Every denial's message, joined with `; ` (the AdmissionReview status message).
    pub fn message(&self) -> String {
        self.denied
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The action of a rule: `warn`, else deny.
fn is_warn(rule: &ValidationRule) -> bool {
    rule.action
        .as_ref()
        .is_some_and(|a| a.value.trim().eq_ignore_ascii_case("warn"))
}

/// The fields of every `unique` rule (what a caller must gather sibling values for).
pub fn unique_fields(rules: &[Spanned<ValidationRule>]) -> Vec<&str> {
    rules
        .iter()
        .filter(|r| {
            r.value
                .operator
                .as_ref()
                .is_some_and(|o| o.value == "unique")
        })
        .filter_map(|r| r.value.field.as_deref())
        .collect()
}

/// Evaluates `rules` against `input.object`.
///
/// A rule applies when its `when` entries all pass and, if it has `or` entries, one of them
/// passes, and when it fires at `input.stage`. An applying rule whose condition is false is
/// violated. A rule that cannot be evaluated (a template that fails, a malformed operand)
/// counts as violated with a message saying why, so a broken rule never admits silently.
pub fn validate(rules: &[Spanned<ValidationRule>], input: &Input<'_>) -> Verdict {
    let mut verdict = Verdict::default();
    for (i, rule) in rules.iter().enumerate() {
        let rule = &rule.value;
        if !input.stage.fires(rule.fires.as_ref()) {
            continue;
        }
        let name = rule_name(rule.name.as_ref(), rule.field.as_ref(), i);
        let message = match check(rule, input) {
            Ok(true) => continue,
            Ok(false) => message(rule, &name, input),
            Err(e) => format!("rule {name:?} cannot be evaluated: {}", chain(&e)),
        };
        let finding = Finding {
            rule: name,
            field: rule.field.clone(),
            message,
        };
        if is_warn(rule) {
            verdict.warnings.push(finding);
        } else {
            verdict.denied.push(finding);
        }
    }
    verdict
}

/// Whether the rule holds (a rule whose gates fail holds trivially).
fn check(rule: &ValidationRule, input: &Input<'_>) -> Result<bool, Error> {
    let mut env = Env::new(input.object, input.render, input.now);
    if let (Some(siblings), Some(field)) = (input.siblings, rule.field.as_deref())
        && let Some(values) = siblings.get(field)
    {
        env = env.with_siblings(values);
    }
    if !gates_pass(&rule.when, &rule.or, &env)? {
        return Ok(true);
    }
    condition_of(rule)?
        .evaluate(&env)
        .map_err(|source| Error::ConditionFailed {
            what: "rule",
            source,
        })
}

/// The rule's rendered message, or a generic one naming the rule.
fn message(rule: &ValidationRule, name: &str, input: &Input<'_>) -> String {
    match rule.message.as_deref() {
        Some(m) => match render_text(input.render, m, input.object) {
            Ok(text) => text.into_owned(),
            Err(e) => format!("{m} (message template failed: {e})"),
        },
        None => format!("validation rule {name:?} failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::fixtures::{crd, render};
    use crate::admission::{Siblings, Stage};
    use serde_json::{Value, json};

    fn run(rules: &str, object: Value, stage: Stage) -> Verdict {
        let crd = crd(&format!("validation:\n  rules:\n{rules}"));
        let r = render();
        validate(
            &crd.entry.validation.unwrap().rules,
            &Input::new(&object, &r, stage),
        )
    }

    const PLATFORM: &str = r#"    - field: spec.image
      prefix: "registry.internal/"
      message: "image {{ .spec.image }} must come from registry.internal/"
    - field: spec.replicas
      greaterThan: 0
      message: "replicas must be at least 1"
      action: deny
    - field: spec.rateLimit
      operator: exists
      message: "declare spec.rateLimit"
      action: warn
"#;

    #[test]
    fn every_violated_deny_rule_is_reported_with_its_rendered_message() {
        let v = run(
            PLATFORM,
            json!({"spec": {"image": "docker.io/x", "replicas": 0, "rateLimit": 5}}),
            Stage::Admission,
        );
        assert!(!v.is_allowed());
        assert_eq!(
            v.message(),
            "image docker.io/x must come from registry.internal/; replicas must be at least 1"
        );
        assert!(v.warnings.is_empty());
        assert_eq!(v.denied[1].field.as_deref(), Some("spec.replicas"));
    }

    #[test]
    fn a_violated_warn_rule_allows_with_a_warning() {
        let v = run(
            PLATFORM,
            json!({"spec": {"image": "registry.internal/x", "replicas": 2}}),
            Stage::Admission,
        );
        assert!(v.is_allowed());
        assert_eq!(v.warnings.len(), 1);
        assert_eq!(v.warnings[0].message, "declare spec.rateLimit");
    }

    #[test]
    fn when_and_or_gate_a_rule() {
        let rules = r#"    - field: spec.replicas
      greaterThan: 2
      message: "production needs 3 replicas"
      when:
        - {field: spec.environment, equals: production}
      or:
        - {field: spec.tier, equals: gold}
        - {field: spec.tier, equals: silver}
"#;
        let obj = |env: &str, tier: &str| json!({"spec": {"replicas": 1, "environment": env, "tier": tier}});
        assert!(run(rules, obj("dev", "gold"), Stage::Admission).is_allowed());
        assert!(run(rules, obj("production", "bronze"), Stage::Admission).is_allowed());
        assert!(!run(rules, obj("production", "silver"), Stage::Admission).is_allowed());
    }

    #[test]
    fn admission_only_rules_do_not_fire_at_reconcile() {
        let rules = "    - {field: spec.x, exists: true, fires: {reconcile: false}}\n";
        assert!(!run(rules, json!({"spec": {}}), Stage::Admission).is_allowed());
        assert!(run(rules, json!({"spec": {}}), Stage::Reconcile).is_allowed());
    }

    #[test]
    fn unique_compares_against_the_given_siblings() {
        let crd = crd(
            "validation:\n  rules:\n    - {field: spec.host, operator: unique, message: taken}\n",
        );
        let rules = crd.entry.validation.unwrap().rules;
        assert_eq!(unique_fields(&rules), ["spec.host"]);
        let r = render();
        let obj = json!({"spec": {"host": "a.example"}});
        let input = Input::new(&obj, &r, Stage::Admission);
        assert!(
            validate(&rules, &input).is_allowed(),
            "unknown siblings pass"
        );
        let taken: Siblings = [("spec.host".into(), vec![json!("a.example")])].into();
        assert_eq!(
            validate(&rules, &input.with_siblings(&taken)).message(),
            "taken"
        );
        let free: Siblings = [("spec.host".into(), vec![json!("b.example")])].into();
        assert!(validate(&rules, &input.with_siblings(&free)).is_allowed());
    }

    #[test]
    fn a_rule_that_cannot_be_evaluated_denies_and_says_why() {
        let v = run(
            "    - {name: bad-range, field: spec.n, between: '1'}\n",
            json!({"spec": {"n": 1}}),
            Stage::Admission,
        );
        assert_eq!(v.denied.len(), 1);
        assert!(
            v.denied[0]
                .message
                .starts_with("rule \"bad-range\" cannot be evaluated"),
            "{}",
            v.denied[0].message
        );
    }

    #[test]
    fn a_rule_without_a_message_names_itself() {
        let v = run(
            "    - {field: spec.n, exists: true}\n",
            json!({}),
            Stage::Admission,
        );
        assert_eq!(v.message(), "validation rule \"spec.n\" failed");
    }
}
