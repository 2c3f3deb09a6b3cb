//! Differential tests against Go's `text/template`: `testdata/go_cases.json` rendered by Go
//! (`testdata/gogen`, see its doc) gives `testdata/go_golden.json`; the engine must produce the
//! same output, or fail where Go fails, except for the deliberate differences listed here.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Engine, RenderContext};

#[derive(Deserialize)]
struct Case {
    template: String,
    data: Json,
}

#[derive(Deserialize)]
struct Golden {
    template: String,
    output: String,
    error: bool,
}

/// Where ork differs from Go on purpose, with what ork renders instead.
const DIFFERENCES: &[(&str, &str)] = &[
    // nil and missing values print as nothing, also under printf's %v and %s.
    ("{{ printf \"%v|%s\" .spec.missing .spec.missing }}", "|"),
    ("{{ printf \"%v\" nil }}", ""),
    // A field of a non-map, `len` of nil, ordering against nil and out-of-range `index` are
    // nil-safe instead of failing the render.
    ("{{ .spec.image.x }}", ""),
    ("{{ len .spec.missing }}", "0"),
    ("{{ lt .spec.missing 1 }}", "true"),
    ("{{ index .spec.tags 10 }}", ""),
    // Numbers compare across int and float; lists and maps compare by value; different kinds
    // are unequal rather than an error.
    ("{{ eq 1 1.0 }}", "true"),
    (
        "{{ ge .spec.num 2.25 }}|{{ gt 2 1.5 }}|{{ lt -1 0 }}",
        "true|true|true",
    ),
    ("{{ eq .spec.tags .spec.tags }}", "true"),
    ("{{ eq \"1\" 1 }}", "false"),
];

#[test]
fn the_engine_renders_like_go_text_template() {
    let cases: Vec<Case> = serde_json::from_str(include_str!("testdata/go_cases.json")).unwrap();
    let golden: Vec<Golden> =
        serde_json::from_str(include_str!("testdata/go_golden.json")).unwrap();
    assert_eq!(cases.len(), golden.len(), "regenerate go_golden.json");
    let engine = Engine::new();
    let cx = RenderContext {
        now: time::OffsetDateTime::UNIX_EPOCH,
        seed: Some(1),
    };
    let mut failures = Vec::new();
    for (case, want) in cases.iter().zip(&golden) {
        assert_eq!(case.template, want.template, "regenerate go_golden.json");
        let got = engine
            .parse(&case.template)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                engine
                    .render_with(&t, &case.data, &cx)
                    .map_err(|e| e.to_string())
            });
        let expected = match DIFFERENCES.iter().find(|(t, _)| *t == case.template) {
            Some((_, ours)) => Some(ours.to_string()),
            None if want.error => None,
            // Go prints "<no value>" for missing keys; ork prints nothing.
            None => Some(want.output.replace("<no value>", "")),
        };
        match (&expected, &got) {
            (Some(e), Ok(g)) if e == g => {}
            (None, Err(_)) => {}
            _ => failures.push(format!(
                "{:?}: want {expected:?}, got {got:?}",
                case.template
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences from Go:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
