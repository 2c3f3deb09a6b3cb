//! `--dev-server`: a CR calling the dev server at its in-cluster address (as upstream's
//! `cr-e2e.yaml` files do) gets its answers from the dev server this process runs, though the
//! operator runs outside the cluster; a `kubectl.port-forward` to its Service reaches it too.

use e2e::Outcome;

use crate::util::{e2e_file, free_form_crd, namespace, shared_options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_call_to_the_in_cluster_dev_server_is_answered_by_the_local_one() {
    // Any free port: the in-cluster address is pinned to wherever it listens.
    e2e::dev_server::start(0).await.expect("dev server starts");
    let ns = namespace("e2e-dev-server").await;
    let group = format!("{}.e2e.ork.dev", testenv::unique_name("g"));
    let dir = tempfile::tempdir().expect("temp dir");
    let katalog = "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata:
  name: e2e-dev-server
spec:
  crds:
    app:
      crdFile: ./crd.yaml
      operatorBox:
        onReconcile:
          external:
            - name: appConfig
              url: \"{{ .spec.serviceUrl }}/config/{{ .metadata.name }}\"
              timeout: 5s
          configMaps:
            - name: \"{{ .metadata.name }}-config\"
              data:
                config: \"{{ .external.appConfig.body }}\"
";
    let crd = free_form_crd(&group, "App", "apps");
    let cr = format!(
        "apiVersion: {group}/v1
kind: App
metadata:
  name: my-app
  namespace: {ns}
spec:
  serviceUrl: {url}
",
        url = e2e::dev_server::SERVICE_URL
    );
    let e2e = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: E2E
metadata:
  name: dev-server-e2e
spec:
  katalog: ./katalog.yaml
  crd: ./crd.yaml
  cr: ./cr.yaml
  expect:
    - name: the dev server's config is in the ConfigMap
      after: cr-applied
      timeout: 60s
      kubectl:
        get:
          - {{kind: ConfigMap, name: my-app-config, namespace: {ns}, field: .data.config,
              outputContains: '\"name\":\"my-app\"'}}
        port-forward:
          - {{service: orkestra-dev-server, namespace: orkestra-system, port: 9999,
              path: /workload-metrics/flip, method: POST, equals: high-load}}
"
    );
    for (name, text) in [
        ("katalog.yaml", katalog.to_owned()),
        ("crd.yaml", crd),
        ("cr.yaml", cr),
        ("e2e.yaml", e2e),
    ] {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let suite = e2e::load(&e2e_file(dir.path())).expect("valid file");
    let report = e2e::run_suite(&suite, &shared_options().await).await;
    let expectation = report.tests[0]
        .steps
        .iter()
        .find(|s| s.name.starts_with("expect"))
        .unwrap_or_else(|| panic!("no expectation ran: {:#?}", report.tests[0].steps));
    assert_eq!(
        expectation.outcome,
        Outcome::Pass,
        "{:#?}",
        report.tests[0].steps
    );
    assert!(report.passed(), "{:#?}", report.tests[0].steps);
}
