//! Engine-level tests: Go `text/template` syntax and semantics, errors, caps, and the
//! conformance corpus's templates.

use serde_json::{Value as Json, json};

use super::*;

fn cx() -> RenderContext {
    RenderContext {
        now: time::macros::datetime!(2026-05-19 10:30:00 UTC),
        seed: Some(42),
    }
}

fn render(src: &str, data: &Json) -> String {
    let engine = Engine::new();
    let t = engine
        .parse(src)
        .unwrap_or_else(|e| panic!("parse {src:?}: {e}"));
    engine
        .render_with(&t, data, &cx())
        .unwrap_or_else(|e| panic!("render {src:?}: {e}"))
}

fn parse_err(src: &str) -> ParseError {
    Engine::new().parse(src).expect_err(src)
}

fn render_err(src: &str, data: &Json) -> RenderError {
    let engine = Engine::new();
    let t = engine
        .parse(src)
        .unwrap_or_else(|e| panic!("parse {src:?}: {e}"));
    engine.render_with(&t, data, &cx()).expect_err(src)
}

fn cr() -> Json {
    json!({
        "apiVersion": "demo.io/v1",
        "kind": "Website",
        "metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web"}},
        "spec": {"image": "nginx", "replicas": 3, "ratio": 0.5, "tags": ["a", "b"], "env": {"B": "2", "A": "1"},
                 "enabled": true, "empty": ""},
    })
}

#[test]
fn text_without_actions_is_static_and_renders_as_is() {
    let t = Engine::new().parse("plain text").unwrap();
    assert!(t.is_static());
    assert_eq!(render("plain text", &json!({})), "plain text");
    assert!(!Engine::new().parse("a {{ .x }}").unwrap().is_static());
}

#[test]
fn field_access_prints_values_like_go() {
    let data = cr();
    assert_eq!(
        render(
            "{{ .metadata.name }}:{{ .spec.replicas }}:{{ .spec.ratio }}",
            &data
        ),
        "web:3:0.5"
    );
    assert_eq!(
        render(
            "{{ .spec.tags }} {{ .spec.env }} {{ .spec.enabled }}",
            &data
        ),
        "[a b] map[A:1 B:2] true"
    );
}

#[test]
fn missing_keys_and_nil_render_empty_never_no_value() {
    let data = cr();
    assert_eq!(
        render(
            "[{{ .spec.nope }}][{{ .nope.deeper.still }}][{{ .spec.image.notamap }}]",
            &data
        ),
        "[][][]"
    );
    assert_eq!(render("[{{ print nil }}]", &data), "[<nil>]");
}

#[test]
fn capitalised_accessors_alias_metadata_spec_and_status() {
    let data = cr();
    assert_eq!(
        render(
            "{{ .Name }}/{{ .Namespace }}/{{ .Spec.image }}/{{ .Labels.app }}",
            &data
        ),
        "web/prod/nginx/web"
    );
    assert_eq!(render("{{ .Name }}", &json!({"Name": "own"})), "own");
}

#[test]
fn trim_markers_remove_whitespace_around_actions() {
    assert_eq!(render("a  {{- 1 }}  b", &json!({})), "a1  b");
    assert_eq!(render("a  {{ 1 -}}  \n b", &json!({})), "a  1b");
    assert_eq!(render("x\n{{- /* note */ -}}\ny", &json!({})), "xy");
}

#[test]
fn if_else_if_chains_pick_the_first_true_branch() {
    let src = "{{ if eq .t \"a\" }}A{{ else if eq .t \"b\" }}B{{ else if .t }}other{{ else }}none{{ end }}";
    assert_eq!(render(src, &json!({"t": "a"})), "A");
    assert_eq!(render(src, &json!({"t": "b"})), "B");
    assert_eq!(render(src, &json!({"t": "c"})), "other");
    assert_eq!(render(src, &json!({})), "none");
}

#[test]
fn long_else_if_chains_cost_no_nesting_depth() {
    let mut src = String::new();
    for k in 0..500 {
        src.push_str(&format!(
            "{{{{ {} eq .n {k} }}}}{k}",
            if k == 0 { "if" } else { "else if" }
        ));
    }
    src.push_str("{{ else }}none{{ end }}");
    assert_eq!(render(&src, &json!({"n": 499})), "499");
    assert_eq!(render(&src, &json!({"n": 1000})), "none");
}

#[test]
fn with_sets_dot_and_falls_back_to_else() {
    let src = "{{ with .spec }}{{ .image }}{{ else }}none{{ end }}";
    assert_eq!(render(src, &cr()), "nginx");
    assert_eq!(render(src, &json!({})), "none");
    assert_eq!(
        render(
            "{{ with .a }}A{{ else with .b }}{{ . }}{{ end }}",
            &json!({"b": "B"})
        ),
        "B"
    );
}

