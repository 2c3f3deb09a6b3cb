//! Property tests: parsing and rendering never panic on arbitrary input, and rendering is
//! deterministic for a fixed `RenderContext`.

use proptest::prelude::*;
use serde_json::json;

use super::{Engine, RenderContext};

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

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

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
