//! Go's `text/template` built-ins (except `and`/`or`, which the evaluator short-circuits).

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value as Json;

use super::{Builtin, FnCx, arg, b, bounded, i, int_arg, nil, s, take};
use crate::format::sprintf;
use crate::value::{self, Val, as_f64, is_int, truthy, write_go};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("not", "go", 1, 1, |a, _| b(!truthy(arg(&a, 0)))),
    f!("eq", "go", 2, _, eq),
    f!("ne", "go", 2, 2, |a, _| b(!equal(arg(&a, 0), arg(&a, 1)))),
    f!("lt", "go", 2, 2, |a, _| compare(&a)
        .map(|o| o == Ordering::Less)
        .and_then(b)),
    f!("le", "go", 2, 2, |a, _| compare(&a)
        .map(|o| o != Ordering::Greater)
        .and_then(b)),
    f!("gt", "go", 2, 2, |a, _| compare(&a)
        .map(|o| o == Ordering::Greater)
        .and_then(b)),
    f!("ge", "go", 2, 2, |a, _| compare(&a)
        .map(|o| o != Ordering::Less)
        .and_then(b)),
    f!("index", "go", 1, _, index),
    f!("slice", "go", 1, 4, slice),
    f!("len", "go", 1, 1, |a, _| i(length(arg(&a, 0)) as i64)),
    f!("print", "go", 0, _, |a, _| bounded(sprint(&a))),
    f!("println", "go", 0, _, |a, _| bounded(sprintln(&a))),
    f!("printf", "go", 1, _, printf),
    f!("html", "go", 0, _, |a, _| s(html_escape(&sprint(&a)))),
    f!("js", "go", 0, _, |a, _| s(js_escape(&sprint(&a)))),
    f!("urlquery", "go", 0, _, |a, _| s(query_escape(&sprint(&a)))),
];

fn eq<'a>(a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    let first = arg(&a, 0);
    b(a[1..].iter().any(|x| equal(first, x)))
}

/// Equality across int/float, and by value for lists and maps; nil equals only nil.
pub(crate) fn equal(x: &Json, y: &Json) -> bool {
    match (x, y) {
        (Json::Number(_), Json::Number(_)) => {
            if is_int(x) && is_int(y) {
                x == y
            } else {
                as_f64(x) == as_f64(y)
            }
        }
        (Json::Array(p), Json::Array(q)) => {
            p.len() == q.len() && p.iter().zip(q).all(|(a, b)| equal(a, b))
        }
        (Json::Object(p), Json::Object(q)) => {
            p.len() == q.len() && p.iter().all(|(k, v)| q.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => x == y,
    }
}

/// Orders numbers (across int/float) and strings; nil counts as the other side's zero value.
pub(crate) fn order(x: &Json, y: &Json) -> Result<Ordering, String> {
    match (x, y) {
        (Json::Number(_), Json::Number(_)) => {
            if let (Some(p), Some(q)) = (x.as_i64(), y.as_i64()) {
                return Ok(p.cmp(&q));
            }
            let (p, q) = (as_f64(x).unwrap_or(0.0), as_f64(y).unwrap_or(0.0));
            p.partial_cmp(&q)
                .ok_or_else(|| "cannot compare NaN".to_string())
        }
        (Json::String(p), Json::String(q)) => Ok(p.cmp(q)),
        (Json::Null, Json::Number(_)) => order(&Json::from(0), y),
        (Json::Number(_), Json::Null) => order(x, &Json::from(0)),
        (Json::Null, Json::String(q)) => Ok("".cmp(q.as_str())),
        (Json::String(p), Json::Null) => Ok(p.as_str().cmp("")),
        (Json::Null, Json::Null) => Ok(Ordering::Equal),
        _ => Err(format!(
            "incompatible types for comparison: {} and {}",
            crate::format::type_name(x),
            crate::format::type_name(y)
        )),
    }
}

fn compare(a: &[Val<'_>]) -> Result<Ordering, String> {
    order(arg(a, 0), arg(a, 1))
}

fn index<'a>(mut a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    let keys: Vec<Json> = a.drain(1..).map(Cow::into_owned).collect();
    let mut cur = take(&mut a, 0);
    for key in &keys {
        cur = match cur {
            Cow::Borrowed(v) => Cow::Borrowed(index_one(v, key)?),
            Cow::Owned(v) => Cow::Owned(index_one(&v, key)?.clone()),
        };
    }
    Ok(cur)
}

fn index_one<'j>(v: &'j Json, key: &Json) -> Result<&'j Json, String> {
    Ok(match v {
        Json::Object(m) => m.get(value::to_str(key).as_ref()).unwrap_or(&value::NIL),
        Json::Array(items) => match value::as_i64(key) {
            Some(i) if i >= 0 => items.get(i as usize).unwrap_or(&value::NIL),
            _ => {
                return Err(format!(
                    "cannot index slice/array with {}",
                    value::go_string(key)
                ));
            }
        },
        Json::Null => &value::NIL,
        other => {
            return Err(format!(
                "can't index item of type {}",
                crate::format::type_name(other)
            ));
        }
    })
}

