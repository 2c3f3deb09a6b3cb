//! Reading E2E files: strict decoding, `imports:` (recursively, in order), `include:` of
//! expectation files, and the checks that need no cluster: durations parse, every named file
//! exists, a file is a test or an aggregator.

use std::path::{Path, PathBuf};
use std::time::Duration;

use katalog::yaml::{SourceMap, parse_single};
use katalog::{Diagnostic, Diagnostics, Location};
use serde::de::DeserializeOwned;

use crate::format::{E2eFile, Expectation, IncludeFile, Spec};

/// Code of a diagnostic for a file an E2E file names that does not exist.
pub const FILE_NOT_FOUND: &str = "file-not-found";

/// How deep `imports:` may nest (a cycle is reported before this is reached).
const MAX_DEPTH: usize = 16;

/// The tests one E2E file stands for, in the order they run.
#[derive(Debug, Default)]
pub struct Suite {
    /// The tests (one for a test file; every imported test for an aggregator).
    pub tests: Vec<Test>,
    /// Warnings found while loading (keys ork reads but cannot honour).
    pub warnings: Vec<Diagnostic>,
    /// The files read, for rendering diagnostics.
    pub sources: SourceMap,
}

/// One runnable test: a file with a `spec:`.
#[derive(Debug, Clone)]
pub struct Test {
    /// The E2E file.
    pub file: PathBuf,
    /// Its directory (absolute): relative paths and commands start here.
    pub dir: PathBuf,
    /// `metadata.name`.
    pub name: String,
    /// The test, with every `include:` replaced by the expectations it names.
    pub spec: Spec,
    /// Imported with `freshCluster: true`: runs on a cluster of its own.
    pub fresh_cluster: bool,
    /// Imported with `wait:`: pause this long before it runs.
    pub wait_before: Option<Duration>,
}

/// Parses a duration of the file (`60s`, `1m30s`, a bare number of seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    katalog::condition::parse_duration(text).and_then(|d| Duration::try_from(d).ok())
}

/// Loads the E2E file at `path` and everything it imports or includes.
///
/// # Errors
/// Every problem found (unknown keys, wrong types, missing files, bad durations), each with
/// file:line:col and key path.
pub fn load(path: &Path) -> Result<Suite, Diagnostics> {
    let mut loader = Loader::default();
    loader.file(path, false, None, &mut Vec::new());
    let diagnostics = Diagnostics {
        items: loader.problems,
        sources: loader.sources,
    };
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    Ok(Suite {
        tests: loader.tests,
        warnings: diagnostics.items,
        sources: diagnostics.sources,
    })
}

#[derive(Default)]
struct Loader {
    sources: SourceMap,
    problems: Vec<Diagnostic>,
    tests: Vec<Test>,
}

