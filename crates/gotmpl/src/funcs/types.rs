//! Type notes: conversions (`toInt`, `toFloat`, `toBool`, `toString`, Sprig's `int`, `atoi`,
//! `float64`) and checks (`typeOf`, `typeMap`, ..., `isScalar`, `isComposite`).

use serde_json::Value as Json;

use super::{Builtin, arg, b, fl, i, j, s, str_arg};
use crate::value::{as_f64, as_i64, to_str};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("toInt", "types", 1, 1, |a, _| i(
        as_i64(arg(&a, 0)).unwrap_or(0)
    )),
    f!("int", "types", 1, 1, |a, _| i(
        as_i64(arg(&a, 0)).unwrap_or(0)
    )),
    f!("int64", "types", 1, 1, |a, _| i(
        as_i64(arg(&a, 0)).unwrap_or(0)
    )),
    f!("atoi", "types", 1, 1, |a, _| i(to_str(arg(&a, 0))
        .trim()
        .parse()
        .unwrap_or(0))),
    f!("toFloat", "types", 1, 1, |a, _| fl(
        as_f64(arg(&a, 0)).unwrap_or(0.0)
    )),
    f!("float64", "types", 1, 1, |a, _| fl(
        as_f64(arg(&a, 0)).unwrap_or(0.0)
    )),
    f!("toBool", "types", 1, 1, |a, _| match to_bool(arg(&a, 0)) {
        Some(v) => b(v),
        None => Err(format!("cannot convert {:?} to bool", to_str(arg(&a, 0)))),
    }),
    f!("toList", "types", 1, 1, |a, _| {
        let st = str_arg(&a, 0);
        let parts = st.split(',').map(str::trim).filter(|p| !p.is_empty());
        j(Json::Array(
            parts.map(|p| Json::String(p.to_string())).collect(),
        ))
    }),
    f!("toString", "types", 1, 1, |a, _| s(to_str(arg(&a, 0)))),
    // Orkestra's `isEmpty`/`Empty`: nil, "", empty list or map; unlike `empty`, 0 and false
    // are not empty.
    f!("isEmpty", "types", 1, 1, |a, _| b(is_blank(arg(&a, 0)))),
    f!("Empty", "types", 1, 1, |a, _| b(is_blank(arg(&a, 0)))),
    f!("typeOf", "types", 1, 1, |a, _| s(type_of(arg(&a, 0)))),
    f!("kindOf", "types", 1, 1, |a, _| s(type_of(arg(&a, 0)))),
    f!("typeMap", "types", 1, 1, |a, _| b(arg(&a, 0).is_object())),
    f!("typeList", "types", 1, 1, |a, _| b(arg(&a, 0).is_array())),
    f!(
        "typeString",
        "types",
        1,
        1,
        |a, _| b(arg(&a, 0).is_string())
    ),
    f!(
        "typeNumber",
        "types",
        1,
        1,
        |a, _| b(arg(&a, 0).is_number())
    ),
    f!("typeBool", "types", 1, 1, |a, _| b(arg(&a, 0).is_boolean())),
    f!("typeNull", "types", 1, 1, |a, _| b(arg(&a, 0).is_null())),
    f!("isScalar", "types", 1, 1, |a, _| b(matches!(
        arg(&a, 0),
        Json::String(_) | Json::Number(_) | Json::Bool(_)
    ))),
    f!("isComposite", "types", 1, 1, |a, _| b(matches!(
        arg(&a, 0),
        Json::Array(_) | Json::Object(_)
    ))),
];

/// Orkestra's `toBool`: `true`/`1`/`yes`/`on` (any case) and their opposites (and "");
/// numbers are true when non-zero, nil is false; other strings are not booleans.
pub(crate) fn to_bool(v: &Json) -> Option<bool> {
    match v {
        Json::Bool(x) => Some(*x),
        Json::Number(_) => Some(as_f64(v).is_some_and(|f| f != 0.0)),
        Json::Null => Some(false),
        Json::String(st) => match st.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" | "y" | "on" => Some(true),
            "false" | "f" | "0" | "no" | "n" | "off" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn is_blank(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(st) => st.is_empty(),
        Json::Array(l) => l.is_empty(),
        Json::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// Orkestra's type names, shared with the `typeOf` condition operator: `string`, `number`,
/// `bool`, `map`, `slice`, `null`.
pub fn type_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "slice",
        Json::Object(_) => "map",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn type_notes_convert_and_check_nil_safely() {
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            ("toInt", vec![json!("42")], "42"),
            ("toInt", vec![json!(3.9)], "3"),
            ("toInt", vec![json!("x")], "0"),
            ("toInt", vec![json!(null)], "0"),
            ("toFloat", vec![json!("1.5")], "1.5"),
            ("toFloat", vec![json!(2)], "2"),
            ("toBool", vec![json!("true")], "true"),
            ("toBool", vec![json!("yes")], "true"),
            ("toBool", vec![json!("OFF")], "false"),
            ("toBool", vec![json!(null)], "false"),
            (
                "toBool",
                vec![json!("maybe")],
                "error: cannot convert \"maybe\" to bool",
            ),
            ("toList", vec![json!("a, b,c")], "[a b c]"),
            ("toList", vec![json!("")], "[]"),
            ("isEmpty", vec![json!(0)], "false"),
            ("Empty", vec![json!([])], "true"),
            ("toBool", vec![json!(1)], "true"),
            ("toString", vec![json!(3)], "3"),
            ("toString", vec![json!([1, 2])], "[1 2]"),
            ("typeOf", vec![json!({})], "map"),
            ("typeOf", vec![json!([])], "slice"),
            ("typeOf", vec![json!(1)], "number"),
            ("typeOf", vec![json!(1.5)], "number"),
            ("typeOf", vec![json!(null)], "null"),
            ("typeMap", vec![json!({"a": 1})], "true"),
            ("typeList", vec![json!("x")], "false"),
            ("typeNull", vec![json!(null)], "true"),
            ("isScalar", vec![json!("x")], "true"),
            ("isComposite", vec![json!([1])], "true"),
            ("atoi", vec![json!(" 12 ")], "12"),
        ];
        check(&cases);
    }
}
