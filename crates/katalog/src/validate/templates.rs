//! Templates: every string containing `{{` anywhere in the Katalog (and every note
//! expression) is parsed at load time, so an unclosed action or an unknown function is
//! reported with the position of the string.
//!
//! Parsing goes through [`parse`], the one place that knows the template engine.

use gotmpl::{Engine, Note, NotesError};

use super::Cx;
use super::walk::{crd_of, last_key, walk};
use crate::diagnostic::Diagnostic;
use crate::model::NoteFunction;
use crate::yaml::{Node, NodeKind, Style};

/// A template that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The engine's message.
    pub message: String,
    /// The unknown function, when that is the problem.
    pub function: Option<String>,
    /// 1-based line and column of the problem within the template text.
    pub line: usize,
    /// See `line`.
    pub col: usize,
}

/// Parses templates with the Katalog's notes available as functions.
pub struct Parser {
    engine: Engine,
}

impl Parser {
    /// A parser knowing every built-in and the given notes. When the notes themselves are
    /// broken (a cycle, an expression that does not parse), their names are still made known,
    /// so templates calling them are not reported again; the problem is returned.
    pub fn new(notes: &[NoteFunction]) -> (Parser, Option<NotesError>) {
        let as_notes = |expr: &dyn Fn(&NoteFunction) -> String| -> Vec<Note> {
            notes
                .iter()
                .map(|n| Note {
                    name: n.name.value.clone(),
                    expression: expr(n),
                    description: n.description.clone(),
                })
                .collect()
        };
        match Engine::new().with_notes(as_notes(&|n| n.expression.value.clone())) {
            Ok(engine) => (Parser { engine }, None),
            Err(err) => {
                let mut names: Vec<String> = Vec::new();
                let placeholders: Vec<Note> = as_notes(&|_| String::new())
                    .into_iter()
                    .filter(|n| {
                        let fresh = is_identifier(&n.name) && !names.contains(&n.name);
                        names.push(n.name.clone());
                        fresh
                    })
                    .collect();
                let engine = Engine::new()
                    .with_notes(placeholders)
                    .unwrap_or_else(|_| Engine::new());
                (Parser { engine }, Some(err))
            }
        }
    }

    /// Parses one template.
    pub fn parse(&self, src: &str) -> Result<(), Problem> {
        self.engine.parse(src).map(|_| ()).map_err(|e| Problem {
            message: e.message,
            function: e.function,
            line: e.line,
            col: e.col,
        })
    }
}

fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The hint for an unknown template function: the closest known name, and where the
/// known names are listed.
fn unknown_function_hint(parser: &Parser, name: &str) -> String {
    let names = parser.engine.function_names();
    let close = crate::de::did_you_mean(name, &names)
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default();
    format!(
        "{close}the template functions are listed in docs/template-functions.md; \
         declare your own under `notes.functions`"
    )
}

/// True when `name` is a built-in template function.
pub fn is_builtin_function(name: &str) -> bool {
    Engine::new().has_function(name)
}

/// Keys whose strings are prose, not templates.
const PROSE_KEYS: &[&str] = &["description", "message", "hint", "label"];

/// Parses every template of the Katalog.
pub fn check(cx: &mut Cx<'_>) {
    let (parser, notes_error) = Parser::new(&cx.katalog.notes);
    if let Some(err) = notes_error
        && !matches!(
            err,
            NotesError::InvalidName { .. } | NotesError::Duplicate { .. }
        )
    {
        let at = cx
            .katalog
            .notes
            .first()
            .map(|n| n.name.at.clone())
            .unwrap_or_default();
        cx.push(
            Diagnostic::error("invalid-notes", format!("user notes are invalid: {err}"))
                .at(&at)
                .with_path("notes"),
        );
    }
    let roots = std::mem::take(&mut cx.resolver.roots);
    let mut problems = Vec::new();
    for root in &roots {
        walk(root, "", &mut |node: &Node, path: &str| {
            let Some(text) = node.as_str() else { return };
            if !text.contains("{{")
                || PROSE_KEYS.contains(&last_key(path))
                || path.starts_with("notes")
            {
                return;
            }
            if let Err(problem) = parser.parse(text) {
                let mut at = cx.resolver.location(node.span);
                if problem.line == 1 {
                    let quote = u32::from(matches!(node.kind, NodeKind::Scalar(_, Style::Quoted)));
                    at.col += quote + u32::try_from(problem.col).unwrap_or(1) - 1;
                }
                problems.push((at, path.to_string(), problem));
            }
        });
    }
    for note in &cx.katalog.notes {
        if let Err(problem) = parser.parse(&note.expression.value) {
            problems.push((
                note.expression.at.clone(),
                format!("notes.{}", note.name.value),
                problem,
            ));
        }
    }
    cx.resolver.roots = roots;
    for (at, path, problem) in problems {
        let crd = crd_of(&path).map(str::to_string);
        let subject = match &crd {
            Some(c) => format!("template in CRD `{c}`"),
            None => "template".to_string(),
        };
        let (code, message, hint) = match &problem.function {
            Some(f) => (
                "unknown-template-function",
                format!("{subject} calls unknown function `{f}`"),
                unknown_function_hint(&parser, f),
            ),
            None => (
                "template-syntax",
                format!("{subject} does not parse: {}", problem.message),
                "close every `{{` with `}}` and check the action's syntax".to_string(),
            ),
        };
        let mut d = Diagnostic::error(code, message)
            .at(&at)
            .with_path(path)
            .with_hint(hint);
        if let Some(c) = crd {
            d = d.with_crd(c);
        }
        cx.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::de::Spanned;

    fn note(name: &str, expression: &str) -> NoteFunction {
        NoteFunction {
            name: Spanned::new(name.into(), Default::default()),
            description: None,
            expression: Spanned::new(expression.into(), Default::default()),
        }
    }

    #[test]
    fn unclosed_actions_and_unknown_functions_are_problems() {
        let (parser, err) = Parser::new(&[]);
        assert!(err.is_none());
        assert!(parser.parse("{{ .spec.image").is_err());
        assert!(parser.parse("{{ .spec.image }}:{{ .spec.tag }}").is_ok());
        let unknown = parser.parse("{{ frobnicate .spec.image }}").unwrap_err();
        assert_eq!(unknown.function.as_deref(), Some("frobnicate"));
    }

    #[test]
    fn notes_are_known_functions_even_when_one_is_broken() {
        let (parser, err) = Parser::new(&[note("fullImage", "{{ .spec.image }}")]);
        assert!(err.is_none());
        assert!(parser.parse("{{ fullImage }}").is_ok());
        let (parser, err) = Parser::new(&[note("broken", "{{ .spec.image"), note("ok", "x")]);
        assert!(err.is_some());
        assert!(parser.parse("{{ broken }}").is_ok());
        assert!(parser.parse("{{ ok }}").is_ok());
    }
}
