//! The function catalog: for every built-in function a signature, a description and an
//! example with its output, read from `functions.tsv`. `ork notes` browses it and the
//! reference table of `docs/template-functions.md` is generated from it; a test renders every
//! example against [`sample_data`] (at [`example_context`]) so the documented outputs stay
//! true, and fails when a built-in has no entry.

use std::sync::OnceLock;

use serde_json::Value as Json;

use crate::RenderContext;
use crate::funcs;

#[cfg(test)]
mod tests;

/// The table, as written.
const TABLE: &str = include_str!("functions.tsv");
/// The data every example renders over: a CR with `.children` of many kinds.
const SAMPLE: &str = include_str!("sample.json");

/// One built-in function, documented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionDoc {
    /// Its name in templates.
    pub name: &'static str,
    /// Its family (`strings`, `kubernetes`, ...).
    pub domain: &'static str,
    /// How it is called, arguments in capitals: `trimPrefix S PREFIX`.
    pub signature: &'static str,
    /// What it returns.
    pub description: &'static str,
    /// A template using it.
    pub example: &'static str,
    /// What the example renders to over [`sample_data`] at [`example_context`].
    pub output: String,
}

/// Every built-in function, in the table's order (grouped by family).
pub fn function_docs() -> &'static [FunctionDoc] {
    static DOCS: OnceLock<Vec<FunctionDoc>> = OnceLock::new();
    DOCS.get_or_init(|| parse_table(TABLE))
}

/// The documentation of one built-in function.
pub fn function_doc(name: &str) -> Option<&'static FunctionDoc> {
    function_docs().iter().find(|d| d.name == name)
}

/// The object examples render over (`.` in every example).
pub fn sample_data() -> Json {
    serde_json::from_str(SAMPLE).expect("catalog/sample.json is valid JSON")
}

/// The clock (2026-01-02T12:00:00Z, a Friday) and seed (42) examples render with.
pub fn example_context() -> RenderContext {
    RenderContext {
        now: time::macros::datetime!(2026-01-02 12:00:00 UTC),
        seed: Some(42),
    }
}

/// The family of a built-in (`and` and `or` are Go's).
fn domain_of(name: &str) -> &'static str {
    match name {
        "and" | "or" => "go",
        _ => funcs::builtins().get(name).map_or("unknown", |f| f.domain),
    }
}

/// Parses the tab-separated table; `\n` in an output stands for a newline.
fn parse_table(table: &'static str) -> Vec<FunctionDoc> {
    table
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut cols = line.split('\t');
            let mut next = || cols.next().unwrap_or_default();
            let (name, signature, description, example, output) =
                (next(), next(), next(), next(), next());
            FunctionDoc {
                name,
                domain: domain_of(name),
                signature,
                description,
                example,
                output: output.replace("\\n", "\n"),
            }
        })
        .collect()
}

/// The Markdown reference generated from the table: one section per family, a table of
/// signature, description, example and output each.
pub fn reference_markdown() -> String {
    let mut domains: Vec<&str> = Vec::new();
    for d in function_docs() {
        if !domains.contains(&d.domain) {
            domains.push(d.domain);
        }
    }
    let mut out = String::new();
    for domain in domains {
        out.push_str(&format!(
            "\n### {domain}\n\n| Function | Description | Example | Output |\n|---|---|---|---|\n"
        ));
        for d in function_docs().iter().filter(|d| d.domain == domain) {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                d.signature,
                cell(d.description),
                code(d.example),
                code(&d.output.replace('\n', "\\n")),
            ));
        }
    }
    out
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Text as inline code in a Markdown table cell (empty shows as nothing).
fn code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let fence = if text.contains('`') { "``" } else { "`" };
    format!("{fence}{}{fence}", text.replace('|', "\\|"))
}
