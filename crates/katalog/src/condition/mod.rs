//! The condition language of `when:` and `or:` (spec §7).
//!
//! A [`Condition`] is either a *field condition* (a dot path or template compared with an
//! operator) or a *time condition* (a UTC time window, a day-of-week set, or a cron window).
//! A list under `when:` passes when every entry passes; a list under `or:` passes when at
//! least one does; a declaration with both needs both ([`Conditions`]).
//!
//! Evaluation is pure: it takes the data map, the template engine and a clock, and for the
//! `unique` operator the sibling values supplied by the caller.

use serde::{Deserialize, Serialize};

use crate::resources::Text;

/// One entry of a `when:` or `or:` list.
///
/// Exactly one kind is expected: a `field` (with `operator` + `value` or one shorthand key),
/// `time`, `dayOfWeek`, or `cron`. `negate` inverts any kind.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Condition {
    /// Dot path into the data map (`spec.replicas`), or a template whose rendered text is
    /// compared directly.
    #[serde(default)]
    pub field: Option<Text>,
    /// Explicit operator; shorthand keys below take precedence.
    #[serde(default)]
    pub operator: Option<Operator>,
    /// Operand of the explicit operator (templated).
    #[serde(default)]
    pub value: Option<Text>,
    /// How field and value are compared: `string` (default), `int`, `float` or `bool`.
    #[serde(default)]
    pub value_type: Option<ValueType>,
    /// Invert the result.
    #[serde(default)]
    pub negate: bool,

    /// Shorthand for `operator: equals`.
    #[serde(default)]
    pub equals: Option<Text>,
    /// Shorthand for `operator: notEquals`.
    #[serde(default)]
    pub not_equals: Option<Text>,
    /// Shorthand for `operator: contains`.
    #[serde(default)]
    pub contains: Option<Text>,
    /// Shorthand for `operator: notContains`.
    #[serde(default)]
    pub not_contains: Option<Text>,
    /// Shorthand for `operator: prefix`.
    #[serde(default)]
    pub prefix: Option<Text>,
    /// Shorthand for `operator: notPrefix`.
    #[serde(default)]
    pub not_prefix: Option<Text>,
    /// Shorthand for `operator: suffix`.
    #[serde(default)]
    pub suffix: Option<Text>,
    /// Shorthand for `operator: notSuffix`.
    #[serde(default)]
    pub not_suffix: Option<Text>,
    /// Shorthand for `operator: regex` (RE2 syntax).
    #[serde(default)]
    pub regex: Option<Text>,
    /// `exists: true` is `operator: exists`; `exists: false` is `notExists`.
    #[serde(default)]
    pub exists: Option<bool>,
    /// `notExists: true` is `operator: notExists`; `notExists: false` is `exists`.
    #[serde(default)]
    pub not_exists: Option<bool>,
    /// Shorthand for `operator: gt`.
    #[serde(default)]
    pub greater_than: Option<Text>,
    /// Shorthand for `operator: lt`.
    #[serde(default)]
    pub less_than: Option<Text>,
    /// Shorthand for `operator: gte`.
    #[serde(default)]
    pub greater_than_or_equal: Option<Text>,
    /// Shorthand for `operator: lte`.
    #[serde(default)]
    pub less_than_or_equal: Option<Text>,
    /// Shorthand for `operator: gte`.
    #[serde(default)]
    pub min: Option<Text>,
    /// Shorthand for `operator: lte`.
    #[serde(default)]
    pub max: Option<Text>,
    /// Shorthand for `operator: between` (`"min,max"`, inclusive).
    #[serde(default)]
    pub between: Option<Text>,
    /// Shorthand for `operator: notBetween`.
    #[serde(default)]
    pub not_between: Option<Text>,
    /// Shorthand for `operator: in` (comma-separated; an empty element matches empty).
    #[serde(default, rename = "in")]
    pub in_list: Option<Text>,
    /// Shorthand for `operator: notIn`.
    #[serde(default)]
    pub not_in: Option<Text>,

    /// Time-of-day window (UTC).
    #[serde(default)]
    pub time: Option<TimeWindow>,
    /// Day-of-week set (UTC).
    #[serde(default)]
    pub day_of_week: Option<DayOfWeek>,
    /// Five-field cron expression; the condition holds for `duration` after each fire.
    #[serde(default)]
    pub cron: Option<Text>,
    /// Length of the cron window (default 60s).
    #[serde(default)]
    pub duration: Option<Text>,
}

