//! `ork validate`: load a Katalog offline and report every problem.

use std::path::Path;
use std::process::ExitCode;

use katalog::model::Katalog;
use katalog::{Diagnostic, Loaded, rbac};

use super::{OutputFormat, ValidateArgs};

/// Runs `ork validate`: exit 0 when valid, 1 when invalid.
pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let path = match args.katalog.or(args.file) {
        Some(path) => path,
        None => crate::commands::run::default_file(Path::new("."))?,
    };
    match first_kind(&path).as_deref() {
        Some("Simulate") => return simulate_file(&path, args.output),
        Some("E2E") => return e2e_file(&path, args.output),
        Some("Motif") => return motif_file(&path, args.output),
        _ => {}
    }
    let result = katalog::load(&path);
    let valid = result.is_ok();
    match args.output {
        OutputFormat::Text => print!(
            "{}",
            text(&path, &result, args.full, args.notes, args.profiles)
        ),
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json(&path, &result, args.full))?
        ),
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The `kind` of the file's first document, when it reads as YAML.
fn first_kind(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_saphyr::from_multiple::<serde_json::Value>(&text)
        .ok()?
        .into_iter()
        .next()?
        .get("kind")?
        .as_str()
        .map(str::to_owned)
}

/// Prints the outcome of checking a file that is not a Katalog (`what` names its kind) and
/// returns the exit code: 0 valid, 1 invalid.
fn report_file(
    path: &Path,
    what: &str,
    result: Result<String, &katalog::Diagnostics>,
    output: OutputFormat,
) -> anyhow::Result<ExitCode> {
    match (&result, output) {
        (Ok(summary), OutputFormat::Text) => println!("✓ {} is valid: {summary}", path.display()),
        (Err(d), OutputFormat::Text) => print!(
            "{}",
            d.render().replace(
                "the Katalog is invalid",
                &format!("the {what} file is invalid")
            )
        ),
        (Ok(_), OutputFormat::Json) => println!(
            "{}",
            serde_json::json!({"file": path, "kind": what, "valid": true, "diagnostics": []})
        ),
        (Err(d), OutputFormat::Json) => println!(
            "{}",
            serde_json::json!({"file": path, "kind": what, "valid": false, "diagnostics": d.to_json()})
        ),
    }
    Ok(if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `ork validate e2e.yaml`: the E2E file's strict check (unknown keys, wrong types, unknown
/// expectation kinds, bad durations), the files it names and its imports (see `e2e::load`).
fn e2e_file(path: &Path, output: OutputFormat) -> anyhow::Result<ExitCode> {
    let result = e2e::load(path);
    let summary = result.as_ref().map(|suite| {
        let tests = suite.tests.len();
        let expectations: usize = suite.tests.iter().map(|t| t.spec.expect.len()).sum();
        format!(
            "E2E file, {tests} test{}, {expectations} expectation{}",
            if tests == 1 { "" } else { "s" },
            if expectations == 1 { "" } else { "s" }
        )
    });
    report_file(path, "E2E", summary, output)
}

/// `ork validate motif.yaml`: the Motif file's strict check (see `katalog::load_motif`).
fn motif_file(path: &Path, output: OutputFormat) -> anyhow::Result<ExitCode> {
    let result = katalog::load_motif(path);
    if let Ok((_, warnings)) = &result
        && output == OutputFormat::Text
    {
        for w in &warnings.items {
            println!("{}", w.render(&warnings.sources));
        }
    }
    let summary = result.as_ref().map(|(name, _)| format!("Motif `{name}`"));
    report_file(path, "Motif", summary, output)
}

/// `ork validate simulate.yaml`: the Simulate file's strict check, the files it names, its
/// imports (see `simulate::file::check`).
fn simulate_file(path: &Path, output: OutputFormat) -> anyhow::Result<ExitCode> {
    let result = simulate::file::check(path);
    let summary = result.as_ref().map(|n| {
        let imported = if *n > 1 {
            format!(" with {} imported files", n - 1)
        } else {
            String::new()
        };
        format!("Simulate file{imported}")
    });
    report_file(path, "Simulate", summary, output)
}

fn text(
    path: &Path,
    result: &Result<Loaded, katalog::Diagnostics>,
    full: bool,
    notes: bool,
    profiles: bool,
) -> String {
    let mut out = String::new();
    match result {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                out.push_str(&warning.render(&loaded.sources));
                out.push('\n');
            }
            let k = &loaded.katalog;
            out.push_str(&format!(
                "✓ {} is valid: Katalog `{}`, {} CRD{}, {} warning{}\n",
                path.display(),
                k.name,
                k.crds.len(),
                if k.crds.len() == 1 { "" } else { "s" },
                loaded.warnings.len(),
                if loaded.warnings.len() == 1 { "" } else { "s" },
            ));
            if full {
                out.push_str(&full_text(k));
            }
            if notes {
                out.push_str(&notes_text(k));
            }
            if profiles {
                out.push_str(&profiles_text(&k.profiles));
            }
        }
        Err(diagnostics) => out.push_str(&diagnostics.render()),
    }
    out
}

