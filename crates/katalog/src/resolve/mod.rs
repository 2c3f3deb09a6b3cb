//! Resolution: everything between "the entry file parsed" and "one model".
//!
//! Files referenced from a Katalog are read relative to the file that names them: Komposer
//! imports ([`komposer`]), Motifs ([`motif`]), `include:` files ([`include`]) and CRD manifests
//! ([`crd_file`]). Komposer overrides, Motif resources and includes are merged as YAML trees
//! before decoding, so every value keeps the file and line it came from. [`settings`] applies
//! profiles and defaults.

pub mod crd_file;
pub mod early_form;
pub mod include;
pub mod komposer;
pub mod motif;
pub mod nodes;
pub mod settings;

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::diagnostic::{Diagnostic, Location};
use crate::yaml::{self, Node, SourceMap, Span};

/// Reads and decodes files for one load, collecting every problem.
#[derive(Debug, Default)]
pub struct Resolver {
    /// Every file read.
    pub sources: SourceMap,
    /// Every problem found so far.
    pub diagnostics: Vec<Diagnostic>,
    /// The merged trees that were decoded (entry document first), for checks that need
    /// positions of nested values.
    pub roots: Vec<Node>,
}

impl Resolver {
    /// The location of a span.
    pub fn location(&self, span: Span) -> Location {
        Location {
            file: self.sources.path(span.file).to_path_buf(),
            line: span.line,
            col: span.col,
        }
    }

    /// Records a problem.
    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Reads a text file; a missing file is reported at `referenced_at` (or at the file itself).
    pub fn read(&mut self, path: &Path, referenced_at: Option<&Location>) -> Option<(u32, String)> {
        if let Some(text) = self.sources.text(path) {
            let text = text.to_string();
            let id = self.sources.add(path.to_path_buf(), text.clone());
            return Some((id, text));
        }
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let id = self.sources.add(path.to_path_buf(), text.clone());
                Some((id, text))
            }
            Err(err) => {
                let mut d = Diagnostic::error(
                    "file-not-found",
                    format!("cannot read `{}`: {err}", path.display()),
                );
                d = match referenced_at {
                    Some(at) => d.at(at),
                    None => d.in_file(path),
                };
                self.report(d.with_hint(
                    "check the path; relative paths resolve from the file that names them",
                ));
                None
            }
        }
    }

    /// Reads and parses a file that holds one YAML document.
    pub fn parse(&mut self, path: &Path, referenced_at: Option<&Location>) -> Option<Node> {
        let (id, text) = self.read(path, referenced_at)?;
        match yaml::parse_single(&text, id) {
            Ok(mut node) => {
                early_form::rewrite(self, &mut node);
                Some(node)
            }
            Err(err) => {
                self.report_yaml(path, &err);
                None
            }
        }
    }

    /// Reads and parses every document of a file.
    pub fn parse_all(
        &mut self,
        path: &Path,
        referenced_at: Option<&Location>,
    ) -> Option<Vec<Node>> {
        let (id, text) = self.read(path, referenced_at)?;
        match yaml::parse_documents(&text, id) {
            Ok(nodes) => Some(nodes),
            Err(err) => {
                self.report_yaml(path, &err);
                None
            }
        }
    }

    fn report_yaml(&mut self, path: &Path, err: &yaml::Error) {
        let name = path.display();
        let mut d = Diagnostic::error(err.code(), format!("{name}: {err}"));
        let span = err.span();
        d = if span.line > 0 {
            d.at(&Location {
                file: path.to_path_buf(),
                line: span.line,
                col: span.col,
            })
        } else {
            d.in_file(path)
        };
        let hint = match err {
            yaml::Error::Empty => {
                Some("a Katalog needs at least apiVersion, kind, metadata and spec")
            }
            yaml::Error::TabIndentation { .. } => Some("replace the tabs with spaces"),
            yaml::Error::DuplicateKey { .. } => Some("remove or rename one of the two keys"),
            _ => None,
        };
        if let yaml::Error::DuplicateKey { path, .. } = err {
            d = d.with_path(path.clone());
        }
        if let Some(hint) = hint {
            d = d.with_hint(hint);
        }
        self.report(d);
    }

    /// Decodes a node strictly, recording unknown keys and the error that stopped decoding.
    pub fn decode<T: DeserializeOwned>(&mut self, node: &Node, path: &str) -> Option<T> {
        let (result, found) = crate::de::from_node_at::<T>(node, &self.sources, path);
        self.diagnostics
            .extend(found.into_iter().map(with_crd_from_path));
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.report(with_crd_from_path(err));
                None
            }
        }
    }
}

/// Names the CRD of a diagnostic whose path is under `spec.crds.<name>`.
fn with_crd_from_path(d: Diagnostic) -> Diagnostic {
    let crd = d
        .path
        .as_deref()
        .and_then(|p| p.strip_prefix("spec.crds."))
        .map(|rest| rest.split(['.', '[']).next().unwrap_or(rest).to_string());
    match crd {
        Some(c) if d.crd.is_none() => d.with_crd(c),
        _ => d,
    }
}

