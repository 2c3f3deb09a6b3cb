//! The guard against silent no-ops: every field of the Katalog model has a row in
//! `docs/katalog-keys.md`, and each row's status is backed by evidence (a source file reading
//! the field, a load-time check, or the warning or error that reports it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use katalog::validate::gaps::{GAPS, GapStatus};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `Struct.field` of every `pub` field of every `pub struct` in the model (resolved settings
/// excepted: ork computes them, nobody writes them).
fn model_fields() -> Vec<String> {
    let dir = repo().join("crates/katalog/src/model");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs") && !p.ends_with("resolved.rs"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let mut current: Option<String> = None;
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            if let Some(rest) = line.strip_prefix("pub struct ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                current = Some(name);
            } else if line.starts_with('}') {
                current = None;
            } else if let (Some(s), Some(rest)) = (&current, line.strip_prefix("    pub ")) {
                let rest = rest.strip_prefix("r#").unwrap_or(rest);
                if let Some((field, _)) = rest.split_once(':')
                    && field.chars().all(|c| c.is_alphanumeric() || c == '_')
                {
                    out.push(format!("{s}.{field}"));
                }
            }
        }
    }
    out
}

struct Row {
    status: String,
    evidence: String,
}

fn rows() -> BTreeMap<String, Row> {
    let text = std::fs::read_to_string(repo().join("docs/katalog-keys.md")).unwrap();
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        assert_eq!(
            cells.len(),
            3,
            "a row has field, status and evidence: {line}"
        );
        let field = cells[0].trim_matches('`').to_owned();
        let row = Row {
            status: cells[1].to_owned(),
            evidence: cells[2].to_owned(),
        };
        assert!(
            out.insert(field.clone(), row).is_none(),
            "`{field}` has two rows"
        );
    }
    out
}

/// The backticked parts of a cell.
fn ticks(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

fn source(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn katalog_sources_mention(code: &str) -> bool {
    fn walk(dir: &Path, needle: &str) -> bool {
        std::fs::read_dir(dir).unwrap().any(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, needle)
            } else {
                std::fs::read_to_string(&p).is_ok_and(|t| t.contains(needle))
            }
        })
    }
    walk(&repo().join("crates/katalog/src"), &format!("\"{code}\""))
}

#[test]
fn every_model_field_is_implemented_checked_or_reported() {
    let fields = model_fields();
    assert!(
        fields.len() > 300,
        "the model walk found {} fields",
        fields.len()
    );
    let rows = rows();
    let missing: Vec<&String> = fields.iter().filter(|f| !rows.contains_key(*f)).collect();
    assert!(
        missing.is_empty(),
        "model fields with no row in docs/katalog-keys.md (say whether ork implements, checks, warns or refuses them): {missing:?}"
    );
    let stale: Vec<&String> = rows.keys().filter(|r| !fields.contains(r)).collect();
    assert!(stale.is_empty(), "rows naming no model field: {stale:?}");

    for (field, row) in &rows {
        match row.status.as_str() {
            "implemented" | "checked" => {
                let [path, token] = ticks(&row.evidence)[..] else {
                    panic!(
                        "{field}: evidence must be `file` `access`: {}",
                        row.evidence
                    );
                };
                let outside_model = !["src/model/", "src/de/", "src/validate/"]
                    .iter()
                    .any(|d| path.contains(&format!("katalog/{d}")));
                if row.status == "implemented" {
                    assert!(
                        outside_model,
                        "{field}: `{path}` is no evidence of behaviour"
                    );
                } else {
                    assert!(
                        path.contains("katalog/src/validate/"),
                        "{field}: a check lives in the validators"
                    );
                }
                assert!(
                    source(path).contains(token),
                    "{field}: `{path}` does not contain `{token}`"
                );
            }
            "warned" | "refused" => {
                let want = if row.status == "warned" {
                    GapStatus::Warned
                } else {
                    GapStatus::Refused
                };
                let e = &row.evidence;
                if e.starts_with("gap:") {
                    let declared: Vec<&str> = GAPS
                        .iter()
                        .filter(|g| g.field == field && g.status == want)
                        .map(|g| g.key)
                        .collect();
                    assert!(
                        !declared.is_empty(),
                        "{field}: not in GAPS as {}",
                        row.status
                    );
                    assert_eq!(
                        ticks(e),
                        declared,
                        "{field}: the documented paths differ from GAPS"
                    );
                } else if let Some(rest) = e.strip_prefix("parent ") {
                    let parent = ticks(rest)[0];
                    let p = rows
                        .get(parent)
                        .unwrap_or_else(|| panic!("{field}: no row {parent}"));
                    assert!(
                        p.status == "warned" || p.status == "refused",
                        "{field}: its parent {parent} is {}",
                        p.status
                    );
                } else if let Some(rest) = e.strip_prefix("code ") {
                    let code = ticks(rest)[0];
                    assert!(
                        katalog_sources_mention(code),
                        "{field}: no diagnostic `{code}`"
                    );
                } else {
                    panic!(
                        "{field}: evidence of a {} key is `gap:`, `parent` or `code`",
                        row.status
                    );
                }
            }
            "informational" | "derived" => {}
            other => panic!("{field}: unknown status {other}"),
        }
    }
    for gap in GAPS {
        let row = rows
            .get(gap.field)
            .unwrap_or_else(|| panic!("GAPS names {}, which has no row", gap.field));
        let status = match gap.status {
            GapStatus::Warned => "warned",
            GapStatus::Refused => "refused",
        };
        assert_eq!(row.status, status, "{}", gap.field);
    }
}

fn not_implemented(entry: &str) -> Vec<String> {
    let indented: String = entry.lines().map(|l| format!("      {l}\n")).collect();
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: gaps}}\nspec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n{indented}"
    );
    let loaded =
        katalog::load_text("katalog.yaml", text).unwrap_or_else(|d| panic!("{}", d.render()));
    loaded
        .warnings
        .iter()
        .filter(|w| w.code == "not-implemented")
        .map(|w| format!("{}:{}", w.path.clone().unwrap_or_default(), w.line))
        .collect()
}

#[test]
fn a_key_that_is_not_implemented_is_warned_at_its_line_with_its_path() {
    let w = not_implemented(
        "removeFinalizers: true\noperatorBox:\n  watch:\n    - {apiVersion: v1, kind: Pod, enqueueGate: {when: []}}\n  rollBackOnError: true\n  rollback:\n    onRollback: {configMaps: [{name: x}]}\n",
    );
    // `removeFinalizers`, a watch's `enqueueGate` and `rollBackOnError` are implemented: not
    // reported.
    assert_eq!(w, ["spec.crds.app.operatorBox.rollback.onRollback:14",]);
}

#[test]
fn a_katalog_without_such_keys_has_no_such_warning() {
    assert!(not_implemented("operatorBox:\n  reconciler: {workers: 2}\n").is_empty());
}

#[test]
fn remove_finalizers_with_on_delete_warns_that_on_delete_never_runs() {
    let text = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: strip}\nspec:\n  crds:\n    app:\n      apiTypes: {group: a.io, version: v1, kind: App, plural: apps}\n      removeFinalizers: true\n      operatorBox:\n        onDelete:\n          configMaps: [{name: x}]\n";
    let loaded =
        katalog::load_text("katalog.yaml", text).unwrap_or_else(|d| panic!("{}", d.render()));
    let codes: Vec<&str> = loaded.warnings.iter().map(|w| w.code).collect();
    assert_eq!(codes, ["on-delete-never-runs"]);
}
