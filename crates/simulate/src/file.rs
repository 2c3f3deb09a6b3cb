//! The Simulate file (spec §22.1): typed and strict. Unknown keys and values of the wrong
//! type are reported with file:line:col and key path, all at once, through the Katalog's own
//! decoder ([`katalog::de`]).
//!
//! ```yaml
//! apiVersion: orkestra.orkspace.io/v1
//! kind: Simulate
//! metadata: {name: my-sim}
//! spec:
//!   katalog: ./katalog.yaml
//!   cr: ./cr.yaml
//!   cycles: 5
//!   expect:
//!     steady: true
//!     ops:
//!       - {cycle: 1, verb: create, resource: deployments, name: my-app}
//! ```
//! or, as an aggregator, `imports:` (a list of Simulate files) instead of `spec:`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use katalog::yaml::SourceMap;
use katalog::{Diagnostic, Diagnostics, Location};
use serde::Deserialize;

/// The apiVersion of a Simulate file.
pub const API_VERSION: &str = "orkestra.orkspace.io/v1";

/// A Simulate document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SimulateFile {
    /// `orkestra.orkspace.io/v1`.
    pub api_version: String,
    /// `Simulate`.
    pub kind: String,
    /// Name and description.
    #[serde(default)]
    pub metadata: Metadata,
    /// One simulation (absent in an aggregator).
    pub spec: Option<Spec>,
    /// Other Simulate files to run, relative to this one (an aggregator).
    #[serde(default)]
    pub imports: Imports,
}

/// `imports:` as a list of files, or as `{files: [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Imports {
    /// `imports: [a.yaml, b.yaml]`.
    List(Vec<String>),
    /// `imports: {files: [a.yaml, b.yaml]}`.
    Files {
        /// The files.
        files: Vec<String>,
    },
}

impl Default for Imports {
    fn default() -> Self {
        Imports::List(Vec::new())
    }
}

impl Imports {
    /// The files, in order.
    pub fn files(&self) -> &[String] {
        match self {
            Imports::List(files) | Imports::Files { files } => files,
        }
    }

    /// True when no file is imported.
    pub fn is_empty(&self) -> bool {
        self.files().is_empty()
    }
}

/// `metadata:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    /// The simulation's name.
    pub name: Option<String>,
    /// What it checks.
    pub description: Option<String>,
}

/// `spec:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    /// The Katalog or Komposer, relative to this file.
    pub katalog: String,
    /// The CR file (multi-document), relative to this file.
    pub cr: Option<String>,
    /// A CRD file: the kinds it serves are used for their plural, scope and status.
    pub crd: Option<String>,
    /// More CRD files.
    #[serde(default)]
    pub crd_files: Vec<String>,
    /// Cycles to run (default 10; `--cycles` overrides).
    pub cycles: Option<u32>,
    /// Stub external calls with an empty answer.
    #[serde(default)]
    pub skip_external: bool,
    /// A serve target's operatorBox (not supported: refused).
    pub target: Option<String>,
    /// What must hold; absent: print the ops and exit 0.
    pub expect: Option<Expect>,
}

/// `expect:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Expect {
    /// `true`: no cycle ended with a reconcile error. `false`: errors are expected (they
    /// then do not fail the file). Absent: errors fail the file, as with `true`.
    pub no_errors: Option<bool>,
    /// A steady state is reached (true) or not (false).
    pub steady: Option<bool>,
    /// The steady state is reached at this cycle or earlier.
    pub steady_at: Option<u32>,
    /// Ops that must happen.
    #[serde(default)]
    pub ops: Vec<OpRule>,
    /// Ops that must not happen.
    #[serde(default)]
    pub absent: Vec<OpRule>,
    /// Per-CRD expectations replacing these for that CRD.
    #[serde(default)]
    pub crds: BTreeMap<String, Expect>,
}

/// One op rule: every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OpRule {
    /// The cycle (absent: any cycle).
    pub cycle: Option<u32>,
    /// `create`, `update`, `apply`, `patch`, `delete` (or a read verb).
    pub verb: Option<String>,
    /// Plural resource, or `status`.
    pub resource: Option<String>,
    /// Object name.
    pub name: Option<String>,
    /// At least this many matching ops (default 1; `ops:` only).
    pub count: Option<u32>,
}

/// The verbs an op rule may name.
pub const VERBS: &[&str] = &[
    "create", "update", "apply", "patch", "delete", "get", "list", "watch",
];

/// A Simulate file as read.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Where it is.
    pub path: PathBuf,
    /// What it says.
    pub file: SimulateFile,
}

