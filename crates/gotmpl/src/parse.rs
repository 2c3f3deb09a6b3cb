//! The parser: tokens to a node tree, resolving functions and variables, checking arity, and
//! collecting the field paths and functions a template uses.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::ast::{Arg, Branch, Callee, Cmd, Node, Pipe};
use super::error::ParseError;
use super::lex::{self, Number, Tok, Token};
use super::value::float;

/// The deepest nesting of blocks and parentheses a template may have.
pub(crate) const MAX_PARSE_DEPTH: usize = 64;

/// How many arguments a function takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Arity {
    /// Fewest arguments.
    pub min: usize,
    /// Most arguments, if bounded.
    pub max: Option<usize>,
}

/// Looks up a function by name.
pub(crate) type Resolve<'r> = &'r dyn Fn(&str) -> Option<(Callee, Arity)>;

/// Everything parsing produced.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// The main body.
    pub body: Vec<Node>,
    /// `define`d and `block` templates.
    pub defines: HashMap<String, Vec<Node>>,
    /// Field paths read from the root dot, in first-use order.
    pub field_refs: Vec<String>,
    /// Names of functions called, in first-use order.
    pub functions: Vec<String>,
}

/// Parses a template source.
pub(crate) fn parse(src: &str, resolve: Resolve<'_>) -> Result<Parsed, ParseError> {
    let tokens = lex::lex(src)?;
    let mut p = Parser {
        src,
        tokens,
        i: 0,
        resolve,
        scopes: vec![vec![(String::new(), Some(String::new()))]],
        dot: vec![Some(String::new())],
        range_depth: 0,
        depth: 0,
        out: Parsed::default(),
        called_templates: Vec::new(),
    };
    let (body, end) = p.list(true)?;
    if let Some(end) = end {
        return Err(p.err(end.pos, format!("unexpected {{{{{}}}}}", end.word)));
    }
    for (name, pos) in std::mem::take(&mut p.called_templates) {
        if !p.out.defines.contains_key(&name) {
            return Err(p.err(pos, format!("no such template {name:?}")));
        }
    }
    p.out.body = body;
    Ok(p.out)
}

/// The keyword action that ended a list (`end`, `else`), and where.
struct ListEnd {
    word: &'static str,
    pos: usize,
}

struct Parser<'s, 'r> {
    src: &'s str,
    tokens: Vec<Token>,
    i: usize,
    resolve: Resolve<'r>,
    /// Variables in scope, innermost last; each with the root-relative path it holds, if known.
    scopes: Vec<Vec<(String, Option<String>)>>,
    /// Root-relative path of dot, if known, innermost last.
    dot: Vec<Option<String>>,
    range_depth: usize,
    depth: usize,
    out: Parsed,
    called_templates: Vec<(String, usize)>,
}

