//! How plain (unquoted) YAML scalars read: integers in decimal, hex and octal, floats with
//! `.inf`/`.nan`, YAML 1.2 core booleans, and YAML 1.1 booleans where a bool is expected.

use crate::yaml::is_null_text;

pub(super) fn parse_int(text: &str) -> Option<i128> {
    let t = text.replace('_', "");
    if let Some(hex) = t.strip_prefix("0x") {
        return i128::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = t.strip_prefix("0o") {
        return i128::from_str_radix(oct, 8).ok();
    }
    t.parse().ok()
}

pub(super) fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let looks_numeric = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && text.chars().any(|c| c.is_ascii_digit());
    if looks_numeric {
        text.parse().ok()
    } else {
        None
    }
}

/// A plain (unquoted) YAML scalar as the core schema reads it: null, bool, integer, float,
/// else the text itself. Templates that produce typed values (normalize) resolve through this.
pub(crate) fn plain_scalar(text: &str) -> serde_json::Value {
    use serde_json::Value;
    if is_null_text(text) {
        Value::Null
    } else if let Some(b) = core_bool(text) {
        Value::Bool(b)
    } else if let Some(i) = parse_int(text).and_then(|i| i64::try_from(i).ok()) {
        Value::from(i)
    } else if let Some(f) = parse_float(text).filter(|f| f.is_finite()) {
        Value::from(f)
    } else {
        Value::String(text.to_owned())
    }
}

/// `true`/`false` as YAML 1.2's core schema spells them.
pub(super) fn core_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

pub(super) fn yaml11_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "y" => Some(true),
        "false" | "no" | "off" | "n" => Some(false),
        _ => None,
    }
}
