//! Reconcile-time validation (spec §9.2 step 5): the CRD's `validation.rules` evaluated on the
//! CR as read from the cache. A failing `deny` rule stops the reconcile (`ValidationFailed`,
//! no retry until the CR changes); a failing `warn` rule is reported (`ValidationWarning`).
//!
//! This is the hook the shared `katalog::admission` module (being written for the gateway)
//! will replace: until then each rule's condition keys are read as a condition of the
//! condition language and evaluated with it. Mutation rules are not applied at reconcile
//! time yet.

use katalog::condition::{Condition, Conditions, Env};
use katalog::model::{CrdEntry, ValidationRule};
use katalog::resources::Render;
use serde_json::{Map, Value};

/// What validation rules said about a CR.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    /// Messages of failed `deny` rules.
    pub denied: Vec<String>,
    /// Messages of failed `warn` rules.
    pub warnings: Vec<String>,
}

impl Verdict {
    /// Failed rules joined as `field "x": msg; field "y": msg`, or `None`.
    pub fn denied_message(&self) -> Option<String> {
        (!self.denied.is_empty()).then(|| self.denied.join("; "))
    }

    /// Warnings joined the same way, or `None`.
    pub fn warning_message(&self) -> Option<String> {
        (!self.warnings.is_empty()).then(|| self.warnings.join("; "))
    }
}

/// The rule's condition keys as a [`Condition`] (values that are numbers or booleans become
/// text, as the condition language compares text).
fn as_condition(rule: &ValidationRule) -> Option<Condition> {
    let raw = serde_json::to_value(RuleKeys(rule)).ok()?;
    serde_json::from_value(raw).ok()
}

/// Serializes only the condition keys of a rule.
struct RuleKeys<'a>(&'a ValidationRule);

impl serde::Serialize for RuleKeys<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let text = |v: &Option<Value>| {
            v.as_ref().map(|v| match v {
                Value::String(s) => Value::String(s.clone()),
                other => Value::String(other.to_string()),
            })
        };
        let flag = |v: &Option<Value>| {
            v.as_ref().map(|v| match v {
                Value::String(s) => Value::Bool(s == "true"),
                other => other.clone(),
            })
        };
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.to_owned(), v);
            }
        };
        put("field", r.field.clone().map(Value::String));
        put(
            "operator",
            r.operator.as_ref().map(|o| o.value.clone().into()),
        );
        put("value", text(&r.value));
        put(
            "valueType",
            r.value_type.as_ref().map(|o| o.value.clone().into()),
        );
        put("negate", r.negate.map(Value::Bool));
        put("equals", text(&r.equals));
        put("notEquals", text(&r.not_equals));
        put("contains", text(&r.contains));
        put("notContains", text(&r.not_contains));
        put("prefix", text(&r.prefix));
        put("notPrefix", text(&r.not_prefix));
        put("suffix", text(&r.suffix));
        put("notSuffix", text(&r.not_suffix));
        put("regex", text(&r.regex));
        put("exists", flag(&r.exists));
        put("notExists", flag(&r.not_exists));
        put("greaterThan", text(&r.greater_than));
        put("lessThan", text(&r.less_than));
        put("greaterThanOrEqual", text(&r.greater_than_or_equal));
        put("lessThanOrEqual", text(&r.less_than_or_equal));
        put("min", text(&r.min));
        put("max", text(&r.max));
        put("between", text(&r.between));
        put("notBetween", text(&r.not_between));
        put("in", text(&r.in_list));
        put("notIn", text(&r.not_in));
        serde::Serialize::serialize(&m, s)
    }
}

/// Evaluates the CRD's validation rules on `data` (the CR plus extra keys). A rule whose
/// own `when`/`or` do not hold is skipped; a rule that cannot be evaluated counts as failed
/// with the reason in its message.
pub fn validate(
    entry: &CrdEntry,
    data: &Value,
    render: &dyn Render,
    now: time::OffsetDateTime,
) -> Verdict {
    let mut verdict = Verdict::default();
    let Some(validation) = &entry.validation else {
        return verdict;
    };
    let env = Env::new(data, render, now);
    for rule in &validation.rules {
        let rule = &rule.value;
        match Conditions::new(&rule.when, &rule.or).evaluate(&env) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(rule = ?rule.name, error = %e, "validation rule conditions cannot be evaluated");
                continue;
            }
        }
        let field = rule.field.clone().unwrap_or_default();
        let failure = match as_condition(rule) {
            None => Some("rule cannot be read as a condition".to_owned()),
            Some(c) => match c.evaluate(&env) {
                Ok(true) => None,
                Ok(false) => Some(
                    rule.message
                        .clone()
                        .unwrap_or_else(|| "validation failed".to_owned()),
                ),
                Err(e) => Some(format!("cannot be evaluated: {e}")),
            },
        };
        if let Some(message) = failure {
            let line = format!("field {field:?}: {message}");
            match rule.action.as_ref().map(|a| a.value.as_str()) {
                Some("warn") => verdict.warnings.push(line),
                _ => verdict.denied.push(line),
            }
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use katalog::build::EngineRender;
    use katalog::template::Engine;
    use serde_json::json;

    fn entry(rules: &str) -> CrdEntry {
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: t}}
spec:
  crds:
    widget:
      apiTypes: {{group: t.io, version: v1, kind: Widget, plural: widgets}}
      validation:
        rules: {rules}
"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("katalog.yaml");
        std::fs::write(&path, &text).unwrap();
        let loaded = katalog::load(&path).unwrap_or_else(|d| panic!("{d:?}"));
        loaded.katalog.crds[0].entry.clone()
    }

    #[test]
    fn a_failing_deny_rule_denies_and_a_failing_warn_rule_warns() {
        let render = EngineRender::new(Engine::new());
        let e = entry(
            r#"[
          {field: spec.replicas, lessThanOrEqual: 5, message: "at most 5"},
          {field: spec.image, notContains: ":latest", action: warn, message: "pin the tag"},
          {field: spec.name, exists: true, message: "needs a name"}]"#,
        );
        let data = json!({"spec": {"replicas": 9, "image": "nginx:latest", "name": "x"}});
        let v = validate(&e, &data, &render, time::OffsetDateTime::now_utc());
        assert_eq!(v.denied, ["field \"spec.replicas\": at most 5"]);
        assert_eq!(v.warnings, ["field \"spec.image\": pin the tag"]);
        let ok = json!({"spec": {"replicas": 2, "image": "nginx:1.25", "name": "x"}});
        assert_eq!(
            validate(&e, &ok, &render, time::OffsetDateTime::now_utc()),
            Verdict::default()
        );
    }

    #[test]
    fn a_rule_whose_own_conditions_fail_is_skipped() {
        let render = EngineRender::new(Engine::new());
        let e = entry(
            "[{field: spec.replicas, max: 1, message: m, when: [{field: spec.tier, equals: free}]}]",
        );
        let data = json!({"spec": {"replicas": 3, "tier": "pro"}});
        assert!(
            validate(&e, &data, &render, time::OffsetDateTime::now_utc())
                .denied
                .is_empty()
        );
    }
}
