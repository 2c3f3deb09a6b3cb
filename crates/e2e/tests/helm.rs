//! `setup.helm` on the real control plane: a local chart (a ConfigMap template, in
//! `tests/fixtures/greeting-chart`) installed with the file's values by the Helm that
//! `helm/build.sh` builds, seen by the `setup-complete` expectations, uninstalled at
//! teardown; a repository that cannot be reached blocks the test ("needs network") instead
//! of failing it.

use std::path::Path;

use e2e::Outcome;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;

use crate::util::{control_plane, e2e_file, namespace, shared_options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_chart_is_installed_with_its_values_and_uninstalled_and_an_unreachable_repo_blocks()
{
    let ns = namespace("e2e-helm").await;
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/greeting-chart");
    let expect = format!(
        "    - name: chart installed
      after: setup-complete
      timeout: 30s
      kubectl:
        get:
          - {{kind: ConfigMap, name: greeting, namespace: {ns}, field: .data.greeting, equals: hi}}
"
    );
    // No Katalog, CRD or CR (`custom:`): the other tests of this binary share the control
    // plane and their `Site` kind, which a second Site CRD would make ambiguous to kubectl.
    let dir = tempfile::tempdir().unwrap();
    let file = e2e_file(dir.path());
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: E2E
metadata:
  name: helm-e2e
spec:
  custom: {{target: kubernetes}}
  cluster:
    provider: kind
  setup:
    helm:
      - {{chart: {}, release: greeting, namespace: {ns}, values: {{greeting: hi}}}}
      - {{chart: demo, repo: 'http://127.0.0.1:1/charts', namespace: {ns}}}
  expect:
{expect}",
        chart.display()
    );
    std::fs::write(&file, text).unwrap();
    let suite = e2e::load(&file).expect("valid file");
    let report = e2e::run_suite(&suite, &shared_options().await).await;
    let steps = &report.tests[0].steps;
    let step = |prefix: &str| {
        steps
            .iter()
            .find(|s| s.name.starts_with(prefix))
            .unwrap_or_else(|| panic!("no step {prefix}: {steps:#?}"))
    };
    let local = step(&format!("setup helm {}", chart.display()));
    assert_eq!(local.outcome, Outcome::Pass, "{steps:#?}");
    let remote = step("setup helm demo");
    assert_eq!(remote.outcome, Outcome::Skip, "{steps:#?}");
    assert!(
        remote
            .detail
            .as_deref()
            .is_some_and(|d| d.starts_with("blocked: needs network")),
        "{remote:?}"
    );
    assert_eq!(
        step("expect [setup-complete] chart installed").outcome,
        Outcome::Pass,
        "{steps:#?}"
    );
    assert_eq!(step("teardown").outcome, Outcome::Pass, "{steps:#?}");
    let client = control_plane().await.client().await.unwrap();
    let configmaps: Api<ConfigMap> = Api::namespaced(client, &ns);
    assert!(
        configmaps.get_opt("greeting").await.unwrap().is_none(),
        "helm uninstall at teardown removes the release's ConfigMap"
    );
}