/// Resolves `reference` (a path, possibly with `$VAR`/`${VAR}` from the process
/// environment) relative to the directory of `from`. Remote references (`https://`,
/// `oci://`) are not supported yet.
pub fn resolve_path(from: &Path, reference: &str) -> Result<PathBuf, String> {
    let expanded = expand_env(reference, process_env)?;
    if is_remote(&expanded) {
        return Err(format!(
            "remote reference `{expanded}` is not supported yet; use a local file"
        ));
    }
    let path = Path::new(&expanded);
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let dir = from.parent().unwrap_or(Path::new(""));
    Ok(dir.join(path))
}

/// True for `http(s)://`, `oci://` and registry-style references.
pub fn is_remote(reference: &str) -> bool {
    reference.starts_with("https://")
        || reference.starts_with("http://")
        || reference.starts_with("oci://")
        || reference.starts_with("ghcr.io/")
}

/// The value of a variable of the process environment (`None` when unset or not UTF-8): the
/// lookup [`resolve_path`] gives [`expand_env`].
fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Expands `$VAR` and `${VAR}` with the values `lookup` gives; an unset variable is an error
/// naming it. A `$` followed by no name stays as it is.
///
/// # Errors
/// An unset variable, or a `${` without its `}`.
pub fn expand_env(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in `{text}`"))?;
            (&braced[..end], &braced[end + 1..])
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        if name.is_empty() {
            out.push('$');
        } else {
            let value =
                lookup(name).ok_or_else(|| format!("environment variable `{name}` is not set"))?;
            out.push_str(&value);
        }
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_from_the_naming_file() {
        let p = resolve_path(Path::new("/k/dir/katalog.yaml"), "./crd.yaml").unwrap();
        assert_eq!(p, PathBuf::from("/k/dir/./crd.yaml"));
        let p = resolve_path(Path::new("/k/dir/katalog.yaml"), "/abs/crd.yaml").unwrap();
        assert_eq!(p, PathBuf::from("/abs/crd.yaml"));
    }

    #[test]
    fn remote_references_are_not_supported_yet() {
        let err = resolve_path(Path::new("k.yaml"), "https://x/k.yaml").unwrap_err();
        assert!(err.contains("not supported yet"), "{err}");
    }

    /// A fake environment: `HOME=/home/me`, `DIR=base`, `EMPTY=` and nothing else.
    fn fake(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/home/me".into()),
            "DIR" => Some("base".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn bare_and_braced_variables_expand() {
        assert_eq!(expand_env("$HOME/k.yaml", fake).unwrap(), "/home/me/k.yaml");
        assert_eq!(
            expand_env("${DIR}_v2/k.yaml", fake).unwrap(),
            "base_v2/k.yaml"
        );
        assert_eq!(expand_env("$DIR.yaml", fake).unwrap(), "base.yaml");
        assert_eq!(
            expand_env("$HOME/$DIR/${DIR}", fake).unwrap(),
            "/home/me/base/base"
        );
        assert_eq!(expand_env("a${EMPTY}b", fake).unwrap(), "ab");
    }

    #[test]
    fn a_bare_name_runs_to_the_first_character_outside_letters_digits_and_underscore() {
        assert_eq!(
            expand_env("$DIR_X", fake).unwrap_err(),
            "environment variable `DIR_X` is not set"
        );
        assert_eq!(expand_env("$DIR-x", fake).unwrap(), "base-x");
    }

    #[test]
    fn text_without_variables_is_unchanged() {
        assert_eq!(expand_env("./crd.yaml", fake).unwrap(), "./crd.yaml");
        assert_eq!(expand_env("", fake).unwrap(), "");
    }

    #[test]
    fn a_dollar_without_a_name_stays() {
        assert_eq!(expand_env("a$", fake).unwrap(), "a$");
        assert_eq!(expand_env("$/x", fake).unwrap(), "$/x");
        assert_eq!(expand_env("${}x", fake).unwrap(), "$x");
    }

    #[test]
    fn unset_variables_are_named() {
        let err = expand_env("$ORK_UNSET/k.yaml", fake).unwrap_err();
        assert_eq!(err, "environment variable `ORK_UNSET` is not set");
        let err = expand_env("${ORK_UNSET}/k.yaml", fake).unwrap_err();
        assert!(err.contains("`ORK_UNSET`"), "{err}");
    }

    #[test]
    fn an_unclosed_brace_is_an_error() {
        let err = expand_env("${HOME/k.yaml", fake).unwrap_err();
        assert!(err.contains("unclosed"), "{err}");
    }

    #[test]
    fn resolve_path_reads_the_process_environment() {
        let err =
            resolve_path(Path::new("k.yaml"), "$ORK_TEST_SURELY_UNSET_VAR/k.yaml").unwrap_err();
        assert!(err.contains("ORK_TEST_SURELY_UNSET_VAR"), "{err}");
    }
}