impl Loader {
    /// Reads and decodes one YAML file into `T`, recording every problem.
    fn decode<T: DeserializeOwned>(&mut self, path: &Path) -> Option<T> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                self.problems.push(
                    Diagnostic::error(FILE_NOT_FOUND, format!("cannot read the file: {e}"))
                        .in_file(path),
                );
                return None;
            }
        };
        let id = self.sources.add(path.to_path_buf(), text.clone());
        let node = match parse_single(&text, id) {
            Ok(node) => node,
            Err(e) => {
                let span = e.span();
                self.problems
                    .push(Diagnostic::error(e.code(), e.to_string()).at(&Location {
                        file: path.to_path_buf(),
                        line: span.line,
                        col: span.col,
                    }));
                return None;
            }
        };
        let (result, found) = katalog::de::from_node::<T>(&node, &self.sources);
        let failed = found.iter().any(Diagnostic::is_error);
        self.problems.extend(found);
        match result {
            Ok(value) if !failed => Some(value),
            Ok(_) => None,
            Err(d) => {
                self.problems.push(d);
                None
            }
        }
    }

    /// Where `needle` is first written in `file` (for problems found after decoding).
    fn locate(&self, file: &Path, needle: &str) -> Location {
        let text = self.sources.text(file).unwrap_or_default();
        let (line, col) = text
            .lines()
            .enumerate()
            .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, c + 1)))
            .unwrap_or((0, 0));
        Location {
            file: file.to_path_buf(),
            line: u32::try_from(line).unwrap_or(0),
            col: u32::try_from(col).unwrap_or(0),
        }
    }

    fn error(&mut self, file: &Path, needle: &str, code: &'static str, message: String) {
        let at = self.locate(file, needle);
        self.problems.push(Diagnostic::error(code, message).at(&at));
    }

    fn warn(&mut self, file: &Path, needle: &str, message: String) {
        let at = self.locate(file, needle);
        self.problems
            .push(Diagnostic::warning("e2e-unsupported", message).at(&at));
    }

    fn file(
        &mut self,
        path: &Path,
        fresh_cluster: bool,
        wait_before: Option<Duration>,
        stack: &mut Vec<PathBuf>,
    ) {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if stack.contains(&canonical) || stack.len() > MAX_DEPTH {
            self.problems.push(
                Diagnostic::error("import-cycle", "the file imports itself (directly or not)")
                    .in_file(path),
            );
            return;
        }
        let Some(file) = self.decode::<E2eFile>(path) else {
            return;
        };
        // Absolute, so paths stay right whatever directory a command runs in.
        let dir = canonical
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if file.kind != "E2E" {
            let message = format!("kind is `{}`; an E2E file has `kind: E2E`", file.kind);
            self.error(path, "kind:", "wrong-kind", message);
        }
        match (file.spec, file.imports.is_empty()) {
            (Some(_), false) => self.error(
                path,
                "imports:",
                "spec-and-imports",
                "a file has `spec:` (a test) or `imports:` (an aggregator), not both".into(),
            ),
            (None, true) => self.error(
                path,
                "metadata:",
                "no-spec",
                "the file has neither `spec:` nor `imports:`".into(),
            ),
            (Some(spec), true) => {
                let spec = self.check_spec(path, &dir, spec);
                self.tests.push(Test {
                    file: path.to_path_buf(),
                    dir,
                    name: file.metadata.name,
                    spec,
                    fresh_cluster,
                    wait_before,
                });
            }
            (None, false) => {
                stack.push(canonical);
                for import in file.imports {
                    let wait = import.wait.as_deref().and_then(|w| {
                        let parsed = parse_duration(w);
                        if parsed.is_none() {
                            self.bad_duration(path, w);
                        }
                        parsed
                    });
                    let target = dir.join(&import.path);
                    if !target.is_file() {
                        self.missing(path, &import.path, "imports");
                        continue;
                    }
                    self.file(&target, import.fresh_cluster, wait, stack);
                }
                stack.pop();
            }
        }
    }

    fn missing(&mut self, file: &Path, named: &str, key: &str) {
        let message = format!("`{key}` names {named}, which does not exist");
        self.error(file, named, FILE_NOT_FOUND, message);
    }

    fn bad_duration(&mut self, file: &Path, text: &str) {
        let message = format!("`{text}` is not a duration (e.g. 30s, 2m, 1m30s)");
        self.error(file, text, "invalid-duration", message);
    }

    /// Checks what decoding cannot: files exist, durations parse; expands `include:`.
    fn check_spec(&mut self, path: &Path, dir: &Path, mut spec: Spec) -> Spec {
        let mut named: Vec<(&str, String)> = Vec::new();
        for (key, value) in [
            ("katalog", &spec.katalog),
            ("crd", &spec.crd),
            ("cr", &spec.cr),
        ] {
            if let Some(v) = value {
                named.push((key, v.clone()));
            }
        }
        named.extend(spec.crd_files.iter().map(|f| ("crdFiles", f.clone())));
        named.extend(spec.cr_files.iter().map(|f| ("crFiles", f.clone())));
        if let Some(setup) = &spec.setup {
            named.extend(setup.apply.iter().map(|a| ("setup.apply", a.path.clone())));
        }
        for (key, file) in named {
            if !dir.join(&file).exists() {
                self.missing(path, &file, key);
            }
        }
        if let Some(values) = spec.values_files.first() {
            let message = "`valuesFiles` configure upstream's Helm install of the operator; \
                           ork e2e runs the operator in-process and does not read them"
                .to_owned();
            self.warn(path, values, message);
        }
        if let Some(cluster) = &spec.cluster
            && cluster.reuse
        {
            let message = "`cluster.reuse` is not honoured: ork's local control plane starts \
                           fresh for each run (use --keep-cluster to keep it)"
                .to_owned();
            self.warn(path, "reuse:", message);
        }
        if spec.katalog.is_none() && spec.custom.is_none() && !spec.custom_operator {
            self.error(
                path,
                "spec:",
                "no-katalog",
                "`spec.katalog` is required unless `custom` or `customOperator` is set".into(),
            );
        }
        spec.expect = self.expand(path, dir, std::mem::take(&mut spec.expect), 0);
        let waits = spec
            .setup
            .iter()
            .flat_map(|s| s.wait.iter().chain(s.apply.iter().flat_map(|a| &a.wait)))
            .filter_map(|w| w.timeout.clone());
        let durations: Vec<String> = spec
            .expect
            .iter()
            .flat_map(|e| e.timeout.iter().chain(e.wait.iter()).cloned())
            .chain(waits)
            .collect();
        for text in durations {
            if parse_duration(&text).is_none() {
                self.bad_duration(path, &text);
            }
        }
        spec
    }

    /// Replaces each `include:` entry by the expectations of the file it names.
    fn expand(
        &mut self,
        path: &Path,
        dir: &Path,
        expect: Vec<Expectation>,
        depth: usize,
    ) -> Vec<Expectation> {
        let mut out = Vec::new();
        for expectation in expect {
            let Some(include) = &expectation.include else {
                out.push(expectation);
                continue;
            };
            let mixed = !expectation.name.is_empty()
                || expectation.timeout.is_some()
                || expectation.wait.is_some()
                || !expectation.resources.is_empty()
                || !expectation.commands.is_empty()
                || expectation.kubectl.is_some();
            if mixed {
                let message = "an `include` entry takes no other keys: the included \
                               expectations replace it"
                    .to_owned();
                self.error(path, include, "include-with-keys", message);
            }
            let target = dir.join(include);
            if !target.is_file() {
                self.missing(path, include, "include");
                continue;
            }
            if depth >= MAX_DEPTH {
                self.error(
                    path,
                    include,
                    "import-cycle",
                    "includes nest too deep".into(),
                );
                continue;
            }
            if let Some(file) = self.decode::<IncludeFile>(&target) {
                let inner = target.parent().unwrap_or(dir).to_path_buf();
                out.extend(self.expand(&target, &inner, file.expect, depth + 1));
            }
        }
        out
    }
}
