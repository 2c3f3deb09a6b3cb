//! Checks a [`Run`] against an `expect:` block.
//!
//! - `noErrors: true`: no cycle ended with a reconcile error (a CR denied by a validation
//!   rule is not an error: it is the declared outcome);
//! - `steady: true` a steady state was reached (`false`: it was not);
//! - `steadyAt: N`: reached at cycle N or earlier;
//! - `ops`: at least `count` (default 1) ops match the rule (every field given; verbs as
//!   [`Op::matches_verb`] reads them; a rule without a read verb (`get`, `list`, `watch`)
//!   only matches successful writes, Events left out);
//! - `absent`: no op matches the rule (a rule without `cycle` covers every cycle).

use crate::file::{Expect, OpRule};
use crate::memory_api::Op;
use crate::run::Run;

/// One expectation and whether it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Where it is written (`steady`, `ops[2]`, `crds.web.absent[0]`).
    pub field: String,
    /// What it expects, in words.
    pub expected: String,
    /// Why it failed (`None`: it held).
    pub failure: Option<String>,
}

impl Outcome {
    /// Whether it held.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// The expectations for `crd`: its entry under `crds:` if any, else the block itself; with
/// the field prefix to name them by.
pub fn for_crd<'e>(expect: &'e Expect, crd: &str) -> (&'e Expect, String) {
    match expect.crds.get(crd) {
        Some(e) => (e, format!("crds.{crd}.")),
        None => (expect, String::new()),
    }
}

fn describe(rule: &OpRule) -> String {
    let mut s = format!(
        "{} {}",
        rule.verb.as_deref().unwrap_or("any"),
        rule.resource.as_deref().unwrap_or("resource")
    );
    if let Some(n) = &rule.name {
        s.push('/');
        s.push_str(n);
    }
    match rule.cycle {
        Some(c) => s.push_str(&format!(" (cycle {c})")),
        None => s.push_str(" (any cycle)"),
    }
    s
}

fn matches(op: &Op, rule: &OpRule) -> bool {
    if rule.cycle.is_some_and(|c| c != op.cycle) {
        return false;
    }
    let verb = rule.verb.as_deref();
    let read = matches!(verb, Some("get" | "list" | "watch"));
    if !read && (!op.is_write() || op.resource == "events") {
        return false;
    }
    if verb.is_some_and(|v| !op.matches_verb(v)) {
        return false;
    }
    if rule
        .resource
        .as_deref()
        .is_some_and(|r| !op.matches_resource(r))
    {
        return false;
    }
    rule.name.as_deref().is_none_or(|n| n == op.name)
}

/// Every expectation of `expect` (as chosen for the run's CRD by [`for_crd`]) with its
/// outcome, in the order written.
pub fn check(run: &Run, expect: &Expect) -> Vec<Outcome> {
    let (expect, prefix) = for_crd(expect, &run.crd);
    let mut out = Vec::new();
    let mut push = |field: String, expected: String, failure: Option<String>| {
        out.push(Outcome {
            field: format!("{prefix}{field}"),
            expected,
            failure,
        });
    };
    if expect.no_errors == Some(true) {
        let failed: Vec<String> = run
            .cycles
            .iter()
            .filter_map(|c| c.error.as_ref().map(|e| format!("cycle {}: {e}", c.number)))
            .collect();
        push(
            "noErrors".into(),
            "no reconcile errors".into(),
            (!failed.is_empty()).then(|| failed.join("; ")),
        );
    }
    if let Some(steady) = expect.steady {
        let failure = match (steady, run.steady_at) {
            (true, None) => Some(format!(
                "no two consecutive cycles were identical in {} cycles",
                run.cycles.len()
            )),
            (false, Some(at)) => Some(format!("steady at cycle {at}")),
            _ => None,
        };
        let expected = if steady { "steady" } else { "never steady" };
        push("steady".into(), expected.into(), failure);
    }
    if let Some(limit) = expect.steady_at {
        let failure = match run.steady_at {
            Some(at) if at <= limit => None,
            Some(at) => Some(format!("steady only at cycle {at}")),
            None => Some("never steady".into()),
        };
        push(
            "steadyAt".into(),
            format!("steady by cycle {limit}"),
            failure,
        );
    }
    for (i, rule) in expect.ops.iter().enumerate() {
        let want = rule.count.unwrap_or(1).max(1) as usize;
        let got = run.ops().filter(|op| matches(op, rule)).count();
        let failure = (got < want).then(|| {
            if got == 0 {
                "no such op".to_owned()
            } else {
                format!("{got} such op(s), wanted {want}")
            }
        });
        push(format!("ops[{i}]"), describe(rule), failure);
    }
    for (i, rule) in expect.absent.iter().enumerate() {
        let got: Vec<&Op> = run.ops().filter(|op| matches(op, rule)).collect();
        let failure = got.first().map(|op| {
            format!(
                "{} such op(s), first in cycle {}: {} {}/{}",
                got.len(),
                op.cycle,
                op.verb,
                op.resource,
                op.name
            )
        });
        push(
            format!("absent[{i}]"),
            format!("no {}", describe(rule)),
            failure,
        );
    }
    out
}
