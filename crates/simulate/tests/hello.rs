//! `ork simulate`'s engine on the repository's own hello Katalog: the ops of each cycle, the
//! steady state, Deployments made Available, expectations that hold and that fail.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use simulate::suite::{self, Settings, Verdict};

fn hello() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello")
}

/// A simulate.yaml in a temp dir, naming the hello Katalog and CR by absolute path.
fn simulate_file(dir: &Path, expect: &str) -> PathBuf {
    let h = hello();
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {{name: hello-sim}}\nspec:\n  katalog: {}\n  cr: {}\n  cycles: 6\n{expect}",
        h.join("katalog.yaml").display(),
        h.join("website.yaml").display()
    );
    let path = dir.join("simulate.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

async fn run(path: &Path) -> suite::Report {
    let mut reports = suite::run_file(path, &Settings::default(), &mut HashSet::new()).await;
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

#[tokio::test]
async fn cycles_show_creates_then_the_status_then_a_steady_state() {
    let dir = tempfile::tempdir().unwrap();
    let report = run(&simulate_file(dir.path(), "")).await;
    assert_eq!(report.verdict, Verdict::Printed, "{}", report.text);
    let text = &report.text;
    let expected = "  Cycle 1:\n    + configmaps/hello-content\n    + deployments/hello\n    + services/hello\n    ~ status/hello\n  Cycle 2:\n    ~ status/hello\n  Cycle 3: no writes\n  (cycles 4–6: identical)\n\n  ✓ Steady state at cycle 3 in ";
    assert!(text.contains(expected), "{text}");
}

#[tokio::test]
async fn expectations_that_hold_pass() {
    let dir = tempfile::tempdir().unwrap();
    let expect = "  expect:\n    noErrors: true\n    steady: true\n    steadyAt: 3\n    ops:\n      - {cycle: 1, verb: create, resource: deployments, name: hello}\n      - {cycle: 1, verb: apply, resource: configmaps}\n      - {cycle: 2, verb: patch, resource: status, name: hello}\n    absent:\n      - {verb: delete}\n      - {cycle: 2, verb: create}\n";
    let report = run(&simulate_file(dir.path(), expect)).await;
    assert_eq!(report.verdict, Verdict::Passed, "{}", report.text);
    assert!(
        report
            .text
            .contains("✓ ops[0]: create deployments/hello (cycle 1)")
    );
    assert!(report.text.contains("PASS"));
}

#[tokio::test]
async fn a_failing_expectation_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let expect = "  expect:\n    steadyAt: 2\n    ops:\n      - {cycle: 2, verb: create, resource: deployments, name: hello}\n    absent:\n      - {resource: services}\n";
    let report = run(&simulate_file(dir.path(), expect)).await;
    let Verdict::Failed(failures) = &report.verdict else {
        panic!("expected failures: {}", report.text)
    };
    assert_eq!(failures.len(), 3, "{failures:?}");
    assert!(failures[0].contains("steadyAt") && failures[0].contains("cycle 3"));
    assert!(failures[1].contains("ops[0]") && failures[1].contains("no such op"));
    assert!(failures[2].contains("absent[0]") && failures[2].contains("services/hello"));
    assert!(report.text.contains("FAIL"));
}

#[tokio::test]
async fn per_crd_expectations_replace_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let expect = "  expect:\n    ops:\n      - {verb: create, resource: nothing}\n    crds:\n      website:\n        ops:\n          - {cycle: 1, verb: create, resource: services, name: hello}\n";
    let report = run(&simulate_file(dir.path(), expect)).await;
    assert_eq!(report.verdict, Verdict::Passed, "{}", report.text);
    assert!(report.text.contains("crds.website.ops[0]"));
}

#[tokio::test]
async fn deployments_are_made_available_so_status_follows_them() {
    let katalog = suite::load_katalog(&hello().join("katalog.yaml")).unwrap();
    let cr = std::fs::read_to_string(hello().join("website.yaml")).unwrap();
    let inputs = simulate::run::Inputs {
        crs: serde_saphyr::from_multiple(&cr).unwrap(),
        cycles: 3,
        ..Default::default()
    };
    let run = simulate::run::simulate(&katalog, &katalog.crds[0], &inputs)
        .await
        .unwrap();
    assert_eq!(run.steady_at, Some(3));
    // Cycle 2 writes the status that the now Available Deployment changes (phase Running).
    let status_writes: Vec<u32> = run
        .ops()
        .filter(|o| o.subresource.as_deref() == Some("status") && o.is_write())
        .map(|o| o.cycle)
        .collect();
    assert_eq!(status_writes, [1, 2]);
}

#[tokio::test]
async fn imports_run_each_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let child = simulate_file(dir.path(), "");
    let child_name = child.file_name().unwrap().to_string_lossy().into_owned();
    let aggregator = dir.path().join("all.yaml");
    std::fs::write(
        &aggregator,
        format!("apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nimports: [./{child_name}, ./{child_name}]\n"),
    )
    .unwrap();
    let reports = suite::run_file(&aggregator, &Settings::default(), &mut HashSet::new()).await;
    assert_eq!(reports.len(), 1);
    assert!(reports[0].verdict.ok());
}