/// `--profiles`: the merged user profiles by class, each with where it was declared and its
/// definition (as compact JSON).
fn profiles_text(p: &katalog::model::Profiles) -> String {
    use katalog::model::ProfileMap;
    let mut lines = Vec::new();
    for (name, profile) in &p.reconciler {
        let r = &profile.value;
        let mut parts = Vec::new();
        if let Some(w) = r.workers {
            parts.push(format!("workers: {w}"));
        }
        if let Some(resync) = &r.resync {
            parts.push(format!("resync: {resync}"));
        }
        if r.queue.is_some() {
            parts.push("queue: set".to_owned());
        }
        lines.push(("reconciler", name, &profile.at, parts.join(", ")));
    }
    let classes: [(&str, &ProfileMap); 10] = [
        ("networkPolicies", &p.network_policies),
        ("resourceQuotas", &p.resource_quotas),
        ("limitRanges", &p.limit_ranges),
        ("hpa", &p.hpa),
        ("pdb", &p.pdb),
        ("rollingUpdate", &p.rolling_update),
        ("resources", &p.resources),
        ("probes", &p.probes),
        ("containerSecurity", &p.container_security),
        ("podSecurity", &p.pod_security),
    ];
    for (class, map) in classes {
        for (name, profile) in map {
            lines.push((class, name, &profile.at, profile.value.to_string()));
        }
    }
    let mut out = format!("\nprofiles: {}\n", lines.len());
    let mut current = "";
    for (class, name, at, definition) in lines {
        if class != current {
            out.push_str(&format!("  {class}:\n"));
            current = class;
        }
        out.push_str(&format!("    {name}  ({at})\n      {definition}\n"));
    }
    out
}

/// `--notes`: the Katalog's notes (they parsed and compiled together, or the load failed),
/// with the built-ins they shadow.
fn notes_text(k: &Katalog) -> String {
    let mut out = format!("\nnotes: {}\n", k.notes.len());
    for n in &k.notes {
        let name = &n.name.value;
        out.push_str(&format!("  {name}: {}\n", n.expression.value));
        if let Some(d) = &n.description {
            out.push_str(&format!("    {d}\n"));
        }
        if gotmpl::catalog::function_doc(name).is_some() {
            out.push_str(&format!("    shadows the built-in {name}\n"));
        }
    }
    out
}

fn full_text(k: &Katalog) -> String {
    let mut out = String::new();
    for crd in &k.crds {
        let s = &crd.settings;
        out.push_str(&format!(
            "\nCRD {}{}\n",
            crd.name,
            if crd.enabled { "" } else { " (disabled)" }
        ));
        out.push_str(&format!("  gvk:        {}\n", crd.gvk()));
        out.push_str(&format!(
            "  resource:   {} ({})\n",
            crd.plural,
            if crd.namespaced {
                "namespaced"
            } else {
                "cluster-scoped"
            }
        ));
        out.push_str(&format!(
            "  workers:    {} ({:?})\n",
            s.workers, s.workers_source
        ));
        out.push_str(&format!("  resync:     {}s\n", s.resync.as_secs()));
        out.push_str(&format!(
            "  queue:      maxDepth {} ({}), failureThreshold {}\n",
            s.max_depth,
            if s.max_depth == 0 {
                "unlimited"
            } else {
                "limited"
            },
            s.failure_threshold
        ));
        out.push_str(&format!("  finalizers: {}\n", crd.finalizers.join(", ")));
        let deps: Vec<String> = crd
            .depends_on()
            .iter()
            .map(|d| format!("{} ({:?})", d.name.value, d.condition))
            .collect();
        if !deps.is_empty() {
            out.push_str(&format!("  dependsOn:  {}\n", deps.join(", ")));
        }
    }
    out.push_str(&format!(
        "\nstart order: {}\n",
        k.start_order().join(" -> ")
    ));
    let needs = rbac::Needs::from_katalog(k);
    for (title, rules) in [
        ("runtime ClusterRole rules", rbac::runtime_rules(&needs)),
        ("gateway ClusterRole rules", rbac::gateway_rules(&needs)),
    ] {
        out.push_str(&format!("\n{title}:\n"));
        if rules.is_empty() {
            out.push_str("  (none)\n");
        }
        for rule in rules {
            let names = if rule.resource_names.is_empty() {
                String::new()
            } else {
                format!(" resourceNames: [{}]", rule.resource_names.join(", "))
            };
            let groups: Vec<String> = rule.api_groups.iter().map(|g| format!("{g:?}")).collect();
            out.push_str(&format!(
                "  - apiGroups: [{}] resources: [{}]{names} verbs: [{}]\n",
                groups.join(", "),
                rule.resources.join(", "),
                rule.verbs.join(", "),
            ));
        }
    }
    out
}

