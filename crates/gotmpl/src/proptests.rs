//! Property tests: parsing and rendering never panic on arbitrary input, and rendering is
//! deterministic for a fixed `RenderContext`.

use proptest::prelude::*;
use serde_json::json;

use super::{Engine, RenderContext};
use crate::funcs::{builtins, testing};

/// Fragments that combine into plausible (and implausible) templates.
const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{{- ",
    " -}}",
    " ",
    "text",
    "\n",
    ".",
    ".spec",
    ".spec.items",
    ".metadata.name",
    ".a-b",
    "$",
    "$x",
    "$x := ",
    "$x = ",
    "$i, $v := ",
    "|",
    "(",
    ")",
    "if ",
    "else ",
    "else if ",
    "end",
    "range ",
    "with ",
    "break",
    "continue",
    "define \"t\"",
    "template \"t\" .",
    "block \"b\" .",
    "\"str\"",
    "`raw`",
    "'c'",
    "1",
    "-2",
    "3.5",
    "0x1F",
    "1e3",
    "nil",
    "true",
    "false",
    "printf \"%s-%d\" ",
    "default \"x\" ",
    "index . \"spec\" ",
    "len ",
    "and ",
    "or ",
    "not ",
    "eq ",
    "lt ",
    "list 1 2 ",
    "dict \"k\" ",
    "toJson ",
    "upper ",
    "repeat \"ab\" 3",
    "randAlphaNum 8",
    "now",
    "timeSince \"2020-01-01T00:00:00Z\"",
    "cronDescribe \"@daily\"",
    "/*",
    "*/",
    "\\",
    "\"",
    "{",
    "}",
];

fn data() -> serde_json::Value {
    json!({
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"items": [1, "two", {"three": 3}, null], "map": {"b": 1, "a": [true]}, "n": 2.5, "image": "nginx"},
        "a-b": "hyphen",
    })
}

fn fixed() -> RenderContext {
    RenderContext {
        now: time::macros::datetime!(2026-01-02 03:04:05 UTC),
        seed: Some(99),
    }
}

/// Small arbitrary JSON values: scalars, numeric and cron-like strings, nested lists and maps.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-1e6f64..1e6).prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "",
            "0",
            "-1",
            "3",
            "1.5",
            "abc",
            "*/5 * * * *",
            "@daily",
            "1Gi",
            "500m",
            "v1.2.3",
            "^1.2",
            "10.0.0.0/8",
            "10.1.2.3",
            "2026-05-19T10:00:00Z",
            "1h30m",
            "%d %s %v",
            "a,b",
            "{\"a\":1}",
            "true",
            "Ready",
            "\u{0}",
            "é",
        ])
        .prop_map(serde_json::Value::from),
        "[ -~]{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Every built-in, given any arguments its arity allows, returns a value or an error and
    /// never panics (nil-safety of the whole library).
    #[test]
    fn every_builtin_survives_arbitrary_arguments(
        pick in any::<prop::sample::Index>(),
        args in prop::collection::vec(json_value(), 0..6),
    ) {
        let mut names: Vec<&str> = builtins().keys().copied().collect();
        names.sort_unstable();
        let name = names[pick.index(names.len())];
        let arity = builtins()[name].arity;
        let n = args.len().clamp(arity.min, arity.max.unwrap_or(usize::MAX).min(arity.min + 5));
        let mut args = args;
        args.resize(n, serde_json::Value::Null);
        let _ = testing::call(name, &args);
    }


    #[test]
    fn assembled_templates_never_panic_and_render_deterministically(
        parts in prop::collection::vec(prop::sample::select(PIECES), 0..24)
    ) {
        let src: String = parts.concat();
        let engine = Engine::new();
        if let Ok(t) = engine.parse(&src) {
            let first = engine.render_with(&t, &data(), &fixed());
            let second = engine.render_with(&t, &data(), &fixed());
            prop_assert_eq!(first, second);
            let _ = t.field_refs();
            let _ = t.functions();
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_parser(src in any::<String>()) {
        let engine = Engine::new();
        if let Ok(t) = engine.parse(&src) {
            let _ = engine.render_with(&t, &data(), &fixed());
        }
    }

    #[test]
    fn arbitrary_actions_never_panic(inner in "[ -~]{0,40}") {
        let src = format!("{{{{ {inner} }}}}");
        let engine = Engine::new();
        if let Ok(t) = engine.parse(&src) {
            let _ = engine.render_with(&t, &data(), &fixed());
        }
    }
}
