//! The evaluator: walks a parsed template over JSON data, within fixed caps on output size,
//! range iterations and nesting depth.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value as Json;

use super::ast::{Arg, Branch, Callee, Cmd, Node, Pipe};
use super::error::RenderError;
use super::funcs::FnCx;
use super::value::{self, NIL, Val};
use crate::table::EngineInner;
use crate::template::TemplateInner;

/// The largest output a render may produce, in bytes.
pub const MAX_OUTPUT: usize = 1 << 20;
/// The most `range` iterations one render may run, in total.
pub const MAX_ITERATIONS: usize = 100_000;
/// The deepest nesting of blocks, template calls and note calls during a render.
pub const MAX_DEPTH: usize = 64;

/// How a list of nodes finished.
enum Flow {
    Normal,
    Break,
    Continue,
}

type Res<T> = Result<T, RenderError>;

/// One render in progress.
pub(crate) struct Exec<'a> {
    engine: &'a EngineInner,
    defines: &'a HashMap<String, Vec<Node>>,
    vars: Vec<(&'a str, Val<'a>)>,
    iterations: usize,
    depth: usize,
    cx: FnCx,
}

/// Renders a template's body over `data`.
pub(crate) fn render(
    engine: &EngineInner,
    t: &TemplateInner,
    data: &Json,
    cx: FnCx,
) -> Res<String> {
    let mut ex = Exec {
        engine,
        defines: &t.defines,
        vars: Vec::new(),
        iterations: 0,
        depth: 0,
        cx,
    };
    let mut out = String::with_capacity(t.source.len());
    ex.vars.push(("", Cow::Borrowed(data)));
    ex.list(&t.body, &Cow::Borrowed(data), &mut out)?;
    Ok(out)
}

fn eval_err<T>(message: impl Into<String>) -> Res<T> {
    Err(RenderError::EvaluationFailed {
        message: message.into(),
    })
}

/// The value of `name` in a map, with the capitalised aliases for Kubernetes objects.
fn lookup<'j>(v: &'j Json, name: &str) -> &'j Json {
    let Json::Object(m) = v else { return &NIL };
    if let Some(found) = m.get(name) {
        return found;
    }
    let path: &[&str] = match name {
        "Name" => &["metadata", "name"],
        "Namespace" => &["metadata", "namespace"],
        "Labels" => &["metadata", "labels"],
        "Annotations" => &["metadata", "annotations"],
        "Spec" => &["spec"],
        "Status" => &["status"],
        _ => return &NIL,
    };
    super::funcs::dig(v, path)
}

/// Follows a field chain, borrowing when the value is borrowed.
fn fields<'a>(v: Val<'a>, chain: &[String]) -> Val<'a> {
    match v {
        Cow::Borrowed(mut j) => {
            for f in chain {
                j = lookup(j, f);
            }
            Cow::Borrowed(j)
        }
        Cow::Owned(mut j) => {
            for f in chain {
                j = match j {
                    Json::Object(mut m) => match m.remove(f.as_str()) {
                        Some(x) => x,
                        None => lookup(&Json::Object(m), f).clone(),
                    },
                    _ => Json::Null,
                };
            }
            Cow::Owned(j)
        }
    }
}

