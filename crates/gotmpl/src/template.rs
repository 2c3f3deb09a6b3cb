//! A parsed template, and whether a string is one.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast;

/// Whether a string is a template: it contains `{{` (Orkestra's "option B" inference).
pub fn is_template(s: &str) -> bool {
    s.contains("{{")
}

/// A parsed template. Cheap to clone; safe to share between threads.
#[derive(Clone, Debug)]
pub struct Template {
    pub(crate) inner: Arc<TemplateInner>,
}

#[derive(Debug)]
pub(crate) struct TemplateInner {
    pub(crate) source: String,
    pub(crate) body: Vec<ast::Node>,
    pub(crate) defines: HashMap<String, Vec<ast::Node>>,
    pub(crate) field_refs: Vec<String>,
    pub(crate) functions: Vec<String>,
    pub(crate) engine_id: u64,
    pub(crate) uses_notes: bool,
}

impl Template {
    /// The source text it was parsed from.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// Whether it has no actions at all (renders to its own text).
    pub fn is_static(&self) -> bool {
        self.inner.defines.is_empty()
            && self
                .inner
                .body
                .iter()
                .all(|n| matches!(n, ast::Node::Text(_)))
    }

    /// Field paths read from the root, e.g. `["spec.image", "children.deployment"]`, in order
    /// of first use. Capitalised aliases are given in canonical form (`.Name` is
    /// `metadata.name`); `index`/`get` with literal keys extend the path.
    pub fn field_refs(&self) -> Vec<String> {
        self.inner.field_refs.clone()
    }

    /// Names of the functions it calls, in order of first use.
    pub fn functions(&self) -> Vec<String> {
        self.inner.functions.clone()
    }
}
