//! A validation rule's own check, as a [`Condition`] of the condition language.
//!
//! The model keeps a rule's operands as written (any YAML scalar, or a list for `in`); the
//! condition language compares text. This is the one place the two meet.

use serde_json::Value;

use super::{Error, Result};
use crate::condition::{Condition, Operator, ValueType, value_text};
use crate::model::ValidationRule;
use crate::render::Text;

/// The condition a validation rule checks: its `field`, operator (explicit or shorthand),
/// operand, `valueType` and `negate`. `when`/`or` gating is not part of it.
///
/// # Errors
/// An unknown operator or value type, or a map where an operand is expected.
pub fn condition_of(rule: &ValidationRule) -> Result<Condition> {
    let text = |v: &Option<Value>, what: &'static str| -> Result<Option<Text>> {
        v.as_ref().map(|v| operand(v, what)).transpose()
    };
    let flag = |v: &Option<Value>| {
        v.as_ref().map(|v| match v {
            Value::Bool(b) => *b,
            other => !value_text(other).trim().eq_ignore_ascii_case("false"),
        })
    };
    let operator = rule
        .operator
        .as_ref()
        .map(|o| Operator::parse(&o.value))
        .transpose()?;
    let value_type = rule
        .value_type
        .as_ref()
        .map(|t| {
            serde_json::from_value::<ValueType>(Value::String(t.value.clone()))
                .map_err(|_| Error::UnknownValueType(t.value.clone()))
        })
        .transpose()?;
    Ok(Condition {
        field: rule.field.as_deref().map(Text::from),
        operator,
        value: text(&rule.value, "value")?,
        value_type,
        negate: rule.negate.unwrap_or(false),
        equals: text(&rule.equals, "equals")?,
        not_equals: text(&rule.not_equals, "notEquals")?,
        contains: text(&rule.contains, "contains")?,
        not_contains: text(&rule.not_contains, "notContains")?,
        prefix: text(&rule.prefix, "prefix")?,
        not_prefix: text(&rule.not_prefix, "notPrefix")?,
        suffix: text(&rule.suffix, "suffix")?,
        not_suffix: text(&rule.not_suffix, "notSuffix")?,
        regex: text(&rule.regex, "regex")?,
        exists: flag(&rule.exists),
        not_exists: flag(&rule.not_exists),
        greater_than: text(&rule.greater_than, "greaterThan")?,
        less_than: text(&rule.less_than, "lessThan")?,
        greater_than_or_equal: text(&rule.greater_than_or_equal, "greaterThanOrEqual")?,
        less_than_or_equal: text(&rule.less_than_or_equal, "lessThanOrEqual")?,
        min: text(&rule.min, "min")?,
        max: text(&rule.max, "max")?,
        between: text(&rule.between, "between")?,
        not_between: text(&rule.not_between, "notBetween")?,
        in_list: text(&rule.in_list, "in")?,
        not_in: text(&rule.not_in, "notIn")?,
        ..Condition::default()
    })
}

/// An operand as the condition language's text: scalars as written, lists joined with
/// commas (the `in` form `[a, b]`).
fn operand(v: &Value, what: &'static str) -> Result<Text> {
    match v {
        Value::Object(_) => Err(Error::OperandIsMap(what)),
        Value::Array(items) => Ok(Text(
            items
                .iter()
                .map(|i| value_text(i).into_owned())
                .collect::<Vec<_>>()
                .join(","),
        )),
        other => Ok(Text(value_text(other).into_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::fixtures::crd;

    fn rule(rules: &str) -> ValidationRule {
        let crd = crd(&format!("validation:\n  rules:\n{rules}"));
        crd.entry.validation.unwrap().rules[0].value.clone()
    }

    #[test]
    fn shorthands_and_explicit_operators_become_the_same_condition_fields() {
        let c = condition_of(&rule("    - {field: spec.replicas, greaterThan: 0}")).unwrap();
        assert_eq!(c.greater_than.as_deref(), Some("0"));
        let c = condition_of(&rule(
            "    - {field: spec.env, operator: in, value: 'a,b', valueType: string}",
        ))
        .unwrap();
        assert_eq!(c.operator, Some(Operator::In));
        assert_eq!(c.value.as_deref(), Some("a,b"));
        assert_eq!(c.value_type, Some(ValueType::String));
    }

    #[test]
    fn list_operands_are_joined_and_flags_read_as_booleans() {
        let mut r = ValidationRule {
            field: Some("x".into()),
            in_list: Some(serde_json::json!(["a", 2, true])),
            ..ValidationRule::default()
        };
        assert_eq!(
            condition_of(&r).unwrap().in_list.as_deref(),
            Some("a,2,true")
        );
        r.in_list = None;
        r.exists = Some(Value::String("false".into()));
        assert_eq!(condition_of(&r).unwrap().exists, Some(false));
        r.exists = None;
        r.not_exists = Some(Value::Bool(true));
        assert_eq!(condition_of(&r).unwrap().not_exists, Some(true));
    }

    #[test]
    fn unknown_operators_value_types_and_map_operands_are_errors() {
        use crate::de::Spanned;
        let base = ValidationRule {
            field: Some("x".into()),
            ..ValidationRule::default()
        };
        let r = ValidationRule {
            operator: Some(Spanned::new("approx".into(), Default::default())),
            ..base.clone()
        };
        assert!(matches!(condition_of(&r), Err(Error::UnknownOperator(op)) if op.name == "approx"));
        let r = ValidationRule {
            equals: Some(serde_json::json!(1)),
            value_type: Some(Spanned::new("decimal".into(), Default::default())),
            ..base.clone()
        };
        assert!(matches!(condition_of(&r), Err(Error::UnknownValueType(_))));
        let r = ValidationRule {
            equals: Some(serde_json::json!({"a": 1})),
            ..base
        };
        assert!(matches!(
            condition_of(&r),
            Err(Error::OperandIsMap("equals"))
        ));
    }
}