impl Loaded {
    /// A path the file names, resolved against its directory.
    pub fn resolve(&self, relative: &str) -> PathBuf {
        self.path.parent().unwrap_or(Path::new(".")).join(relative)
    }
}

fn error_at(path: &Path, line: u32, col: u32, code: &'static str, message: String) -> Diagnostic {
    let d = Diagnostic::error(code, message);
    if line > 0 {
        d.at(&Location {
            file: path.to_path_buf(),
            line,
            col,
        })
    } else {
        d.in_file(path)
    }
}

/// Reads and checks a Simulate file: strict keys and types, apiVersion and kind, `spec:` or
/// `imports:` (one of them), known verbs, no `target:`.
///
/// # Errors
/// Every problem found, with file:line:col.
pub fn load(path: &Path) -> Result<Loaded, Diagnostics> {
    let mut sources = SourceMap::default();
    let fail = |items: Vec<Diagnostic>, sources: SourceMap| Diagnostics { items, sources };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            let d = Diagnostic::error(
                "unreadable-file",
                format!("cannot read {}: {e}", path.display()),
            )
            .in_file(path);
            return Err(fail(vec![d], sources));
        }
    };
    let id = sources.add(path.to_path_buf(), text.clone());
    let node = match katalog::yaml::parse_single(&text, id) {
        Ok(n) => n,
        Err(e) => {
            let span = e.span();
            let d = error_at(
                path,
                span.line,
                span.col,
                e.code(),
                format!("{}: {e}", path.display()),
            );
            return Err(fail(vec![d], sources));
        }
    };
    let (decoded, mut problems) = katalog::de::from_node::<SimulateFile>(&node, &sources);
    let file = match decoded {
        Ok(f) => f,
        Err(d) => {
            problems.insert(0, d);
            return Err(fail(problems, sources));
        }
    };
    let at = |d: Diagnostic| {
        d.at(&Location {
            file: path.to_path_buf(),
            line: node.span.line,
            col: node.span.col,
        })
    };
    if file.api_version != API_VERSION {
        problems.push(
            at(Diagnostic::error(
                "invalid-value",
                format!(
                    "apiVersion is `{}`; a Simulate file has `{API_VERSION}`",
                    file.api_version
                ),
            ))
            .with_path("apiVersion"),
        );
    }
    if file.kind != "Simulate" {
        problems.push(
            at(Diagnostic::error(
                "invalid-value",
                format!("kind is `{}`; expected `Simulate`", file.kind),
            ))
            .with_path("kind"),
        );
    }
    match (&file.spec, file.imports.is_empty()) {
        (None, true) => problems.push(at(Diagnostic::error(
            "missing-field",
            "a Simulate file needs `spec:` (one simulation) or `imports:` (an aggregator)",
        ))),
        (Some(_), false) => problems.push(at(Diagnostic::error(
            "invalid-value",
            "`spec:` and `imports:` cannot both be given: an aggregator only imports",
        ))),
        _ => {}
    }
    if let Some(spec) = &file.spec {
        if spec.target.is_some() {
            problems.push(at(Diagnostic::error(
                "unsupported",
                "spec.target (a serve target's operatorBox) is not supported by ork simulate yet",
            ))
            .with_path("spec.target"));
        }
        if spec.cycles == Some(0) {
            problems.push(
                at(Diagnostic::error(
                    "invalid-value",
                    "spec.cycles must be at least 1",
                ))
                .with_path("spec.cycles"),
            );
        }
        if let Some(expect) = &spec.expect {
            check_verbs(expect, "spec.expect", &mut |p, v| {
                problems.push(
                    at(Diagnostic::error(
                        "invalid-value",
                        format!("unknown verb `{v}`; known verbs: {}", VERBS.join(", ")),
                    ))
                    .with_path(p),
                );
            });
        }
    }
    if problems.iter().any(Diagnostic::is_error) {
        return Err(fail(problems, sources));
    }
    Ok(Loaded {
        path: path.to_path_buf(),
        file,
    })
}

