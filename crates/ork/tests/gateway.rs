//! `ork gateway` against the real control plane: the API server calls the gateway's
//! webhooks over TLS (url mode, caBundle), and the gateway leaves no trace when it stops.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as TokioBufReader};
use tokio::net::TcpListener;

/// Longest wait for anything the API server does on its own (informers picking up a
/// webhook configuration or a CRD change).
const SETTLE: Duration = Duration::from_secs(60);

/// A running `ork gateway` and the ports it printed. Dropped while still running (a failed
/// assertion), it is killed so no gateway outlives its test.
struct Running {
    child: Child,
    http: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn start(katalog: &Path, args: &[&str]) -> Running {
    let cp_kubeconfig = KUBECONFIG.get().expect("control plane started first");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ork"))
        .arg("gateway")
        .arg(katalog)
        .args(["--port", "0", "--http-port", "0", "--reassert-every", "1s"])
        .args(args)
        .env("KUBECONFIG", cp_kubeconfig)
        .env("ORK_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap_or_default());
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("ork gateway printed no ready line within 60 s");
    let http = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http="))
        .unwrap_or_else(|| panic!("unexpected ready line: {line}"))
        .to_owned();
    Running { child, http }
}

/// SIGTERM, and the process exits 0 within 30 s.
fn terminate(r: Running) {
    let mut r = r;
    kill(Pid::from_raw(r.child.id() as i32), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = r.child.try_wait().unwrap() {
            assert!(status.success(), "ork gateway exited with {status}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "ork gateway did not stop within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGKILL: nothing gets cleaned up.
fn kill_hard(r: Running) {
    let mut r = r;
    r.child.kill().unwrap();
    r.child.wait().unwrap();
}

static KUBECONFIG: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

async fn cluster() -> kube::Client {
    let cp = testenv::shared().await;
    let _ = KUBECONFIG.set(cp.kubeconfig_path().to_path_buf());
    cp.client().await.unwrap()
}

use testenv::eventually;

/// A CRD `<plural>.<group>` with the given versions (the last is the storage version).
async fn install_crd(client: &kube::Client, group: &str, kind: &str, versions: &[&str]) -> String {
    let plural = format!("{}s", kind.to_lowercase());
    let name = format!("{plural}.{group}");
    let n = versions.len();
    let versions: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({
                "name": v, "served": true, "storage": i + 1 == n,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                }}},
            })
        })
        .collect();
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": name},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": plural, "singular": kind.to_lowercase(), "kind": kind},
                 "versions": versions},
    }))
    .unwrap();
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    api.create(&PostParams::default(), &crd).await.unwrap();
    eventually("the CRD to be established", SETTLE, || async {
        let c = api.get(&name).await.ok()?;
        let ok = c
            .status?
            .conditions?
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True");
        ok.then_some(())
    })
    .await;
    name
}

fn resource(group: &str, version: &str, kind: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: format!("{}s", kind.to_lowercase()),
    }
}

fn write_katalog(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("katalog.yaml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn cr(kind: &str, api_version: &str, name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": spec,
    }))
    .unwrap()
}

/// A Katalog `name` with a gateway; `rest` continues under `security:` and holds `spec:`.
fn with_header(name: &str, rest: &str) -> String {
    format!(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: {name}}}\ngateway: {{enabled: true}}\nsecurity:\n{rest}"
    )
}

fn platform_katalog(group: &str, policy: &str) -> String {
    with_header(
        "admission",
        &format!(
            r#"  webhooks:
    admission: {{enabled: true}}
    failurePolicy: {policy}
spec:
  crds:
    platform:
      apiTypes: {{group: {group}, version: v1alpha1, kind: Platform, plural: platforms}}
      validation:
        rules:
          - field: spec.image
            prefix: "registry.internal/"
            message: "images must come from the internal registry (registry.internal/), not {{{{ .spec.image }}}}"
          - field: spec.replicas
            greaterThan: 0
            message: "replicas must be at least 1"
          - field: spec.rateLimit
            operator: exists
            message: "declare spec.rateLimit for production readiness"
            action: warn
      mutation:
        rules:
          - {{field: spec.replicas, default: "2", valueType: int}}
          - {{field: spec.environment, default: development}}
"#
        ),
    )
}

