//! Running Simulate files (and aggregators) or a Katalog with a CR file: loading what they
//! name, one [`run::simulate`] per CRD, the expectations, and the report of each file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use katalog::Katalog;
use serde_json::Value;

use crate::expect;
use crate::file::{self, Expect};
use crate::report;
use crate::run::{self, Inputs};

/// The default number of cycles.
pub const DEFAULT_CYCLES: u32 = 10;

/// What the command line adds to a file.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Cycles, overriding the file's `spec.cycles`.
    pub cycles: Option<u32>,
    /// `--skip-external`.
    pub skip_external: bool,
    /// Simulate only this CRD.
    pub crd: Option<String>,
    /// Print every request.
    pub debug_ops: bool,
    /// The API every run goes against (`--envtest`: the local control plane).
    pub backend: crate::api::Backend,
}

/// How one simulation file ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every expectation held.
    Passed,
    /// No `expect:`: the ops were printed, and no cycle failed.
    Printed,
    /// Expectations failed or cycles ended in errors: each named.
    Failed(Vec<String>),
    /// It could not run (unreadable file, invalid Katalog, no CR, …).
    Broken(String),
}

impl Verdict {
    /// Whether the command should exit 0 for it.
    pub fn ok(&self) -> bool {
        matches!(self, Verdict::Passed | Verdict::Printed)
    }

    /// One line: `pass`, or what failed.
    pub fn summary(&self) -> String {
        match self {
            Verdict::Passed => "pass".into(),
            Verdict::Printed => "pass (no expect)".into(),
            Verdict::Failed(f) => f.join("; "),
            Verdict::Broken(why) => {
                // A rendered diagnostic list: its first error says the most.
                let head = why.lines().next().unwrap_or_default();
                match why.lines().find(|l| l.starts_with("error[")) {
                    Some(error) if error != head => format!("{head}{error}"),
                    _ => head.to_owned(),
                }
            }
        }
    }
}

/// The report of one simulation file (or of a Katalog run directly).
#[derive(Debug, Clone)]
pub struct Report {
    /// The file.
    pub path: PathBuf,
    /// What `ork simulate` prints for it.
    pub text: String,
    /// How it ended.
    pub verdict: Verdict,
}

fn read_documents(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
        .map_err(|e| format!("{} is not YAML: {e}", path.display()))?;
    Ok(docs.into_iter().filter(Value::is_object).collect())
}

/// What one simulation needs, paths resolved.
#[derive(Debug, Clone)]
pub struct Job {
    /// The file reported on (the Simulate file, or the Katalog).
    pub path: PathBuf,
    /// The Katalog or Komposer.
    pub katalog: PathBuf,
    /// The CR file.
    pub cr: PathBuf,
    /// CRD files.
    pub crd_files: Vec<PathBuf>,
    /// Cycles (before the command line's override).
    pub cycles: u32,
    /// The file's `skipExternal`.
    pub skip_external: bool,
    /// What must hold.
    pub expect: Option<Expect>,
}

/// Loads a Katalog, rendering its diagnostics on failure.
///
/// # Errors
/// The rendered diagnostics.
pub fn load_katalog(path: &Path) -> Result<Katalog, String> {
    katalog::load(path)
        .map(|l| l.katalog)
        .map_err(|d| format!("the Katalog is invalid: \n{}", d.render()))
}

