//! The engine: built-in functions plus user notes; parses templates and renders them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value as Json;

use crate::ast::Callee;
use crate::error::{NotesError, ParseError, RenderError};
use crate::table::{EngineInner, Note, parse_with, resolve};
use crate::template::Template;
use crate::{exec, funcs, notes};

/// When and with what randomness a render happens.
#[derive(Clone, Debug)]
pub struct RenderContext {
    /// The time functions such as `timeSince` see as now.
    pub now: time::OffsetDateTime,
    /// Seed for the random functions; `None` uses real randomness.
    pub seed: Option<u64>,
}

impl Default for RenderContext {
    fn default() -> RenderContext {
        RenderContext {
            now: time::OffsetDateTime::now_utc(),
            seed: None,
        }
    }
}

/// Parses and renders templates. Cheap to clone (the function table is shared).
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

fn next_engine_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new()
    }
}

impl Engine {
    /// An engine with every built-in function and no user notes.
    pub fn new() -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                id: next_engine_id(),
                notes: Vec::new(),
                note_index: HashMap::new(),
                shadowed: Vec::new(),
            }),
        }
    }

    /// Adds user notes (Katalog `notes.functions`, Motif notes).
    ///
    /// Notes may call built-ins and each other in any order; a note shadowing a built-in is
    /// allowed and listed by [`Engine::shadowed`].
    ///
    /// # Errors
    /// A note with an invalid or repeated name, an expression that does not parse, or notes
    /// calling each other in a cycle.
    pub fn with_notes<I: IntoIterator<Item = Note>>(self, notes: I) -> Result<Engine, NotesError> {
        let mut all: Vec<Note> = self
            .inner
            .notes
            .iter()
            .map(|n| Note {
                name: n.name.clone(),
                expression: n.template.source().to_string(),
                description: None,
            })
            .collect();
        all.extend(notes);
        notes::build(all, next_engine_id()).map(|inner| Engine {
            inner: Arc::new(inner),
        })
    }

    /// Names of user notes that shadow a built-in function.
    pub fn shadowed(&self) -> Vec<String> {
        self.inner.shadowed.clone()
    }

    /// Parses a template.
    ///
    /// # Errors
    /// Syntax errors, unknown functions, wrong argument counts and undefined variables, each
    /// with its 1-based line and column.
    pub fn parse(&self, src: &str) -> Result<Template, ParseError> {
        parse_with(&self.inner, src)
    }

    /// Renders a template over `data` with the current time and real randomness.
    ///
    /// # Errors
    /// See [`Engine::render_with`].
    pub fn render(&self, t: &Template, data: &Json) -> Result<String, RenderError> {
        // Like `render_with(.., &RenderContext::default())`, but the clock and the random
        // source are only made if a function asks for them.
        self.render_cx(t, data, funcs::FnCx::new(None, None))
    }

    /// Renders a template over `data` with the given clock and random seed.
    ///
    /// # Errors
    /// A function failing, a cap exceeded ([`RenderError::OutputTooLarge`],
    /// [`RenderError::TooManyIterations`], [`RenderError::RecursionTooDeep`]), or a template
    /// parsed by an engine with different notes.
    pub fn render_with(
        &self,
        t: &Template,
        data: &Json,
        cx: &RenderContext,
    ) -> Result<String, RenderError> {
        self.render_cx(t, data, funcs::FnCx::new(Some(cx.now), cx.seed))
    }

    fn render_cx(&self, t: &Template, data: &Json, cx: funcs::FnCx) -> Result<String, RenderError> {
        if t.inner.engine_id != self.inner.id && t.inner.uses_notes {
            return Err(RenderError::EngineMismatch);
        }
        exec::render(&self.inner, &t.inner, data, cx)
    }

    /// Whether `name` is a built-in function or a user note.
    pub fn has_function(&self, name: &str) -> bool {
        resolve(&self.inner, name).is_some()
    }

    /// The family a built-in belongs to (`strings`, `cron`, `kubernetes`, ...), or `note` for
    /// a user note; `None` for unknown names.
    pub fn function_domain(&self, name: &str) -> Option<&'static str> {
        match resolve(&self.inner, name)?.0 {
            Callee::Note(_) => Some("note"),
            Callee::And | Callee::Or => Some("go"),
            Callee::Builtin(f) => Some(f.domain),
        }
    }

    /// Every function name (built-ins and notes), sorted.
    pub fn function_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = funcs::builtins().keys().copied().collect();
        names.extend(["and", "or"]);
        names.extend(self.inner.notes.iter().map(|n| n.name.as_str()));
        names.sort_unstable();
        names.dedup();
        names
    }
}
