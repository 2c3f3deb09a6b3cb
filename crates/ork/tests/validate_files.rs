//! `ork validate` of the files beside a Katalog: E2E files and Motif files are checked
//! strictly, every problem with file:line:col and key path, exit 1 when invalid.

use std::path::Path;
use std::process::Output;

use crate::util::ork;

fn validate(file: &Path) -> (Option<i32>, String) {
    let Output { status, stdout, .. } = ork().arg("validate").arg(file).output().unwrap();
    (status.code(), String::from_utf8_lossy(&stdout).into_owned())
}

#[test]
fn a_pack_e2e_file_is_valid_and_a_broken_one_names_each_problem_where_it_is() {
    let hello = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello");
    let (code, out) = validate(&hello.join("e2e.yaml"));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("is valid: E2E file, 1 test, "), "{out}");

    let dir = tempfile::tempdir().unwrap();
    for f in ["katalog.yaml", "crd.yaml", "website.yaml"] {
        std::fs::copy(hello.join(f), dir.path().join(f)).unwrap();
    }
    let file = dir.path().join("e2e.yaml");
    std::fs::write(
        &file,
        "apiVersion: orkestra.orkspace.io/v1
kind: E2E
metadata: {name: broken}
spec:
  katalog: ./katalog.yaml
  crd: ./crd.yaml
  cr: ./website.yaml
  expect:
    - name: typo
      after: cr-applied
      resourcs:
        - {kind: Deployment, name: hello}
    - name: wrong type
      after: cr-applied
      timeout: [60s]
    - name: unknown phase
      after: cr-exploded
      resources:
        - {kind: Deployment, name: hello}
",
    )
    .unwrap();
    let (code, out) = validate(&file);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the E2E file is invalid"), "{out}");
    for (line_col, what) in [
        ("e2e.yaml:11:7", "resourcs"),
        ("e2e.yaml:15:16", "timeout"),
        ("e2e.yaml:17:14", "cr-exploded"),
    ] {
        assert!(
            out.lines().any(|l| l.contains(line_col)) && out.contains(what),
            "no problem at {line_col} ({what}):\n{out}"
        );
    }
}

#[test]
fn a_motif_file_is_checked_on_its_own_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("motif.yaml");
    std::fs::write(
        &good,
        "apiVersion: orkestra.orkspace.io/v1
kind: Motif
metadata: {name: team-labels}
inputs:
  - {name: team, type: string, default: platform}
resources:
  configMaps:
    - name: \"{{ .metadata.name }}-team\"
      data: {team: \"{{ .inputs.team }}\"}
",
    )
    .unwrap();
    let (code, out) = validate(&good);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("is valid: Motif `team-labels`"), "{out}");

    let bad = dir.path().join("bad-motif.yaml");
    std::fs::write(
        &bad,
        "apiVersion: orkestra.orkspace.io/v1
kind: Motif
metadata: {name: team-labels}
inputs: 3
resourcez: {}
",
    )
    .unwrap();
    let (code, out) = validate(&bad);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the Motif file is invalid"), "{out}");
    assert!(
        out.contains("bad-motif.yaml:4:9"),
        "inputs: wrong type\n{out}"
    );
    assert!(
        out.contains("bad-motif.yaml:5:1"),
        "resourcez: unknown\n{out}"
    );
    assert!(out.contains("resourcez"), "{out}");
}

#[test]
fn profiles_lists_the_merged_user_profiles_with_where_each_was_declared() {
    let hello = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello");
    let dir = tempfile::tempdir().unwrap();
    for f in ["crd.yaml", "website.yaml"] {
        std::fs::copy(hello.join(f), dir.path().join(f)).unwrap();
    }
    let text = std::fs::read_to_string(hello.join("katalog.yaml")).unwrap();
    let profiles = "profiles:
  limitRanges:
    - name: minimal
      limits: [{type: Container, max: {cpu: \"1\"}}]
  reconciler:
    - name: local-dev
      workers: 1
      resync: 15s
";
    let text = text.replacen("\nspec:\n", &format!("\n{profiles}spec:\n"), 1);
    let katalog = dir.path().join("katalog.yaml");
    std::fs::write(&katalog, &text).unwrap();
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;

    let plain = ork().arg("validate").arg(&katalog).output().unwrap();
    let plain = String::from_utf8_lossy(&plain.stdout).into_owned();
    assert!(!plain.contains("profiles:"), "{plain}");

    let output = ork()
        .args(["validate", "--profiles"])
        .arg(&katalog)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("\nprofiles: 2\n"), "{out}");
    let minimal = format!("katalog.yaml:{}:", line("name: minimal"));
    let local_dev = format!("katalog.yaml:{}:", line("name: local-dev"));
    assert!(
        out.contains("  reconciler:\n    local-dev  (")
            && out.contains(&local_dev)
            && out.contains("workers: 1, resync: 15s"),
        "{out}"
    );
    assert!(
        out.contains("  limitRanges:\n    minimal  (")
            && out.contains(&minimal)
            && out.contains(r#"{"limits":[{"max":{"cpu":"1"},"type":"Container"}]}"#),
        "{out}"
    );
}
