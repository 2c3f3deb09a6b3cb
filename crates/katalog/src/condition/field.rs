//! Field conditions (spec §7.1): resolve the field, pick the operator, compare.

use std::borrow::Cow;

use serde_json::Value;

use super::{Condition, Env, Error, Operator, Result, ValueType};
#[cfg(test)]
use crate::render::RenderFailure;
use crate::render::{Text, render_text};

/// Looks up a dot path (`spec.replicas`, `items.0.name`) in a data map. A leading `.` is
/// ignored. Returns `None` when any segment is missing.
pub fn lookup<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim().trim_start_matches('.');
    if path.is_empty() {
        return Some(data);
    }
    path.split('.').try_fold(data, |v, seg| match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// The text form of a JSON value as templates and conditions see it: strings as they are,
/// numbers and booleans as literals, null as empty, maps and lists as JSON.
pub fn value_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Null => Cow::Borrowed(""),
        Value::String(s) => Cow::Borrowed(s),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                Cow::Owned(format!("{}", f as i64))
            }
            _ => Cow::Owned(n.to_string()),
        },
        other => Cow::Owned(other.to_string()),
    }
}

/// The resolved left-hand side of a field condition.
enum Field<'a> {
    /// A dot path that led nowhere (or to null).
    Absent,
    /// A dot path that found a value.
    Found(&'a Value),
    /// A template field, rendered.
    Rendered(String),
}

impl Field<'_> {
    fn text(&self) -> Cow<'_, str> {
        match self {
            Field::Absent => Cow::Borrowed(""),
            Field::Found(v) => value_text(v),
            Field::Rendered(s) => Cow::Borrowed(s),
        }
    }

    fn exists(&self) -> bool {
        match self {
            Field::Absent => false,
            Field::Found(Value::Null) => false,
            Field::Found(Value::String(s)) => !s.is_empty(),
            Field::Found(Value::Array(a)) => !a.is_empty(),
            Field::Found(Value::Object(m)) => !m.is_empty(),
            Field::Found(_) => true,
            Field::Rendered(s) => !s.is_empty(),
        }
    }

    /// The type name as Orkestra's `typeOf` note spells it (`slice` for lists), so a
    /// condition and a template agree on what a field is.
    fn type_name(&self) -> &'static str {
        match self {
            Field::Absent => "null",
            Field::Found(v) => gotmpl::type_of(v),
            Field::Rendered(_) => "string",
        }
    }
}

/// The operator and operand a condition asks for: the first shorthand key set, else the
/// explicit `operator`/`value`.
fn operation(c: &Condition) -> Option<(Operator, Option<&Text>)> {
    let shorthands = c.shorthands();
    if let Some((_, op, v)) = shorthands.into_iter().find(|(_, _, v)| v.is_some()) {
        return Some((op, v.as_ref()));
    }
    match (c.exists, c.not_exists) {
        (Some(e), _) => {
            return Some((
                if e {
                    Operator::Exists
                } else {
                    Operator::NotExists
                },
                None,
            ));
        }
        (None, Some(n)) => {
            return Some((
                if n {
                    Operator::NotExists
                } else {
                    Operator::Exists
                },
                None,
            ));
        }
        (None, None) => {}
    }
    c.operator.map(|op| (op, c.value.as_ref()))
}

/// A number in condition text; absent or empty counts as 0.
fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return Some(0.0);
    }
    s.parse::<f64>().ok()
}

fn boolean(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" | "" => Some(false),
        _ => None,
    }
}

/// Equality under a value type; falls back to text when either side does not parse.
fn typed_equal(field: &str, value: &str, ty: ValueType) -> bool {
    let same = match ty {
        ValueType::String => None,
        ValueType::Int => match (number(field), number(value)) {
            (Some(a), Some(b)) => Some(a.trunc() == b.trunc()),
            _ => None,
        },
        ValueType::Float => match (number(field), number(value)) {
            (Some(a), Some(b)) => Some(a == b),
            _ => None,
        },
        ValueType::Bool => match (boolean(field), boolean(value)) {
            (Some(a), Some(b)) => Some(a == b),
            _ => None,
        },
    };
    same.unwrap_or_else(|| field == value)
}

fn range(value: &str) -> Result<(f64, f64)> {
    let bad = || Error::InvalidRange(value.to_owned());
    let (lo, hi) = value.split_once(',').ok_or_else(bad)?;
    let lo = lo.trim().parse::<f64>().map_err(|_| bad())?;
    let hi = hi.trim().parse::<f64>().map_err(|_| bad())?;
    Ok((lo, hi))
}

fn in_list(field: &str, list: &str) -> bool {
    list.split(',').any(|item| item.trim() == field.trim())
}

