//! Problems found in a Katalog, with where they are and how to fix them.
//!
//! Every step of loading (YAML, strict decoding, resolution, validation) reports through
//! [`Diagnostic`]. A run collects all of them in [`Diagnostics`] so a user sees every problem
//! at once. [`Diagnostics::render`] prints them like rustc does; [`Diagnostics::to_json`]
//! gives the same data for tools.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::yaml::SourceMap;

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The Katalog is invalid; nothing may run.
    Error,
    /// Worth fixing (deprecated key, experimental feature), but the Katalog is valid.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A position in a Katalog file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Location {
    /// The file, as it was named when it was read.
    pub file: PathBuf,
    /// Line, starting at 1.
    pub line: u32,
    /// Column, starting at 1.
    pub col: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// One problem in a Katalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable kebab-case name of the check, e.g. `dependson-cycle`.
    pub code: &'static str,
    /// What is wrong, in one lowercase sentence without a final period.
    pub message: String,
    /// The file the problem is in, when known.
    pub file: Option<PathBuf>,
    /// Line (1-based), 0 when unknown.
    pub line: u32,
    /// Column (1-based), 0 when unknown.
    pub col: u32,
    /// The key path of the offending value, e.g. `spec.crds.web.operatorBox.reconciler.workers`.
    pub path: Option<String>,
    /// The CRD entry the problem belongs to, when it belongs to one.
    pub crd: Option<String>,
    /// A one-line fix.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error with a code and a message and no position yet.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    /// A warning with a code and a message and no position yet.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity,
            code,
            message: message.into(),
            file: None,
            line: 0,
            col: 0,
            path: None,
            crd: None,
            hint: None,
        }
    }

    /// Places the diagnostic at a location.
    #[must_use]
    pub fn at(mut self, location: &Location) -> Self {
        self.file = Some(location.file.clone());
        self.line = location.line;
        self.col = location.col;
        self
    }

    /// Places the diagnostic in a file without a line.
    #[must_use]
    pub fn in_file(mut self, file: &Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }

    /// Sets the key path.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets the CRD entry name.
    #[must_use]
    pub fn with_crd(mut self, crd: impl Into<String>) -> Self {
        self.crd = Some(crd.into());
        self
    }

    /// Sets the one-line fix.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The location, when the diagnostic has a file.
    pub fn location(&self) -> Option<Location> {
        self.file.as_ref().map(|file| Location {
            file: file.clone(),
            line: self.line,
            col: self.col,
        })
    }

    /// Renders this diagnostic like rustc: header, arrow with position, source line with a
    /// caret, then notes.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}[{}]: {}", self.severity, self.code, self.message);
        let gutter = if self.line > 0 {
            self.line.to_string()
        } else {
            String::new()
        };
        let pad = " ".repeat(gutter.len().max(1));
        if let Some(file) = &self.file {
            if self.line > 0 {
                let _ = writeln!(
                    out,
                    "{pad}--> {}:{}:{}",
                    file.display(),
                    self.line,
                    self.col
                );
                if let Some(text) = sources.line(file, self.line) {
                    let caret = " ".repeat(self.col.saturating_sub(1) as usize);
                    let _ = writeln!(out, "{pad} |");
                    let _ = writeln!(out, "{gutter} | {text}");
                    let _ = writeln!(out, "{pad} | {caret}^");
                }
            } else {
                let _ = writeln!(out, "{pad}--> {}", file.display());
            }
        }
        if let Some(path) = &self.path {
            let _ = writeln!(out, "{pad} = at: {path}");
        }
        if let Some(crd) = &self.crd {
            let _ = writeln!(out, "{pad} = crd: {crd}");
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "{pad} = help: {hint}");
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: {}", self.severity, self.code, self.message)?;
        if let Some(location) = self.location() {
            write!(f, " ({location})")?;
        }
        if let Some(path) = &self.path {
            write!(f, " at {path}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; help: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in one run, in the order they were found, plus the sources they point
/// into (for rendering).
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    /// The problems.
    pub items: Vec<Diagnostic>,
    /// The files that were read, for showing source lines.
    pub sources: SourceMap,
}

impl Diagnostics {
    /// True when at least one problem is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.is_error())
    }

    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| !d.is_error())
    }

    /// Renders every diagnostic like rustc, followed by a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for diagnostic in &self.items {
            out.push_str(&diagnostic.render(&self.sources));
            out.push('\n');
        }
        let errors = self.errors().count();
        let warnings = self.warnings().count();
        if errors > 0 {
            let _ = writeln!(
                out,
                "error: the Katalog is invalid: {errors} error{}, {warnings} warning{}",
                plural(errors),
                plural(warnings)
            );
        }
        out
    }

    /// Every diagnostic as a JSON array.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.items).unwrap_or_default()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for diagnostic in &self.items {
            writeln!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_shows_the_source_line_with_a_caret_under_the_column() {
        let mut sources = SourceMap::default();
        sources.add("k.yaml".into(), "a: 1\nworkerz: 3\n".into());
        let d = Diagnostic::error("unknown-key", "unknown key `workerz`")
            .at(&Location {
                file: "k.yaml".into(),
                line: 2,
                col: 1,
            })
            .with_hint("did you mean `workers`?");
        let text = d.render(&sources);
        assert!(text.starts_with("error[unknown-key]: unknown key `workerz`\n"));
        assert!(text.contains(" --> k.yaml:2:1\n"));
        assert!(text.contains("2 | workerz: 3\n"));
        assert!(text.contains("  | ^\n"));
        assert!(text.contains("= help: did you mean `workers`?"));
    }

    #[test]
    fn warnings_alone_do_not_make_diagnostics_fail() {
        let diagnostics = Diagnostics {
            items: vec![Diagnostic::warning("experimental", "x")],
            sources: SourceMap::default(),
        };
        assert!(!diagnostics.has_errors());
    }
}
