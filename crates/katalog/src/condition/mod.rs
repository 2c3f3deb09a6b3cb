//! The condition language of `when:` and `or:` (spec §7).
//!
//! A [`Condition`] is either a *field condition* (a dot path or template compared with an
//! operator) or a *time condition* (a UTC time window, a day-of-week set, or a cron window).
//! A list under `when:` passes when every entry passes; a list under `or:` passes when at
//! least one does; a declaration with both needs both ([`Conditions`]).
//!
//! Evaluation is pure: it takes the data map, the template engine and a clock, and for the
//! `unique` operator the sibling values supplied by the caller.

mod check;
mod field;
mod notify;
mod operator;
mod time;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::render::{Render, RenderFailure, Text, render_text};

pub use check::{Problem, Severity};
#[cfg(test)]
pub(crate) use field::PathRender;
pub use field::{lookup, value_text};
pub use notify::Notify;
pub use operator::{OPERATORS, Operator, UnknownOperator};
pub use time::{CronSchedule, parse_duration};

/// Why a condition could not be evaluated (as opposed to evaluating to false).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A template in the condition's `field`, `value` or time bounds failed to render.
    #[error("cannot render the condition's {what}")]
    RenderFailed {
        /// Which part of the condition.
        what: &'static str,
        /// The engine's failure.
        #[source]
        source: RenderFailure,
    },
    /// A field condition names neither an operator nor a shorthand key.
    #[error("condition on {0:?} has no operator")]
    MissingOperator(String),
    /// The entry has no `field`, `time`, `dayOfWeek` or `cron`.
    #[error("condition has no field, time, dayOfWeek or cron")]
    NoKind,
    /// A `regex` value is not a valid regular expression.
    #[error("invalid regex {pattern:?}")]
    InvalidRegex {
        /// The pattern as rendered.
        pattern: String,
        /// The parser's complaint.
        #[source]
        source: regex::Error,
    },
    /// A `between`/`notBetween` value is not `"min,max"` numbers.
    #[error("range {0:?} is not \"min,max\"")]
    InvalidRange(String),
    /// A time bound is not `HH:MM`.
    #[error("time {0:?} is not HH:MM")]
    InvalidTime(String),
    /// A day name is unknown, or the dayOfWeek block is empty.
    #[error("invalid day of week: {0}")]
    InvalidDay(String),
    /// A cron expression is not five valid fields.
    #[error("invalid cron expression {0:?}")]
    InvalidCron(String),
    /// A cron `duration` does not parse.
    #[error("invalid duration {0:?}")]
    InvalidDuration(String),
}

/// The result type of condition evaluation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a condition is evaluated against.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// The data map: the CR plus `.children`, `.external`, `.cross`, forEach keys, ...
    pub data: &'a Value,
    /// Renders template fields and values.
    pub render: &'a dyn Render,
    /// The current time (time conditions are evaluated in UTC).
    pub now: ::time::OffsetDateTime,
    /// For `unique`: the same field's values in every other CR of the CRD. `None` when
    /// not known, in which case `unique` passes.
    pub siblings: Option<&'a [Value]>,
}

impl<'a> Env<'a> {
    /// An environment over `data` at time `now`, with no sibling values.
    pub fn new(data: &'a Value, render: &'a dyn Render, now: ::time::OffsetDateTime) -> Self {
        Env {
            data,
            render,
            now,
            siblings: None,
        }
    }

    /// The same environment with the sibling values `unique` compares against.
    #[must_use]
    pub fn with_siblings(mut self, siblings: &'a [Value]) -> Self {
        self.siblings = Some(siblings);
        self
    }
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("now", &self.now)
            .field("siblings", &self.siblings.map(<[Value]>::len))
            .finish_non_exhaustive()
    }
}

