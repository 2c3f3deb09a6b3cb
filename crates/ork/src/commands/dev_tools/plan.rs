//! `ork plan -f KATALOG (--bundle FILE | --cm NAME [-n NS])`: what rolling out the local
//! Katalog would change against the deployed one, CRD by CRD ([`katalog::plan`]).
//!
//! The deployed Katalog is the ConfigMap `ork generate bundle` writes: read from a bundle
//! file, or live from the cluster. Its files (the entry as `katalog.yaml`, and the files
//! beside it) are loaded like any Katalog. Exit 0 without changes, 1 with changes, 2 on an
//! error.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use serde_json::Value;

use katalog::plan::{CrdChange, plan};
use runtime::cluster::{ConnectOptions, connect};

use super::PlanArgs;

/// The key of the entry file in the bundle's ConfigMap.
const ENTRY: &str = "katalog.yaml";

/// Runs `ork plan`.
pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let files = match (&args.bundle, &args.cm) {
        (Some(bundle), None) => from_bundle(bundle)?,
        (None, Some(name)) => from_cluster(&args, name)?,
        _ => bail!("say where the deployed Katalog is: --bundle FILE or --cm NAME [-n NAMESPACE]"),
    };
    let local = match katalog::load(&args.file) {
        Ok(l) => l,
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render());
            return Ok(ExitCode::from(2));
        }
    };
    let dir = tempfile::tempdir()?;
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text)?;
    }
    let deployed = match katalog::load(dir.path().join(ENTRY)) {
        Ok(l) => l,
        Err(diagnostics) => {
            eprintln!("ork: the deployed Katalog does not load:");
            eprint!("{}", diagnostics.render());
            return Ok(ExitCode::from(2));
        }
    };
    let changes = plan(&deployed, &local);
    if changes.is_empty() {
        println!(
            "No changes: the deployed Katalog matches {}.",
            args.file.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render(&changes));
    Ok(ExitCode::from(1))
}

/// The plan as printed.
fn render(changes: &[CrdChange]) -> String {
    let mut out = String::new();
    let (mut added, mut removed, mut modified) = (0, 0, 0);
    for change in changes {
        match change {
            CrdChange::Added(name) => {
                added += 1;
                out.push_str(&format!("+ CRD '{name}' (new)\n"));
            }
            CrdChange::Removed(name) => {
                removed += 1;
                out.push_str(&format!("- CRD '{name}' (removed)\n"));
            }
            CrdChange::Modified { name, fields } => {
                modified += 1;
                let what = if name == "(katalog)" {
                    "Katalog settings (modified)".to_owned()
                } else {
                    format!("CRD '{name}' (modified)")
                };
                out.push_str(&format!("~ {what}\n"));
                for f in fields {
                    let line = match (&f.before, &f.after) {
                        (Some(b), Some(a)) => format!("    ~ {}: {b} → {a}", f.path),
                        (None, Some(a)) => format!("    + {}: {a}", f.path),
                        (Some(b), None) => format!("    - {}: {b}", f.path),
                        (None, None) => continue,
                    };
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
    }
    out.push_str(&format!(
        "\nPlan: {added} to add, {modified} to change, {removed} to remove.\n"
    ));
    out
}

/// The Katalog files of the ConfigMap in a bundle file.
fn from_bundle(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
        .with_context(|| format!("{} is not YAML", path.display()))?;
    docs.iter()
        .filter(|d| d["kind"] == "ConfigMap")
        .find_map(|d| files_of(&d["data"]))
        .with_context(|| format!("{} has no ConfigMap with a {ENTRY}", path.display()))
}

/// The Katalog files of a live ConfigMap.
fn from_cluster(args: &PlanArgs, name: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let cm = runtime.block_on(async {
        let client = connect(&ConnectOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
        })
        .await
        .context("cannot connect to the cluster")?;
        Api::<ConfigMap>::namespaced(client, &args.namespace)
            .get_opt(name)
            .await
            .with_context(|| format!("cannot read ConfigMap {}/{name}", args.namespace))
    })?;
    let cm = cm.with_context(|| format!("no ConfigMap {name} in namespace {}", args.namespace))?;
    files_of(&serde_json::to_value(cm.data.unwrap_or_default())?)
        .with_context(|| format!("ConfigMap {}/{name} has no {ENTRY}", args.namespace))
}

/// The files of a ConfigMap's `data`, when it holds an entry file.
fn files_of(data: &Value) -> Option<BTreeMap<String, String>> {
    let map = data.as_object()?;
    map.contains_key(ENTRY).then(|| {
        map.iter()
            .filter(|(name, _)| !name.contains('/') && !name.starts_with('.'))
            .filter_map(|(name, text)| Some((name.clone(), text.as_str()?.to_owned())))
            .collect()
    })
}
