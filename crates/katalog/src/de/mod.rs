//! A serde `Deserializer` over a spanned YAML [`Node`], so the model is plain derived structs.
//!
//! What it adds to ordinary serde decoding:
//! - **every unknown key in one run**: when a struct is decoded its known field names are at
//!   hand, so each unknown key is recorded (position, full key path, "did you mean"), skipped,
//!   and decoding continues; derived `deny_unknown_fields` never sees the key;
//! - **renamed keys** of spec §0 (`anyOf` → `or`, …) get an error naming the new key;
//! - **errors with a place**: type errors carry the line, column and key path of the node;
//! - **YAML 1.1 booleans** (`yes`, `on`, …) only where a bool is expected; elsewhere they
//!   stay strings, as in YAML 1.2.
//!
//! [`Spanned`] lets a model field keep the position of its value.
//!
//! One file per concern: `node.rs` is the deserializer of one node, `access.rs` the serde
//! accessors of lists, maps and enums, `scalar.rs` how plain YAML scalars read, `unknown.rs`
//! unknown and renamed keys with their "did you mean", `spanned.rs` the [`Spanned`] wrapper;
//! this file holds the entry points, [`Error`] and the collection of what was found.

mod access;
mod node;
mod scalar;
mod spanned;
mod unknown;

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeOwned};

use crate::diagnostic::{Diagnostic, Location};
use crate::yaml::{Node, SourceMap, Span};

use node::NodeDeserializer;
pub(crate) use scalar::plain_scalar;
pub use spanned::Spanned;
pub use unknown::{did_you_mean, edit_distance};

/// A decoding failure: what went wrong and, once known, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub message: String,
    /// Where, once the failing node is known.
    pub span: Option<Span>,
    /// The key path of the failing node.
    pub path: Option<String>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            message: msg.to_string(),
            span: None,
            path: None,
        }
    }

    /// Reached when a polymorphic form decodes its map through serde's own map access, where
    /// unknown keys cannot be skipped and recorded: say which key and suggest the closest.
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let hint = match did_you_mean(field, expected) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("known keys here: {}", expected.join(", ")),
        };
        Error::custom(format!("unknown key `{field}`; {hint}"))
    }
}

/// Code of a value of the wrong type. Decoding records it and goes on with a placeholder
/// (`false`, `0`, `""`, empty list or map), so every such value in a file is reported; the
/// decoded model is then not fit for validation.
pub const INVALID_VALUE: &str = "invalid-value";

/// Decodes `node` (read from `file`) into `T`.
///
/// Returns the value, or the error that stopped decoding, together with every unknown or
/// renamed key found on the way (these do not stop decoding, but make the result invalid).
pub fn from_node<T: DeserializeOwned>(
    node: &Node,
    sources: &SourceMap,
) -> (Result<T, Diagnostic>, Vec<Diagnostic>) {
    from_node_at(node, sources, "")
}

/// Like [`from_node`], with key paths starting at `path` (for nodes that sit inside a larger
/// document, e.g. an included file).
pub fn from_node_at<T: DeserializeOwned>(
    node: &Node,
    sources: &SourceMap,
    path: &str,
) -> (Result<T, Diagnostic>, Vec<Diagnostic>) {
    let ctx = Context {
        sources,
        found: RefCell::new(Vec::new()),
    };
    let de = NodeDeserializer {
        node,
        ctx: &ctx,
        path: path.to_string(),
    };
    let result = T::deserialize(de).map_err(|err| ctx.diagnostic(err, node.span));
    let mut found = ctx.found.into_inner();
    found.sort_by_key(|d| (d.line, d.col));
    (result, found)
}

/// What one decoding run shares: the files, and every problem found that did not stop it.
struct Context<'s> {
    sources: &'s SourceMap,
    found: RefCell<Vec<Diagnostic>>,
}