impl Condition {
    /// The shorthand operator keys with their operator and operand, in precedence order
    /// (`exists`/`notExists` are booleans and not listed).
    pub fn shorthands(&self) -> [(&'static str, Operator, &Option<Text>); 19] {
        [
            ("equals", Operator::Equals, &self.equals),
            ("notEquals", Operator::NotEquals, &self.not_equals),
            ("contains", Operator::Contains, &self.contains),
            ("notContains", Operator::NotContains, &self.not_contains),
            ("prefix", Operator::Prefix, &self.prefix),
            ("notPrefix", Operator::NotPrefix, &self.not_prefix),
            ("suffix", Operator::Suffix, &self.suffix),
            ("notSuffix", Operator::NotSuffix, &self.not_suffix),
            ("regex", Operator::Regex, &self.regex),
            ("greaterThan", Operator::Gt, &self.greater_than),
            ("lessThan", Operator::Lt, &self.less_than),
            (
                "greaterThanOrEqual",
                Operator::Gte,
                &self.greater_than_or_equal,
            ),
            ("lessThanOrEqual", Operator::Lte, &self.less_than_or_equal),
            ("min", Operator::Gte, &self.min),
            ("max", Operator::Lte, &self.max),
            ("between", Operator::Between, &self.between),
            ("notBetween", Operator::NotBetween, &self.not_between),
            ("in", Operator::In, &self.in_list),
            ("notIn", Operator::NotIn, &self.not_in),
        ]
    }

    /// Evaluates this condition, `negate` included.
    ///
    /// # Errors
    /// A template that fails to render, or a malformed operand (regex, range, time, cron).
    pub fn evaluate(&self, env: &Env<'_>) -> Result<bool> {
        let rendered = |t: &Option<Text>, what| -> Result<Option<String>> {
            t.as_ref()
                .map(|t| {
                    render_text(env.render, t, env.data)
                        .map(|s| s.into_owned())
                        .map_err(|source| Error::RenderFailed { what, source })
                })
                .transpose()
        };
        let result = if let Some(field_src) = &self.field {
            field::evaluate(self, field_src, env)?
        } else {
            let mut any = false;
            let mut pass = true;
            if let Some(w) = &self.time {
                any = true;
                let after = rendered(&w.after, "time.after")?;
                let before = rendered(&w.before, "time.before")?;
                pass &= time::in_window(after.as_deref(), before.as_deref(), env.now)?;
            }
            if let Some(d) = &self.day_of_week {
                any = true;
                pass &= time::in_days(d, env.now)?;
            }
            if let Some(expr) = rendered(&self.cron, "cron")? {
                any = true;
                let window = match rendered(&self.duration, "duration")? {
                    None => ::time::Duration::seconds(60),
                    Some(d) => parse_duration(&d).ok_or(Error::InvalidDuration(d))?,
                };
                pass &= time::in_cron_window(&expr, window, env.now)?;
            }
            if !any {
                return Err(Error::NoKind);
            }
            pass
        };
        Ok(result != self.negate)
    }
}

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

    /// Teams told when the condition starts to hold (spec §16.8). Read on `status.fields`
    /// conditions; validation refuses it elsewhere. Never changes the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Notify>,
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

