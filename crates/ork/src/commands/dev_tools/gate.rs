//! `ork gate -f KATALOG --cr CR...`: a Katalog's admission rules evaluated offline against
//! CR files, with [`katalog::admission::admit`] (the evaluation the gateway and the runtime
//! run): mutation first, then validation of the mutated object.
//!
//! `unique` rules need the other CRs of the cluster and rules reading `.external.*` need
//! the `validation.external` calls made: both are skipped, and the output says so.

use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;

use katalog::admission::{self, Input, Stage};
use katalog::build::{EngineRender, crd_for, engine_for};
use katalog::model::{Condition, Crd, ValidationRule};

use super::GateArgs;

/// Runs `ork gate`.
pub fn run(args: GateArgs) -> anyhow::Result<ExitCode> {
    let loaded = match katalog::load(&args.file) {
        Ok(l) => l,
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render());
            return Ok(ExitCode::from(1));
        }
    };
    let k = &loaded.katalog;
    let render = EngineRender::new(engine_for(k).context("the Katalog's notes are invalid")?);
    let mut denied_any = false;
    for path in &args.cr {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
            .with_context(|| format!("{} is not YAML", path.display()))?;
        for cr in docs.into_iter().filter(Value::is_object) {
            let crd = crd_for(k, &cr, args.crd.as_deref())
                .with_context(|| format!("{}: {}", path.display(), describe(&cr)))?;
            let report = gate(crd, &cr, &render);
            print!(
                "{}",
                report.render(&format!("{} ({})", describe(&cr), path.display()))
            );
            denied_any |= !report.admitted.is_allowed();
        }
    }
    Ok(if denied_any {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `Kind/name` of a CR, for headings.
fn describe(cr: &Value) -> String {
    format!(
        "{}/{}",
        cr["kind"].as_str().unwrap_or("?"),
        cr["metadata"]["name"].as_str().unwrap_or("?")
    )
}

/// What gating one CR found.
struct Report {
    /// Validation rules evaluated.
    evaluated: usize,
    /// Rules left out, with why.
    skipped: Vec<String>,
    /// Mutation and validation outcome.
    admitted: admission::Admitted,
}

/// Admits `cr` against `crd`'s rules, without the rules that cannot run offline.
fn gate(crd: &Crd, cr: &Value, render: &EngineRender) -> Report {
    let mut offline = crd.clone();
    let mut skipped = Vec::new();
    if let Some(validation) = offline.entry.validation.as_mut() {
        validation
            .rules
            .retain(|rule| match offline_blocker(&rule.value) {
                Some(why) => {
                    let name = rule
                        .value
                        .name
                        .as_ref()
                        .or(rule.value.field.as_ref())
                        .map_or("(unnamed)", String::as_str);
                    skipped.push(format!("{name} ({why})"));
                    false
                }
                None => true,
            });
    }
    let evaluated = offline
        .entry
        .validation
        .as_ref()
        .map_or(0, |v| v.rules.len());
    let input = Input::new(cr, render, Stage::Admission);
    let admitted = admission::admit(&offline, &input, true, true);
    Report {
        evaluated,
        skipped,
        admitted,
    }
}

/// Why a rule cannot be evaluated offline: `unique` needs the cluster's other CRs, a rule
/// reading `.external.*` needs the external calls made.
fn offline_blocker(rule: &ValidationRule) -> Option<&'static str> {
    if rule.operator.as_ref().is_some_and(|o| o.value == "unique") {
        return Some("unique: needs the cluster's other CRs");
    }
    let reads_external = |text: &str| text.starts_with("external.") || text.contains(".external.");
    let conditions_read_external =
        |cs: &[Condition]| serde_json::to_string(cs).is_ok_and(|json| json.contains("external."));
    if rule.field.as_deref().is_some_and(reads_external)
        || conditions_read_external(&rule.when)
        || conditions_read_external(&rule.or)
    {
        return Some("external: reads an external call's result");
    }
    None
}

impl Report {
    /// The report as printed under `heading`.
    fn render(&self, heading: &str) -> String {
        let mut out = format!("{heading}\n");
        for op in &self.admitted.mutated.patch {
            out.push_str(&format!("  ~ mutated {} = {}\n", op.path, op.value));
        }
        for failure in &self.admitted.mutated.errors {
            out.push_str(&format!("  ✗ {}\n", failure.message));
        }
        let verdict = &self.admitted.verdict;
        let failed = verdict.denied.len() + verdict.warnings.len();
        if !verdict.denied.is_empty() || !self.admitted.mutated.errors.is_empty() {
            let count = verdict.denied.len() + self.admitted.mutated.errors.len();
            out.push_str(&format!("  ✗ {count} denial(s)\n"));
            for d in &verdict.denied {
                out.push_str(&format!("    - {}: {}\n", d.rule, d.message));
            }
        }
        if !verdict.warnings.is_empty() {
            out.push_str(&format!("  ⚠ {} warning(s)\n", verdict.warnings.len()));
            for w in &verdict.warnings {
                out.push_str(&format!("    - {}: {}\n", w.rule, w.message));
            }
        }
        if self.admitted.is_allowed() {
            let passed = self.evaluated - failed;
            out.push_str(&format!("  ✓ {passed}/{} rules passed\n", self.evaluated));
        }
        for s in &self.skipped {
            out.push_str(&format!("  - skipped {s}\n"));
        }
        out
    }
}