#[test]
fn range_iterates_lists_maps_in_sorted_order_and_integers() {
    let data = cr();
    assert_eq!(
        render("{{ range .spec.tags }}<{{ . }}>{{ end }}", &data),
        "<a><b>"
    );
    assert_eq!(
        render(
            "{{ range $k, $v := .spec.env }}{{ $k }}={{ $v }};{{ end }}",
            &data
        ),
        "A=1;B=2;"
    );
    assert_eq!(
        render(
            "{{ range $i, $v := .spec.tags }}{{ $i }}{{ $v }}{{ end }}",
            &data
        ),
        "0a1b"
    );
    assert_eq!(render("{{ range 3 }}{{ . }}{{ end }}", &data), "012");
    assert_eq!(
        render("{{ range .spec.none }}x{{ else }}empty{{ end }}", &data),
        "empty"
    );
    assert_eq!(
        render("{{ range (list 3 1 2) }}{{ . }}{{ end }}", &data),
        "312"
    );
    assert_eq!(
        render(
            "{{ range $k, $v := dict \"z\" 1 \"a\" 2 }}{{ $k }}{{ end }}",
            &data
        ),
        "az"
    );
}

#[test]
fn break_and_continue_control_the_innermost_range() {
    let src = "{{ range (list 1 2 3 4) }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}";
    assert_eq!(render(src, &json!({})), "13");
    assert_eq!(
        parse_err("{{ break }}").message,
        "{{break}} outside {{range}}"
    );
}

#[test]
fn variables_are_scoped_to_their_block_and_can_be_reassigned() {
    let src = "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ $y }}{{ end }}{{ $x }}";
    assert_eq!(render(src, &json!({})), "32");
    assert_eq!(
        parse_err("{{ if true }}{{ $y := 3 }}{{ end }}{{ $y }}").message,
        "undefined variable \"$y\""
    );
    assert_eq!(
        render(
            "{{ range .spec.tags }}{{ $.metadata.name }}{{ end }}",
            &cr()
        ),
        "webweb"
    );
}

#[test]
fn pipelines_pass_the_value_as_the_last_argument() {
    let data = cr();
    assert_eq!(
        render("{{ .spec.image | printf \"%s:%s\" \"img\" }}", &data),
        "img:nginx"
    );
    assert_eq!(
        render("{{ .spec.missing | default \"x\" | upper }}", &data),
        "X"
    );
    assert_eq!(
        render(
            "{{ printf \"%d-%s\" (len .spec.tags) (index .spec.tags 1) }}",
            &data
        ),
        "2-b"
    );
    assert_eq!(
        render(
            "{{ (index .spec.tags 0) }}{{ (dict \"k\" \"v\").k }}",
            &data
        ),
        "av"
    );
}

#[test]
fn and_or_short_circuit_and_return_the_deciding_value() {
    assert_eq!(render("{{ and 1 0 (fail \"never\") }}", &json!({})), "0");
    assert_eq!(
        render("{{ or \"\" \"b\" (fail \"never\") }}", &json!({})),
        "b"
    );
    assert_eq!(render("{{ and 1 2 }}|{{ or 0 \"\" }}", &json!({})), "2|");
}

#[test]
fn literals_cover_strings_raw_strings_numbers_chars_bools_and_nil() {
    let src = r#"{{ "a\tb" }}|{{ `r\n` }}|{{ 0x1F }}|{{ 1.5e2 }}|{{ 'a' }}|{{ true }}|{{ -3 }}"#;
    assert_eq!(render(src, &json!({})), "a\tb|r\\n|31|150|97|true|-3");
}

#[test]
fn define_template_and_block_render_named_bodies() {
    let src = "{{ define \"greet\" }}hi {{ .name }}{{ end }}{{ template \"greet\" .spec }}|{{ block \"b\" . }}B{{ end }}";
    assert_eq!(render(src, &json!({"spec": {"name": "bob"}})), "hi bob|B");
    assert_eq!(
        parse_err("{{ template \"nope\" }}").message,
        "no such template \"nope\""
    );
}

#[test]
fn unknown_functions_are_parse_errors_naming_the_function_and_position() {
    let e = parse_err("line1\n  {{ frobnicate .spec.image }}");
    assert_eq!(e.message, "function \"frobnicate\" not defined");
    assert_eq!((e.line, e.col), (2, 6));
    assert_eq!(e.function.as_deref(), Some("frobnicate"));
}

#[test]
fn syntax_errors_have_lowercase_messages_and_positions() {
    assert_eq!(parse_err("{{ .spec.image").message, "unclosed action");
    assert_eq!(parse_err("{{ if .x }}a").message, "unexpected EOF");
    assert_eq!(parse_err("{{ end }}").message, "unexpected {{end}}");
    assert_eq!(parse_err("{{ (1 }}").message, "unclosed left paren");
    assert_eq!(
        parse_err("{{ upper }}").message,
        "wrong number of args for upper: want 1 got 0"
    );
    assert_eq!(
        parse_err("{{ .a | .b }}").message,
        "non executable command in pipeline stage 2"
    );
    assert_eq!(
        parse_err("{{ $nope }}").message,
        "undefined variable \"$nope\""
    );
    assert_eq!(parse_err("{{ }}").message, "missing value for command");
}