    /// Whether every `when` entry passes and, if `or` is non-empty, at least one `or`
    /// entry passes. Stops at the first deciding entry.
    ///
    /// # Errors
    /// The first entry that cannot be evaluated.
    pub fn evaluate(&self, env: &Env<'_>) -> Result<bool> {
        for c in self.when {
            if !c.evaluate(env)? {
                return Ok(false);
            }
        }
        if self.or.is_empty() {
            return Ok(true);
        }
        for c in self.or {
            if c.evaluate(env)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::time::macros::datetime;
    use serde_json::json;

    fn data() -> Value {
        json!({
            "metadata": {"name": "web", "labels": {"tier": "gold"}},
            "spec": {
                "engine": "postgres", "replicas": 3, "ratio": 1.5, "enabled": true,
                "empty": "", "list": [1], "none": [], "map": {"a": 1}, "nothing": null,
                "phase": "",
            },
        })
    }

    fn eval(c: serde_json::Value) -> Result<bool> {
        let c: Condition = serde_json::from_value(c).unwrap();
        let d = data();
        c.evaluate(&Env::new(&d, &PathRender, datetime!(2026-01-05 10:00 UTC)))
    }

    #[test]
    fn every_operator_and_shorthand_decides_as_the_table_says() {
        let table = [
            (json!({"field": "spec.engine", "equals": "postgres"}), true),
            (
                json!({"field": "spec.engine", "operator": "equals", "value": "mysql"}),
                false,
            ),
            (
                json!({"field": "spec.engine", "operator": "eq", "value": "postgres"}),
                true,
            ),
            (json!({"field": "spec.engine", "notEquals": "mysql"}), true),
            (
                json!({"field": "spec.engine", "operator": "neq", "value": "postgres"}),
                false,
            ),
            (json!({"field": "spec.engine", "contains": "gres"}), true),
            (
                json!({"field": "spec.engine", "notContains": "gres"}),
                false,
            ),
            (json!({"field": "spec.engine", "prefix": "post"}), true),
            (json!({"field": "spec.engine", "notPrefix": "post"}), false),
            (json!({"field": "spec.engine", "suffix": "sql"}), false),
            (json!({"field": "spec.engine", "notSuffix": "sql"}), true),
            (json!({"field": "spec.engine", "regex": "^p.*s$"}), true),
            (json!({"field": "spec.engine", "regex": "^my"}), false),
            (json!({"field": "spec.engine", "exists": true}), true),
            (json!({"field": "spec.missing", "exists": true}), false),
            (json!({"field": "spec.empty", "operator": "exists"}), false),
            (json!({"field": "spec.none", "operator": "exists"}), false),
            (json!({"field": "spec.list", "operator": "exists"}), true),
            (json!({"field": "spec.missing", "notExists": true}), true),
            (
                json!({"field": "spec.nothing", "operator": "notExists"}),
                true,
            ),
            (json!({"field": "spec.engine", "exists": false}), false),
            (json!({"field": "spec.replicas", "greaterThan": 2}), true),
            (
                json!({"field": "spec.replicas", "operator": "gt", "value": "3"}),
                false,
            ),
            (json!({"field": "spec.replicas", "lessThan": "4"}), true),
            (
                json!({"field": "spec.replicas", "operator": "lt", "value": "3"}),
                false,
            ),
            (json!({"field": "spec.replicas", "min": "3"}), true),
            (
                json!({"field": "spec.replicas", "greaterThanOrEqual": "4"}),
                false,
            ),
            (json!({"field": "spec.replicas", "max": "3"}), true),
            (
                json!({"field": "spec.replicas", "lessThanOrEqual": "2"}),
                false,
            ),
            (
                json!({"field": "spec.replicas", "operator": "gte", "value": "3"}),
                true,
            ),
            (
                json!({"field": "spec.replicas", "operator": "lte", "value": "2.5"}),
                false,
            ),
            (json!({"field": "spec.ratio", "greaterThan": "1.25"}), true),
            // Absent counts as 0 for numeric comparisons.
            (json!({"field": "spec.missing", "lessThan": "1"}), true),
            (
                json!({"field": "spec.missing", "operator": "gte", "value": "0"}),
                true,
            ),
            // Text that is not a number never compares.
            (json!({"field": "spec.engine", "greaterThan": "0"}), false),
            (json!({"field": "spec.replicas", "between": "1,3"}), true),
            (json!({"field": "spec.replicas", "between": "4, 9"}), false),
            (json!({"field": "spec.replicas", "notBetween": "4,9"}), true),
            (
                json!({"field": "spec.replicas", "operator": "notBetween", "value": "3,3"}),
                false,
            ),
            (
                json!({"field": "spec.engine", "in": "mysql, postgres"}),
                true,
            ),
            (
                json!({"field": "spec.engine", "operator": "in", "value": "mysql"}),
                false,
            ),
            (
                json!({"field": "spec.engine", "notIn": "mysql,sqlite"}),
                true,
            ),
            (
                json!({"field": "spec.engine", "operator": "notIn", "value": "postgres"}),
                false,
            ),
            // An empty element matches an empty or absent field.
            (json!({"field": "spec.phase", "in": "Pending,"}), true),
            (
                json!({"field": "status.phase", "operator": "in", "value": ",Pending"}),
                true,
            ),
            (json!({"field": "spec.engine", "in": "Pending,"}), false),
            (json!({"field": "spec.map", "operator": "typeMap"}), true),
            (json!({"field": "spec.list", "operator": "typeList"}), true),
            (
                json!({"field": "spec.engine", "operator": "typeString"}),
                true,
            ),
            (
                json!({"field": "spec.replicas", "operator": "typeNumber"}),
                true,
            ),
            (
                json!({"field": "spec.enabled", "operator": "typeBool"}),
                true,
            ),
            (
                json!({"field": "spec.nothing", "operator": "typeNull"}),
                true,
            ),
            (
                json!({"field": "spec.engine", "operator": "typeNumber"}),
                false,
            ),
            (
                json!({"field": "spec.map", "operator": "typeOf", "value": "map"}),
                true,
            ),
            (
                json!({"field": "spec.list", "operator": "typeOf", "value": "slice"}),
                true,
            ),
            (
                json!({"field": "spec.list", "operator": "typeOf", "value": "list"}),
                true,
            ),
            (
                json!({"field": "spec.list", "operator": "typeOf", "value": "string"}),
                false,
            ),
            // Without sibling values `unique` passes.
            (json!({"field": "spec.engine", "operator": "unique"}), true),
        ];
        for (cond, want) in table {
            assert_eq!(eval(cond.clone()).unwrap(), want, "{cond}");
            let mut negated = cond.clone();
            negated["negate"] = json!(true);
            assert_eq!(eval(negated).unwrap(), !want, "negated {cond}");
        }
    }

    #[test]
    fn value_types_change_how_equality_compares() {
        let table = [
            (json!({"field": "spec.replicas", "equals": "3.0"}), false),
            (
                json!({"field": "spec.replicas", "equals": "3.0", "valueType": "int"}),
                true,
            ),
            (
                json!({"field": "spec.replicas", "equals": "03", "valueType": "float"}),
                true,
            ),
            (
                json!({"field": "spec.ratio", "equals": "1.50", "valueType": "float"}),
                true,
            ),
            (json!({"field": "spec.enabled", "equals": "TRUE"}), false),
            (
                json!({"field": "spec.enabled", "equals": "TRUE", "valueType": "bool"}),
                true,
            ),
            (json!({"field": "spec.enabled", "equals": true}), true),
            (
                json!({"field": "spec.engine", "equals": "x", "valueType": "int"}),
                false,
            ),
        ];
        for (cond, want) in table {
            assert_eq!(eval(cond.clone()).unwrap(), want, "{cond}");
        }
    }

    #[test]
    fn template_fields_are_rendered_and_compared_directly() {
        assert!(eval(json!({"field": "{{ .metadata.labels.tier }}", "equals": "gold"})).unwrap());
        assert!(eval(json!({"field": "x-{{ .metadata.name }}", "equals": "x-web"})).unwrap());
        // A template field is never looked up as a path.
        assert!(!eval(json!({"field": "{{ .spec.engine }}", "equals": "spec.engine"})).unwrap());
        assert!(eval(json!({"field": "{{ .spec.missing }}", "notExists": true})).unwrap());
    }

    #[test]
    fn values_are_templates_too() {
        assert!(eval(json!({"field": "metadata.name", "equals": "{{ .metadata.name }}"})).unwrap());
        assert!(
            eval(json!({"field": "spec.replicas", "lessThan": "{{ .spec.list.0 }}9"})).unwrap()
        );
    }

    #[test]
    fn unique_compares_against_the_sibling_values() {
        let c: Condition =
            serde_json::from_value(json!({"field": "spec.engine", "operator": "unique"})).unwrap();
        let d = data();
        let now = datetime!(2026-01-05 10:00 UTC);
        let taken = [json!("mysql"), json!("postgres")];
        let free = [json!("mysql")];
        let env = Env::new(&d, &PathRender, now);
        assert!(!c.evaluate(&env.with_siblings(&taken)).unwrap());
        assert!(c.evaluate(&env.with_siblings(&free)).unwrap());
    }

    #[test]
    fn malformed_operands_are_errors_not_false() {
        assert!(matches!(
            eval(json!({"field": "spec.engine", "regex": "("})),
            Err(Error::InvalidRegex { .. })
        ));
        assert!(matches!(
            eval(json!({"field": "spec.replicas", "between": "1"})),
            Err(Error::InvalidRange(_))
        ));
        assert!(matches!(
            eval(json!({"field": "spec.engine"})),
            Err(Error::MissingOperator(_))
        ));
        assert!(matches!(eval(json!({"negate": true})), Err(Error::NoKind)));
        assert!(matches!(
            eval(json!({"field": "{{ nope }}", "equals": "x"})),
            Err(Error::RenderFailed { what: "field", .. })
        ));
    }

    #[test]
    fn time_conditions_use_the_given_clock() {
        // 2026-01-05 10:00 UTC is a Monday.
        assert!(eval(json!({"time": {"after": "09:00", "before": "18:00"}})).unwrap());
        assert!(!eval(json!({"time": {"after": "11:00"}})).unwrap());
        assert!(eval(json!({"time": {"after": "11:00"}, "negate": true})).unwrap());
        assert!(eval(json!({"dayOfWeek": {"weekday": true}})).unwrap());
        assert!(!eval(json!({"dayOfWeek": {"weekend": true}})).unwrap());
        assert!(eval(json!({"dayOfWeek": {"in": ["monday", "Friday"]}})).unwrap());
        assert!(!eval(json!({"dayOfWeek": {"notIn": ["Monday"]}})).unwrap());
        assert!(eval(json!({"cron": "0 9 * * 1", "duration": "2h"})).unwrap());
        assert!(!eval(json!({"cron": "0 9 * * 1", "duration": "30m"})).unwrap());
        // Default window is 60s.
        assert!(eval(json!({"cron": "0 10 * * *"})).unwrap());
        assert!(!eval(json!({"cron": "59 9 * * *"})).unwrap());
    }

    #[test]
    fn when_is_all_or_is_any_and_both_must_pass() {
        let c = |v| serde_json::from_value::<Condition>(v).unwrap();
        let y = || c(json!({"field": "spec.engine", "equals": "postgres"}));
        let n = || c(json!({"field": "spec.engine", "equals": "mysql"}));
        let d = data();
        let env = Env::new(&d, &PathRender, datetime!(2026-01-05 10:00 UTC));
        let check = |when: &[Condition], or: &[Condition]| {
            Conditions::new(when, or).evaluate(&env).unwrap()
        };
        assert!(check(&[], &[]));
        assert!(check(&[y(), y()], &[]));
        assert!(!check(&[y(), n()], &[]));
        assert!(check(&[], &[n(), y()]));
        assert!(!check(&[], &[n(), n()]));
        assert!(check(&[y()], &[n(), y()]));
        assert!(!check(&[n()], &[y()]));
        assert!(!check(&[y()], &[n()]));
    }

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
