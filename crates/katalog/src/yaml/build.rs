//! Building a [`Node`] tree from parser events.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, ScanError};

use super::{Node, NodeKind, Span, Style};

/// Most nodes that alias expansion may add to one file; beyond it the file is rejected.
const ALIAS_BUDGET: usize = 200_000;

/// Deepest nesting accepted (keeps recursive consumers off the end of the stack).
const MAX_DEPTH: usize = 256;

/// Why a YAML text could not become a tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text holds no document (zero bytes, whitespace or comments only).
    #[error("the file is empty")]
    Empty,
    /// A tab character is used for indentation, which YAML forbids.
    #[error("tab character used for indentation on line {line}; YAML indents with spaces only")]
    TabIndentation {
        /// The offending line.
        line: u32,
    },
    /// The parser rejected the text.
    #[error("invalid YAML: {message}")]
    Syntax {
        /// The parser's message.
        message: String,
        /// Where it stopped.
        span: Span,
    },
    /// A mapping has the same key twice.
    #[error("duplicate key `{key}` (first at line {}:{}, again at line {}:{})", first.line, first.col, second.line, second.col)]
    DuplicateKey {
        /// The key.
        key: String,
        /// Its full key path (`spec.crds.web`).
        path: String,
        /// Its first position.
        first: Span,
        /// Its second position.
        second: Span,
    },
    /// Aliases would expand the document beyond the size budget.
    #[error("aliases expand the document beyond {ALIAS_BUDGET} nodes")]
    AliasBudgetExceeded {
        /// The alias that crossed the budget.
        span: Span,
    },
    /// Nesting deeper than the limit.
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep {
        /// Where the limit was crossed.
        span: Span,
    },
    /// The file holds more than one document where one is expected.
    #[error("expected one YAML document, found several")]
    MultipleDocuments {
        /// Start of the second document.
        span: Span,
    },
}

impl Error {
    /// The position the error points at (line 0 when it has none).
    pub fn span(&self) -> Span {
        match self {
            Error::Empty => Span::default(),
            Error::TabIndentation { line } => Span {
                file: 0,
                line: *line,
                col: 1,
            },
            Error::Syntax { span, .. }
            | Error::AliasBudgetExceeded { span }
            | Error::TooDeep { span }
            | Error::MultipleDocuments { span } => *span,
            Error::DuplicateKey { second, .. } => *second,
        }
    }

    /// A stable code for the diagnostic.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Empty => "empty-file",
            Error::TabIndentation { .. } => "tab-indentation",
            Error::Syntax { .. } => "yaml-syntax",
            Error::DuplicateKey { .. } => "duplicate-key",
            Error::AliasBudgetExceeded { .. } => "alias-budget",
            Error::TooDeep { .. } => "too-deep",
            Error::MultipleDocuments { .. } => "multiple-documents",
        }
    }
}

/// Parses a text that must hold exactly one non-empty document.
pub fn parse_single(text: &str, file: u32) -> Result<Node, Error> {
    let mut documents = parse_all(text, file)?;
    match documents.len() {
        0 => Err(Error::Empty),
        1 => Ok(documents.remove(0)),
        _ => Err(Error::MultipleDocuments {
            span: documents[1].span,
        }),
    }
}

/// Parses every non-empty document of a text (e.g. a CRD file with `---` separators).
pub fn parse_documents(text: &str, file: u32) -> Result<Vec<Node>, Error> {
    parse_all(text, file)
}

fn parse_all(text: &str, file: u32) -> Result<Vec<Node>, Error> {
    let mut builder = Builder::default();
    for event in Parser::new_from_str(text) {
        match event {
            Ok((event, span)) => {
                let at = Span {
                    file,
                    line: u32::try_from(span.start.line()).unwrap_or(u32::MAX),
                    col: u32::try_from(span.start.col() + 1).unwrap_or(u32::MAX),
                };
                builder.event(event, at)?;
            }
            Err(err) => return Err(syntax_error(text, file, &err)),
        }
    }
    Ok(builder.documents)
}

