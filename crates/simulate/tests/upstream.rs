//! Acceptance: `ork simulate` on every simulate file of the original project's example packs
//! (`conformance/upstream`), with a table of file, result and reason, and a floor on the
//! number that pass (raise it when more pass; never lower it). With
//! `ORK_UPSTREAM_SIMULATE_TABLE=<file>` set, also writes the table as Markdown (the
//! repository keeps it as `docs/upstream-simulate.md`).

use std::collections::HashSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use simulate::suite::{self, Settings, Verdict};

/// Simulate files that pass today.
const FLOOR: usize = 31;

/// Files whose pack README says one expectation fails on purpose: (file, that expectation,
/// why). Such a file agrees with upstream when exactly that expectation fails, and the test
/// holds it to that.
const FAILS_BY_DESIGN: &[(&str, &str, &str)] = &[(
    "examples/registry-guide/03-katalog-cache/simulate.yaml",
    "ops[3]",
    "the pack's README: the gate fails on purpose (a ConfigMap the Motif does not create yet)",
)];

fn conformance_dir() -> PathBuf {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    let dir = std::env::var_os("ORK_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .or_else(|| beside.is_dir().then_some(beside))
        .unwrap_or_else(|| PathBuf::from("/work/shared/conformance"));
    assert!(
        dir.is_dir(),
        "the conformance corpus is missing: expected it at {} (set ORK_CONFORMANCE_DIR)",
        dir.display()
    );
    dir.canonicalize().expect("conformance dir resolves")
}

fn simulate_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("readable directory")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            simulate_files(&path, out);
        } else if path.file_name().is_some_and(|n| {
            let n = n.to_string_lossy();
            n.starts_with("simulate") && n.ends_with(".yaml")
        }) {
            out.push(path);
        }
    }
}

/// What kind of failure a first failure is.
fn classify(why: &str, text: &str) -> &'static str {
    let refused = why.starts_with("the Katalog is invalid");
    if why.contains("No such file") || why.contains("does not exist") {
        "upstream file missing from the store"
    } else if refused && why.contains("[import-unsupported]") {
        "remote (oci://) Motif import, not supported (upstream pulls it from a registry)"
    } else if refused
        && ["`hooks`", "`constructor`", "`managedResources`"]
            .iter()
            .any(|k| why.contains(k))
    {
        "typed Go `hooks`/`constructor` (ork runs no Go code; see docs/katalog-decisions.md)"
    } else if refused {
        "Katalog refused by ork validate"
    } else if text.contains("note: external: calls") {
        "external calls answered differently than upstream expects"
    } else {
        "ork's reconcile differs"
    }
}

#[tokio::test]
async fn every_upstream_simulate_file_runs_and_at_least_the_floor_passes() {
    // The packs calling external services expect Orkestra's dev server (`--dev-server`).
    simulate::dev_server::start(simulate::dev_server::DEFAULT_PORT)
        .await
        .expect("the dev server listens on 127.0.0.1:9999, as the packs' CRs expect");
    let root = conformance_dir().join("upstream");
    let mut files = Vec::new();
    simulate_files(&root, &mut files);
    files.sort();
    assert!(
        files.len() >= 60,
        "only {} simulate files found",
        files.len()
    );
    let mut table = String::from(
        "# Upstream simulate files\n\n`ork simulate` on every simulate file of the original project's example packs\n(`conformance/upstream`), with the dev server (`--dev-server`) on :9999, written by\n`crates/simulate/tests/upstream.rs`\n(`ORK_UPSTREAM_SIMULATE_TABLE=docs/upstream-simulate.md cargo test -p simulate --test upstream`).\nAn aggregator passes when every file it imports passes. The reason is the first failure.\nA file whose pack README says one expectation fails on purpose is marked so when exactly\nthat expectation fails.\n\n| file | result | kind of failure | first failure |\n|---|---|---|---|\n",
    );
    let mut passed = 0;
    let mut by_design = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let reports = suite::run_file(file, &Settings::default(), &mut HashSet::new()).await;
        let failed = reports.iter().find(|r| !r.verdict.ok());
        match (reports.is_empty(), failed) {
            (false, None) => {
                passed += 1;
                let _ = writeln!(table, "| `{rel}` | pass | | |");
            }
            (true, _) => {
                let _ = writeln!(table, "| `{rel}` | fail | | imports nothing |");
            }
            (false, Some(r)) if intended_failure(&rel, &r.verdict).is_some() => {
                by_design.push(rel.clone());
                let why = intended_failure(&rel, &r.verdict).unwrap_or_default();
                let failed = r.verdict.summary().replace('|', "\\|");
                let _ = writeln!(
                    table,
                    "| `{rel}` | fails as upstream intends | {why} | {failed} |"
                );
            }
            (false, Some(r)) => {
                let root_text = format!("{}/", root.display());
                let why = r
                    .verdict
                    .summary()
                    .replace(&root_text, "")
                    .replace('|', "\\|")
                    .replace('\n', " ");
                let why: String = why.chars().take(300).collect();
                let kind = classify(&why, &r.text);
                let _ = writeln!(table, "| `{rel}` | fail | {kind} | {why} |");
            }
        }
    }
    let _ = writeln!(
        table,
        "\n{passed} of {} files pass; {} more fail exactly as upstream intends.",
        files.len(),
        by_design.len()
    );
    println!("{table}");
    if let Some(out) = std::env::var_os("ORK_UPSTREAM_SIMULATE_TABLE") {
        std::fs::write(&out, &table).expect("write the table");
    }
    for (file, field, _) in FAILS_BY_DESIGN {
        assert!(
            by_design.iter().any(|f| f == file),
            "{file} no longer fails exactly on its intended expectation {field}"
        );
    }
    assert!(
        passed >= FLOOR,
        "{passed} upstream simulate files pass, fewer than the floor of {FLOOR}"
    );
}

/// Why `rel` fails as upstream intends, when it is listed in [`FAILS_BY_DESIGN`] and its only
/// failure is the listed expectation.
fn intended_failure(rel: &str, verdict: &Verdict) -> Option<&'static str> {
    let (_, field, why) = FAILS_BY_DESIGN.iter().find(|(f, _, _)| *f == rel)?;
    match verdict {
        Verdict::Failed(failures)
            if failures.len() == 1
                && failures[0].contains(&format!("expectation {field} failed")) =>
        {
            Some(why)
        }
        _ => None,
    }
}
