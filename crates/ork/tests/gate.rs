//! `ork gate`: admission rules evaluated offline, against the advanced pack's admission
//! example.

use std::path::PathBuf;

use crate::util::ork;

fn example(file: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/advanced/12-admission"
    ))
    .join(file)
}

fn gate(crs: &[&str]) -> (Option<i32>, String) {
    let mut command = ork();
    command.arg("gate").arg("-f").arg(example("katalog.yaml"));
    for cr in crs {
        command.arg("--cr").arg(example(cr));
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap() + &stderr,
    )
}

#[test]
fn a_valid_cr_passes_every_rule_after_mutation() {
    let (code, out) = gate(&["cr.yaml"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("✓ 4/4 rules passed"), "{out}");
    // Mutation ran first: the defaults are shown and validation saw them.
    assert!(out.contains("~ mutated /spec/replicas = 1"), "{out}");
    assert!(out.contains("~ mutated /spec/tier = \"standard\""), "{out}");
}

#[test]
fn denials_name_each_rule_and_message_and_exit_non_zero() {
    let (code, out) = gate(&["cr-denied.yaml"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("✗ 3 denial(s)"), "{out}");
    assert!(
        out.contains(
            "trusted-registry: image docker.io/rogue:latest is not from registry.example.com"
        ),
        "{out}"
    );
    assert!(
        out.contains("replicas-in-range: replicas must be between 1 and 5"),
        "{out}"
    );
    assert!(
        out.contains("known-tier: tier must be standard or premium"),
        "{out}"
    );
    assert!(out.contains("⚠ 1 warning(s)"), "{out}");
}

#[test]
fn warnings_alone_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    let cr = dir.path().join("cr.yaml");
    std::fs::write(
        &cr,
        "apiVersion: gate.ork.dev/v1\nkind: App\nmetadata: {name: a, namespace: default}\n\
         spec: {image: registry.example.com/a:1, replicas: 2}\n",
    )
    .unwrap();
    let output = ork()
        .arg("gate")
        .arg("-f")
        .arg(example("katalog.yaml"))
        .arg("--cr")
        .arg(&cr)
        .output()
        .unwrap();
    let out = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("⚠ 1 warning(s)"), "{out}");
    assert!(
        out.contains("has-owner: set spec.owner so someone is paged"),
        "{out}"
    );
    assert!(out.contains("✓ 3/4 rules passed"), "{out}");
}

#[test]
fn unique_rules_are_skipped_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let katalog = dir.path().join("katalog.yaml");
    std::fs::write(
        &katalog,
        std::fs::read_to_string(example("katalog.yaml"))
            .unwrap()
            .replace("./crd.yaml", &example("crd.yaml").display().to_string())
            .replace("crFiles: [./cr.yaml]", "")
            .replace(
                "          - name: has-owner\n",
                "          - {name: one-per-owner, field: spec.owner, operator: unique, message: taken}\n          - name: has-owner\n",
            ),
    )
    .unwrap();
    let output = ork()
        .arg("gate")
        .arg("-f")
        .arg(&katalog)
        .arg("--cr")
        .arg(example("cr.yaml"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("✓ 4/4 rules passed"), "{out}");
    assert!(
        out.contains("skipped one-per-owner (unique: needs the cluster's other CRs)"),
        "{out}"
    );
}