/// Creates `obj` until the API server denies it (the webhook configuration has reached the
/// API server); returns the denial message.
async fn denied_eventually(api: &Api<DynamicObject>, obj: &DynamicObject) -> String {
    eventually("the webhook to deny", SETTLE, || async {
        match api.create(&PostParams::default(), obj).await {
            Err(kube::Error::Api(s)) => Some(s.message),
            Err(e) => panic!("unexpected error: {e}"),
            Ok(created) => {
                let _ = api
                    .delete(&created.metadata.name.unwrap(), &DeleteParams::default())
                    .await;
                None
            }
        }
    })
    .await
}

/// POSTs a CR through the raw client and returns the `Warning` headers.
async fn create_with_warnings(
    client: &kube::Client,
    ns: &str,
    group: &str,
    obj: &Value,
) -> (u16, Vec<String>) {
    let req = http::Request::post(format!("/apis/{group}/v1alpha1/namespaces/{ns}/platforms"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(obj).unwrap())
        .unwrap();
    let resp = client
        .send(req.map(kube::client::Body::from))
        .await
        .unwrap();
    let warnings = resp
        .headers()
        .get_all("warning")
        .iter()
        .map(|h| h.to_str().unwrap_or_default().to_owned())
        .collect();
    (resp.status().as_u16(), warnings)
}

#[tokio::test(flavor = "multi_thread")]
async fn admission_rules_deny_warn_and_default_and_ignore_admits_when_the_gateway_is_gone() {
    let client = cluster().await;
    let ns = testenv::namespace(&client, "gw-admit").await;
    let group = format!("{}.ork.test", testenv::unique_name("adm"));
    install_crd(&client, &group, "Platform", &["v1alpha1"]).await;
    let (_dir, katalog) = write_katalog(&platform_katalog(&group, "Ignore"));
    let instance = testenv::unique_name("gw-admit");
    let gw = start(&katalog, &["--instance", &instance]);
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &ns,
        &resource(&group, "v1alpha1", "Platform"),
    );
    let av = format!("{group}/v1alpha1");

    // Deny: every violated rule's rendered message.
    let bad = cr(
        "Platform",
        &av,
        "bad",
        json!({"image": "docker.io/x", "replicas": 0, "rateLimit": 1}),
    );
    let message = denied_eventually(&api, &bad).await;
    assert!(
        message.contains(
            "images must come from the internal registry (registry.internal/), not docker.io/x"
        ),
        "{message}"
    );
    assert!(message.contains("replicas must be at least 1"), "{message}");

    // Warn: admitted, with the warning; mutation filled the defaults first.
    let (status, warnings) = create_with_warnings(
        &client,
        &ns,
        &group,
        &json!({
            "apiVersion": av, "kind": "Platform", "metadata": {"name": "minimal"},
            "spec": {"image": "registry.internal/app:1"},
        }),
    )
    .await;
    assert_eq!(status, 201);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("declare spec.rateLimit for production readiness")),
        "{warnings:?}"
    );
    let created = api.get("minimal").await.unwrap();
    assert_eq!(created.data["spec"]["replicas"], json!(2));
    assert_eq!(created.data["spec"]["environment"], json!("development"));

    // Deleted while running: the housekeeper puts it back.
    let vwc: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let config_name = format!("{instance}-admission-validation");
    vwc.delete(&config_name, &DeleteParams::default())
        .await
        .unwrap();
    eventually(
        "the deleted configuration to be re-created",
        SETTLE,
        || async { vwc.get_opt(&config_name).await.unwrap().map(drop) },
    )
    .await;

    // Killed (configurations left behind, nobody answering): Ignore admits.
    kill_hard(gw);
    assert!(
        vwc.get_opt(&format!("{instance}-admission-validation"))
            .await
            .unwrap()
            .is_some()
    );
    let admitted = api
        .create(
            &PostParams::default(),
            &cr(
                "Platform",
                &av,
                "while-down",
                json!({"image": "docker.io/x"}),
            ),
        )
        .await;
    assert!(
        admitted.is_ok(),
        "failurePolicy Ignore must admit while the gateway is down: {admitted:?}"
    );

    // The next start adopts what the killed one left; SIGTERM removes it.
    let gw = start(&katalog, &["--instance", &instance]);
    terminate(gw);
    assert!(
        vwc.get_opt(&format!("{instance}-admission-validation"))
            .await
            .unwrap()
            .is_none()
    );
    let mwc: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    assert!(
        mwc.get_opt(&format!("{instance}-admission-mutation"))
            .await
            .unwrap()
            .is_none()
    );
}

