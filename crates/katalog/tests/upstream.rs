//! Upstream's own example Katalogs and Komposers (`../shared/conformance/upstream/examples`):
//! how many load and validate exactly as `ork validate` does (`katalog::load`). Prints one row
//! per file (pass, or the first error and why) and fails when fewer files pass than the
//! recorded floor. With `ORK_UPSTREAM_TABLE=<file>` set, also writes the table as Markdown
//! (this is how `docs/upstream-conformance.md` is regenerated).
//!
//! A test rather than a script: `ork validate` is `katalog::load`, so calling it here judges the
//! same thing without building the CLI, and the floor is enforced on every `cargo test`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::util::conformance_dir;

/// Files that validated when this floor was last raised; never lower it.
const FLOOR: usize = 79;

/// Every file under `dir` whose top-level `kind:` is `Katalog` or `Komposer`, sorted.
fn katalog_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            katalog_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
            && std::fs::read_to_string(&path).is_ok_and(|text| {
                text.lines().any(|l| {
                    let l = l.trim_end();
                    l == "kind: Katalog" || l == "kind: Komposer"
                })
            })
        {
            out.push(path);
        }
    }
}

/// Why a file fails, from its first error and, for typed Go code, from what the file declares:
/// the causes this project tracks separately.
fn reason(d: &katalog::Diagnostic, text: &str) -> &'static str {
    let typed_go = text.lines().any(|l| {
        let l = l.trim();
        l == "hooks:" || l == "constructor:"
    });
    match d.code {
        "file-not-found" => "names a file the upstream store did not hold",
        "import-unsupported" => "registry/OCI import (not supported)",
        "cross-unknown-crd" => "reads a CRD of another operator (remote `source`, another issue)",
        "renamed-key" => "key renamed in a breaking upstream release (upstream rejects it too)",
        _ if typed_go => "typed Go `hooks`/`constructor` (§9.8: ork runs no Go code)",
        _ => "form not yet accepted",
    }
}

#[test]
fn upstream_examples_validate_at_least_the_floor() {
    let root = conformance_dir().join("upstream");
    let mut files = Vec::new();
    katalog_files(&root.join("examples"), &mut files);
    assert!(
        !files.is_empty(),
        "no upstream Katalog/Komposer files found"
    );
    let mut table = String::from("| file | result | first error | why |\n|---|---|---|---|\n");
    let mut passed = 0;
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        match katalog::load(file) {
            Ok(_) => {
                passed += 1;
                let _ = writeln!(table, "| `{rel}` | pass | | |");
            }
            Err(d) => {
                let first = d.errors().next().expect("an error");
                let at = first
                    .file
                    .as_deref()
                    .and_then(|f| f.strip_prefix(&root).ok())
                    .map(|f| format!("{}:{}: ", f.display(), first.line))
                    .unwrap_or_default();
                let line = format!("{at}[{}] {}", first.code, first.message)
                    .replace('|', "\\|")
                    .replace('\n', " ");
                let text = std::fs::read_to_string(first.file.as_deref().unwrap_or(file))
                    .unwrap_or_default();
                let why = reason(first, &text);
                let _ = writeln!(table, "| `{rel}` | fail | {line} | {why} |");
            }
        }
    }
    let _ = writeln!(table, "\n{passed} of {} files validate.", files.len());
    println!("{table}");
    if let Some(out) = std::env::var_os("ORK_UPSTREAM_TABLE") {
        std::fs::write(&out, &table).expect("write the table");
    }
    assert!(
        passed >= FLOOR,
        "{passed} upstream files validate, fewer than the floor {FLOOR}:\n{table}"
    );
}