impl Context<'_> {
    /// The diagnostic of a decoding error (at `fallback` when it has no place).
    fn diagnostic(&self, err: Error, fallback: Span) -> Diagnostic {
        let span = err.span.unwrap_or(fallback);
        let mut diagnostic = Diagnostic::error(INVALID_VALUE, err.message).at(&self.location(span));
        if let Some(path) = err.path.filter(|p| !p.is_empty()) {
            diagnostic = diagnostic.with_path(path);
        }
        diagnostic
    }

    fn location(&self, span: Span) -> Location {
        Location {
            file: self.sources.path(span.file).to_path_buf(),
            line: span.line,
            col: span.col,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde::Deserialize;

    use super::*;
    use crate::yaml::parse_single;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Reconciler {
        workers: Option<i64>,
        resync: Option<String>,
        enabled: Option<bool>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Root {
        reconciler: Reconciler,
        or: Option<Vec<String>>,
    }

    fn decode<T: DeserializeOwned>(text: &str) -> (Result<T, Diagnostic>, Vec<Diagnostic>) {
        let mut sources = SourceMap::default();
        let id = sources.add("k.yaml".into(), text.into());
        let node = parse_single(text, id).unwrap();
        from_node(&node, &sources)
    }

    #[test]
    fn every_unknown_key_is_reported_with_path_and_suggestion() {
        let (result, found) = decode::<Root>("reconciler:\n  workerz: 3\n  resynk: 1s\nextra: 1\n");
        assert!(result.is_ok());
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].path.as_deref(), Some("reconciler.workerz"));
        assert_eq!(found[0].hint.as_deref(), Some("did you mean `workers`?"));
        assert_eq!((found[0].line, found[0].col), (2, 3));
        assert_eq!(found[1].hint.as_deref(), Some("did you mean `resync`?"));
        assert_eq!(found[2].path.as_deref(), Some("extra"));
    }

    #[test]
    fn renamed_keys_name_the_new_key() {
        let (_, found) = decode::<Root>("reconciler: {}\nanyOf: [a]\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "renamed-key");
        assert!(found[0].is_error());
        assert!(found[0].message.contains("`or`"), "{}", found[0].message);
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ApiTypes {
        kind: Option<String>,
        list: Option<String>,
    }

    #[test]
    fn deprecated_keys_decode_as_the_new_key_with_a_warning() {
        let (result, found) = decode::<ApiTypes>("kind: A\nobjectList: AList\n");
        let api = result.unwrap();
        assert_eq!(api.kind.as_deref(), Some("A"));
        assert_eq!(api.list.as_deref(), Some("AList"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "deprecated-key");
        assert!(!found[0].is_error());
        assert!(found[0].message.contains("`list`"), "{}", found[0].message);
        let (_, found) = decode::<ApiTypes>("objectList: AList\nlist: B\n");
        assert_eq!(found[0].code, "duplicate-key");
        assert!(found[0].is_error());
    }

    #[test]
    fn type_errors_carry_position_and_path() {
        let (result, found) = decode::<Root>("reconciler:\n  workers: many\n");
        assert!(result.is_ok(), "decoding goes on with a placeholder");
        let err = &found[0];
        assert_eq!(err.code, INVALID_VALUE);
        assert_eq!(err.path.as_deref(), Some("reconciler.workers"));
        assert_eq!((err.line, err.col), (2, 12));
        assert!(err.message.contains("many"), "{}", err.message);
    }

    #[test]
    fn every_type_error_and_unknown_key_is_reported_in_one_run() {
        let (result, found) = decode::<Root>(
            "reconciler:\n  workers: many\n  enabled: maybe\n  resync: [1]\n  extra: 1\nor: 3\n",
        );
        assert!(result.is_ok());
        let paths: Vec<_> = found.iter().filter_map(|d| d.path.as_deref()).collect();
        assert_eq!(
            paths,
            [
                "reconciler.workers",
                "reconciler.enabled",
                "reconciler.resync",
                "reconciler.extra",
                "or"
            ]
        );
    }

    #[test]
    fn yaml11_booleans_are_read_only_where_a_bool_is_expected() {
        let (result, _) = decode::<Root>("reconciler:\n  enabled: yes\n  resync: on\n");
        let root = result.unwrap();
        assert_eq!(root.reconciler.enabled, Some(true));
        assert_eq!(root.reconciler.workers, None);
        assert_eq!(root.or, None);
        assert_eq!(root.reconciler.resync.as_deref(), Some("on"));
    }

    #[test]
    fn missing_fields_point_at_their_map() {
        let (result, _) = decode::<Root>("or: [a]\n");
        let err = result.unwrap_err();
        assert!(err.message.contains("reconciler"), "{}", err.message);
        assert_eq!(err.line, 1);
    }

    #[test]
    fn spanned_values_know_where_they_were_written() {
        #[derive(Deserialize)]
        struct S {
            name: Spanned<String>,
        }
        let (result, _) = decode::<S>("\nname: web\n");
        let s = result.unwrap();
        assert_eq!(s.name.value, "web");
        assert_eq!((s.name.at.line, s.name.at.col), (2, 7));
        assert_eq!(s.name.at.file, PathBuf::from("k.yaml"));
    }

    #[test]
    fn untyped_values_resolve_plain_scalars_like_yaml() {
        let (result, _) =
            decode::<serde_json::Value>("a: 1\nb: \"1\"\nc: true\nd: ~\ne: 1.5\nf: x\n");
        let v = result.unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": 1, "b": "1", "c": true, "d": null, "e": 1.5, "f": "x"})
        );
    }
}