fn conversion_katalog(group: &str) -> String {
    with_header(
        "conversion",
        &format!(
            r#"  conversion: {{enabled: true}}
spec:
  crds:
    database:
      apiTypes: {{group: {group}, version: v1, kind: Database, plural: databases}}
      conversion:
        storageVersion: v1
        updateCRD: true
        paths:
          - from: v1alpha1
            to: v1
            spec:
              engine: "{{{{ .spec.databaseEngine }}}}"
              replicas: "{{{{ .spec.size }}}}"
          - from: v1
            to: v1alpha1
            spec:
              databaseEngine: "{{{{ .spec.engine }}}}"
              size: "{{{{ .spec.replicas }}}}"
"#
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_multi_version_crd_converts_both_ways_and_its_conversion_is_restored() {
    let client = cluster().await;
    let ns = testenv::namespace(&client, "gw-conv").await;
    let group = format!("{}.ork.test", testenv::unique_name("conv"));
    let crd_name = install_crd(&client, &group, "Database", &["v1alpha1", "v1"]).await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let before = serde_json::to_value(crds.get(&crd_name).await.unwrap().spec.conversion).unwrap();
    let (_dir, katalog) = write_katalog(&conversion_katalog(&group));
    let gw = start(&katalog, &["--instance", &testenv::unique_name("gw-conv")]);

    let alpha: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &ns,
        &resource(&group, "v1alpha1", "Database"),
    );
    let v1: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &resource(&group, "v1", "Database"));
    let obj = cr(
        "Database",
        &format!("{group}/v1alpha1"),
        "db",
        json!({"databaseEngine": "postgres", "size": 3}),
    );
    eventually("the conversion webhook to be in use", SETTLE, || async {
        match alpha.create(&PostParams::default(), &obj).await {
            Ok(_) => Some(()),
            Err(e) => {
                eprintln!("create as v1alpha1 not yet possible: {e}");
                None
            }
        }
    })
    .await;
    let as_v1 = v1.get("db").await.unwrap();
    assert_eq!(
        as_v1.data["spec"],
        json!({"engine": "postgres", "replicas": 3})
    );
    let back = alpha.get("db").await.unwrap();
    assert_eq!(
        back.data["spec"],
        json!({"databaseEngine": "postgres", "size": 3})
    );
    assert_eq!(back.metadata.uid, as_v1.metadata.uid);

    terminate(gw);
    let after = crds.get(&crd_name).await.unwrap();
    assert_eq!(serde_json::to_value(after.spec.conversion).unwrap(), before);
    let annotations = after.metadata.annotations.unwrap_or_default();
    assert!(
        annotations
            .keys()
            .all(|k| !k.starts_with("gateway.ork.orkspace.io")),
        "{annotations:?}"
    );
}

fn protection_katalog(group: &str) -> String {
    with_header(
        "protection",
        &format!(
            r#"  deletionProtection: {{strictMode: true}}
spec:
  crds:
    vault:
      apiTypes: {{group: {group}, version: v1, kind: Vault, plural: vaults}}
"#
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn deletion_protection_and_strict_mode_deny_and_a_protected_crd_stays() {
    let client = cluster().await;
    let ns = testenv::namespace(&client, "gw-prot").await;
    let group = format!("{}.ork.test", testenv::unique_name("prot"));
    let crd_name = install_crd(&client, &group, "Vault", &["v1"]).await;
    let (_dir, katalog) = write_katalog(&protection_katalog(&group));
    let gw = start(&katalog, &["--instance", &testenv::unique_name("gw-prot")]);
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &resource(&group, "v1", "Vault"));
    let mut obj = cr("Vault", &format!("{group}/v1"), "keep", json!({}));
    obj.metadata.labels = Some(BTreeMap::from([(
        "orkestra.io/deletion-protection".into(),
        "true".into(),
    )]));
    api.create(&PostParams::default(), &obj).await.unwrap();

    let denied = eventually("deletion to be denied", SETTLE, || async {
        match api.delete("keep", &DeleteParams::default()).await {
            Err(kube::Error::Api(s)) => Some(s.message),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("a protected CR was deleted"),
        }
    })
    .await;
    assert!(denied.contains("is protected"), "{denied}");

    let unlabel = json!({"metadata": {"labels": {"orkestra.io/deletion-protection": null}}});
    let strict = api
        .patch("keep", &PatchParams::default(), &Patch::Merge(&unlabel))
        .await
        .unwrap_err();
    assert!(strict.to_string().contains("strict mode"), "{strict}");
    let exempt = json!({"metadata": {"labels": {"orkestra.io/strict-mode-exempt": "true"}}});
    api.patch("keep", &PatchParams::default(), &Patch::Merge(&exempt))
        .await
        .unwrap();
    api.patch("keep", &PatchParams::default(), &Patch::Merge(&unlabel))
        .await
        .unwrap();
    api.delete("keep", &DeleteParams::default()).await.unwrap();

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd_denied = crds
        .delete(&crd_name, &DeleteParams::default())
        .await
        .unwrap_err();
    assert!(
        crd_denied
            .to_string()
            .contains("is protected by the Katalog"),
        "{crd_denied}"
    );

    terminate(gw);
    crds.delete(&crd_name, &DeleteParams::default())
        .await
        .unwrap();
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

fn everything_katalog(group: &str) -> String {
    with_header(
        "everything",
        &format!(
            r#"  webhooks:
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
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn no_trace_after_sigterm_and_after_sigkill_then_restart() {
    let client = cluster().await;
    let ns = testenv::namespace(&client, "gw-trace").await;
    let group = format!("{}.ork.test", testenv::unique_name("trace"));
    let crd = install_crd(&client, &group, "Thing", &["v1alpha1", "v1"]).await;
    let (_dir, katalog) = write_katalog(&everything_katalog(&group));
    let instance = testenv::unique_name("gw-trace");
    let args = ["--instance", instance.as_str(), "--namespace", ns.as_str()];
    let before = snapshot(&client, &instance, &ns, &crd).await;

    let gw = start(&katalog, &args);
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
    terminate(gw);
    assert_eq!(snapshot(&client, &instance, &ns, &crd).await, before);

    let gw = start(&katalog, &args);
    kill_hard(gw);
    let left = snapshot(&client, &instance, &ns, &crd).await;
    assert_ne!(left, before, "a SIGKILLed gateway cannot clean up");
    let gw = start(&katalog, &args);
    terminate(gw);
    assert_eq!(snapshot(&client, &instance, &ns, &crd).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_rotate_and_admission_keeps_working() {
    let client = cluster().await;
    let ns = testenv::namespace(&client, "gw-rot").await;
    let group = format!("{}.ork.test", testenv::unique_name("rot"));
    install_crd(&client, &group, "Platform", &["v1alpha1"]).await;
    let (_dir, katalog) = write_katalog(&platform_katalog(&group, "Fail"));
    let instance = testenv::unique_name("gw-rot");
    // 30 s certificates rotate 10 s before expiry.
    let gw = start(
        &katalog,
        &["--instance", &instance, "--cert-validity", "30s"],
    );
    let vwc: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let name = format!("{instance}-admission-validation");
    let bundle = |c: ValidatingWebhookConfiguration| {
        c.webhooks.unwrap()[0]
            .client_config
            .ca_bundle
            .clone()
            .unwrap()
            .0
    };
    let mut last = bundle(vwc.get(&name).await.unwrap());
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &ns,
        &resource(&group, "v1alpha1", "Platform"),
    );
    let bad = cr(
        "Platform",
        &format!("{group}/v1alpha1"),
        "bad",
        json!({"image": "x"}),
    );
    denied_eventually(&api, &bad).await;
    for round in 0..2 {
        let rotated = eventually("a rotated caBundle", SETTLE, || async {
            let b = bundle(vwc.get(&name).await.ok()?);
            (b != last).then_some(b)
        })
        .await;
        assert!(
            String::from_utf8_lossy(&rotated)
                .matches("BEGIN CERTIFICATE")
                .count()
                == 2,
            "round {round}"
        );
        // Past the old certificate's expiry, admission still answers (Fail would reject
        // every create if the API server could not verify the gateway).
        tokio::time::sleep(Duration::from_secs(12)).await;
        let message = match api.create(&PostParams::default(), &bad).await {
            Err(kube::Error::Api(s)) => s.message,
            other => panic!("expected a denial, got {other:?}"),
        };
        assert!(
            message.contains("images must come from the internal registry"),
            "{message}"
        );
        last = rotated;
    }
    terminate(gw);
}

/// A tiny HTTP receiver: records request bodies and answers 200.
async fn http_receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            let _ = tx.send(text[end + 4..].to_owned());
                            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
                            break;
                        }
                    }
                }
            });
        }
    });
    (format!("http://{addr}/hook"), rx)
}

