//! Spanned YAML: a document tree in which every node knows its line and column.
//!
//! The tree is built from the events of a real YAML parser (`granit-parser`, the scanner that
//! `serde-saphyr` uses), so the YAML grammar itself is not ours to get wrong. On top of the
//! events this module adds what a Katalog needs and plain YAML libraries leave out: duplicate
//! keys are errors that name both positions, tab indentation and empty files get their own
//! messages, and aliases are expanded under a size budget (no billion laughs).
//!
//! [`crate::de`] turns a [`Node`] into model types through serde.

mod build;
mod source;

pub use build::{Error, parse_documents, parse_single};
pub use source::SourceMap;

/// Where a node starts: its file (an index into the [`SourceMap`]) and 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// The file, as an index into the [`SourceMap`] of the load.
    pub file: u32,
    /// Line, starting at 1.
    pub line: u32,
    /// Column, starting at 1.
    pub col: u32,
}

/// How a scalar was written; plain scalars are resolved (null, bool, number), quoted and block
/// scalars are always strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unquoted.
    Plain,
    /// Single- or double-quoted, or a literal/folded block.
    Quoted,
}

/// A YAML node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub kind: NodeKind,
    /// Where it starts.
    pub span: Span,
}

/// The content of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar, with its text after escape processing.
    Scalar(String, Style),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order; keys are unique.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(text, _) => Some(text),
            _ => None,
        }
    }

    /// True for a plain `null`, `~` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(text, Style::Plain) if is_null_text(text))
    }

    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A short name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(..) if self.is_null() => "null",
            NodeKind::Scalar(..) => "a scalar",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a map",
        }
    }

    /// Number of nodes in this subtree (itself included).
    pub fn size(&self) -> usize {
        match &self.kind {
            NodeKind::Scalar(..) => 1,
            NodeKind::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            NodeKind::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
        }
    }
}

/// True for the plain scalars YAML reads as null.
pub fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}
