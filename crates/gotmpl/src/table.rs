//! The engine's function table: the user notes and their index, how a name resolves (notes
//! first, then built-ins) and parsing a template against that table. The evaluator and the
//! notes builder read it; [`crate::Engine`] owns one behind an `Arc`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::Callee;
use crate::error::ParseError;
use crate::funcs;
use crate::parse::{self, Arity};
use crate::template::{Template, TemplateInner};

/// A user note: a named template expression callable as a function (`{{ fullImage }}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The function name (a valid identifier).
    pub name: String,
    /// The template rendered when the note is called.
    pub expression: String,
    /// What the note is for.
    pub description: Option<String>,
}

/// A user note, parsed.
#[derive(Debug)]
pub(crate) struct NoteDef {
    pub name: String,
    pub template: Template,
}

#[derive(Debug)]
pub(crate) struct EngineInner {
    pub(crate) id: u64,
    pub notes: Vec<NoteDef>,
    pub(crate) note_index: HashMap<String, usize>,
    pub(crate) shadowed: Vec<String>,
}

/// Finds a function: notes first (they may shadow built-ins), then built-ins.
pub(crate) fn resolve(engine: &EngineInner, name: &str) -> Option<(Callee, Arity)> {
    if let Some(&i) = engine.note_index.get(name) {
        return Some((
            Callee::Note(i),
            Arity {
                min: 0,
                max: Some(1),
            },
        ));
    }
    match name {
        "and" => return Some((Callee::And, Arity { min: 1, max: None })),
        "or" => return Some((Callee::Or, Arity { min: 1, max: None })),
        _ => {}
    }
    funcs::builtins()
        .get(name)
        .map(|f| (Callee::Builtin(f), f.arity))
}

pub(crate) fn parse_with(engine: &EngineInner, src: &str) -> Result<Template, ParseError> {
    let resolver = |name: &str| resolve(engine, name);
    let parsed = parse::parse(src, &resolver)?;
    let uses_notes = parsed
        .functions
        .iter()
        .any(|f| engine.note_index.contains_key(f));
    Ok(Template {
        inner: Arc::new(TemplateInner {
            source: src.to_string(),
            body: parsed.body,
            defines: parsed.defines,
            field_refs: parsed.field_refs,
            functions: parsed.functions,
            engine_id: engine.id,
            uses_notes,
        }),
    })
}