/// A tiny SMTP server: speaks just enough SMTP and records each message's DATA.
async fn smtp_server() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = TokioBufReader::new(r);
                w.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                let mut line = String::new();
                while r.read_line(&mut line).await.unwrap_or(0) > 0 {
                    if let Some(d) = &mut data {
                        if line == ".\r\n" {
                            let _ = tx.send(std::mem::take(d));
                            data = None;
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            d.push_str(&line);
                        }
                    } else {
                        let cmd = line.to_ascii_uppercase();
                        let reply: &[u8] = if cmd.starts_with("EHLO") {
                            b"250-test\r\n250 OK\r\n"
                        } else if cmd.starts_with("DATA") {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        } else if cmd.starts_with("QUIT") {
                            w.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        } else {
                            b"250 OK\r\n"
                        };
                        w.write_all(reply).await.unwrap();
                    }
                    line.clear();
                }
            });
        }
    });
    (addr.to_string(), rx)
}

/// Sends a request over plain HTTP (`body` JSON for POST, `None` for GET) and returns the
/// status and JSON body.
async fn request(addr: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (method, body) = match body {
        Some(b) => ("POST", b.to_string()),
        None => ("GET", String::new()),
    };
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_reaches_a_webhook_receiver_and_an_smtp_server_and_throttles() {
    let _client = cluster().await;
    let (hook_url, mut hooks) = http_receiver().await;
    let (smtp, mut mails) = smtp_server().await;
    let text = format!(
        r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: notify}}
gateway: {{enabled: true}}
notification:
  teams:
    - name: ops
      email: ops@example.test
      slack: {{webhookUrl: "{hook_url}"}}
spec:
  crds:
    site:
      apiTypes: {{group: notify.ork.test, version: v1, kind: Site, plural: sites}}
"#
    );
    let (_dir, katalog) = write_katalog(&text);
    let gw = start(
        &katalog,
        &[
            "--instance",
            &testenv::unique_name("gw-notify"),
            "--smtp",
            &smtp,
            "--notify-throttle",
            "1h",
        ],
    );
    let event = json!({"team": "ops", "crd": "site", "name": "web", "namespace": "prod",
                       "condition": "Ready", "status": "False", "reason": "Degraded", "message": "pods crash"});
    let (status, outcome) = request(&gw.http, "/notify", Some(&event)).await;
    assert_eq!(status, 202);
    assert_eq!(
        outcome["delivered"],
        json!(["slack:ops", "email:ops"]),
        "{outcome}"
    );
    let hook = tokio::time::timeout(Duration::from_secs(10), hooks.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        hook.contains("site prod/web: Ready=False (Degraded): pods crash"),
        "{hook}"
    );
    let mail = tokio::time::timeout(Duration::from_secs(10), mails.recv())
        .await
        .unwrap()
        .unwrap();
    let (headers, subject) = mail_headers(&mail);
    assert_eq!(subject, "[ork] site prod/web: Ready=False", "{mail}");
    assert!(headers.contains(&"To: <ops@example.test>"), "{mail}");

    let (_, again) = request(&gw.http, "/notify", Some(&event)).await;
    assert_eq!(again["throttled"], json!(["ops"]), "{again}");
    assert_eq!(again["delivered"], json!([]));
    let recovered = json!({"team": "ops", "crd": "site", "name": "web", "namespace": "prod",
                           "condition": "Ready", "status": "True"});
    let (_, third) = request(&gw.http, "/notify", Some(&recovered)).await;
    assert_eq!(
        third["delivered"],
        json!(["slack:ops", "email:ops"]),
        "{third}"
    );
    let (status, info) = request(&gw.http, "/katalog", None).await;
    assert_eq!(status, 200);
    assert_eq!(info["source"], "gateway");
    assert_eq!(info["katalog"], "notify");
    // The throttled repeat sent nothing: the next POST the receiver saw is the recovery.
    let next = tokio::time::timeout(Duration::from_secs(10), hooks.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(next.contains("Ready=True"), "{next}");
    let recovery = tokio::time::timeout(Duration::from_secs(10), mails.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mail_headers(&recovery).1, "[ork] site prod/web: Ready=True");

    // Fields of a notification cannot add a header or end the message.
    let forged = json!({"team": "ops", "crd": "site", "name": "web\r\nBcc: evil@example.test",
                        "namespace": "prod", "condition": "Ready", "status": "Unknown",
                        "message": "x\r\n.\r\nRCPT TO:<evil@example.test>"});
    let (_, fourth) = request(&gw.http, "/notify", Some(&forged)).await;
    assert_eq!(
        fourth["delivered"],
        json!(["slack:ops", "email:ops"]),
        "{fourth}"
    );
    let mail = tokio::time::timeout(Duration::from_secs(10), mails.recv())
        .await
        .unwrap()
        .unwrap();
    let (headers, subject) = mail_headers(&mail);
    assert!(
        subject.starts_with("[ork] site prod/web\r\nBcc:"),
        "{subject:?}"
    );
    assert!(headers.iter().all(|h| !h.starts_with("Bcc")), "{mail}");
    assert_eq!(headers.len(), 6, "{mail}");
    terminate(gw);
}

