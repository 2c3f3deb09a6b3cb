//! The errors of parsing, rendering and building an engine with notes.

/// A template failed to parse. The position is 1-based line and column (in characters) within
/// the template source.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct ParseError {
    /// What is wrong, lowercase, e.g. `function "frobnicate" not defined` or `unclosed action`.
    pub message: String,
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column (in characters) of the problem.
    pub col: usize,
    /// The unknown function's name, for unknown-function errors.
    pub function: Option<String>,
}

impl ParseError {
    /// An error at byte offset `at` of `src`.
    pub(crate) fn at(src: &str, at: usize, message: impl Into<String>) -> ParseError {
        let (line, col) = line_col(src, at);
        ParseError {
            message: message.into(),
            line,
            col,
            function: None,
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(src: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(src.len());
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Rendering a parsed template failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// A function returned an error (bad argument, `required` value missing, ...).
    #[error("function \"{name}\" failed: {message}")]
    FunctionFailed {
        /// The function's name.
        name: String,
        /// Why it failed.
        message: String,
    },
    /// A user note failed while rendering its expression.
    #[error("note \"{name}\" failed")]
    NoteFailed {
        /// The note's name.
        name: String,
        /// The error inside the note.
        #[source]
        source: Box<RenderError>,
    },
    /// An operation was applied to a value it cannot handle (comparing a map, arguments to a
    /// field, ...).
    #[error("{message}")]
    EvaluationFailed {
        /// What went wrong.
        message: String,
    },
    /// The output grew past the size cap.
    #[error("output larger than {limit} bytes")]
    OutputTooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// `range` loops ran more iterations in total than the cap.
    #[error("more than {limit} range iterations")]
    TooManyIterations {
        /// The cap on iterations.
        limit: usize,
    },
    /// Blocks, template calls or note calls nested deeper than the cap.
    #[error("nesting deeper than {limit} (recursive template or note?)")]
    RecursionTooDeep {
        /// The cap on depth.
        limit: usize,
    },
    /// The template was parsed by an engine with other notes than the one rendering it.
    #[error("template was parsed by a different engine")]
    EngineMismatch,
}

/// Building an engine with user notes failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NotesError {
    /// A note's name is not a valid identifier.
    #[error("note name {name:?} is not a valid identifier")]
    InvalidName {
        /// The name as written.
        name: String,
    },
    /// Two notes have the same name.
    #[error("note \"{name}\" is defined twice")]
    Duplicate {
        /// The repeated name.
        name: String,
    },
    /// A note's expression does not parse.
    #[error("note \"{name}\" does not parse")]
    ParseFailed {
        /// The note's name.
        name: String,
        /// The parse error within the expression.
        #[source]
        source: ParseError,
    },
    /// Notes call each other in a cycle.
    #[error("notes call each other in a cycle: {}", cycle.join(" -> "))]
    Cycle {
        /// The names along the cycle, first repeated at the end.
        cycle: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        let src = "ab\ncdé{{x";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 3), (2, 1));
        let brace = src.find("{{").unwrap();
        assert_eq!(line_col(src, brace), (2, 4));
    }
}