impl<'a> Exec<'a> {
    fn enter(&mut self) -> Res<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(RenderError::RecursionTooDeep { limit: MAX_DEPTH });
        }
        Ok(())
    }

    fn write(out: &mut String, v: &Json) -> Res<()> {
        value::write_value(out, v);
        if out.len() > MAX_OUTPUT {
            return Err(RenderError::OutputTooLarge { limit: MAX_OUTPUT });
        }
        Ok(())
    }

    fn list(&mut self, nodes: &'a [Node], dot: &Val<'a>, out: &mut String) -> Res<Flow> {
        for node in nodes {
            match node {
                Node::Text(t) => {
                    out.push_str(t);
                    if out.len() > MAX_OUTPUT {
                        return Err(RenderError::OutputTooLarge { limit: MAX_OUTPUT });
                    }
                }
                Node::Action(pipe) => {
                    let v = self.pipe(pipe, dot)?;
                    if pipe.vars.is_empty() {
                        Self::write(out, &v)?;
                    }
                }
                Node::If(br) | Node::With(br) => {
                    let is_with = matches!(node, Node::With(_));
                    let flow = self.cond(br, is_with, dot, out)?;
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Range(br) => self.range(br, dot, out)?,
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
                Node::Template { name, pipe } => {
                    let new_dot = match pipe {
                        Some(p) => self.pipe(p, dot)?,
                        None => Cow::Borrowed(&NIL),
                    };
                    let body =
                        self.defines
                            .get(name)
                            .ok_or_else(|| RenderError::EvaluationFailed {
                                message: format!("no such template {name:?}"),
                            })?;
                    self.enter()?;
                    let saved = std::mem::take(&mut self.vars);
                    self.vars.push(("", new_dot.clone()));
                    let r = self.list(body, &new_dot, out);
                    self.vars = saved;
                    self.depth -= 1;
                    r?;
                }
            }
        }
        Ok(Flow::Normal)
    }

    /// `if`/`with`, walking an `else if`/`else with` chain in a loop rather than recursing.
    fn cond(
        &mut self,
        br: &'a Branch,
        is_with: bool,
        dot: &Val<'a>,
        out: &mut String,
    ) -> Res<Flow> {
        self.enter()?;
        let mark = self.vars.len();
        let r = self.cond_chain(br, is_with, dot, out);
        self.vars.truncate(mark);
        self.depth -= 1;
        r
    }

    fn cond_chain(
        &mut self,
        mut br: &'a Branch,
        is_with: bool,
        dot: &Val<'a>,
        out: &mut String,
    ) -> Res<Flow> {
        loop {
            let v = self.pipe(&br.pipe, dot)?;
            if value::truthy(&v) {
                return if is_with {
                    self.list(&br.then, &v, out)
                } else {
                    self.list(&br.then, dot, out)
                };
            }
            match br.otherwise.as_slice() {
                [Node::If(next)] if !is_with => br = next,
                [Node::With(next)] if is_with => br = next,
                _ => return self.list(&br.otherwise, dot, out),
            }
        }
    }

    fn range(&mut self, br: &'a Branch, dot: &Val<'a>, out: &mut String) -> Res<()> {
        self.enter()?;
        let mark = self.vars.len();
        let v = self.pipe(&br.pipe, dot)?;
        // Variables were pushed by `pipe` (with the whole value); the loop rebinds them.
        self.vars.truncate(mark);
        let names: Vec<&'a str> = br.pipe.vars.iter().map(String::as_str).collect();
        let items: Vec<(Val<'a>, Val<'a>)> = match v {
            Cow::Borrowed(Json::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, x)| (Cow::Owned(Json::from(i)), Cow::Borrowed(x)))
                .collect(),
            Cow::Borrowed(Json::Object(m)) => value::sorted_entries(m)
                .into_iter()
                .map(|(k, x)| (Cow::Owned(Json::String(k.clone())), Cow::Borrowed(x)))
                .collect(),
            Cow::Owned(Json::Array(a)) => a
                .into_iter()
                .enumerate()
                .map(|(i, x)| (Cow::Owned(Json::from(i)), Cow::Owned(x)))
                .collect(),
            Cow::Owned(Json::Object(m)) => {
                let mut entries: Vec<_> = m.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                entries
                    .into_iter()
                    .map(|(k, x)| (Cow::Owned(Json::String(k)), Cow::Owned(x)))
                    .collect()
            }
            ref n @ Cow::Borrowed(Json::Number(_)) | ref n @ Cow::Owned(Json::Number(_)) => {
                if !value::is_int(n) {
                    return eval_err(format!("range can't iterate over {}", value::go_string(n)));
                }
                let count = value::as_i64(n).unwrap_or(0).max(0) as usize;
                if self.iterations + count > MAX_ITERATIONS {
                    return Err(RenderError::TooManyIterations {
                        limit: MAX_ITERATIONS,
                    });
                }
                (0..count)
                    .map(|i| (Cow::Owned(Json::from(i)), Cow::Owned(Json::from(i))))
                    .collect()
            }
            Cow::Borrowed(Json::Null) | Cow::Owned(Json::Null) => Vec::new(),
            other => {
                return eval_err(format!(
                    "range can't iterate over {}",
                    value::go_string(&other)
                ));
            }
        };
        let r = if items.is_empty() {
            self.list(&br.otherwise, dot, out).map(|_| ())
        } else {
            self.range_items(items, &names, &br.then, out)
        };
        self.vars.truncate(mark);
        self.depth -= 1;
        r
    }

    fn range_items(
        &mut self,
        items: Vec<(Val<'a>, Val<'a>)>,
        names: &[&'a str],
        body: &'a [Node],
        out: &mut String,
    ) -> Res<()> {
        let mark = self.vars.len();
        for (key, elem) in items {
            self.iterations += 1;
            if self.iterations > MAX_ITERATIONS {
                return Err(RenderError::TooManyIterations {
                    limit: MAX_ITERATIONS,
                });
            }
            self.vars.truncate(mark);
            match names {
                [v] => self.vars.push((v, elem.clone())),
                [k, v] => {
                    self.vars.push((k, key));
                    self.vars.push((v, elem.clone()));
                }
                _ => {}
            }
            match self.list(body, &elem, out)? {
                Flow::Break => break,
                Flow::Normal | Flow::Continue => {}
            }
        }
        Ok(())
    }

    fn pipe(&mut self, pipe: &'a Pipe, dot: &Val<'a>) -> Res<Val<'a>> {
        let mut v: Option<Val<'a>> = None;
        for cmd in &pipe.cmds {
            v = Some(self.cmd(cmd, dot, v)?);
        }
        let v = v.unwrap_or(Cow::Borrowed(&NIL));
        if pipe.is_assign {
            let name = pipe.vars[0].as_str();
            match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = v.clone(),
                None => return eval_err(format!("undefined variable \"${name}\"")),
            }
        } else {
            for name in &pipe.vars {
                self.vars.push((name.as_str(), v.clone()));
            }
        }
        Ok(v)
    }

    fn cmd(&mut self, cmd: &'a Cmd, dot: &Val<'a>, piped: Option<Val<'a>>) -> Res<Val<'a>> {
        match &cmd.args[0] {
            Arg::Func(callee) => self.call(*callee, &cmd.args[1..], dot, piped),
            first => {
                if piped.is_some() || cmd.args.len() > 1 {
                    return eval_err("can't give argument to non-function");
                }
                self.arg(first, dot)
            }
        }
    }

    fn arg(&mut self, arg: &'a Arg, dot: &Val<'a>) -> Res<Val<'a>> {
        Ok(match arg {
            Arg::Literal(j) => Cow::Borrowed(j),
            Arg::Dot => dot.clone(),
            Arg::Field(chain) => match dot {
                Cow::Borrowed(j) => fields(Cow::Borrowed(*j), chain),
                Cow::Owned(j) => {
                    let first = lookup(j, &chain[0]).clone();
                    fields(Cow::Owned(first), &chain[1..])
                }
            },
            Arg::Var(name, chain) => {
                let v = match self.vars.iter().rev().find(|(n, _)| n == name) {
                    Some((_, v)) => v.clone(),
                    None => return eval_err(format!("undefined variable \"${name}\"")),
                };
                fields(v, chain)
            }
            Arg::Func(callee) => self.call(*callee, &[], dot, None)?,
            Arg::Pipe(p) => {
                self.enter()?;
                let mark = self.vars.len();
                let v = self.pipe(p, dot);
                self.vars.truncate(mark);
                self.depth -= 1;
                v?
            }
            Arg::Chain(base, chain) => {
                let v = self.arg(base, dot)?;
                fields(v, chain)
            }
        })
    }

    fn call(
        &mut self,
        callee: Callee,
        args: &'a [Arg],
        dot: &Val<'a>,
        piped: Option<Val<'a>>,
    ) -> Res<Val<'a>> {
        match callee {
            Callee::And | Callee::Or => {
                let want = matches!(callee, Callee::Or);
                let mut last = Cow::Borrowed(&NIL);
                for a in args {
                    last = self.arg(a, dot)?;
                    if value::truthy(&last) == want {
                        return Ok(last);
                    }
                }
                Ok(piped.unwrap_or(last))
            }
            Callee::Builtin(f) => {
                let mut vals = Vec::with_capacity(args.len() + 1);
                for a in args {
                    vals.push(self.arg(a, dot)?);
                }
                vals.extend(piped);
                let failed = |message: String| RenderError::FunctionFailed {
                    name: f.name.to_string(),
                    message,
                };
                let v = (f.call)(vals, &mut self.cx).map_err(failed)?;
                // Computed values are bounded like the output, so no chain of functions (or a
                // loop reassigning a variable) can build an unbounded value.
                if let Cow::Owned(owned) = &v
                    && value::heavier_than(owned, MAX_OUTPUT)
                {
                    return Err(failed(format!("result larger than {MAX_OUTPUT} bytes")));
                }
                Ok(v)
            }
            Callee::Note(index) => {
                let note = &self.engine.notes[index];
                let new_dot = match (args.first(), piped) {
                    (Some(a), _) => self.arg(a, dot)?,
                    (None, Some(p)) => p,
                    (None, None) => dot.clone(),
                };
                self.enter()?;
                let saved_vars = std::mem::take(&mut self.vars);
                let saved_defines =
                    std::mem::replace(&mut self.defines, &note.template.inner.defines);
                self.vars.push(("", new_dot.clone()));
                let mut buf = String::new();
                let r = self.list(&note.template.inner.body, &new_dot, &mut buf);
                self.vars = saved_vars;
                self.defines = saved_defines;
                self.depth -= 1;
                r.map_err(|e| RenderError::NoteFailed {
                    name: note.name.clone(),
                    source: Box::new(e),
                })?;
                Ok(Cow::Owned(Json::String(buf)))
            }
        }
    }
}