/// The header lines of a received message's DATA, and its subject decoded (RFC 2047 base64).
fn mail_headers(mail: &str) -> (Vec<&str>, String) {
    let headers: Vec<&str> = mail.split("\r\n").take_while(|l| !l.is_empty()).collect();
    let encoded = headers
        .iter()
        .find_map(|h| h.strip_prefix("Subject: =?utf-8?B?")?.strip_suffix("?="))
        .unwrap_or_else(|| panic!("no encoded subject in {mail}"));
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    (headers, String::from_utf8(bytes).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_on_exit_leaves_the_configurations_for_the_next_start_to_adopt() {
    let client = cluster().await;
    let group = format!("{}.ork.test", testenv::unique_name("keep"));
    install_crd(&client, &group, "Platform", &["v1alpha1"]).await;
    let (_dir, katalog) = write_katalog(&platform_katalog(&group, "Ignore"));
    let instance = testenv::unique_name("gw-keep");
    let vwc: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let name = format!("{instance}-admission-validation");
    terminate(start(
        &katalog,
        &["--instance", &instance, "--keep-on-exit"],
    ));
    assert!(vwc.get_opt(&name).await.unwrap().is_some());
    terminate(start(&katalog, &["--instance", &instance]));
    assert!(vwc.get_opt(&name).await.unwrap().is_none());
}
