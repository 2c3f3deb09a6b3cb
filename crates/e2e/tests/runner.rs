//! The runner on the real control plane: a passing file, a wrong expectation that fails
//! within its timeout naming the step, the resource and the value seen, and JUnit output.

use std::time::Duration;

use e2e::Outcome;

use crate::util::{SLACK, e2e_file, hello_test, namespace, parse_xml, shared_options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_katalog_passes_every_step() {
    let ns = namespace("e2e-pass").await;
    let expect = format!(
        "    - name: children ready
      after: cr-applied
      timeout: 120s
      resources:
        - {{kind: Site, name: hello, namespace: {ns}}}
        - {{kind: Deployment, name: hello, namespace: {ns}, ready: true}}
        - {{kind: ConfigMap, name: hello-content, namespace: {ns}, count: 1}}
    - name: status, API and commands
      timeout: 60s
      commands:
        - run: kubectl get deployment hello -n {ns} -o name
          outputContains: deployment.apps/hello
      kubectl:
        get:
          - {{kind: Site, name: hello, namespace: {ns}, field: .status.phase, equals: Running}}
        port-forward:
          - {{service: orkestra-runtime, namespace: orkestra-system, port: 8080,
              path: /katalog/site, jq: .name, equals: site}}
    - name: cleaned up
      after: cr-deleted
      timeout: 60s
      resources:
        - {{kind: Site, name: hello, namespace: {ns}, count: 0}}
        - {{kind: Deployment, name: hello, namespace: {ns}, count: 0}}
"
    );
    let dir = hello_test(&ns, &expect);
    let suite = e2e::load(&e2e_file(dir.path())).expect("valid file");
    let report = e2e::run_suite(&suite, &shared_options().await).await;
    let steps: Vec<(&str, Outcome)> = report.tests[0]
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.outcome))
        .collect();
    assert_eq!(
        steps,
        [
            ("cluster", Outcome::Pass),
            ("apply CRD", Outcome::Pass),
            ("start operator", Outcome::Pass),
            ("apply CR", Outcome::Pass),
            ("expect [cr-applied] children ready", Outcome::Pass),
            (
                "expect [cr-applied] status, API and commands",
                Outcome::Pass
            ),
            ("delete CR", Outcome::Pass),
            ("expect [cr-deleted] cleaned up", Outcome::Pass),
            ("teardown", Outcome::Pass),
        ],
        "{:#?}",
        report.tests[0].steps
    );
    assert!(report.passed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_expectation_fails_in_time_naming_what_it_saw_and_junit_counts_it() {
    let ns = namespace("e2e-fail").await;
    let expect = format!(
        "    - name: replicas
      timeout: 3s
      kubectl:
        get:
          - {{kind: Deployment, name: hello, namespace: {ns}, field: .spec.replicas, equals: \"5\"}}
    - name: a workload's HTTP
      kubectl:
        port-forward:
          - {{service: hello, namespace: {ns}, port: 8080, path: /}}
"
    );
    let dir = hello_test(&ns, &expect);
    let suite = e2e::load(&e2e_file(dir.path())).expect("valid file");
    let report = e2e::run_suite(&suite, &shared_options().await).await;
    assert!(!report.passed());
    let test = &report.tests[0];
    let failed = test
        .steps
        .iter()
        .find(|s| s.outcome == Outcome::Fail)
        .unwrap_or_else(|| panic!("no failed step: {:#?}", test.steps));
    assert_eq!(failed.name, "expect [cr-applied] replicas");
    let detail = failed.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("timed out after 3.0s"), "{detail}");
    assert!(
        detail.contains(&format!("Deployment/hello in {ns} .spec.replicas")),
        "{detail}"
    );
    assert!(detail.contains("got \"1\""), "{detail}");
    assert!(
        failed.duration >= Duration::from_secs(3)
            && failed.duration < Duration::from_secs(3) + SLACK,
        "{:?}",
        failed.duration
    );
    let skipped = test
        .steps
        .iter()
        .find(|s| s.outcome == Outcome::Skip)
        .expect("the port-forward to a workload is skipped");
    assert!(
        skipped
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("no container runs"),
        "{skipped:?}"
    );
    assert_eq!(
        test.steps.last().map(|s| s.outcome),
        Some(Outcome::Pass),
        "teardown"
    );

    let xml = report.junit();
    let elements = parse_xml(&xml).unwrap_or_else(|e| panic!("{e}:\n{xml}"));
    let attr = |i: usize, key: &str| {
        elements[i]
            .1
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(elements[0].0, "testsuites");
    assert_eq!(attr(0, "tests"), test.steps.len().to_string());
    assert_eq!(attr(0, "failures"), "1");
    assert_eq!(attr(0, "skipped"), "1");
    let cases = elements.iter().filter(|e| e.0 == "testcase").count();
    assert_eq!(cases, test.steps.len());
    assert_eq!(elements.iter().filter(|e| e.0 == "failure").count(), 1);
    assert_eq!(elements.iter().filter(|e| e.0 == "skipped").count(), 1);
}

/// intermediate/07-crd-file: a file with a CR step and no CRD step gets the Katalog's
/// `crdFile` applied first (as upstream's runner does), so the CR's kind exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_crd_step_the_katalogs_crd_file_is_applied_before_the_cr() {
    let ns = namespace("e2e-crdfile").await;
    let expect = format!(
        "    - name: the CR's children
      after: cr-applied
      timeout: 60s
      resources:
        - {{kind: ConfigMap, name: hello-content, namespace: {ns}}}
"
    );
    let dir = hello_test(&ns, &expect);
    let file = e2e_file(dir.path());
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace("  crd: ./crd.yaml\n", "")).expect("write");
    let suite = e2e::load(&file).expect("valid file");
    assert!(suite.tests[0].spec.crd.is_none());
    let report = e2e::run_suite(&suite, &shared_options().await).await;
    let steps: Vec<(&str, Outcome)> = report.tests[0]
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.outcome))
        .collect();
    assert_eq!(
        steps[..3],
        [
            ("cluster", Outcome::Pass),
            ("apply CRD", Outcome::Pass),
            ("start operator", Outcome::Pass),
        ],
        "{:#?}",
        report.tests[0].steps
    );
    assert!(report.passed(), "{:#?}", report.tests[0].steps);
}
