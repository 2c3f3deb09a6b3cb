//! Sprig text helpers Katalogs borrow from Helm habits: `quote`, `squote`, `indent`, `nindent`,
//! `trunc`, `regexMatch`, `regexFind`, `regexReplaceAll`, `cat`.

use super::{Builtin, b, bounded, int_arg, s, str_arg};
use crate::format::quote;
use crate::funcs::go::sprint;
use crate::value::to_str;

pub(crate) const FUNCS: &[Builtin] = &[
    f!("quote", "sprig", 0, _, |a, _| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| quote(&to_str(v)))
            .collect();
        bounded(parts.join(" "))
    }),
    f!("squote", "sprig", 0, _, |a, _| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| format!("'{}'", to_str(v)))
            .collect();
        bounded(parts.join(" "))
    }),
    f!("indent", "sprig", 2, 2, |a, _| bounded(indent(
        int_arg(&a, 0),
        &str_arg(&a, 1)
    ))),
    f!("nindent", "sprig", 2, 2, |a, _| bounded(format!(
        "\n{}",
        indent(int_arg(&a, 0), &str_arg(&a, 1))
    ))),
    f!("trunc", "sprig", 2, 2, |a, _| {
        let (n, st) = (int_arg(&a, 0), str_arg(&a, 1));
        let chars: Vec<char> = st.chars().collect();
        let len = chars.len() as i64;
        s(if n >= 0 {
            chars[..n.min(len) as usize].iter().collect::<String>()
        } else {
            chars[(len + n).max(0) as usize..]
                .iter()
                .collect::<String>()
        })
    }),
    f!("cat", "sprig", 0, _, |a, _| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| sprint(std::slice::from_ref(v)))
            .collect();
        bounded(parts.join(" "))
    }),
    f!("regexMatch", "sprig", 2, 2, |a, _| b(regex(&str_arg(
        &a, 0
    ))?
    .is_match(&str_arg(&a, 1)))),
    f!("regexFind", "sprig", 2, 2, |a, _| {
        let text = str_arg(&a, 1);
        s(regex(&str_arg(&a, 0))?
            .find(&text)
            .map_or("", |m| m.as_str()))
    }),
    f!("regexReplaceAll", "sprig", 3, 3, |a, _| {
        let re = regex(&str_arg(&a, 0))?;
        bounded(
            re.replace_all(&str_arg(&a, 1), str_arg(&a, 2).as_ref())
                .into_owned(),
        )
    }),
];

fn indent(n: i64, st: &str) -> String {
    let pad = " ".repeat(n.clamp(0, 1024) as usize);
    let mut out = String::with_capacity(st.len() + pad.len());
    for (k, line) in st.split('\n').enumerate() {
        if k > 0 {
            out.push('\n');
        }
        out.push_str(&pad);
        out.push_str(line);
    }
    out
}

fn regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("invalid regex: {e}"))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, show};
    use serde_json::json;

    #[test]
    fn sprig_helpers_quote_indent_and_match() {
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            ("quote", vec![json!("a\"b")], "\"a\\\"b\""),
            ("quote", vec![json!(3)], "\"3\""),
            ("squote", vec![json!("x")], "'x'"),
            ("indent", vec![json!(2), json!("a\nb")], "  a\n  b"),
            ("nindent", vec![json!(2), json!("a")], "\n  a"),
            ("trunc", vec![json!(3), json!("abcdef")], "abc"),
            ("trunc", vec![json!(-2), json!("abcdef")], "ef"),
            ("trunc", vec![json!(10), json!("ab")], "ab"),
            ("cat", vec![json!("a"), json!(null), json!(2)], "a 2"),
            ("regexMatch", vec![json!("^v[0-9]+$"), json!("v12")], "true"),
            (
                "regexFind",
                vec![json!("[0-9]+"), json!("abc123def")],
                "123",
            ),
            (
                "regexReplaceAll",
                vec![json!("[^a-z]"), json!("a1b2"), json!("-")],
                "a-b-",
            ),
        ];
        check(&cases);
        assert!(show("regexMatch", &[json!("("), json!("x")]).starts_with("error: invalid regex"));
    }
}
