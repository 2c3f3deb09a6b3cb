//! String notes (Orkestra §8.3 "strings"). Arguments follow Go's `strings` package order:
//! the string first (`trimPrefix .metadata.name "app-"`), as Orkestra defines them.

use serde_json::Value as Json;

use super::{Builtin, arg, b, bounded, int_arg, j, s, str_arg};
use crate::value::{self, Val};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("toLower", "strings", 1, 1, |a, _| s(
        str_arg(&a, 0).to_lowercase()
    )),
    f!("toUpper", "strings", 1, 1, |a, _| s(
        str_arg(&a, 0).to_uppercase()
    )),
    f!("lower", "strings", 1, 1, |a, _| s(
        str_arg(&a, 0).to_lowercase()
    )),
    f!("upper", "strings", 1, 1, |a, _| s(
        str_arg(&a, 0).to_uppercase()
    )),
    f!(
        "trimSpace",
        "strings",
        1,
        1,
        |a, _| s(str_arg(&a, 0).trim())
    ),
    f!("trim", "strings", 1, 2, trim),
    f!("trimPrefix", "strings", 2, 2, |a, _| {
        let (st, p) = (str_arg(&a, 0), str_arg(&a, 1));
        s(st.strip_prefix(p.as_ref()).unwrap_or(&st))
    }),
    f!("trimSuffix", "strings", 2, 2, |a, _| {
        let (st, p) = (str_arg(&a, 0), str_arg(&a, 1));
        s(st.strip_suffix(p.as_ref()).unwrap_or(&st))
    }),
    f!("hasPrefix", "strings", 2, 2, |a, _| b(
        str_arg(&a, 0).starts_with(str_arg(&a, 1).as_ref())
    )),
    f!("hasSuffix", "strings", 2, 2, |a, _| b(
        str_arg(&a, 0).ends_with(str_arg(&a, 1).as_ref())
    )),
    f!("contains", "strings", 2, 2, |a, _| b(
        str_arg(&a, 0).contains(str_arg(&a, 1).as_ref())
    )),
    f!("replace", "strings", 3, 3, |a, _| {
        let (st, old, new) = (str_arg(&a, 0), str_arg(&a, 1), str_arg(&a, 2));
        if old.is_empty() {
            return s(st);
        }
        bounded(st.replace(old.as_ref(), &new))
    }),
    f!("split", "strings", 2, 2, |a, _| {
        let (st, sep) = (str_arg(&a, 0), str_arg(&a, 1));
        if st.is_empty() {
            return j(Json::Array(Vec::new()));
        }
        let parts: Vec<Json> = if sep.is_empty() {
            st.chars().map(|c| Json::String(c.to_string())).collect()
        } else {
            st.split(sep.as_ref())
                .map(|p| Json::String(p.to_string()))
                .collect()
        };
        j(Json::Array(parts))
    }),
    f!("join", "strings", 2, 2, join),
    f!("repeat", "strings", 2, 2, repeat),
    f!("camelToKebab", "strings", 1, 1, |a, _| s(camel_to_kebab(
        &str_arg(&a, 0)
    ))),
    f!("truncate", "strings", 2, 2, |a, _| {
        // Orkestra: at most n characters in total, the last three "..." when cut.
        let (st, n) = (str_arg(&a, 0), int_arg(&a, 1).max(0) as usize);
        if st.chars().count() <= n {
            return s(st);
        }
        if n <= 3 {
            return s(st.chars().take(n).collect::<String>());
        }
        s(format!("{}...", st.chars().take(n - 3).collect::<String>()))
    }),
    f!("title", "strings", 1, 1, |a, _| s(title(&str_arg(&a, 0)))),
    f!("substr", "strings", 3, 3, |a, _| {
        // Sprig order: substr start end string.
        let st = str_arg(&a, 2);
        let chars: Vec<char> = st.chars().collect();
        let start = (int_arg(&a, 0).max(0) as usize).min(chars.len());
        let end = match int_arg(&a, 1) {
            e if e < 0 => chars.len(),
            e => (e as usize).clamp(start, chars.len()),
        };
        s(chars[start..end].iter().collect::<String>())
    }),
    f!("nospace", "strings", 1, 1, |a, _| s(str_arg(&a, 0)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>())),
    f!("trimAll", "strings", 2, 2, |a, _| {
        // Sprig order: trimAll cutset string.
        let (cut, st) = (str_arg(&a, 0), str_arg(&a, 1));
        s(st.trim_matches(|c| cut.contains(c)))
    }),
];

fn trim<'a>(a: Vec<Val<'a>>, _: &mut super::FnCx) -> Result<Val<'a>, String> {
    let st = str_arg(&a, 0);
    if a.len() < 2 {
        return s(st.trim());
    }
    let cut = str_arg(&a, 1);
    s(st.trim_matches(|c| cut.contains(c)))
}

