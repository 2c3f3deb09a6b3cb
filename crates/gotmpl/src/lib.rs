//! Go `text/template` evaluated over JSON: the template engine of Katalogs, as its own crate.
//!
//! Orkestra decides by "option B" inference whether a string is a template: any string
//! containing `{{` is one ([`is_template`]). Templates are parsed once with [`Engine::parse`]
//! (errors carry line and column, unknown functions are caught here) and rendered many times
//! with [`Engine::render`]. Missing keys render as the empty string, never `<no value>`.
//!
//! The engine knows Go's built-in functions, the Orkestra notes library (strings, math, cron,
//! Kubernetes object helpers, ...; see `docs/template-functions.md`) and common Sprig names, and
//! can be extended with user notes ([`Engine::with_notes`]).
//!
//! Pure: no I/O, no async, no Kubernetes client. The crate knows nothing of Katalogs beyond
//! their template dialect; `katalog` builds on it.
//!
//! # Contents
//!
//! | module | what |
//! |---|---|
//! | `engine` | [`Engine`] (built-ins plus user [`Note`]s), [`RenderContext`] (clock and seed) |
//! | `template` | [`Template`] (a parsed template), [`is_template`] |
//! | `lex`, `parse`, `ast` | source to tokens to a node tree, functions and variables resolved |
//! | `exec`, `value`, `format` | the evaluator within its caps, runtime values, Go `fmt` verbs |
//! | `funcs/` | the built-in functions, one file per family; [`type_of`] |
//! | [`catalog`] | every built-in documented: signature, description, a tested example |
//! | `notes` | user notes: names checked, cycles refused |
//! | `error` | [`ParseError`], [`RenderError`], [`NotesError`] |
//! | [`duration`] | the duration grammar (Go units plus `d`, `w`, `mo`, `y`), shared with `katalog` |
//!
//! # Guarantees
//! Rendering is bounded: output is capped at [`MAX_OUTPUT`] bytes, `range` at [`MAX_ITERATIONS`]
//! iterations in total and nesting (blocks, `template` calls, note calls) at [`MAX_DEPTH`].
//! Exceeding a cap is a [`RenderError`], never a hang or a stack overflow.
//!
//! # Example
//! ```
//! use gotmpl::Engine;
//! let engine = Engine::new();
//! let t = engine.parse("{{ .metadata.name }}-{{ .spec.tag | default \"latest\" }}").unwrap();
//! let cr = serde_json::json!({"metadata": {"name": "web"}, "spec": {}});
//! assert_eq!(engine.render(&t, &cr).unwrap(), "web-latest");
//! ```

mod ast;
pub mod catalog;
pub mod duration;
mod engine;
mod error;
mod exec;
mod format;
mod funcs;
mod lex;
mod notes;
mod parse;
mod table;
mod template;
mod value;

pub use engine::{Engine, RenderContext};
pub use error::{NotesError, ParseError, RenderError};
pub use exec::{MAX_DEPTH, MAX_ITERATIONS, MAX_OUTPUT};
pub use funcs::type_of;
pub use table::Note;
pub use template::{Template, is_template};

#[cfg(test)]
mod go_conformance;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
