//! Input-format checks for validation rules: `isValidEmail`, `isValidURL`,
//! `isValidGitRepository`, `isValidImageRef`, `isValidJSON`, `isValidPort`, and Kubernetes
//! formats (`isValidLabelValue`, `isValidLabelKey`, `isValidAnnotationKey`,
//! `isDNS1123Subdomain`), plus `getLabel`/`getAnnotation` to feed them.

use std::sync::OnceLock;

use regex::Regex;

use super::kube::text;
use super::{Builtin, arg, b, s, str_arg};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("isValidEmail", "validation", 1, 1, |a, _| b(matches(
        &EMAIL,
        r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+$",
        &str_arg(&a, 0)
    ))),
    f!("isValidURL", "validation", 1, 1, |a, _| b(matches(
        &URL,
        r"^https?://[^\s/?#@]+(?:[/?#]\S*)?$",
        &str_arg(&a, 0)
    ))),
    f!("isValidGitRepository", "validation", 1, 1, |a, _| b(
        matches(
            &GIT,
            r"^(?:(?:https?|git|ssh)://\S+/\S+|[\w.\-]+@[\w.\-]+:[\w./\-~]+)$",
            &str_arg(&a, 0)
        )
    )),
    f!("isValidImageRef", "validation", 1, 1, |a, _| b(matches(
        &IMAGE,
        r"^(?:[a-zA-Z0-9.\-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._\-]{1,2}[a-z0-9]+)*(?:/[a-z0-9]+(?:[._\-]{1,2}[a-z0-9]+)*)*(?::[\w][\w.\-]{0,127})?(?:@sha256:[a-f0-9]{64})?$",
        &str_arg(&a, 0)
    ))),
    f!("isValidJSON", "validation", 1, 1, |a, _| b(
        serde_json::from_str::<serde_json::Value>(&str_arg(&a, 0)).is_ok()
    )),
    f!("isValidPort", "validation", 1, 1, |a, _| b(str_arg(&a, 0)
        .trim()
        .parse::<u32>()
        .is_ok_and(|p| (1..=65535).contains(&p)))),
    f!("isValidLabelValue", "validation", 1, 1, |a, _| b(
        is_label_value(&str_arg(&a, 0))
    )),
    f!("isValidLabelKey", "validation", 1, 1, |a, _| b(
        is_qualified_key(&str_arg(&a, 0))
    )),
    f!("isValidAnnotationKey", "validation", 1, 1, |a, _| b(
        is_qualified_key(&str_arg(&a, 0))
    )),
    f!("isDNS1123Subdomain", "validation", 1, 1, |a, _| b(
        is_dns_subdomain(&str_arg(&a, 0))
    )),
    f!("getLabel", "kubernetes", 2, 2, |a, _| s(text(
        arg(&a, 0),
        &["metadata", "labels", &str_arg(&a, 1)]
    ))),
    f!("getAnnotation", "kubernetes", 2, 2, |a, _| s(text(
        arg(&a, 0),
        &["metadata", "annotations", &str_arg(&a, 1)]
    ))),
];

static EMAIL: OnceLock<Regex> = OnceLock::new();
static URL: OnceLock<Regex> = OnceLock::new();
static GIT: OnceLock<Regex> = OnceLock::new();
static IMAGE: OnceLock<Regex> = OnceLock::new();

fn matches(cell: &OnceLock<Regex>, pattern: &str, text: &str) -> bool {
    cell.get_or_init(|| Regex::new(pattern).expect("built-in patterns compile"))
        .is_match(text)
}

/// At most 63 characters of `[A-Za-z0-9_.-]`, starting and ending alphanumeric; "" is valid.
fn is_label_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
            && v.as_bytes()[0].is_ascii_alphanumeric()
            && v.as_bytes()[v.len() - 1].is_ascii_alphanumeric())
}

/// `[prefix/]name`: a non-empty label-value-shaped name and an optional DNS-subdomain prefix.
fn is_qualified_key(k: &str) -> bool {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    !name.is_empty() && is_label_value(name) && prefix.is_none_or(is_dns_subdomain)
}

/// Lowercase alphanumeric labels with inner `-`, joined by `.`, at most 253 characters.
fn is_dns_subdomain(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 253
        && v.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn validation_notes_accept_and_reject_the_documented_examples() {
        check(&[
            ("isValidEmail", vec![json!("team@myorg.io")], "true"),
            ("isValidEmail", vec![json!("Team <team@myorg.io>")], "false"),
            ("isValidEmail", vec![json!("not-an-email")], "false"),
            (
                "isValidGitRepository",
                vec![json!("https://github.com/myorg/payments")],
                "true",
            ),
            (
                "isValidGitRepository",
                vec![json!("git@github.com:myorg/payments.git")],
                "true",
            ),
            ("isValidGitRepository", vec![json!("not a repo")], "false"),
            (
                "isValidURL",
                vec![json!("https://example.com/webhook")],
                "true",
            ),
            ("isValidURL", vec![json!("ftp://example.com")], "false"),
            ("isValidImageRef", vec![json!("myorg/app:v1.2.3")], "true"),
            (
                "isValidImageRef",
                vec![json!("registry.myorg.io:5000/team/app:latest")],
                "true",
            ),
            ("isValidImageRef", vec![json!("MyOrg/App")], "false"),
            (
                "isValidJSON",
                vec![json!("{\"app\": \"payments-api\"}")],
                "true",
            ),
            ("isValidJSON", vec![json!("{not json")], "false"),
            ("isValidPort", vec![json!("8080")], "true"),
            ("isValidPort", vec![json!(443)], "true"),
            ("isValidPort", vec![json!("0")], "false"),
            ("isValidPort", vec![json!("70000")], "false"),
            ("isValidLabelValue", vec![json!("team-payments")], "true"),
            ("isValidLabelValue", vec![json!("")], "true"),
            ("isValidLabelValue", vec![json!("team payments")], "false"),
            ("isValidLabelValue", vec![json!("-leading-dash")], "false"),
            (
                "isValidLabelKey",
                vec![json!("platform.myorg.io/tier")],
                "true",
            ),
            ("isValidLabelKey", vec![json!("bad key")], "false"),
            (
                "isValidAnnotationKey",
                vec![json!("platform.myorg.io/jira-ticket")],
                "true",
            ),
            (
                "isDNS1123Subdomain",
                vec![json!("my-app.example.com")],
                "true",
            ),
            ("isDNS1123Subdomain", vec![json!("My_App")], "false"),
            ("isDNS1123Subdomain", vec![json!("")], "false"),
            (
                "getLabel",
                vec![
                    json!({"metadata": {"labels": {"team": "pay"}}}),
                    json!("team"),
                ],
                "pay",
            ),
            ("getAnnotation", vec![json!(null), json!("x")], ""),
        ]);
    }
}
