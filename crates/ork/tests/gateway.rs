//! `ork gateway` as a process against the real control plane: SIGTERM removes everything it
//! registered and exits 0; after SIGKILL everything stays, and the next start adopts it. (What
//! the gateway does while it runs is tested in-process in `crates/gateway/tests`.)

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use crate::util::{Ork, ork};

/// Starts `ork gateway` on free ports with `args`, its log in `dir`, and waits for its ready
/// line.
async fn start(cp: &testenv::ControlPlane, dir: &Path, args: &[&str]) -> Ork {
    let gateway = Ork::spawn(
        ork()
            .arg("gateway")
            .arg(dir.join("katalog.yaml"))
            .args(["--port", "0", "--http-port", "0", "--reassert-every", "1s"])
            .args(args)
            .env("KUBECONFIG", cp.kubeconfig_path())
            .env("ORK_LOG", "warn"),
        &dir.join("gateway.log"),
    );
    let line = gateway.line(Duration::from_secs(60)).await;
    assert!(
        line.starts_with("gateway ready "),
        "unexpected ready line: {line}"
    );
    gateway
}

/// Everything a gateway could leave behind, as comparable data.
async fn snapshot(client: &kube::Client, instance: &str, ns: &str, crd: &str) -> Value {
    let names = |items: Vec<String>| {
        let mut v: Vec<String> = items
            .into_iter()
            .filter(|n| n.starts_with(instance))
            .collect();
        v.sort();
        v
    };
    let vwc: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let mwc: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    let v = names(
        vwc.list_metadata(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .collect(),
    );
    let m = names(
        mwc.list_metadata(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .collect(),
    );
    let secrets: Api<Secret> = Api::all(client.clone());
    let ours = secrets
        .list_metadata(&ListParams::default().labels("app.kubernetes.io/managed-by=ork-gateway"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|s| s.metadata.namespace.as_deref() == Some(ns))
        .filter_map(|s| s.metadata.name)
        .collect::<Vec<_>>();
    let namespace = Api::<Namespace>::all(client.clone()).get(ns).await.unwrap();
    let c = Api::<CustomResourceDefinition>::all(client.clone())
        .get(crd)
        .await
        .unwrap();
    json!({
        "validating": v, "mutating": m, "secrets": ours,
        "namespaceLabels": namespace.metadata.labels, "namespaceAnnotations": namespace.metadata.annotations,
        "crdConversion": c.spec.conversion, "crdLabels": c.metadata.labels, "crdAnnotations": c.metadata.annotations,
    })
}

/// A Katalog using every part of the gateway for the CRD `Thing` of `group`.
fn everything_katalog(group: &str) -> String {
    format!(
        r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: everything}}
gateway: {{enabled: true}}
security:
  webhooks:
    admission: {{enabled: true}}
    failurePolicy: Ignore
  conversion: {{enabled: true}}
  deletionProtection: {{enabled: true, failurePolicy: Ignore}}
  namespaceProtection: {{enabled: true, restrictedNamespaces: [kube-system]}}
spec:
  crds:
    thing:
      apiTypes: {{group: {group}, version: v1, kind: Thing, plural: things}}
      validation:
        rules: [{{field: spec.a, exists: true, action: warn}}]
      mutation:
        rules: [{{field: spec.b, default: x}}]
      conversion:
        storageVersion: v1
        updateCRD: true
        paths:
          - {{from: v1alpha1, to: v1, spec: {{a: "{{{{ .spec.a }}}}"}}}}
          - {{from: v1, to: v1alpha1, spec: {{a: "{{{{ .spec.a }}}}"}}}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn no_trace_after_sigterm_and_after_sigkill_then_restart() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "gw-trace").await;
    let group = format!("{}.ork.test", testenv::unique_name("trace"));
    let crd = testenv::install_crd(&client, &group, "Thing", &["v1alpha1", "v1"]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("katalog.yaml"), everything_katalog(&group)).unwrap();
    let instance = testenv::unique_name("gw-trace");
    let args = ["--instance", instance.as_str(), "--namespace", ns.as_str()];
    let stop_within = Duration::from_secs(30);
    let before = snapshot(&client, &instance, &ns, &crd).await;

    let gw = start(cp, dir.path(), &args).await;
    let running = snapshot(&client, &instance, &ns, &crd).await;
    assert_eq!(
        running["validating"].as_array().unwrap().len(),
        3,
        "{running}"
    );
    assert_eq!(
        running["mutating"].as_array().unwrap().len(),
        1,
        "{running}"
    );
    assert_eq!(running["secrets"], json!([format!("{instance}-tls")]));
    assert_eq!(
        running["namespaceLabels"]["orkestra.io/deletion-protection"],
        "true"
    );
    assert_eq!(running["crdConversion"]["strategy"], "Webhook");
    gw.terminate(stop_within).await;
    assert_eq!(snapshot(&client, &instance, &ns, &crd).await, before);

    let gw = start(cp, dir.path(), &args).await;
    gw.kill();
    let left = snapshot(&client, &instance, &ns, &crd).await;
    assert_ne!(left, before, "a SIGKILLed gateway cannot clean up");
    let gw = start(cp, dir.path(), &args).await;
    gw.terminate(stop_within).await;
    assert_eq!(snapshot(&client, &instance, &ns, &crd).await, before);
}
