//! The text of a run, as `ork simulate` prints it:
//!
//! ```text
//! Simulating website/hello
//!
//!   Cycle 1:
//!     + deployments/hello
//!     ~ status/hello
//!   Cycle 2: no writes
//!   (cycles 3–10: identical)
//!
//!   ✓ Steady state at cycle 3 in 4ms
//! ```
//!
//! `+` an object created (by a POST or a creating apply), `-` deleted, `~` changed;
//! `status/<name>` a write to a status subresource. Events are left out. Consecutive
//! identical cycles are collapsed.

use std::fmt::Write;

use crate::expect::Outcome;
use crate::memory_api::Verb;
use crate::run::{Cycle, Run};

/// The lines of one cycle's writes (without the `Cycle N:` header).
pub fn cycle_lines(cycle: &Cycle) -> Vec<String> {
    let mut entries: Vec<(String, char)> = Vec::new();
    for op in cycle.writes() {
        let target = match op.subresource.as_deref() {
            Some(sub) => format!("{sub}/{}", op.name),
            None => format!("{}/{}", op.resource, op.name),
        };
        let icon = if op.created {
            '+'
        } else if op.verb == Verb::Delete {
            '-'
        } else {
            '~'
        };
        match entries.iter_mut().find(|(t, _)| *t == target) {
            Some((_, existing)) => {
                if icon == '+' || (icon == '-' && *existing == '~') {
                    *existing = icon;
                }
            }
            None => entries.push((target, icon)),
        }
    }
    let mut lines: Vec<String> = entries
        .into_iter()
        .map(|(target, icon)| format!("{icon} {target}"))
        .collect();
    if cycle.gated {
        lines.push("(held by a preReconcile gate: not reconciled)".into());
    }
    if let Some(why) = &cycle.denied {
        lines.push(format!("⊘ denied: {why}"));
    }
    if let Some(e) = &cycle.error {
        lines.push(format!("✗ {e}"));
    }
    lines
}

/// The whole run: header, notes, cycles (collapsed), steady state; `debug_ops` adds every
/// request of every cycle.
pub fn run(run: &Run, debug_ops: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Simulating {}/{}", run.crd, run.cr);
    for note in &run.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    let _ = writeln!(out);
    if debug_ops {
        let total: usize = run.cycles.iter().map(|c| c.ops.len()).sum();
        let _ = writeln!(out, "  [debug-ops] {total} requests:");
        for op in run.ops() {
            let _ = writeln!(
                out,
                "  [debug-ops]   cycle={:<2} verb={:<6} resource={:<24} name={} code={}{}",
                op.cycle,
                op.verb.as_str(),
                match &op.subresource {
                    Some(s) => format!("{}/{s}", op.resource),
                    None => op.resource.clone(),
                },
                op.name,
                op.code,
                if op.created { " created" } else { "" }
            );
        }
        let _ = writeln!(out);
    }
    let mut previous: Option<Vec<String>> = None;
    let mut repeat_from: Option<u32> = None;
    let mut last = 0;
    let flush = |out: &mut String, from: Option<u32>, to: u32| {
        if let Some(from) = from {
            if from == to {
                let _ = writeln!(out, "  (cycle {from}: identical)");
            } else {
                let _ = writeln!(out, "  (cycles {from}–{to}: identical)");
            }
        }
    };
    for cycle in &run.cycles {
        let lines = cycle_lines(cycle);
        last = cycle.number;
        if previous.as_ref() == Some(&lines) {
            repeat_from.get_or_insert(cycle.number);
            continue;
        }
        flush(&mut out, repeat_from.take(), cycle.number - 1);
        if lines.is_empty() {
            let _ = writeln!(out, "  Cycle {}: no writes", cycle.number);
        } else {
            let _ = writeln!(out, "  Cycle {}:", cycle.number);
            for line in &lines {
                let _ = writeln!(out, "    {line}");
            }
        }
        previous = Some(lines);
    }
    flush(&mut out, repeat_from.take(), last);
    let ms = run.elapsed.as_millis();
    match run.steady_at {
        Some(at) => {
            let _ = writeln!(out, "\n  ✓ Steady state at cycle {at} in {ms}ms");
        }
        None => {
            let _ = writeln!(
                out,
                "\n  ~ Max cycles reached ({}) in {ms}ms",
                run.cycles.len()
            );
        }
    }
    out
}

/// The expectations with ✓/✗, then PASS or FAIL.
pub fn outcomes(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        match &o.failure {
            None => {
                let _ = writeln!(out, "  ✓ {}: {}", o.field, o.expected);
            }
            Some(why) => {
                let _ = writeln!(out, "  ✗ {}: {} — {why}", o.field, o.expected);
            }
        }
    }
    let verdict = if outcomes.iter().all(Outcome::passed) {
        "PASS"
    } else {
        "FAIL"
    };
    let _ = writeln!(out, "\n  {verdict}");
    out
}