fn syntax_error(text: &str, file: u32, err: &ScanError) -> Error {
    let line = err.marker().line();
    let tab_line = (1..=line.max(1)).rev().find(|&n| {
        text.lines().nth(n - 1).is_some_and(|l| {
            l.chars()
                .take_while(|c| c.is_whitespace())
                .any(|c| c == '\t')
        })
    });
    let info = err.info();
    match tab_line {
        Some(n) if info.contains("tab") || n == line => Error::TabIndentation {
            line: u32::try_from(n).unwrap_or(u32::MAX),
        },
        _ => Error::Syntax {
            message: info,
            span: Span {
                file,
                line: u32::try_from(line).unwrap_or(u32::MAX),
                col: u32::try_from(err.marker().col() + 1).unwrap_or(u32::MAX),
            },
        },
    }
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    expanded: usize,
    documents: Vec<Node>,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        span: Span,
        anchor: usize,
        path: String,
    },
    Map {
        path: String,
        entries: Vec<(Node, Node)>,
        seen: HashMap<String, Span>,
        key: Option<Node>,
        merges: Vec<Node>,
        span: Span,
        anchor: usize,
    },
}

impl Builder {
    fn event(&mut self, event: Event<'_>, at: Span) -> Result<(), Error> {
        match event {
            Event::Scalar(text, style, anchor, _) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    _ => Style::Quoted,
                };
                let node = Node {
                    kind: NodeKind::Scalar(text.into_owned(), style),
                    span: at,
                };
                self.complete(node, anchor)
            }
            Event::SequenceStart(_, anchor, _) => {
                let path = self.child_path();
                self.open(Frame::Seq {
                    items: Vec::new(),
                    span: at,
                    anchor,
                    path,
                })?;
                Ok(())
            }
            Event::MappingStart(_, anchor, _) => {
                let path = self.child_path();
                self.open(Frame::Map {
                    path,
                    entries: Vec::new(),
                    seen: HashMap::new(),
                    key: None,
                    merges: Vec::new(),
                    span: at,
                    anchor,
                })?;
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id) else {
                    return Err(Error::Syntax {
                        message: "alias refers to an unknown anchor".into(),
                        span: at,
                    });
                };
                self.expanded += target.size();
                if self.expanded > ALIAS_BUDGET {
                    return Err(Error::AliasBudgetExceeded { span: at });
                }
                let mut node = target.clone();
                node.span = at;
                self.complete(node, 0)
            }
            _ => Ok(()),
        }
    }

    /// The key path of the node about to be completed in the current frame.
    fn child_path(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Seq { items, path, .. }) => format!("{path}[{}]", items.len()),
            Some(Frame::Map { key, path, .. }) => {
                let k = key.as_ref().and_then(Node::as_str).unwrap_or("?");
                if path.is_empty() {
                    k.to_string()
                } else {
                    format!("{path}.{k}")
                }
            }
        }
    }

    fn open(&mut self, frame: Frame) -> Result<(), Error> {
        if self.stack.len() >= MAX_DEPTH {
            let span = match &frame {
                Frame::Seq { span, .. } | Frame::Map { span, .. } => *span,
            };
            return Err(Error::TooDeep { span });
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self) -> Result<(), Error> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let (node, anchor) = match frame {
            Frame::Seq {
                items,
                span,
                anchor,
                ..
            } => (
                Node {
                    kind: NodeKind::Seq(items),
                    span,
                },
                anchor,
            ),
            Frame::Map {
                mut entries,
                seen,
                merges,
                span,
                anchor,
                ..
            } => {
                apply_merges(&mut entries, &seen, merges);
                (
                    Node {
                        kind: NodeKind::Map(entries),
                        span,
                    },
                    anchor,
                )
            }
        };
        self.complete(node, anchor)
    }

    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), Error> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if !node.is_null() {
                    self.documents.push(node);
                }
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                seen,
                key,
                merges,
                path,
                ..
            }) => match key.take() {
                None => {
                    *key = Some(node);
                    Ok(())
                }
                Some(k) => {
                    if matches!(&k.kind, NodeKind::Scalar(t, Style::Plain) if t == "<<") {
                        merges.push(node);
                        return Ok(());
                    }
                    if let Some(text) = k.as_str() {
                        if let Some(first) = seen.get(text) {
                            return Err(Error::DuplicateKey {
                                key: text.to_string(),
                                path: if path.is_empty() {
                                    text.to_string()
                                } else {
                                    format!("{path}.{text}")
                                },
                                first: *first,
                                second: k.span,
                            });
                        }
                        seen.insert(text.to_string(), k.span);
                    }
                    entries.push((k, node));
                    Ok(())
                }
            },
        }
    }
}

