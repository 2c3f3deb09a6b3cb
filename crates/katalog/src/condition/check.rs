//! Static checks of a condition, for validation before any CR exists: the parts that do
//! not depend on data (shape, operator, and operands written without templates).

use super::{Condition, CronSchedule, Operator, parse_duration, time};
use crate::render::Text;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The condition cannot be evaluated as written.
    Error,
    /// The condition works, but part of it is ignored.
    Warning,
}

/// One problem with a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The key the problem is about (`regex`, `time.after`, ...), if one.
    pub key: Option<&'static str>,
    /// What is wrong, lowercase, no final period.
    pub message: String,
}

impl Problem {
    fn error(key: Option<&'static str>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            key,
            message: message.into(),
        }
    }
    fn warning(key: Option<&'static str>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            key,
            message: message.into(),
        }
    }
}

/// A static operand: `None` when absent or a template (checked only at evaluation).
fn literal(t: &Option<Text>) -> Option<&str> {
    t.as_ref().filter(|t| !t.is_template()).map(|t| t.as_str())
}

impl Condition {
    /// The problems found without data. An empty list means the condition is well formed.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let time_kinds = [
            ("time", self.time.is_some()),
            ("dayOfWeek", self.day_of_week.is_some()),
            ("cron", self.cron.is_some()),
        ];
        let has_time = time_kinds.iter().any(|(_, set)| *set);
        match (&self.field, has_time) {
            (None, false) => {
                out.push(Problem::error(
                    None,
                    "condition has no field, time, dayOfWeek or cron",
                ));
                return out;
            }
            (Some(_), true) => out.push(Problem::error(
                Some("field"),
                "a condition is either a field condition or a time condition, not both",
            )),
            _ => {}
        }
        if self.field.is_some() {
            self.field_problems(&mut out);
        } else if self.operator.is_some() || self.value.is_some() {
            out.push(Problem::warning(
                Some("operator"),
                "operator and value apply to field conditions only",
            ));
        }
        self.time_problems(&mut out);
        out
    }

    fn field_problems(&self, out: &mut Vec<Problem>) {
        let shorthands = self.shorthands();
        let mut set: Vec<(&'static str, Operator, &Option<Text>)> = shorthands
            .into_iter()
            .filter(|(_, _, v)| v.is_some())
            .collect();
        if self.exists.is_some() {
            set.push(("exists", Operator::Exists, &None));
        }
        if self.not_exists.is_some() {
            set.push(("notExists", Operator::NotExists, &None));
        }
        if set.len() > 1 {
            let names: Vec<&str> = set.iter().map(|(k, _, _)| *k).collect();
            out.push(Problem::error(
                Some("operator"),
                format!("several operators in one condition: {}", names.join(", ")),
            ));
        }
        let (op, value, key) = match set.first() {
            Some((key, op, value)) => {
                if self.operator.is_some() {
                    out.push(Problem::warning(
                        Some("operator"),
                        format!("operator is ignored because `{key}` is set"),
                    ));
                }
                (*op, (*value).clone(), *key)
            }
            None => match self.operator {
                Some(op) => (op, self.value.clone(), "value"),
                None => {
                    out.push(Problem::error(
                        Some("operator"),
                        "field condition has no operator",
                    ));
                    return;
                }
            },
        };
        let needs_value = !matches!(
            op,
            Operator::Exists
                | Operator::NotExists
                | Operator::Unique
                | Operator::TypeMap
                | Operator::TypeList
                | Operator::TypeString
                | Operator::TypeNumber
                | Operator::TypeBool
                | Operator::TypeNull
                | Operator::Equals
                | Operator::NotEquals
                | Operator::In
                | Operator::NotIn
        );
        if needs_value && value.is_none() {
            out.push(Problem::error(
                Some("value"),
                format!("operator {op:?} needs a value"),
            ));
        }
        let Some(v) = literal(&value) else { return };
        match op {
            Operator::Regex => {
                if let Err(e) = regex::Regex::new(v) {
                    out.push(Problem::error(
                        Some(key),
                        format!("invalid regex {v:?}: {e}"),
                    ));
                }
            }
            Operator::Between | Operator::NotBetween => {
                let ok = v.split_once(',').is_some_and(|(a, b)| {
                    a.trim().parse::<f64>().is_ok() && b.trim().parse::<f64>().is_ok()
                });
                if !ok {
                    out.push(Problem::error(
                        Some(key),
                        format!("range {v:?} is not \"min,max\""),
                    ));
                }
            }
            Operator::Gt | Operator::Lt | Operator::Gte | Operator::Lte
                if v.trim().parse::<f64>().is_err() =>
            {
                out.push(Problem::error(Some(key), format!("{v:?} is not a number")));
            }
            _ => {}
        }
    }

    fn time_problems(&self, out: &mut Vec<Problem>) {
        if let Some(w) = &self.time {
            for (key, t) in [("time.after", &w.after), ("time.before", &w.before)] {
                if let Some(v) = literal(t)
                    && time::in_window(Some(v), None, ::time::OffsetDateTime::UNIX_EPOCH).is_err()
                {
                    out.push(Problem::error(Some(key), format!("{v:?} is not HH:MM")));
                }
            }
        }
        if let Some(d) = &self.day_of_week {
            let keys = [
                d.weekday.is_some(),
                d.weekend.is_some(),
                !d.in_days.is_empty(),
                !d.not_in.is_empty(),
            ];
            if keys.iter().filter(|k| **k).count() != 1 {
                out.push(Problem::error(
                    Some("dayOfWeek"),
                    "dayOfWeek needs exactly one of weekday, weekend, in, notIn",
                ));
            } else if let Err(e) = time::in_days(d, ::time::OffsetDateTime::UNIX_EPOCH) {
                out.push(Problem::error(Some("dayOfWeek"), e.to_string()));
            }
        }
        if let Some(v) = literal(&self.cron)
            && CronSchedule::parse(v).is_none()
        {
            out.push(Problem::error(
                Some("cron"),
                format!("invalid cron expression {v:?}"),
            ));
        }
        if let Some(v) = literal(&self.duration)
            && parse_duration(v).is_none()
        {
            out.push(Problem::error(
                Some("duration"),
                format!("{v:?} is not a duration"),
            ));
        }
        if self.duration.is_some() && self.cron.is_none() {
            out.push(Problem::warning(
                Some("duration"),
                "duration applies to cron conditions only",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(v: serde_json::Value) -> Vec<(Severity, String)> {
        serde_json::from_value::<Condition>(v)
            .unwrap()
            .problems()
            .into_iter()
            .map(|p| (p.severity, p.message))
            .collect()
    }

    #[test]
    fn well_formed_conditions_have_no_problems() {
        for c in [
            json!({"field": "spec.a", "equals": "x"}),
            json!({"field": "status.phase", "operator": "notExists"}),
            json!({"field": "spec.n", "between": "1, 5"}),
            json!({"field": "spec.n", "greaterThan": "{{ .spec.min }}"}),
            json!({"field": "status.phase", "operator": "in", "value": ",Pending"}),
            json!({"time": {"after": "09:00", "before": "18:00"}}),
            json!({"dayOfWeek": {"in": ["Monday"]}}),
            json!({"cron": "0 2 * * 0", "duration": "2h"}),
        ] {
            assert_eq!(problems(c.clone()), [], "{c}");
        }
    }

    #[test]
    fn malformed_conditions_are_reported() {
        let table = [
            (json!({}), "condition has no field, time, dayOfWeek or cron"),
            (json!({"field": "x"}), "field condition has no operator"),
            (
                json!({"field": "x", "equals": "a", "contains": "b"}),
                "several operators in one condition: equals, contains",
            ),
            (json!({"field": "x", "regex": "("}), "invalid regex"),
            (
                json!({"field": "x", "between": "5"}),
                "range \"5\" is not \"min,max\"",
            ),
            (
                json!({"field": "x", "operator": "gt"}),
                "operator Gt needs a value",
            ),
            (
                json!({"field": "x", "lessThan": "lots"}),
                "\"lots\" is not a number",
            ),
            (json!({"time": {"after": "9am"}}), "\"9am\" is not HH:MM"),
            (
                json!({"dayOfWeek": {"weekday": true, "weekend": true}}),
                "dayOfWeek needs exactly one",
            ),
            (
                json!({"dayOfWeek": {"in": ["Funday"]}}),
                "invalid day of week",
            ),
            (json!({"cron": "every day"}), "invalid cron expression"),
            (
                json!({"field": "x", "equals": "a", "time": {"after": "09:00"}}),
                "either a field condition or a time condition",
            ),
        ];
        for (c, want) in table {
            let got = problems(c.clone());
            assert!(
                got.iter()
                    .any(|(s, m)| *s == Severity::Error && m.contains(want)),
                "{c}: {got:?}"
            );
        }
    }

    #[test]
    fn an_operator_beside_a_shorthand_is_a_warning() {
        let got = problems(json!({"field": "x", "operator": "gt", "equals": "a"}));
        assert_eq!(
            got,
            [(
                Severity::Warning,
                "operator is ignored because `equals` is set".into()
            )]
        );
    }
}
