//! The catalog is complete and every example is true. `ORK_BLESS=1` rewrites the outputs in
//! `functions.tsv` and the generated section of `docs/template-functions.md` instead of
//! failing (review the diff).

use std::path::{Path, PathBuf};

use super::*;
use crate::Engine;

fn bless() -> bool {
    std::env::var_os("ORK_BLESS").is_some()
}

fn crate_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn every_builtin_has_exactly_one_entry() {
    let engine = Engine::new();
    let documented: Vec<&str> = function_docs().iter().map(|d| d.name).collect();
    let missing: Vec<&str> = engine
        .function_names()
        .into_iter()
        .filter(|n| !documented.contains(n))
        .collect();
    assert!(missing.is_empty(), "not in functions.tsv: {missing:?}");
    let mut seen = std::collections::BTreeSet::new();
    for d in function_docs() {
        assert!(seen.insert(d.name), "{} listed twice", d.name);
        assert!(engine.has_function(d.name), "{} is not a function", d.name);
        assert!(
            d.signature.split_whitespace().next() == Some(d.name),
            "{}: the signature starts with the name",
            d.name
        );
        assert!(!d.description.is_empty(), "{}: no description", d.name);
        assert!(
            d.example.contains(d.name),
            "{}: the example does not call it",
            d.name
        );
    }
}

#[test]
fn catalog_examples_hold() {
    let engine = Engine::new();
    let data = sample_data();
    let cx = example_context();
    let mut wrong = Vec::new();
    let mut actual = Vec::new();
    for d in function_docs() {
        let rendered = engine
            .parse(d.example)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                engine
                    .render_with(&t, &data, &cx)
                    .map_err(|e| e.to_string())
            });
        match rendered {
            Ok(out) => {
                if out != d.output {
                    wrong.push(format!(
                        "{}: {:?} renders {out:?}, not {:?}",
                        d.name, d.example, d.output
                    ));
                }
                actual.push((d.name, out));
            }
            Err(e) => wrong.push(format!("{}: {:?} fails: {e}", d.name, d.example)),
        }
    }
    if bless() && !actual.is_empty() {
        let path = crate_file("src/catalog/functions.tsv");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut out = String::new();
        for line in text.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            match actual
                .iter()
                .find(|(n, _)| cols.len() == 5 && cols[0] == *n)
            {
                Some((_, o)) => {
                    out.push_str(&cols[..4].join("\t"));
                    out.push('\t');
                    out.push_str(&o.replace('\n', "\\n"));
                }
                None => out.push_str(line),
            }
            out.push('\n');
        }
        std::fs::write(path, out).unwrap();
        return;
    }
    assert!(
        wrong.is_empty(),
        "{} example(s) wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The generated reference in the docs.
const BEGIN: &str =
    "<!-- BEGIN function reference: generated from crates/gotmpl/src/catalog/functions.tsv -->";
const END: &str = "<!-- END function reference -->";

#[test]
fn docs_reference_is_generated_from_the_catalog() {
    let path = crate_file("../../docs/template-functions.md");
    let docs = std::fs::read_to_string(&path).unwrap();
    let (Some(start), Some(end)) = (docs.find(BEGIN), docs.find(END)) else {
        panic!("docs/template-functions.md lacks the markers {BEGIN:?} … {END:?}");
    };
    let current = &docs[start + BEGIN.len()..end];
    let generated = format!("\n{}\n", reference_markdown().trim());
    if bless() {
        let updated = format!("{}{BEGIN}{generated}{}", &docs[..start], &docs[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert!(
        current == generated,
        "the reference in docs/template-functions.md is stale: run ORK_BLESS=1 cargo test -p gotmpl catalog"
    );
}
