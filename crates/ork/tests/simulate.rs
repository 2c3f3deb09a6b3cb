//! `ork simulate` as a user runs it: the hello example in a temp dir, with no cluster.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::ork;

/// The hello example (Katalog, CRD, CR) copied into a temp dir, its CR also as cr.yaml.
fn hello_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let hello = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello");
    for f in ["katalog.yaml", "crd.yaml", "website.yaml"] {
        std::fs::copy(hello.join(f), dir.path().join(f)).unwrap();
    }
    std::fs::copy(hello.join("website.yaml"), dir.path().join("cr.yaml")).unwrap();
    dir
}

fn write_simulate(dir: &Path, expect: &str) -> PathBuf {
    let path = dir.join("simulate.yaml");
    std::fs::write(
        &path,
        format!("apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {{name: hello-sim}}\nspec:\n  katalog: ./katalog.yaml\n  cr: ./cr.yaml\n  cycles: 5\n{expect}"),
    )
    .unwrap();
    path
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_directory_prints_each_cycles_writes_and_the_steady_state() {
    let dir = hello_dir();
    write_simulate(
        dir.path(),
        "  expect:\n    noErrors: true\n    steady: true\n    ops:\n      - {cycle: 1, verb: create, resource: deployments, name: hello}\n",
    );
    let output = ork().arg("simulate").arg(dir.path()).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Simulating website/hello"), "{stdout}");
    assert!(stdout.contains("  Cycle 1:\n    + configmaps/hello-content\n    + deployments/hello\n    + services/hello\n    ~ status/hello\n"), "{stdout}");
    assert!(stdout.contains("✓ Steady state at cycle 3"), "{stdout}");
    assert!(
        stdout.contains("✓ ops[0]: create deployments/hello (cycle 1)"),
        "{stdout}"
    );
    assert!(stdout.contains("PASS"), "{stdout}");
}

#[test]
fn a_failing_expectation_exits_non_zero_and_is_named() {
    let dir = hello_dir();
    let file = write_simulate(
        dir.path(),
        "  expect:\n    ops:\n      - {cycle: 1, verb: delete, resource: services, name: hello}\n",
    );
    let output = ork().args(["simulate", "-f"]).arg(&file).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("expectation ops[0] failed: delete services/hello (cycle 1) — no such op"),
        "{stderr}"
    );
    assert!(stdout.contains("✗ ops[0]"), "{stdout}");
}

#[test]
fn a_katalog_runs_directly_with_its_cr_and_cycles() {
    let dir = hello_dir();
    let output = ork()
        .current_dir(dir.path())
        .args([
            "simulate",
            "-f",
            "katalog.yaml",
            "--cr",
            "website.yaml",
            "--cycles",
            "2",
            "--debug-ops",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("[debug-ops]   cycle=1  verb=apply  resource=deployments"),
        "{stdout}"
    );
    assert!(stdout.contains("Max cycles reached (2)"), "{stdout}");
}

#[test]
fn init_writes_a_simulate_file_that_then_passes() {
    let dir = hello_dir();
    let dry = ork()
        .args(["simulate", "init", "--dry-run"])
        .arg(dir.path())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&dry);
    assert!(dry.status.success(), "{stderr}");
    assert!(
        stdout.contains("resource: deployments\n        name: hello"),
        "{stdout}"
    );
    assert!(
        !dir.path().join("simulate.yaml").exists(),
        "--dry-run writes nothing"
    );
    let made = ork()
        .args(["simulate", "init"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made).1);
    let again = ork()
        .args(["simulate", "init"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "an existing file is kept without --force"
    );
    assert!(text(&again).1.contains("--force"));
    let forced = ork()
        .args(["simulate", "init", "--force"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(forced.status.success());
    let run = ork()
        .current_dir(dir.path())
        .arg("simulate")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run).0);
    assert!(text(&run).0.contains("PASS"));
}

#[test]
fn unknown_keys_are_refused() {
    let dir = hello_dir();
    let file = write_simulate(dir.path(), "  expct: {}\n");
    let output = ork().args(["simulate", "-f"]).arg(&file).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout.contains("expct") && stdout.contains("simulate.yaml:8:3"),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn flags_ork_cannot_honour_are_refused_by_name() {
    let dir = hello_dir();
    let file = write_simulate(dir.path(), "");
    for (flags, says) in [
        (&["--dev-server-port", "9999"][..], "needs --dev-server"),
        (&["--target", "web"][..], "--target web is not supported"),
        (&["--k8s-version", "1.37"][..], "needs --envtest"),
        (
            &["--envtest", "--k8s-version", "1.32"][..],
            "--k8s-version 1.32 is not available",
        ),
    ] {
        let output = ork()
            .arg("simulate")
            .args(flags)
            .arg(&file)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{flags:?} was accepted");
        let (_, stderr) = text(&output);
        assert!(stderr.contains(says), "{flags:?}: {stderr}");
    }
}

#[test]
fn dev_server_listens_for_the_run_on_the_port_given() {
    let dir = hello_dir();
    let file = write_simulate(dir.path(), "");
    let output = ork()
        .args(["simulate", "--dev-server", "--dev-server-port", "0"])
        .arg(&file)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("dev server on http://127.0.0.1:"),
        "{stderr}"
    );
}

#[test]
fn envtest_runs_the_file_on_a_local_control_plane() {
    let dir = hello_dir();
    let file = write_simulate(
        dir.path(),
        "  crd: ./crd.yaml\n  expect:\n    steady: true\n    ops:\n      - {cycle: 1, verb: create, resource: deployments, name: hello}\n",
    );
    let output = ork()
        .args(["simulate", "--envtest", "--k8s-version", "v1.37.2"])
        .arg(&file)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("+ deployments/hello") && stdout.contains("PASS"),
        "{stdout}"
    );
}

#[test]
fn validate_checks_a_simulate_file_and_the_files_it_names() {
    let dir = hello_dir();
    let file = write_simulate(dir.path(), "");
    let ok = ork().arg("validate").arg(&file).output().unwrap();
    let (stdout, stderr) = text(&ok);
    assert!(ok.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("is valid: Simulate file"), "{stdout}");
    std::fs::remove_file(dir.path().join("cr.yaml")).unwrap();
    let bad = ork().arg("validate").arg(&file).output().unwrap();
    let (stdout, _) = text(&bad);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stdout.contains("spec.cr: `./cr.yaml` does not exist"),
        "{stdout}"
    );
    assert!(stdout.contains("the Simulate file is invalid"), "{stdout}");
}

#[test]
fn dot_dot_dot_runs_every_simulate_file_below_but_the_skipped() {
    let root = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        let hello = hello_dir();
        for entry in std::fs::read_dir(hello.path()).unwrap().flatten() {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        write_simulate(&dir, "  expect: {noErrors: true}\n");
    }
    let all = ork()
        .current_dir(root.path())
        .args(["simulate", "./..."])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&all);
    assert!(all.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("2 of 2 simulation files passed"),
        "{stdout}"
    );
    let skipped = ork()
        .current_dir(root.path())
        .args(["simulate", "./...", "--skip", "b"])
        .output()
        .unwrap();
    let (stdout, _) = text(&skipped);
    assert!(skipped.status.success());
    assert_eq!(
        stdout.matches("Simulating website/hello").count(),
        1,
        "{stdout}"
    );
}