fn slice<'a>(a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    let v = arg(&a, 0);
    let len = match v {
        Json::String(s) => s.len(),
        Json::Array(items) => items.len(),
        Json::Null => return nil(),
        other => {
            return Err(format!(
                "can't slice item of type {}",
                crate::format::type_name(other)
            ));
        }
    };
    let lo = if a.len() > 1 { int_arg(&a, 1) } else { 0 };
    let hi = if a.len() > 2 {
        int_arg(&a, 2)
    } else {
        len as i64
    };
    if lo < 0 || hi < lo || hi as usize > len {
        return Err(format!("index out of range: [{lo}:{hi}] with length {len}"));
    }
    let (lo, hi) = (lo as usize, hi as usize);
    match v {
        // Byte offsets, as in Go; a cut through a character becomes U+FFFD.
        Json::String(st) => s(String::from_utf8_lossy(&st.as_bytes()[lo..hi])),
        Json::Array(items) => Ok(Cow::Owned(Json::Array(items[lo..hi].to_vec()))),
        _ => nil(),
    }
}

/// Go's `len`: bytes of a string, items of a list or map; 0 for anything else.
pub(crate) fn length(v: &Json) -> usize {
    match v {
        Json::String(s) => s.len(),
        Json::Array(a) => a.len(),
        Json::Object(m) => m.len(),
        _ => 0,
    }
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string.
pub(crate) fn sprint(a: &[Val<'_>]) -> String {
    let mut out = String::new();
    for (k, v) in a.iter().enumerate() {
        if k > 0 && !a[k - 1].is_string() && !v.is_string() {
            out.push(' ');
        }
        write_go(&mut out, v);
    }
    out
}

fn sprintln(a: &[Val<'_>]) -> String {
    let mut out = String::new();
    for (k, v) in a.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        write_go(&mut out, v);
    }
    out.push('\n');
    out
}

fn printf<'a>(a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    let fmt = value::to_str(arg(&a, 0)).into_owned();
    let rest: Vec<&Json> = a[1..].iter().map(|v| v.as_ref()).collect();
    sprintf(&fmt, &rest).and_then(bounded)
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn go_builtins_behave_like_text_template() {
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            ("not", vec![json!("")], "true"),
            ("eq", vec![json!(3), json!(3.0)], "true"),
            ("eq", vec![json!("a"), json!("b"), json!("a")], "true"),
            ("eq", vec![json!(null), json!(null)], "true"),
            ("eq", vec![json!("1"), json!(1)], "false"),
            ("ne", vec![json!(1), json!(2)], "true"),
            ("lt", vec![json!(1), json!(1.5)], "true"),
            ("lt", vec![json!("a"), json!("b")], "true"),
            ("ge", vec![json!(2), json!(2)], "true"),
            ("gt", vec![json!(null), json!(-1)], "true"),
            (
                "lt",
                vec![json!("a"), json!(1)],
                "error: incompatible types for comparison: string and int64",
            ),
            (
                "index",
                vec![
                    json!({"a": [1, {"b": "x"}]}),
                    json!("a"),
                    json!(1),
                    json!("b"),
                ],
                "x",
            ),
            ("index", vec![json!({"a": 1}), json!("zz")], ""),
            ("index", vec![json!(null), json!("a")], ""),
            ("slice", vec![json!("hello"), json!(1), json!(3)], "el"),
            ("slice", vec![json!([1, 2, 3]), json!(1)], "[2 3]"),
            (
                "slice",
                vec![json!("abc"), json!(2), json!(9)],
                "error: index out of range: [2:9] with length 3",
            ),
            ("len", vec![json!("héllo")], "6"),
            ("len", vec![json!({"a": 1})], "1"),
            ("len", vec![json!(null)], "0"),
            (
                "print",
                vec![json!("a"), json!(1), json!(2), json!("b")],
                "a1 2b",
            ),
            ("println", vec![json!("a"), json!(1)], "a 1\n"),
            ("printf", vec![json!("%s=%d"), json!("n"), json!(3)], "n=3"),
            (
                "html",
                vec![json!("<a href='x'>&</a>")],
                "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;",
            ),
            ("js", vec![json!("it's <b>")], "it\\'s \\u003Cb\\u003E"),
            ("urlquery", vec![json!("a b&c=d/é")], "a+b%26c%3Dd%2F%C3%A9"),
        ];
        check(&cases);
    }
}
