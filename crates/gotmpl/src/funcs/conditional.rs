//! Conditional notes: `default` (Sprig order, fallback first), `coalesce`, `ternary`,
//! `boolTernary`, `boolDefault`, `eqTernary`, `empty`/`notEmpty`, `required` and `fail`.

use serde_json::Value as Json;

use super::{Builtin, FnCx, arg, b, nil, str_arg, take};
use crate::value::{Val, to_str, truthy};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("default", "conditional", 1, 2, default),
    f!("coalesce", "conditional", 0, _, |mut a, _| {
        match a.iter().position(|v| !empty(v)) {
            Some(k) => Ok(take(&mut a, k)),
            None => nil(),
        }
    }),
    f!("ternary", "conditional", 3, 3, ternary),
    f!("boolTernary", "conditional", 3, 3, |mut a, _| {
        let k = if arg(&a, 0) == &Json::Bool(true) {
            1
        } else {
            2
        };
        Ok(take(&mut a, k))
    }),
    f!(
        "boolDefault",
        "conditional",
        2,
        2,
        |a, _| match arg(&a, 0) {
            Json::Bool(v) => b(*v),
            _ => b(truthy(arg(&a, 1))),
        }
    ),
    f!("eqTernary", "conditional", 4, 4, |mut a, _| {
        let same = to_str(arg(&a, 0)) == to_str(arg(&a, 1));
        Ok(take(&mut a, if same { 2 } else { 3 }))
    }),
    f!("empty", "conditional", 1, 1, |a, _| b(empty(arg(&a, 0)))),
    f!("notEmpty", "conditional", 1, 1, |a, _| b(!empty(arg(
        &a, 0
    )))),
    f!("required", "conditional", 2, 2, |mut a, _| {
        if empty_required(arg(&a, 1)) {
            return Err(str_arg(&a, 0).into_owned());
        }
        Ok(take(&mut a, 1))
    }),
    f!("fail", "conditional", 1, 1, |a, _| Err(
        str_arg(&a, 0).into_owned()
    )),
];

/// Orkestra's emptiness: nil, "", `<no value>`, 0, false, empty list or map.
pub(crate) fn empty(v: &Json) -> bool {
    match v {
        Json::String(st) => st.is_empty() || st == "<no value>",
        other => !truthy(other),
    }
}

/// `required` refuses only nil and "" (Sprig), so `required "x" 0` passes.
fn empty_required(v: &Json) -> bool {
    matches!(v, Json::Null) || v.as_str().is_some_and(str::is_empty)
}

/// `default FALLBACK VALUE`: VALUE unless it is empty. Piping puts the value last, so
/// `.x | default "y"` reads naturally. With one argument, that argument.
fn default<'a>(mut a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    if a.len() < 2 || empty(arg(&a, 1)) {
        return Ok(take(&mut a, 0));
    }
    Ok(take(&mut a, 1))
}

/// Orkestra's `ternary COND TRUE FALSE`; Sprig's `ternary TRUE FALSE COND` (as in
/// `.x | ternary "a" "b"`) is recognised when only the last argument is a bool.
fn ternary<'a>(mut a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    let sprig = matches!(arg(&a, 2), Json::Bool(_)) && !matches!(arg(&a, 0), Json::Bool(_));
    let (cond, t, f) = if sprig { (2, 0, 1) } else { (0, 1, 2) };
    let pick = if truthy(arg(&a, cond)) { t } else { f };
    Ok(take(&mut a, pick))
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn conditional_notes_pick_values_like_orkestra_and_sprig() {
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            ("default", vec![json!("x"), json!(null)], "x"),
            ("default", vec![json!("x"), json!("")], "x"),
            ("default", vec![json!("x"), json!("v")], "v"),
            ("default", vec![json!(2), json!(0)], "2"),
            ("default", vec![json!(false), json!(true)], "true"),
            ("default", vec![json!("only")], "only"),
            // The corpus's `default .spec.replicas 1` is Sprig order: 1 is non-empty, so 1.
            ("default", vec![json!(5), json!(1)], "1"),
            (
                "coalesce",
                vec![json!(null), json!(""), json!("a"), json!("b")],
                "a",
            ),
            ("coalesce", vec![json!(null)], ""),
            (
                "ternary",
                vec![json!(true), json!("debug"), json!("info")],
                "debug",
            ),
            (
                "ternary",
                vec![json!(""), json!("custom"), json!("default")],
                "default",
            ),
            (
                "ternary",
                vec![json!("yes"), json!("no"), json!(false)],
                "no",
            ),
            (
                "boolTernary",
                vec![json!(true), json!("Suspended"), json!("Active")],
                "Suspended",
            ),
            (
                "boolTernary",
                vec![json!(null), json!("Suspended"), json!("Active")],
                "Active",
            ),
            (
                "boolTernary",
                vec![json!(false), json!(100), json!(20)],
                "20",
            ),
            ("boolDefault", vec![json!(null), json!(true)], "true"),
            ("boolDefault", vec![json!(false), json!(true)], "false"),
            (
                "eqTernary",
                vec![
                    json!("true"),
                    json!("true"),
                    json!("ready"),
                    json!("waiting"),
                ],
                "ready",
            ),
            (
                "eqTernary",
                vec![
                    json!(false),
                    json!("true"),
                    json!("ready"),
                    json!("waiting"),
                ],
                "waiting",
            ),
            ("empty", vec![json!({})], "true"),
            ("Empty", vec![json!(0)], "false"),
            ("Empty", vec![json!({})], "true"),
            ("empty", vec![json!("<no value>")], "true"),
            ("notEmpty", vec![json!([1])], "true"),
            ("notEmpty", vec![json!(null)], "false"),
            ("required", vec![json!("need it"), json!("v")], "v"),
            ("required", vec![json!("need it"), json!(0)], "0"),
            (
                "required",
                vec![json!("need it"), json!(null)],
                "error: need it",
            ),
            ("fail", vec![json!("boom")], "error: boom"),
        ];
        check(&cases);
    }
}