/// A field condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Operator {
    /// Equal.
    #[serde(alias = "eq")]
    Equals,
    /// Not equal.
    #[serde(alias = "neq", alias = "ne")]
    NotEquals,
    /// Substring.
    Contains,
    /// Not a substring.
    NotContains,
    /// Starts with.
    Prefix,
    /// Does not start with.
    NotPrefix,
    /// Ends with.
    Suffix,
    /// Does not end with.
    NotSuffix,
    /// RE2 regular expression match.
    Regex,
    /// Present and non-empty.
    Exists,
    /// Absent or empty.
    NotExists,
    /// Numerically greater.
    #[serde(alias = "greaterThan")]
    Gt,
    /// Numerically less.
    #[serde(alias = "lessThan")]
    Lt,
    /// Numerically greater or equal.
    #[serde(alias = "greaterThanOrEqual", alias = "min")]
    Gte,
    /// Numerically less or equal.
    #[serde(alias = "lessThanOrEqual", alias = "max")]
    Lte,
    /// Inclusive numeric range `"min,max"`.
    Between,
    /// Outside the inclusive range.
    NotBetween,
    /// One of a comma-separated list.
    In,
    /// None of a comma-separated list.
    NotIn,
    /// Unique among all CRs of the CRD.
    Unique,
    /// The field's YAML type name equals the value (`map`, `list`, `string`, `number`,
    /// `bool`, `null`).
    TypeOf,
    /// The field is a map.
    TypeMap,
    /// The field is a list.
    TypeList,
    /// The field is a string.
    TypeString,
    /// The field is a number.
    TypeNumber,
    /// The field is a boolean.
    TypeBool,
    /// The field is null or absent.
    TypeNull,
}

/// How a field condition compares its operands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ValueType {
    /// Text comparison (default).
    #[default]
    String,
    /// Integer comparison.
    Int,
    /// Floating-point comparison.
    Float,
    /// Boolean comparison (`true`/`false`, case-insensitive).
    Bool,
}

/// A time-of-day window in UTC, `HH:MM` 24h. Either bound may be omitted.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TimeWindow {
    /// Window opens (inclusive).
    #[serde(default)]
    pub after: Option<Text>,
    /// Window closes (exclusive).
    #[serde(default)]
    pub before: Option<Text>,
}

/// A day-of-week set in UTC: exactly one of the four keys.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DayOfWeek {
    /// Monday to Friday.
    #[serde(default)]
    pub weekday: Option<bool>,
    /// Saturday and Sunday.
    #[serde(default)]
    pub weekend: Option<bool>,
    /// Full day names, case-insensitive.
    #[serde(default, rename = "in")]
    pub in_days: Vec<String>,
    /// Full day names to exclude, case-insensitive.
    #[serde(default)]
    pub not_in: Vec<String>,
}

/// The `when:` and `or:` lists of one declaration, evaluated together.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conditions<'a> {
    /// All must pass.
    pub when: &'a [Condition],
    /// At least one must pass (when non-empty).
    pub or: &'a [Condition],
}

impl<'a> Conditions<'a> {
    /// Groups a `when` list and an `or` list.
    pub fn new(when: &'a [Condition], or: &'a [Condition]) -> Self {
        Conditions { when, or }
    }

    /// Whether no condition is declared (the declaration always applies).
    pub fn is_empty(&self) -> bool {
        self.when.is_empty() && self.or.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_accept_their_short_aliases() {
        let c: Condition =
            serde_json::from_str(r#"{"field": "spec.a", "operator": "eq", "value": 1}"#).unwrap();
        assert_eq!(c.operator, Some(Operator::Equals));
        assert_eq!(c.value.as_deref(), Some("1"));
        let c: Condition = serde_json::from_str(r#"{"field": "x", "operator": "neq"}"#).unwrap();
        assert_eq!(c.operator, Some(Operator::NotEquals));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = serde_json::from_str::<Condition>(r#"{"field": "x", "equal": "y"}"#);
        assert!(err.is_err());
    }

    #[test]
    fn time_conditions_decode() {
        let c: Condition = serde_json::from_str(
            r#"{"dayOfWeek": {"in": ["Monday"]}, "time": {"after": "09:00"}, "negate": true}"#,
        )
        .unwrap();
        assert_eq!(c.day_of_week.unwrap().in_days, ["Monday"]);
        assert!(c.negate);
    }
}
