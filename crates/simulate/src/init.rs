//! `ork simulate init`: a simulate.yaml written from what cycle 1 creates, so the run that
//! exists today becomes the expectation of tomorrow.

use std::fmt::Write;
use std::path::Path;

use serde_json::Value;

use crate::run::{self, Inputs};
use crate::suite::{self, DEFAULT_CYCLES};

/// The Katalog file names looked for, in order.
pub const KATALOG_FILES: &[&str] = &["katalog.yaml", "komposer.yaml"];

/// Quotes a YAML scalar when it would not read back as the same string.
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !matches!(
            s,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        )
        && s.parse::<f64>().is_err();
    if plain {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

/// The simulate.yaml for the Katalog and `cr.yaml` in `dir`: `noErrors` and `steady` when
/// the run today has them, and every object cycle 1 creates as an `ops:` rule (under
/// `crds:` when the Katalog has several CRDs with CRs).
///
/// # Errors
/// No Katalog or `cr.yaml` in `dir`, an invalid Katalog, no CR of any of its kinds.
pub async fn generate(dir: &Path) -> Result<String, String> {
    let katalog_file = KATALOG_FILES
        .iter()
        .find(|f| dir.join(f).is_file())
        .ok_or_else(|| format!("no katalog.yaml or komposer.yaml in {}", dir.display()))?;
    let cr_path = dir.join("cr.yaml");
    if !cr_path.is_file() {
        return Err(format!("no cr.yaml in {}", dir.display()));
    }
    let katalog = suite::load_katalog(&dir.join(katalog_file))?;
    let text = std::fs::read_to_string(&cr_path)
        .map_err(|e| format!("cannot read {}: {e}", cr_path.display()))?;
    let crs: Vec<Value> = serde_saphyr::from_multiple(&text)
        .map_err(|e| format!("{} is not YAML: {e}", cr_path.display()))?;
    let inputs = Inputs {
        crs,
        cycles: DEFAULT_CYCLES,
        ..Inputs::default()
    };
    let mut runs = Vec::new();
    for crd in katalog.enabled_crds() {
        match run::simulate(&katalog, crd, &inputs).await {
            Ok(r) => runs.push(r),
            Err(run::Error::NoCr { .. }) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    if runs.is_empty() {
        return Err(format!(
            "no CR in {} is of a kind the Katalog declares",
            cr_path.display()
        ));
    }
    let mut out = String::new();
    let _ = writeln!(out, "apiVersion: orkestra.orkspace.io/v1");
    let _ = writeln!(out, "kind: Simulate");
    let _ = writeln!(out, "metadata:");
    let _ = writeln!(out, "  name: {}", scalar(&format!("{}-sim", katalog.name)));
    let _ = writeln!(
        out,
        "  description: Written by `ork simulate init` from what cycle 1 creates."
    );
    let _ = writeln!(out, "spec:");
    let _ = writeln!(out, "  katalog: ./{katalog_file}");
    let _ = writeln!(out, "  cr: ./cr.yaml");
    let _ = writeln!(out, "  cycles: {DEFAULT_CYCLES}");
    let _ = writeln!(out, "  expect:");
    let block = |out: &mut String, run: &run::Run, indent: &str| {
        if run.cycles.iter().all(|c| c.error.is_none()) {
            let _ = writeln!(out, "{indent}noErrors: true");
        }
        if run.steady_at.is_some() {
            let _ = writeln!(out, "{indent}steady: true");
        }
        let creates: Vec<_> = run
            .cycles
            .first()
            .into_iter()
            .flat_map(|c| c.writes())
            .filter(|o| o.created)
            .collect();
        if !creates.is_empty() {
            let _ = writeln!(out, "{indent}ops:");
        }
        for op in creates {
            let _ = writeln!(out, "{indent}  - cycle: 1");
            let _ = writeln!(out, "{indent}    verb: create");
            let _ = writeln!(out, "{indent}    resource: {}", scalar(&op.resource));
            let _ = writeln!(out, "{indent}    name: {}", scalar(&op.name));
        }
    };
    if let [only] = runs.as_slice() {
        block(&mut out, only, "    ");
    } else {
        let _ = writeln!(out, "    crds:");
        for run in &runs {
            let _ = writeln!(out, "      {}:", scalar(&run.crd));
            block(&mut out, run, "        ");
        }
    }
    Ok(out)
}
