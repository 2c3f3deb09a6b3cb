//! Data notes: encodings (`toBase64`, `fromBase64`, `toJSON`, Sprig's `b64enc`, `toJson`,
//! `fromJson`), hashing (`sha256sum`), names (`slugify`, `truncateName`) and hostnames
//! (`domainHost`, `domainBare`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::{Builtin, arg, bounded, int_arg, j, s, str_arg};
use crate::value;

pub(crate) const FUNCS: &[Builtin] = &[
    f!("toBase64", "data", 1, 1, |a, _| s(
        STANDARD.encode(str_arg(&a, 0).as_bytes())
    )),
    f!("b64enc", "data", 1, 1, |a, _| s(
        STANDARD.encode(str_arg(&a, 0).as_bytes())
    )),
    f!("fromBase64", "data", 1, 1, |a, _| s(from_base64(&str_arg(
        &a, 0
    )))),
    f!("b64dec", "data", 1, 1, |a, _| s(from_base64(&str_arg(
        &a, 0
    )))),
    f!("toJSON", "data", 1, 1, |a, _| bounded(to_json(
        arg(&a, 0),
        false
    ))),
    f!("toJson", "data", 1, 1, |a, _| bounded(to_json(
        arg(&a, 0),
        false
    ))),
    f!("toPrettyJson", "data", 1, 1, |a, _| bounded(to_json(
        arg(&a, 0),
        true
    ))),
    f!("fromJson", "data", 1, 1, |a, _| j(serde_json::from_str(
        &str_arg(&a, 0)
    )
    .unwrap_or(Json::Null))),
    // Orkestra: the first 8 hex characters (4 bytes), for short content-addressed names.
    f!("sha256sum", "data", 1, 1, |a, _| {
        let digest = Sha256::digest(str_arg(&a, 0).as_bytes());
        s(digest[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>())
    }),
    f!("slugify", "data", 1, 1, |a, _| s(slugify(&str_arg(&a, 0)))),
    f!("truncateName", "data", 1, 2, |a, _| {
        let max = if a.len() > 1 {
            int_arg(&a, 1).max(1) as usize
        } else {
            63
        };
        s(truncate_name(&str_arg(&a, 0), max))
    }),
    // `lookup KEY k1 v1 k2 v2 ...`: the value paired with KEY ("" when none matches).
    f!("lookup", "data", 1, _, |a, _| {
        let key = str_arg(&a, 0);
        let found = a[1..]
            .chunks(2)
            .find(|kv| kv.len() == 2 && value::to_str(&kv[0]) == key);
        s(found
            .map(|kv| value::to_str(&kv[1]).into_owned())
            .unwrap_or_default())
    }),
    // The repository name of a git URL or `org/repo`, without `.git`, slugified.
    f!("repoSlug", "data", 1, 1, |a, _| {
        let repo = str_arg(&a, 0);
        let trimmed = repo.trim().trim_end_matches('/');
        let last = trimmed.rsplit(['/', ':']).next().unwrap_or("");
        s(slugify(last.strip_suffix(".git").unwrap_or(last)))
    }),
    f!("domainHost", "data", 1, 1, |a, _| s(domain_host(arg(
        &a, 0
    )))),
    f!("domainBare", "data", 1, 1, |a, _| {
        let host = domain_host(arg(&a, 0));
        s(host.strip_prefix("www.").unwrap_or(&host))
    }),
];

/// Decodes standard (or URL-safe, or unpadded) base64; invalid input gives "".
fn from_base64(st: &str) -> String {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let st = st.trim();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(st).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// JSON as Go's `encoding/json` writes it (maps with sorted keys, `<`, `>`, `&` escaped).
pub(crate) fn to_json(v: &Json, pretty: bool) -> String {
    let text = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    }
    .unwrap_or_default();
    text.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Lowercase, runs of anything but letters and digits become one `-`, trimmed of `-`.
pub(crate) fn slugify(st: &str) -> String {
    let mut out = String::with_capacity(st.len());
    for c in st.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Cuts a Kubernetes name to `max` characters without leaving a trailing `-` or `.`.
pub(crate) fn truncate_name(st: &str, max: usize) -> String {
    if st.chars().count() <= max {
        return st.to_string();
    }
    let cut: String = st.chars().take(max).collect();
    cut.trim_end_matches(['-', '.']).to_string()
}

/// Strips whitespace, an `https://`/`http://` prefix and a trailing `/`; "" for non-strings.
fn domain_host(v: &Json) -> String {
    let Json::String(st) = v else {
        return String::new();
    };
    let t = st.trim();
    let t = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .unwrap_or(t);
    t.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn data_notes_encode_hash_and_clean_names() {
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            ("toBase64", vec![json!("hello")], "aGVsbG8="),
            ("b64enc", vec![json!(null)], ""),
            ("fromBase64", vec![json!("aGVsbG8=")], "hello"),
            ("fromBase64", vec![json!("aGVsbG8")], "hello"),
            ("fromBase64", vec![json!("!!not base64")], ""),
            (
                "toJSON",
                vec![json!({"b": [1, 2], "a": "<x>"})],
                "{\"a\":\"\\u003cx\\u003e\",\"b\":[1,2]}",
            ),
            ("toJson", vec![json!(null)], "null"),
            ("fromJson", vec![json!("{\"a\":1}")], "map[a:1]"),
            ("sha256sum", vec![json!("abc")], "ba7816bf"),
            (
                "slugify",
                vec![json!("Hello, World!  v2")],
                "hello-world-v2",
            ),
            ("truncateName", vec![json!("abc-def"), json!(4)], "abc"),
            ("truncateName", vec![json!("short")], "short"),
            (
                "domainHost",
                vec![json!(" https://acme.example.com/ ")],
                "acme.example.com",
            ),
            ("domainHost", vec![json!(3)], ""),
            (
                "domainBare",
                vec![json!("https://www.acme.com/")],
                "acme.com",
            ),
        ];
        check(&cases);
    }
}