#[test]
fn deep_nesting_is_a_parse_error_not_a_stack_overflow() {
    let deep = format!("{{{{ {}1{} }}}}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse_err(&deep).message.contains("nested deeper"));
    let ifs = format!(
        "{}x{}",
        "{{ if true }}".repeat(5_000),
        "{{ end }}".repeat(5_000)
    );
    assert!(parse_err(&ifs).message.contains("nested deeper"));
}

#[test]
fn renders_are_bounded_in_output_iterations_and_recursion() {
    assert_eq!(
        render_err("{{ range 200000 }}x{{ end }}", &json!({})),
        RenderError::TooManyIterations {
            limit: MAX_ITERATIONS
        }
    );
    let nested = "{{ range 1000 }}{{ range 1000 }}{{ end }}{{ end }}";
    assert_eq!(
        render_err(nested, &json!({})),
        RenderError::TooManyIterations {
            limit: MAX_ITERATIONS
        }
    );
    let big = "{{ range 2000 }}{{ repeat \"x\" 1000 }}{{ end }}";
    assert_eq!(
        render_err(big, &json!({})),
        RenderError::OutputTooLarge { limit: MAX_OUTPUT }
    );
    let recursive = "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" . }}";
    assert_eq!(
        render_err(recursive, &json!({})),
        RenderError::RecursionTooDeep { limit: MAX_DEPTH }
    );
}

#[test]
fn function_failures_name_the_function() {
    let e = render_err(
        "{{ required \"image is required\" .spec.image }}",
        &json!({}),
    );
    assert_eq!(
        e,
        RenderError::FunctionFailed {
            name: "required".into(),
            message: "image is required".into()
        }
    );
}

#[test]
fn field_refs_list_root_paths_through_with_variables_and_index() {
    let t = Engine::new()
        .parse("{{ .spec.image }}{{ with .status }}{{ .phase }}{{ end }}{{ $c := .cross.db }}{{ $c.status.host }}\
                {{ index .children \"deployment\" \"status\" }}{{ range .spec.items }}{{ .name }}{{ end }}{{ .Name }}")
        .unwrap();
    assert_eq!(
        t.field_refs(),
        vec![
            "spec.image",
            "status",
            "status.phase",
            "cross.db",
            "cross.db.status.host",
            "children",
            "children.deployment.status",
            "spec.items",
            "metadata.name"
        ]
    );
    assert_eq!(t.functions(), vec!["index".to_string()]);
}

#[test]
fn engine_lists_and_finds_functions() {
    let e = Engine::new();
    assert!(
        e.has_function("printf") && e.has_function("and") && e.has_function("allReplicasReady")
    );
    assert!(!e.has_function("frobnicate"));
    assert_eq!(e.function_domain("cronDescribe"), Some("cron"));
    assert_eq!(e.function_domain("and"), Some("go"));
    assert_eq!(e.function_domain("frobnicate"), None);
    let names = e.function_names();
    assert!(names.windows(2).all(|w| w[0] < w[1]));
    assert!(names.len() > 150, "only {} functions", names.len());
}

#[test]
fn is_template_detects_double_braces() {
    assert!(is_template("{{ .x }}"));
    assert!(is_template("a {{"));
    assert!(!is_template("a { b }"));
}

#[test]
fn engine_and_template_are_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<Template>();
}

/// Every `{{ ... }}` in the conformance packs parses, and none calls an unknown function.
#[test]
fn every_template_in_the_conformance_packs_parses() {
    // `shared/` sits beside the repository (or beside the worktrees' folder).
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = [
        "../../../shared/conformance/packs",
        "../../../../shared/conformance/packs",
    ]
    .iter()
    .map(|p| manifest.join(p))
    .find(|p| p.is_dir())
    .expect("conformance corpus not found beside the repository");
    let entries = walk(&root).unwrap();
    let engine = Engine::new()
        .with_notes(["fullImage", "appLabel", "serviceHost"].map(|n| Note {
            name: n.into(),
            expression: "x".into(),
            description: None,
        }))
        .unwrap();
    let mut checked = 0;
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let Some(start) = line.find("{{") else {
                continue;
            };
            let Some(end) = line.rfind("}}") else {
                continue;
            };
            if end < start {
                continue;
            }
            // The YAML scalar: unescape what YAML double quotes escape.
            let src = line[start..end + 2].replace("\\\"", "\"");
            if let Err(e) = engine.parse(&src) {
                panic!("{}: {src}: {e}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} templates found");
}

fn walk(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(out)
}

#[test]
fn docs_list_every_builtin() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/template-functions.md");
    let docs = std::fs::read_to_string(&path).expect("docs/template-functions.md exists");
    let engine = Engine::new();
    let missing: Vec<&str> = engine
        .function_names()
        .into_iter()
        .filter(|n| !docs.contains(&format!("`{n}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/template-functions.md: {missing:?}"
    );
}