/// Runs one job: every CRD (or `settings.crd`) with a CR in the CR file.
pub async fn run_job(job: &Job, settings: &Settings) -> Report {
    let broken = |why: String| Report {
        path: job.path.clone(),
        text: format!("{why}\n"),
        verdict: Verdict::Broken(why),
    };
    let katalog = match load_katalog(&job.katalog) {
        Ok(k) => k,
        Err(e) => return broken(e),
    };
    let crs = match read_documents(&job.cr) {
        Ok(d) => d,
        Err(e) => return broken(e),
    };
    let mut crd_documents = Vec::new();
    for path in &job.crd_files {
        match read_documents(path) {
            Ok(d) => crd_documents.extend(d),
            Err(e) => return broken(e),
        }
    }
    let targets: Vec<&katalog::Crd> = match &settings.crd {
        Some(name) => match katalog.crd(name) {
            Some(c) => vec![c],
            None => {
                let known: Vec<&str> = katalog.crds.iter().map(|c| c.name.as_str()).collect();
                return broken(format!(
                    "no CRD named {name:?} in the Katalog (it has: {})",
                    known.join(", ")
                ));
            }
        },
        None => katalog.enabled_crds().collect(),
    };
    let inputs = Inputs {
        crs,
        crd_documents,
        cycles: settings.cycles.unwrap_or(job.cycles),
        skip_external: settings.skip_external || job.skip_external,
        backend: settings.backend,
    };
    let mut text = String::new();
    let mut failures = Vec::new();
    let mut ran = 0;
    for crd in &targets {
        let has_cr = inputs
            .crs
            .iter()
            .any(|d| d.get("kind").and_then(Value::as_str) == Some(crd.gvk().kind.as_str()));
        if !has_cr && targets.len() > 1 {
            text.push_str(&format!(
                "  note: no CR of kind {} in {} — {} skipped\n\n",
                crd.gvk().kind,
                job.cr.display(),
                crd.name
            ));
            continue;
        }
        let run = match run::simulate(&katalog, crd, &inputs).await {
            Ok(r) => r,
            Err(e) => return broken(e.to_string()),
        };
        ran += 1;
        text.push_str(&report::run(&run, settings.debug_ops));
        text.push('\n');
        let (expect, _) = match &job.expect {
            Some(e) => {
                let (e, prefix) = expect::for_crd(e, &crd.name);
                (Some(e), prefix)
            }
            None => (None, String::new()),
        };
        let errors_expected = expect.is_some_and(|e| e.no_errors == Some(false));
        for cycle in run
            .cycles
            .iter()
            .filter(|c| c.error.is_some() && !errors_expected)
        {
            failures.push(format!(
                "{}: cycle {} failed: {}",
                crd.name,
                cycle.number,
                cycle.error.as_deref().unwrap_or_default()
            ));
        }
        if let Some(expect) = &job.expect {
            let outcomes = expect::check(&run, expect);
            text.push_str(&report::outcomes(&outcomes));
            text.push('\n');
            failures.extend(outcomes.iter().filter(|o| !o.passed()).map(|o| {
                format!(
                    "{}: expectation {} failed: {} — {}",
                    crd.name,
                    o.field,
                    o.expected,
                    o.failure.as_deref().unwrap_or_default()
                )
            }));
        }
    }
    if ran == 0 {
        return broken(format!(
            "no CR in {} is of a kind the Katalog declares",
            job.cr.display()
        ));
    }
    let verdict = if !failures.is_empty() {
        Verdict::Failed(failures)
    } else if job.expect.is_some() {
        Verdict::Passed
    } else {
        Verdict::Printed
    };
    Report {
        path: job.path.clone(),
        text,
        verdict,
    }
}

/// Runs a Simulate file, or every file an aggregator imports (depth first, each file once:
/// `seen` holds the files already run in this invocation).
pub async fn run_file(
    path: &Path,
    settings: &Settings,
    seen: &mut HashSet<PathBuf>,
) -> Vec<Report> {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if !seen.insert(canonical) {
        return Vec::new();
    }
    let loaded = match file::load(path) {
        Ok(l) => l,
        Err(d) => {
            let why = d.render();
            return vec![Report {
                path: path.to_path_buf(),
                text: why.clone(),
                verdict: Verdict::Broken(why),
            }];
        }
    };
    let Some(spec) = &loaded.file.spec else {
        let mut reports = Vec::new();
        for import in loaded.file.imports.files() {
            let child = loaded.resolve(import);
            reports.extend(Box::pin(run_file(&child, settings, seen)).await);
        }
        return reports;
    };
    let Some(cr) = &spec.cr else {
        let why = format!(
            "{}: spec.cr is required (the CR file to reconcile)",
            path.display()
        );
        return vec![Report {
            path: path.to_path_buf(),
            text: format!("{why}\n"),
            verdict: Verdict::Broken(why),
        }];
    };
    let crd_files = spec
        .crd
        .iter()
        .chain(&spec.crd_files)
        .map(|c| loaded.resolve(c))
        .collect();
    let job = Job {
        path: path.to_path_buf(),
        katalog: loaded.resolve(&spec.katalog),
        cr: loaded.resolve(cr),
        crd_files,
        cycles: spec.cycles.unwrap_or(DEFAULT_CYCLES),
        skip_external: spec.skip_external,
        expect: spec.expect.clone(),
    };
    let mut report = run_job(&job, settings).await;
    if let Some(name) = &loaded.file.metadata.name {
        report.text = format!("── {name} ({}) ──\n{}", path.display(), report.text);
    }
    vec![report]
}

/// Every file named `simulate.yaml` under `root` (hidden directories and `target/` left
/// out), sorted.
pub fn discover(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    stack.push(path);
                }
            } else if name == "simulate.yaml" {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}