impl Parser<'_, '_> {
    fn err(&self, pos: usize, msg: impl Into<String>) -> ParseError {
        ParseError::at(self.src, pos, msg)
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.i)
    }

    fn pos(&self) -> usize {
        self.peek().map_or(self.src.len(), |t| t.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.i).cloned();
        self.i += 1;
        t
    }

    fn skip_space(&mut self) {
        while matches!(
            self.peek(),
            Some(Token {
                kind: Tok::Space,
                ..
            })
        ) {
            self.i += 1;
        }
    }

    fn enter(&mut self, pos: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_PARSE_DEPTH {
            return Err(self.err(
                pos,
                format!("template nested deeper than {MAX_PARSE_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn expect_close(&mut self, context: &str) -> Result<(), ParseError> {
        self.skip_space();
        match self.next() {
            Some(Token {
                kind: Tok::Close, ..
            }) => Ok(()),
            Some(t) => Err(self.err(
                t.pos,
                format!("unexpected {} in {context}", describe(&t.kind)),
            )),
            None => Err(self.err(self.src.len(), "unclosed action")),
        }
    }

    /// Parses nodes until EOF (top level) or an `end`/`else` action.
    fn list(&mut self, top: bool) -> Result<(Vec<Node>, Option<ListEnd>), ParseError> {
        let mut nodes = Vec::new();
        loop {
            let Some(tok) = self.next() else {
                if top {
                    return Ok((nodes, None));
                }
                return Err(self.err(self.src.len(), "unexpected EOF"));
            };
            match tok.kind {
                Tok::Text(s) => nodes.push(Node::Text(s)),
                Tok::Open => {
                    self.skip_space();
                    let kw_pos = self.pos();
                    let keyword = match self.peek() {
                        Some(Token {
                            kind: Tok::Ident(w),
                            ..
                        }) => keyword(w),
                        _ => None,
                    };
                    match keyword {
                        Some(word @ ("end" | "else")) => {
                            self.i += 1;
                            if top {
                                return Err(self.err(kw_pos, format!("unexpected {{{{{word}}}}}")));
                            }
                            if word == "end" {
                                self.expect_close("end")?;
                            }
                            return Ok((nodes, Some(ListEnd { word, pos: kw_pos })));
                        }
                        Some(word) => {
                            self.i += 1;
                            if let Some(node) = self.control(word, kw_pos, top)? {
                                nodes.push(node);
                            }
                        }
                        None => {
                            let pipe = self.pipeline("command", false)?;
                            self.expect_close("command")?;
                            nodes.push(Node::Action(pipe));
                        }
                    }
                }
                other => return Err(self.err(tok.pos, format!("unexpected {}", describe(&other)))),
            }
        }
    }

    fn control(
        &mut self,
        word: &'static str,
        pos: usize,
        top: bool,
    ) -> Result<Option<Node>, ParseError> {
        match word {
            "if" | "with" | "range" => Ok(Some(self.branch(word, pos)?)),
            "break" | "continue" => {
                if self.range_depth == 0 {
                    return Err(self.err(pos, format!("{{{{{word}}}}} outside {{{{range}}}}")));
                }
                self.expect_close(word)?;
                Ok(Some(if word == "break" {
                    Node::Break
                } else {
                    Node::Continue
                }))
            }
            "template" => {
                let name = self.template_name(word)?;
                self.skip_space();
                let pipe = if matches!(
                    self.peek(),
                    Some(Token {
                        kind: Tok::Close,
                        ..
                    })
                ) {
                    None
                } else {
                    Some(self.pipeline("template clause", false)?)
                };
                self.expect_close("template clause")?;
                self.called_templates.push((name.clone(), pos));
                Ok(Some(Node::Template { name, pipe }))
            }
            "define" | "block" => {
                if word == "define" && !top {
                    return Err(self.err(pos, "{{define}} must be at top level"));
                }
                let name = self.template_name(word)?;
                self.skip_space();
                let pipe = if word == "block" {
                    Some(self.pipeline("block clause", false)?)
                } else {
                    None
                };
                self.expect_close(word)?;
                // The body sees a fresh variable scope and an unknown dot.
                let saved_scopes =
                    std::mem::replace(&mut self.scopes, vec![vec![(String::new(), None)]]);
                let saved_range = std::mem::replace(&mut self.range_depth, 0);
                self.dot.push(None);
                self.enter(pos)?;
                let (body, end) = self.list(false)?;
                self.depth -= 1;
                self.dot.pop();
                self.scopes = saved_scopes;
                self.range_depth = saved_range;
                match end {
                    Some(ListEnd { word: "end", .. }) => {}
                    Some(e) => {
                        return Err(
                            self.err(e.pos, format!("unexpected {{{{{}}}}} in {word}", e.word))
                        );
                    }
                    None => return Err(self.err(self.src.len(), "unexpected EOF")),
                }
                if self.out.defines.insert(name.clone(), body).is_some() {
                    return Err(self.err(pos, format!("template {name:?} defined twice")));
                }
                Ok(pipe.map(|pipe| Node::Template {
                    name,
                    pipe: Some(pipe),
                }))
            }
            _ => unreachable!("keyword list and control words agree"),
        }
    }

    fn template_name(&mut self, word: &str) -> Result<String, ParseError> {
        self.skip_space();
        match self.next() {
            Some(Token {
                kind: Tok::Str(s), ..
            }) => Ok(s),
            t => Err(self.err(
                t.map_or(self.src.len(), |t| t.pos),
                format!("expected template name in {word}"),
            )),
        }
    }

    /// `if`, `with` and `range` up to and including their `end`. An `{{else if}}` chain is read
    /// in a loop (not by recursion) and nests as `{{else}}{{if}}…{{end}}` sharing the one `end`,
    /// so long chains cost no nesting depth.
    fn branch(&mut self, word: &'static str, pos: usize) -> Result<Node, ParseError> {
        self.enter(pos)?;
        self.scopes.push(Vec::new());
        let mut arms: Vec<(Pipe, Vec<Node>)> = Vec::new();
        let otherwise = loop {
            let pipe = self.pipeline(word, word == "range")?;
            self.expect_close(word)?;
            let dot = match word {
                "with" => single_path(&pipe, self),
                "range" => None,
                _ => self.dot.last().cloned().flatten(),
            };
            self.dot.push(dot);
            if word == "range" {
                self.range_depth += 1;
            }
            let then = self.list(false);
            if word == "range" {
                self.range_depth -= 1;
            }
            self.dot.pop();
            let (then, end) = then?;
            arms.push((pipe, then));
            if !matches!(end, Some(ListEnd { word: "else", .. })) {
                break Vec::new();
            }
            self.skip_space();
            let chained = matches!(
                self.peek(),
                Some(Token { kind: Tok::Ident(w), .. }) if (word == "if" || word == "with") && w == word
            );
            if chained {
                self.i += 1;
                continue;
            }
            self.expect_close("else")?;
            let (body, end) = self.list(false)?;
            match end {
                Some(ListEnd { word: "end", .. }) => {}
                Some(e) => return Err(self.err(e.pos, "expected end; found {{else}}")),
                None => return Err(self.err(self.src.len(), "unexpected EOF")),
            }
            break body;
        };
        self.scopes.pop();
        self.depth -= 1;
        let make = |branch| match word {
            "if" => Node::If(branch),
            "with" => Node::With(branch),
            _ => Node::Range(branch),
        };
        let mut otherwise = otherwise;
        loop {
            let (pipe, then) = arms.pop().expect("at least one arm was read");
            let node = make(Branch {
                pipe,
                then,
                otherwise,
            });
            if arms.is_empty() {
                return Ok(node);
            }
            otherwise = vec![node];
        }
    }

    /// Parses a pipeline up to (not including) `}}` or `)`.
    fn pipeline(&mut self, context: &str, is_range: bool) -> Result<Pipe, ParseError> {
        self.skip_space();
        let start = self.pos();
        let mut vars = Vec::new();
        let mut is_assign = false;
        // Declarations: `$x :=`, `$x =`, and in range `$i, $v :=`.
        let save = self.i;
        let mut names = Vec::new();
        while let Some(Token {
            kind: Tok::Variable(name),
            ..
        }) = self.peek().cloned()
        {
            self.i += 1;
            self.skip_space();
            names.push(name);
            match self.peek().map(|t| &t.kind) {
                Some(Tok::Declare) => {
                    self.i += 1;
                    vars = std::mem::take(&mut names);
                    break;
                }
                Some(Tok::Assign) if names.len() == 1 => {
                    self.i += 1;
                    is_assign = true;
                    vars = std::mem::take(&mut names);
                    break;
                }
                Some(Tok::Comma) if is_range && names.len() == 1 => {
                    self.i += 1;
                    self.skip_space();
                }
                _ => break,
            }
        }
        if vars.is_empty() {
            self.i = save;
        }
        if vars.len() > 2 || (vars.len() == 2 && !is_range) {
            return Err(self.err(start, "too many declarations in pipeline"));
        }
        let mut cmds = Vec::new();
        loop {
            self.skip_space();
            let cmd = self.command(cmds.len())?;
            cmds.push(cmd);
            self.skip_space();
            match self.peek().map(|t| &t.kind) {
                Some(Tok::Pipe) => self.i += 1,
                _ => break,
            }
        }
        if cmds.iter().all(|c| c.args.is_empty()) {
            return Err(self.err(start, format!("missing value for {context}")));
        }
        let pipe = Pipe {
            vars,
            is_assign,
            cmds,
        };
        let path = if is_range {
            None
        } else {
            single_path(&pipe, self)
        };
        if is_assign {
            let name = &pipe.vars[0];
            if self.lookup_var(name).is_none() {
                return Err(self.err(start, format!("undefined variable \"${name}\"")));
            }
        } else {
            for (k, name) in pipe.vars.iter().enumerate() {
                // In `range $i, $v`, `$i` is the index/key; the value's path is unknown.
                let known = if k == 0 && pipe.vars.len() == 1 {
                    path.clone()
                } else {
                    None
                };
                self.scopes
                    .last_mut()
                    .expect("a scope is always open")
                    .push((name.clone(), known));
            }
        }
        Ok(pipe)
    }

    fn lookup_var(&self, name: &str) -> Option<Option<String>> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
    }

    /// Parses one command (operands up to `|`, `}}` or `)`).
    fn command(&mut self, stage: usize) -> Result<Cmd, ParseError> {
        let pos = self.pos();
        let head = match self.peek() {
            Some(Token {
                kind: Tok::Ident(name),
                ..
            }) => Some(name.clone()),
            _ => None,
        };
        let mut args = Vec::new();
        loop {
            self.skip_space();
            match self.peek().map(|t| &t.kind) {
                None | Some(Tok::Close | Tok::RParen | Tok::Pipe) => break,
                _ => {}
            }
            let arg = self.operand(args.is_empty())?;
            args.push(arg);
            match self.peek().map(|t| &t.kind) {
                None | Some(Tok::Space | Tok::Close | Tok::RParen | Tok::Pipe) => {}
                Some(other) => {
                    return Err(self.err(
                        self.pos(),
                        format!("unexpected {} in operand", describe(other)),
                    ));
                }
            }
        }
        if args.is_empty() {
            return Err(self.err(pos, "missing value for command"));
        }
        let piped = usize::from(stage > 0);
        match &args[0] {
            Arg::Func(_) => {
                let name = head.unwrap_or_default();
                let (_, arity) = (self.resolve)(&name).expect("resolved when parsed");
                let got = args.len() - 1 + piped;
                if got < arity.min || arity.max.is_some_and(|m| got > m) {
                    return Err(self.err(pos, wrong_args(&name, arity, got)));
                }
            }
            _ if stage > 0 => {
                return Err(self.err(
                    pos,
                    format!("non executable command in pipeline stage {}", stage + 1),
                ));
            }
            _ if args.len() > 1 => {
                return Err(self.err(pos, "can't give argument to non-function"));
            }
            _ => {}
        }
        self.record_index_ref(&args);
        Ok(Cmd { args })
    }

    /// `index .x "a" "b"` and `get .x "a" "b"` read `x.a.b`: record the longer path.
    fn record_index_ref(&mut self, args: &[Arg]) {
        let [Arg::Func(Callee::Builtin(b)), first, rest @ ..] = args else {
            return;
        };
        if !matches!(b.name, "index" | "get") || rest.is_empty() {
            return;
        }
        let Some(mut path) = self.arg_path(first) else {
            return;
        };
        for key in rest {
            match key {
                Arg::Literal(Json::String(s)) => join(&mut path, s),
                _ => return,
            }
        }
        self.add_ref(path);
    }

    /// Root-relative path of an operand, if it is a field chain of known origin.
    fn arg_path(&self, arg: &Arg) -> Option<String> {
        match arg {
            Arg::Dot => self.dot.last().cloned().flatten(),
            Arg::Field(fields) => {
                let mut p = self.dot.last().cloned().flatten()?;
                for f in fields {
                    let seg = alias(&p, f);
                    join(&mut p, &seg);
                }
                Some(p)
            }
            Arg::Var(name, fields) => {
                let mut p = self.lookup_var(name).flatten()?;
                for f in fields {
                    let seg = alias(&p, f);
                    join(&mut p, &seg);
                }
                Some(p)
            }
            _ => None,
        }
    }

    fn add_ref(&mut self, path: String) {
        if !path.is_empty() && !self.out.field_refs.contains(&path) {
            self.out.field_refs.push(path);
        }
    }

    fn add_function(&mut self, name: &str) {
        if !self.out.functions.iter().any(|f| f == name) {
            self.out.functions.push(name.to_string());
        }
    }

    /// Parses one operand: a term and any field chain after it.
    fn operand(&mut self, first: bool) -> Result<Arg, ParseError> {
        let tok = self.next().expect("caller peeked");
        let mut arg = match tok.kind {
            Tok::Str(s) => Arg::Literal(Json::String(s)),
            Tok::Char(c) => Arg::Literal(Json::from(c)),
            Tok::Bool(b) => Arg::Literal(Json::Bool(b)),
            Tok::Nil => {
                if first {
                    return Err(self.err(tok.pos, "nil is not a command"));
                }
                Arg::Literal(Json::Null)
            }
            Tok::Number(text) => match lex::parse_number(&text) {
                Some(Number::Int(i)) => Arg::Literal(Json::from(i)),
                Some(Number::Float(f)) => Arg::Literal(float(f)),
                None => return Err(self.err(tok.pos, format!("bad number syntax: {text:?}"))),
            },
            Tok::Dot => Arg::Dot,
            Tok::Field(name) => Arg::Field(vec![name]),
            Tok::Variable(name) => {
                if self.lookup_var(&name).is_none() {
                    return Err(self.err(tok.pos, format!("undefined variable \"${name}\"")));
                }
                Arg::Var(name, Vec::new())
            }
            Tok::Ident(name) => {
                if keyword(&name).is_some() {
                    return Err(
                        self.err(tok.pos, format!("unexpected keyword {name:?} in operand"))
                    );
                }
                let Some((callee, arity)) = (self.resolve)(&name) else {
                    let mut e = self.err(tok.pos, format!("function {name:?} not defined"));
                    e.function = Some(name);
                    return Err(e);
                };
                self.add_function(&name);
                if !first && arity.min > 0 {
                    return Err(self.err(tok.pos, wrong_args(&name, arity, 0)));
                }
                Arg::Func(callee)
            }
            Tok::LParen => {
                self.enter(tok.pos)?;
                let pipe = self.pipeline("parenthesized pipeline", false)?;
                self.depth -= 1;
                self.skip_space();
                match self.next() {
                    Some(Token {
                        kind: Tok::RParen, ..
                    }) => {}
                    _ => return Err(self.err(tok.pos, "unclosed left paren")),
                }
                Arg::Pipe(Box::new(pipe))
            }
            other => {
                return Err(self.err(
                    tok.pos,
                    format!("unexpected {} in operand", describe(&other)),
                ));
            }
        };
        let mut chain = Vec::new();
        while let Some(Token {
            kind: Tok::Field(name),
            ..
        }) = self.peek()
        {
            chain.push(name.clone());
            self.i += 1;
        }
        if !chain.is_empty() {
            arg = match arg {
                Arg::Field(mut f) => {
                    f.extend(chain);
                    Arg::Field(f)
                }
                Arg::Var(n, _) => Arg::Var(n, chain),
                Arg::Func(_) | Arg::Pipe(_) => Arg::Chain(Box::new(arg), chain),
                _ => return Err(self.err(tok.pos, "unexpected . after term")),
            };
        }
        if let Some(path) = self.arg_path(&arg) {
            self.add_ref(path);
        }
        Ok(arg)
    }
}

/// The root-relative path a pipeline's value comes from, when it is a single field chain.
fn single_path(pipe: &Pipe, p: &Parser<'_, '_>) -> Option<String> {
    match pipe.cmds.as_slice() {
        [Cmd { args, .. }] if args.len() == 1 => p.arg_path(&args[0]),
        _ => None,
    }
}

fn join(path: &mut String, seg: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(seg);
}

/// Capitalised accessors on the root (`.Name`, `.Spec`) in canonical form.
fn alias(path: &str, field: &str) -> String {
    if !path.is_empty() {
        return field.to_string();
    }
    match field {
        "Name" => "metadata.name",
        "Namespace" => "metadata.namespace",
        "Labels" => "metadata.labels",
        "Annotations" => "metadata.annotations",
        "Spec" => "spec",
        "Status" => "status",
        other => other,
    }
    .to_string()
}

fn keyword(w: &str) -> Option<&'static str> {
    Some(match w {
        "if" => "if",
        "else" => "else",
        "end" => "end",
        "range" => "range",
        "with" => "with",
        "define" => "define",
        "template" => "template",
        "block" => "block",
        "break" => "break",
        "continue" => "continue",
        _ => return None,
    })
}

fn wrong_args(name: &str, arity: Arity, got: usize) -> String {
    let want = match arity.max {
        Some(max) if max == arity.min => format!("{max}"),
        Some(max) => format!("{} to {max}", arity.min),
        None => format!("at least {}", arity.min),
    };
    format!("wrong number of args for {name}: want {want} got {got}")
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Text(_) => "text".into(),
        Tok::Open => "\"{{\"".into(),
        Tok::Close => "\"}}\"".into(),
        Tok::Space => "space".into(),
        Tok::Pipe => "\"|\"".into(),
        Tok::LParen => "\"(\"".into(),
        Tok::RParen => "\")\"".into(),
        Tok::Declare => "\":=\"".into(),
        Tok::Assign => "\"=\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::Str(s) => format!("{s:?}"),
        Tok::Char(_) => "character constant".into(),
        Tok::Number(n) => format!("number {n}"),
        Tok::Bool(b) => format!("{b}"),
        Tok::Nil => "nil".into(),
        Tok::Dot => "\".\"".into(),
        Tok::Field(f) => format!("field .{f}"),
        Tok::Variable(v) => format!("variable ${v}"),
        Tok::Ident(i) => format!("{i:?}"),
    }
}