#[tokio::test]
async fn init_writes_the_creates_of_cycle_one() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["katalog.yaml", "crd.yaml"] {
        std::fs::copy(hello().join(f), dir.path().join(f)).unwrap();
    }
    std::fs::copy(hello().join("website.yaml"), dir.path().join("cr.yaml")).unwrap();
    // The Katalog lists its CR file by name; keep that file too.
    std::fs::copy(
        hello().join("website.yaml"),
        dir.path().join("website.yaml"),
    )
    .unwrap();
    let text = simulate::init::generate(dir.path()).await.unwrap();
    assert!(
        text.contains("    noErrors: true\n    steady: true\n    ops:\n"),
        "{text}"
    );
    assert!(text.contains("      - cycle: 1\n        verb: create\n        resource: deployments\n        name: hello\n"), "{text}");
    std::fs::write(dir.path().join("simulate.yaml"), &text).unwrap();
    let reports = suite::run_file(
        &dir.path().join("simulate.yaml"),
        &Settings::default(),
        &mut HashSet::new(),
    )
    .await;
    assert_eq!(reports[0].verdict, Verdict::Passed, "{}", reports[0].text);
}

/// A Katalog whose reconcile gate holds Websites with `spec.paused: "true"`.
fn gated_katalog(dir: &Path) -> PathBuf {
    let path = dir.join("katalog.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: gated}}\nspec:\n  crds:\n    website:\n      crdFile: {}\n      operatorBox:\n        preReconcile:\n          reconcileGate:\n            when: [{{field: spec.paused, notEquals: 'true'}}]\n        onReconcile:\n          configMaps:\n            - name: \"{{{{ .metadata.name }}}}\"\n              data: {{k: v}}\n",
            hello().join("crd.yaml").display()
        ),
    )
    .unwrap();
    path
}

#[tokio::test]
async fn a_reconcile_gate_that_holds_the_cr_means_no_reconcile() {
    let dir = tempfile::tempdir().unwrap();
    let katalog = suite::load_katalog(&gated_katalog(dir.path())).unwrap();
    let cr = |paused: &str| {
        serde_json::json!({"apiVersion": "demo.ork.dev/v1", "kind": "Website",
            "metadata": {"name": "w", "namespace": "default"},
            "spec": {"image": "nginx", "replicas": 1, "port": 80, "paused": paused}})
    };
    let inputs = |paused: &str| simulate::run::Inputs {
        crs: vec![cr(paused)],
        cycles: 3,
        ..Default::default()
    };
    let held = simulate::run::simulate(&katalog, &katalog.crds[0], &inputs("true"))
        .await
        .unwrap();
    assert!(held.cycles.iter().all(|c| c.gated && c.ops.is_empty()));
    assert_eq!(held.steady_at, Some(1), "nothing to do is steady at once");
    let text = simulate::report::run(&held, false);
    assert!(
        text.contains("(held by a preReconcile gate: not reconciled)"),
        "{text}"
    );
    let passed = simulate::run::simulate(&katalog, &katalog.crds[0], &inputs("false"))
        .await
        .unwrap();
    assert!(!passed.cycles[0].gated);
    assert!(
        passed.cycles[0]
            .writes()
            .any(|o| o.resource == "configmaps" && o.created),
        "{:?}",
        passed.cycles[0].ops
    );
}

#[tokio::test]
async fn a_crd_file_without_a_status_subresource_gets_no_status_writes() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["katalog.yaml", "website.yaml"] {
        std::fs::copy(hello().join(f), dir.path().join(f)).unwrap();
    }
    let crd = std::fs::read_to_string(hello().join("crd.yaml")).unwrap();
    let without = crd.replace("      subresources:\n        status: {}\n", "");
    assert_ne!(crd, without, "the hello CRD declares a status subresource");
    std::fs::write(dir.path().join("crd.yaml"), without).unwrap();
    let katalog = suite::load_katalog(&dir.path().join("katalog.yaml")).unwrap();
    let cr = std::fs::read_to_string(hello().join("website.yaml")).unwrap();
    let inputs = simulate::run::Inputs {
        crs: serde_saphyr::from_multiple(&cr).unwrap(),
        cycles: 2,
        ..Default::default()
    };
    let run = simulate::run::simulate(&katalog, &katalog.crds[0], &inputs)
        .await
        .unwrap();
    assert!(run.cycles.iter().all(|c| c.error.is_none()));
    assert!(
        !run.ops()
            .any(|o| o.subresource.as_deref() == Some("status"))
    );
    assert!(run.ops().any(|o| o.resource == "deployments" && o.created));
}

#[tokio::test]
async fn the_benchmark_fixture_passes_its_own_expectations() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/ten/simulate.yaml");
    let report = run(&file).await;
    assert_eq!(report.verdict, Verdict::Passed, "{}", report.text);
}