/// Whether `text` matches `pattern`; compiled patterns are kept per thread (a Katalog has
/// few, and conditions run on every reconcile).
fn regex_match(pattern: &str, text: &str) -> Result<bool> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    const MAX_CACHED: usize = 256;
    thread_local! {
        static CACHE: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|cache| {
        if let Some(re) = cache.borrow().get(pattern) {
            return Ok(re.is_match(text));
        }
        let re = regex::Regex::new(pattern).map_err(|source| Error::InvalidRegex {
            pattern: pattern.to_owned(),
            source,
        })?;
        let matched = re.is_match(text);
        let mut cache = cache.borrow_mut();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), re);
        Ok(matched)
    })
}

/// Evaluates a field condition, before `negate`.
pub(super) fn evaluate(c: &Condition, field_src: &Text, env: &Env<'_>) -> Result<bool> {
    let field = if field_src.is_template() {
        let rendered =
            env.render
                .render(field_src, env.data)
                .map_err(|source| Error::RenderFailed {
                    what: "field",
                    source,
                })?;
        Field::Rendered(rendered)
    } else {
        match lookup(env.data, field_src) {
            None | Some(Value::Null) => Field::Absent,
            Some(v) => Field::Found(v),
        }
    };
    let (op, value) = operation(c).ok_or_else(|| Error::MissingOperator(field_src.0.clone()))?;
    let value = match value {
        Some(v) => render_text(env.render, v, env.data).map_err(|source| Error::RenderFailed {
            what: "value",
            source,
        })?,
        None => Cow::Borrowed(""),
    };
    let ty = c.value_type.unwrap_or_default();
    let text = field.text();
    let (f, v) = (text.as_ref(), value.as_ref());
    let numeric = |cmp: fn(f64, f64) -> bool| match (number(f), number(v)) {
        (Some(a), Some(b)) => cmp(a, b),
        _ => false,
    };
    Ok(match op {
        Operator::Equals => typed_equal(f, v, ty),
        Operator::NotEquals => !typed_equal(f, v, ty),
        Operator::Contains => f.contains(v),
        Operator::NotContains => !f.contains(v),
        Operator::Prefix => f.starts_with(v),
        Operator::NotPrefix => !f.starts_with(v),
        Operator::Suffix => f.ends_with(v),
        Operator::NotSuffix => !f.ends_with(v),
        Operator::Regex => regex_match(v, f)?,
        Operator::Exists => field.exists(),
        Operator::NotExists => !field.exists(),
        Operator::Gt => numeric(|a, b| a > b),
        Operator::Lt => numeric(|a, b| a < b),
        Operator::Gte => numeric(|a, b| a >= b),
        Operator::Lte => numeric(|a, b| a <= b),
        Operator::Between | Operator::NotBetween => {
            let (lo, hi) = range(v)?;
            let inside = number(f).is_some_and(|x| x >= lo && x <= hi);
            inside == (op == Operator::Between)
        }
        Operator::In => in_list(f, v),
        Operator::NotIn => !in_list(f, v),
        Operator::Unique => match env.siblings {
            None => true,
            Some(others) => !others.iter().any(|o| value_text(o) == f),
        },
        Operator::TypeOf => field.type_name() == canonical_type(v),
        Operator::TypeMap => field.type_name() == "map",
        Operator::TypeList => field.type_name() == "slice",
        Operator::TypeString => field.type_name() == "string",
        Operator::TypeNumber => field.type_name() == "number",
        Operator::TypeBool => field.type_name() == "bool",
        Operator::TypeNull => field.type_name() == "null",
    })
}

/// The `typeOf` value a Katalog wrote, in `typeOf` spelling: Orkestra says `slice`; `list`
/// and `array` are accepted for it, and case does not matter.
fn canonical_type(written: &str) -> String {
    match written.trim().to_ascii_lowercase().as_str() {
        "list" | "array" => "slice".to_string(),
        other => other.to_string(),
    }
}

/// A stand-in renderer for unit tests: replaces each `{{ .dot.path }}` with the text of
/// that path (empty when absent) and fails on anything else.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct PathRender;

#[cfg(test)]
impl crate::render::Render for PathRender {
    fn render(
        &self,
        src: &str,
        data: &serde_json::Value,
    ) -> std::result::Result<String, RenderFailure> {
        let mut out = String::new();
        let mut rest = src;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find("}}")
                .ok_or_else(|| RenderFailure::new("unclosed action"))?;
            let expr = rest[start + 2..start + end].trim();
            if !expr.starts_with('.') || expr.contains(' ') {
                return Err(RenderFailure::new(format!(
                    "unsupported expression {expr:?}"
                )));
            }
            if let Some(v) = lookup(data, expr) {
                out.push_str(&value_text(v));
            }
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}
