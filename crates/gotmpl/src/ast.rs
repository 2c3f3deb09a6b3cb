//! The parsed form of a template: a tree of nodes, with functions already resolved.

use serde_json::Value as Json;

use super::funcs::Builtin;

/// One node of a template body.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// Text copied to the output.
    Text(String),
    /// `{{ pipeline }}`: prints the value unless the pipeline declares variables.
    Action(Pipe),
    /// `{{ if }}` (and `{{ else if }}` nested in `otherwise`).
    If(Branch),
    /// `{{ with }}`: like `if`, with dot set to the value in `then`.
    With(Branch),
    /// `{{ range }}`.
    Range(Branch),
    /// `{{ break }}` inside a range.
    Break,
    /// `{{ continue }}` inside a range.
    Continue,
    /// `{{ template "name" pipeline }}`.
    Template {
        /// The defined template's name.
        name: String,
        /// The value for dot, if given.
        pipe: Option<Pipe>,
    },
}

/// The pipeline and bodies of `if`, `with` and `range`.
#[derive(Clone, Debug)]
pub(crate) struct Branch {
    /// The tested or iterated pipeline.
    pub pipe: Pipe,
    /// Body when true / per element.
    pub then: Vec<Node>,
    /// Body when false / empty.
    pub otherwise: Vec<Node>,
}

/// A pipeline: optional variable declarations, then commands joined by `|`.
#[derive(Clone, Debug)]
pub(crate) struct Pipe {
    /// Variables declared (`:=`) or assigned (`=`), in order.
    pub vars: Vec<String>,
    /// Whether `vars` are assigned (`=`) rather than declared.
    pub is_assign: bool,
    /// The commands; each one's result is the last argument of the next.
    pub cmds: Vec<Cmd>,
}

/// One command: a function call or a single operand.
#[derive(Clone, Debug)]
pub(crate) struct Cmd {
    /// The operands; a function in first place is called with the rest.
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    /// A literal value (string, number, bool, nil).
    Literal(Json),
    /// `.`
    Dot,
    /// `.a.b`: fields of dot.
    Field(Vec<String>),
    /// `$x.a.b` (`$` is the empty name).
    Var(String, Vec<String>),
    /// A function name; called with the rest of the command, or with no arguments when it is an
    /// argument itself.
    Func(Callee),
    /// `(pipeline)`.
    Pipe(Box<Pipe>),
    /// Fields of a function result or a parenthesised pipeline: `(index .x 0).name`.
    Chain(Box<Arg>, Vec<String>),
}

/// A resolved function.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Callee {
    /// Short-circuit `and`.
    And,
    /// Short-circuit `or`.
    Or,
    /// A built-in function.
    Builtin(&'static Builtin),
    /// The engine's user note at this index.
    Note(usize),
}