/// [`load`], then every file the Simulate file names must exist (the Katalog, the CR file,
/// CRD files) and every import must itself [`check`]: what `ork validate` reports for a
/// Simulate file. Returns the number of Simulate files checked.
///
/// # Errors
/// Every problem found in this file, or the first import's problems.
pub fn check(path: &Path) -> Result<usize, Diagnostics> {
    let loaded = load(path)?;
    let mut problems = Vec::new();
    let mut named: Vec<(String, &String)> = Vec::new();
    if let Some(spec) = &loaded.file.spec {
        named.push(("spec.katalog".into(), &spec.katalog));
        match &spec.cr {
            Some(cr) => named.push(("spec.cr".into(), cr)),
            None => problems.push(
                Diagnostic::error(
                    "missing-field",
                    "spec.cr is required: the CR file to reconcile",
                )
                .in_file(path)
                .with_path("spec.cr"),
            ),
        }
        named.extend(spec.crd.iter().map(|c| ("spec.crd".to_owned(), c)));
        named.extend(
            spec.crd_files
                .iter()
                .enumerate()
                .map(|(i, c)| (format!("spec.crdFiles[{i}]"), c)),
        );
    }
    for (key, file) in named {
        if !loaded.resolve(file).is_file() {
            problems.push(
                Diagnostic::error("file-not-found", format!("{key}: `{file}` does not exist"))
                    .in_file(path)
                    .with_path(key),
            );
        }
    }
    if !problems.is_empty() {
        return Err(Diagnostics {
            items: problems,
            sources: SourceMap::default(),
        });
    }
    let mut checked = 1;
    for import in loaded.file.imports.files() {
        checked += check(&loaded.resolve(import))?;
    }
    Ok(checked)
}

fn check_verbs(expect: &Expect, path: &str, report: &mut impl FnMut(String, &str)) {
    for (list, rules) in [("ops", &expect.ops), ("absent", &expect.absent)] {
        for (i, rule) in rules.iter().enumerate() {
            if let Some(v) = rule.verb.as_deref().filter(|v| !VERBS.contains(v)) {
                report(format!("{path}.{list}[{i}].verb"), v);
            }
        }
    }
    for (crd, e) in &expect.crds {
        check_verbs(e, &format!("{path}.crds.{crd}"), report);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Loaded, Diagnostics> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("simulate.yaml");
        std::fs::write(&path, text).unwrap();
        load(&path)
    }

    #[test]
    fn a_full_file_reads() {
        let l = load_text(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {name: s}\nspec:\n  katalog: ./k.yaml\n  cr: ./cr.yaml\n  cycles: 3\n  expect:\n    steady: true\n    ops:\n      - {cycle: 1, verb: create, resource: deployments, name: a, count: 2}\n    crds:\n      web: {noErrors: true}\n",
        )
        .unwrap();
        let spec = l.file.spec.unwrap();
        assert_eq!(spec.cycles, Some(3));
        let expect = spec.expect.unwrap();
        assert_eq!(expect.ops[0].count, Some(2));
        assert_eq!(expect.crds["web"].no_errors, Some(true));
    }

    #[test]
    fn unknown_keys_and_verbs_are_errors_with_their_place() {
        let err = load_text(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nspec:\n  katalog: k.yaml\n  cylces: 3\n  expect:\n    ops:\n      - {verb: craete}\n",
        )
        .unwrap_err();
        let text = err.render();
        assert!(text.contains("cylces"), "{text}");
        assert!(text.contains(":5:"), "{text}");
        let err = load_text(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nspec:\n  katalog: k.yaml\n  expect:\n    ops:\n      - {verb: craete}\n",
        )
        .unwrap_err();
        assert!(
            err.render().contains("spec.expect.ops[0].verb"),
            "{}",
            err.render()
        );
    }

    #[test]
    fn check_wants_the_named_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("simulate.yaml");
        std::fs::write(&path, "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nspec: {katalog: k.yaml, cr: cr.yaml}\n").unwrap();
        std::fs::write(dir.path().join("k.yaml"), "").unwrap();
        let err = check(&path).unwrap_err().render();
        assert!(err.contains("spec.cr: `cr.yaml` does not exist"), "{err}");
        std::fs::write(dir.path().join("cr.yaml"), "").unwrap();
        assert_eq!(check(&path).unwrap(), 1);
    }

    #[test]
    fn spec_or_imports_and_no_target() {
        assert!(load_text("apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\n").is_err());
        let l =
            load_text("apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nimports: [a.yaml]\n")
                .unwrap();
        assert_eq!(l.file.imports.files(), ["a.yaml"]);
        let l = load_text(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nimports:\n  files: [b.yaml]\n",
        )
        .unwrap();
        assert_eq!(l.file.imports.files(), ["b.yaml"]);
        let err = load_text("apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nspec: {katalog: k.yaml, target: web}\n")
            .unwrap_err();
        assert!(err.render().contains("spec.target"));
    }
}