fn join<'a>(a: Vec<Val<'a>>, _: &mut super::FnCx) -> Result<Val<'a>, String> {
    // Orkestra order is `join list sep`; Sprig's `join sep list` is accepted too.
    let (list, sep) = match (arg(&a, 0), arg(&a, 1)) {
        (Json::String(sep), list @ Json::Array(_)) => (list, sep.as_str()),
        (list, sep) => (list, sep.as_str().unwrap_or("")),
    };
    let parts: Vec<std::borrow::Cow<'_, str>> = match list {
        Json::Array(items) => items.iter().map(value::to_str).collect(),
        Json::Null => Vec::new(),
        other => vec![value::to_str(other)],
    };
    bounded(parts.join(sep))
}

fn repeat<'a>(a: Vec<Val<'a>>, _: &mut super::FnCx) -> Result<Val<'a>, String> {
    // Orkestra order is `repeat s n`; Sprig's `repeat n s` is accepted too.
    let (st, n) = match (arg(&a, 0), arg(&a, 1)) {
        (n @ Json::Number(_), Json::String(st)) => (st.clone(), value::as_i64(n).unwrap_or(0)),
        _ => (str_arg(&a, 0).into_owned(), int_arg(&a, 1)),
    };
    let n = n.max(0) as usize;
    if st.len().saturating_mul(n) > super::MAX_STRING {
        return Err(format!("result longer than {} bytes", super::MAX_STRING));
    }
    s(st.repeat(n))
}

/// Orkestra's kebab-casing: a `-` before an uppercase letter that follows a lowercase one, or
/// that ends an acronym (`WebsiteOperator` → `website-operator`, `HTTPServer` →
/// `http-server`); everything else is kept, lowercased.
pub(crate) fn camel_to_kebab(st: &str) -> String {
    let chars: Vec<char> = st.chars().collect();
    let mut out = String::with_capacity(st.len() + 4);
    for (k, &c) in chars.iter().enumerate() {
        if k > 0 && c.is_ascii_uppercase() {
            let prev = chars[k - 1];
            let next_lower = chars.get(k + 1).is_some_and(char::is_ascii_lowercase);
            if prev.is_ascii_lowercase() || (prev.is_ascii_uppercase() && next_lower) {
                out.push('-');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn title(st: &str) -> String {
    let mut out = String::with_capacity(st.len());
    let mut start = true;
    for c in st.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn string_notes_follow_orkestras_table() {
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            ("toLower", vec![json!("PRODUCTION")], "production"),
            ("toUpper", vec![json!("premium")], "PREMIUM"),
            ("upper", vec![json!(null)], ""),
            ("trimSpace", vec![json!("  example.com  ")], "example.com"),
            (
                "trim",
                vec![json!("/images/nginx/"), json!("/")],
                "images/nginx",
            ),
            (
                "trimPrefix",
                vec![json!("app-frontend"), json!("app-")],
                "frontend",
            ),
            (
                "trimSuffix",
                vec![json!("nginx:latest"), json!(":latest")],
                "nginx",
            ),
            (
                "hasPrefix",
                vec![json!("gcr.io/p/app:v1"), json!("gcr.io/")],
                "true",
            ),
            ("hasSuffix", vec![json!(null), json!("x")], "false"),
            ("contains", vec![json!("production"), json!("prod")], "true"),
            (
                "replace",
                vec![json!("my.app.example.com"), json!("."), json!("-")],
                "my-app-example-com",
            ),
            (
                "split",
                vec![json!("latest,stable,v2"), json!(",")],
                "[latest stable v2]",
            ),
            ("split", vec![json!(""), json!(",")], "[]"),
            ("join", vec![json!(["a", "b"]), json!(", ")], "a, b"),
            ("join", vec![json!("-"), json!(["a", 1])], "a-1"),
            ("repeat", vec![json!("ha"), json!(3)], "hahaha"),
            ("repeat", vec![json!(2), json!("ab")], "abab"),
            (
                "repeat",
                vec![json!("x"), json!(2_000_000)],
                "error: result longer than 1048576 bytes",
            ),
            (
                "camelToKebab",
                vec![json!("WebsiteOperator")],
                "website-operator",
            ),
            ("camelToKebab", vec![json!("myAppName")], "my-app-name"),
            ("camelToKebab", vec![json!("HTTPServer")], "http-server"),
            ("camelToKebab", vec![json!("v2Beta_x")], "v2beta_x"),
            ("truncate", vec![json!("abcdefgh"), json!(6)], "abc..."),
            ("truncate", vec![json!("abcdef"), json!(2)], "ab"),
            ("truncate", vec![json!("abc"), json!(3)], "abc"),
            ("title", vec![json!("hello world")], "Hello World"),
            ("substr", vec![json!(1), json!(3), json!("hello")], "el"),
            ("nospace", vec![json!("a b\tc")], "abc"),
            ("trimAll", vec![json!("$"), json!("$5.00$")], "5.00"),
        ];
        check(&cases);
    }
}