/// Applies YAML merge keys (`<<: *base`): entries of the merged maps that the mapping does not
/// declare itself are appended, earlier merged maps winning over later ones.
fn apply_merges(entries: &mut Vec<(Node, Node)>, seen: &HashMap<String, Span>, merges: Vec<Node>) {
    let mut taken: std::collections::HashSet<String> = seen.keys().cloned().collect();
    for merge in merges {
        let maps = match merge.kind {
            NodeKind::Seq(items) => items,
            _ => vec![merge],
        };
        for map in maps {
            if let NodeKind::Map(merged) = map.kind {
                for (k, v) in merged {
                    let Some(text) = k.as_str() else { continue };
                    if taken.insert(text.to_string()) {
                        entries.push((k, v));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_carry_one_based_lines_and_columns() {
        let node = parse_single("a:\n  b: x\n", 0).unwrap();
        let b = node.get("a").unwrap().get("b").unwrap();
        assert_eq!(
            b.span,
            Span {
                file: 0,
                line: 2,
                col: 6
            }
        );
        assert_eq!(b.as_str(), Some("x"));
    }

    #[test]
    fn duplicate_keys_name_the_key_and_both_positions() {
        let err = parse_single("a: 1\nb: 2\na: 3\n", 0).unwrap_err();
        assert_eq!(
            err,
            Error::DuplicateKey {
                key: "a".into(),
                path: "a".into(),
                first: Span {
                    file: 0,
                    line: 1,
                    col: 1
                },
                second: Span {
                    file: 0,
                    line: 3,
                    col: 1
                },
            }
        );
    }

    #[test]
    fn tab_indentation_is_reported_with_its_line() {
        let err = parse_single("a:\n\tb: 1\n", 0).unwrap_err();
        assert_eq!(err, Error::TabIndentation { line: 2 });
    }

    #[test]
    fn empty_and_comment_only_texts_are_empty() {
        assert_eq!(parse_single("", 0), Err(Error::Empty));
        assert_eq!(parse_single("# nothing\n\n", 0), Err(Error::Empty));
    }

    #[test]
    fn aliases_expand_to_copies_of_their_anchor() {
        let node = parse_single("a: &x {k: v}\nb: *x\n", 0).unwrap();
        assert_eq!(node.get("b").unwrap().get("k").unwrap().as_str(), Some("v"));
    }

    #[test]
    fn merge_keys_add_entries_the_map_does_not_declare() {
        let node = parse_single("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n", 0).unwrap();
        let m = node.get("m").unwrap();
        assert_eq!(m.get("x").unwrap().as_str(), Some("1"));
        assert_eq!(m.get("y").unwrap().as_str(), Some("3"));
    }

    #[test]
    fn billion_laughs_is_stopped_by_the_alias_budget() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse_single(&text, 0).unwrap_err();
        assert!(matches!(err, Error::AliasBudgetExceeded { .. }), "{err:?}");
    }

    #[test]
    fn several_documents_are_all_returned() {
        let docs = parse_documents("a: 1\n---\nb: 2\n", 0).unwrap();
        assert_eq!(docs.len(), 2);
        assert!(matches!(
            parse_single("a: 1\n---\nb: 2\n", 0),
            Err(Error::MultipleDocuments { .. })
        ));
    }

    #[test]
    fn quoted_scalars_keep_their_style() {
        let node = parse_single("a: \"1\"\nb: 1\n", 0).unwrap();
        assert!(matches!(
            node.get("a").unwrap().kind,
            NodeKind::Scalar(_, Style::Quoted)
        ));
        assert!(matches!(
            node.get("b").unwrap().kind,
            NodeKind::Scalar(_, Style::Plain)
        ));
    }
}