fn diagnostic_json(d: &Diagnostic) -> serde_json::Value {
    serde_json::to_value(d).unwrap_or_default()
}

fn json(
    path: &Path,
    result: &Result<Loaded, katalog::Diagnostics>,
    full: bool,
) -> serde_json::Value {
    match result {
        Ok(loaded) => {
            let mut v = serde_json::json!({
                "file": path.display().to_string(),
                "valid": true,
                "name": loaded.katalog.name,
                "errors": 0,
                "warnings": loaded.warnings.len(),
                "diagnostics": loaded.warnings.iter().map(diagnostic_json).collect::<Vec<_>>(),
            });
            if full {
                v["crds"] = loaded
                    .katalog
                    .crds
                    .iter()
                    .map(|c| serde_json::json!({
                        "name": c.name,
                        "enabled": c.enabled,
                        "group": c.gvk.group,
                        "version": c.gvk.version,
                        "kind": c.gvk.kind,
                        "plural": c.plural,
                        "namespaced": c.namespaced,
                        "workers": c.settings.workers,
                        "resyncSeconds": c.settings.resync.as_secs(),
                        "maxDepth": c.settings.max_depth,
                        "failureThreshold": c.settings.failure_threshold,
                        "finalizers": c.finalizers,
                        "dependsOn": c.depends_on().iter().map(|d| d.name.value.clone()).collect::<Vec<_>>(),
                    }))
                    .collect();
                v["startOrder"] = serde_json::json!(loaded.katalog.start_order());
                let needs = rbac::Needs::from_katalog(&loaded.katalog);
                v["rbac"] = serde_json::json!({
                    "runtime": rbac::runtime_rules(&needs),
                    "gateway": rbac::gateway_rules(&needs),
                });
            }
            v
        }
        Err(d) => serde_json::json!({
            "file": path.display().to_string(),
            "valid": false,
            "errors": d.errors().count(),
            "warnings": d.warnings().count(),
            "diagnostics": d.to_json(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const VALID: &str = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: demo}\nspec:\n  crds:\n    web:\n      apiTypes: {group: w.io, version: v1, kind: Web, plural: webs}\n";

    fn args(path: PathBuf, output: OutputFormat) -> ValidateArgs {
        ValidateArgs {
            katalog: Some(path),
            file: None,
            output,
            full: true,
            notes: false,
            profiles: false,
        }
    }

    #[test]
    fn exit_code_is_zero_when_valid_and_one_when_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.yaml");
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&good, VALID).unwrap();
        std::fs::write(
            &bad,
            VALID
                .replace("workers", "x")
                .replace("plural: webs", "plural: webs, plurl: x"),
        )
        .unwrap();
        assert_eq!(
            run(args(good, OutputFormat::Text)).unwrap(),
            ExitCode::SUCCESS
        );
        assert_eq!(
            run(args(bad, OutputFormat::Json)).unwrap(),
            ExitCode::from(1)
        );
    }

    #[test]
    fn json_output_lists_diagnostics_and_full_settings() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("katalog.yaml");
        std::fs::write(&good, VALID).unwrap();
        let result = katalog::load(&good);
        let v = json(&good, &result, true);
        assert_eq!(v["valid"], true);
        assert_eq!(v["crds"][0]["plural"], "webs");
        assert_eq!(v["startOrder"][0], "web");
        let runtime = v["rbac"]["runtime"].as_array().unwrap();
        assert!(
            runtime.iter().any(|r| r["resources"][0] == "webs"),
            "{runtime:?}"
        );
        std::fs::write(&good, VALID.replace("kind: Katalog", "kind: Catalog")).unwrap();
        let v = json(&good, &katalog::load(&good), false);
        assert_eq!(v["valid"], false);
        assert_eq!(v["diagnostics"][0]["code"], "wrong-kind");
        assert_eq!(v["diagnostics"][0]["line"], 2);
    }
}
