//! Validation and mutation rules (§18.3 #45) and normalize templates.

use super::Cx;
use crate::condition::Operator;
use crate::model::{Crd, MutationRule, ValidationRule};

const VALUE_TYPES: &[&str] = &["string", "int", "float", "bool"];

pub fn check(cx: &mut Cx<'_>) {
    for crd in &cx.katalog.crds {
        if let Some(v) = &crd.entry.validation {
            for (i, rule) in v.rules.iter().enumerate() {
                validation_rule(cx, crd, i, rule);
            }
        }
        if let Some(m) = &crd.entry.mutation {
            for (i, rule) in m.rules.iter().enumerate() {
                mutation_rule(cx, crd, i, rule);
            }
        }
    }
}

/// A rule needs the `field` it reads or writes.
fn rule_field(
    cx: &mut Cx<'_>,
    crd: &Crd,
    at: &crate::Location,
    rest: &str,
    kind: &str,
    field: Option<&str>,
) {
    if field.is_none_or(str::is_empty) {
        cx.crd_error(
            crd,
            Some(at),
            "missing-field",
            &format!("{rest}.field"),
            format!("a {kind} rule needs a `field`"),
            "",
        );
    }
}

fn shorthand_count(r: &ValidationRule) -> usize {
    [
        &r.equals,
        &r.not_equals,
        &r.contains,
        &r.not_contains,
        &r.prefix,
        &r.not_prefix,
        &r.suffix,
        &r.not_suffix,
        &r.regex,
        &r.exists,
        &r.not_exists,
        &r.greater_than,
        &r.less_than,
        &r.greater_than_or_equal,
        &r.less_than_or_equal,
        &r.min,
        &r.max,
        &r.between,
        &r.not_between,
        &r.in_list,
        &r.not_in,
    ]
    .iter()
    .filter(|v| v.is_some())
    .count()
}

fn validation_rule(
    cx: &mut Cx<'_>,
    crd: &Crd,
    i: usize,
    rule: &crate::de::Spanned<ValidationRule>,
) {
    let rest = format!("validation.rules[{i}]");
    let r = &rule.value;
    rule_field(cx, crd, &rule.at, &rest, "validation", r.field.as_deref());
    match &r.operator {
        Some(op) if Operator::parse(&op.value).is_err() => {
            let spellings: Vec<&str> = Operator::spellings().collect();
            let hint = crate::de::did_you_mean(&op.value, &spellings)
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            cx.crd_error(
                crd,
                Some(&op.at),
                "unknown-operator",
                &format!("{rest}.operator"),
                format!("unknown operator `{}`", op.value),
                format!("{hint}valid operators: {}", Operator::valid_list()),
            );
        }
        None if shorthand_count(r) == 0 => cx.crd_error(
            crd,
            Some(&rule.at),
            "missing-operator",
            &rest,
            "a validation rule needs an `operator` or a shorthand such as `equals:`",
            "add e.g. `operator: exists`",
        ),
        _ => {}
    }
    if shorthand_count(r) > 1 || (r.operator.is_some() && shorthand_count(r) > 0) {
        cx.crd_error(
            crd,
            Some(&rule.at),
            "ambiguous-operator",
            &rest,
            "a validation rule declares more than one operator",
            "keep one operator or shorthand key",
        );
    }
    value_type(cx, crd, &rest, r.value_type.as_ref());
    if let Some(a) = &r.action
        && !["deny", "warn"].contains(&a.value.as_str())
    {
        cx.crd_error(
            crd,
            Some(&a.at),
            "invalid-action",
            &format!("{rest}.action"),
            format!("action `{}` is not `deny` or `warn`", a.value),
            "use `action: deny` or `action: warn`",
        );
    }
}

fn value_type(cx: &mut Cx<'_>, crd: &Crd, rest: &str, vt: Option<&crate::de::Spanned<String>>) {
    if let Some(vt) = vt.filter(|v| !VALUE_TYPES.contains(&v.value.as_str())) {
        cx.crd_error(
            crd,
            Some(&vt.at),
            "invalid-value-type",
            &format!("{rest}.valueType"),
            format!("valueType `{}` is not string, int, float or bool", vt.value),
            "",
        );
    }
}

fn mutation_rule(cx: &mut Cx<'_>, crd: &Crd, i: usize, rule: &crate::de::Spanned<MutationRule>) {
    let rest = format!("mutation.rules[{i}]");
    let r = &rule.value;
    rule_field(cx, crd, &rule.at, &rest, "mutation", r.field.as_deref());
    if r.default.is_some() == r.override_value.is_some() {
        cx.crd_error(
            crd,
            Some(&rule.at),
            "mutation-default-xor-override",
            &rest,
            "a mutation rule needs exactly one of `default` and `override`",
            "keep one of them",
        );
    }
    value_type(cx, crd, &rest, r.value_type.as_ref());
}
