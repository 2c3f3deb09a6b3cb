//! `ork dev` against the real control-plane binaries: start, use, stop, restart with the same
//! data, reset, a corrupt state directory, and the gateway it runs for a Katalog with webhooks.

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Node};
use kube::Api;
use kube::api::{ApiResource, DynamicObject, PostParams};
use nix::sys::signal::Signal;
use testenv::eventually;

use crate::util::{Ork, http_get, ork, stack_katalog};

/// How long `ork dev` may take to say something, or to stop after SIGTERM.
const WAIT: Duration = Duration::from_secs(10);

/// A running `ork dev` (stopped with SIGTERM if a test fails half-way, so its control plane
/// stops too) and the kubeconfig path from its one stdout line.
struct Dev {
    ork: Ork,
    kubeconfig: String,
}

/// Starts `ork dev` (with `extra` arguments, its log in `log`) and waits for its kubeconfig
/// line.
async fn start_dev(state: &Path, log: &Path, extra: &[&str]) -> Dev {
    let ork = Ork::spawn(
        ork().args(["dev", "--state-dir"]).arg(state).args(extra),
        log,
    )
    .on_drop(Signal::SIGTERM);
    let line = ork.line(Duration::from_secs(180)).await;
    let path = line
        .strip_prefix("export KUBECONFIG=")
        .unwrap_or_else(|| panic!("unexpected first stdout line: {line}"))
        .to_string();
    assert!(Path::new(&path).is_absolute(), "{path}");
    Dev {
        ork,
        kubeconfig: path,
    }
}

/// Processes whose command line mentions `needle` (the state directory).
fn processes_mentioning(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(needle) && testenv::is_alive(pid) {
            found.push(pid);
        }
    }
    found
}

fn server_of(kubeconfig: &str) -> String {
    let text = std::fs::read_to_string(kubeconfig).unwrap();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string()
}

async fn client(kubeconfig: &str) -> kube::Client {
    let text = std::fs::read_to_string(kubeconfig).unwrap();
    let kc = kube::config::Kubeconfig::from_yaml(&text).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// Creates a one-replica Deployment and waits up to 180 s for it to be Available, which only
/// simulated Nodes can make happen.
async fn deployment_becomes_available(client: &kube::Client) {
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let deployment: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "simulated"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "simulated"}},
            "template": {
                "metadata": {"labels": {"app": "simulated"}},
                "spec": {"containers": [{"name": "app", "image": "example.invalid/app:1"}]},
            },
        },
    }))
    .unwrap();
    api.create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    eventually(
        "the Deployment to be Available",
        Duration::from_secs(180),
        || async {
            let status = api.get("simulated").await.unwrap().status;
            (status.and_then(|s| s.available_replicas) == Some(1)).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_keeps_its_cluster_across_restarts_and_reset_wipes_it() {
    let state = tempfile::tempdir().unwrap();
    let state_path = state.path().join("dev");
    let needle = state_path.display().to_string();
    let log = |n: usize| state.path().join(format!("ork-dev-{n}.log"));

    let dev = start_dev(&state_path, &log(1), &[]).await;
    dev.ork.said("workloads are simulated", WAIT).await;
    dev.ork.said("no container runs", WAIT).await;
    let kubeconfig = dev.kubeconfig.clone();
    let nodes: Api<Node> = Api::all(client(&kubeconfig).await);
    let listed = nodes.list(&Default::default()).await.unwrap();
    assert_eq!(
        listed.items.len(),
        testenv::workloads::NODE_COUNT,
        "the simulated Nodes"
    );
    let first_server = server_of(&kubeconfig);
    let cms: Api<ConfigMap> = Api::namespaced(client(&kubeconfig).await, "default");
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "survives-restart"}, "data": {"k": "v"}
    }))
    .unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let running = processes_mentioning(&needle);
    assert!(
        running.len() >= 6,
        "ork dev, etcd, apiserver, controller manager, scheduler, kwok: {running:?}"
    );
    dev.ork.terminate(WAIT).await;
    assert_eq!(processes_mentioning(&needle), Vec::<u32>::new());

    // The restart finds its data, its port and its simulated Nodes, and kwok plays them again.
    let dev = start_dev(&state_path, &log(2), &[]).await;
    let kubeconfig = dev.kubeconfig.clone();
    assert_eq!(
        server_of(&kubeconfig),
        first_server,
        "the API port changed across restarts"
    );
    let client = client(&kubeconfig).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    assert!(cms.get_opt("survives-restart").await.unwrap().is_some());
    deployment_becomes_available(&client).await;
    dev.ork.terminate(WAIT).await;

    let dev = start_dev(&state_path, &log(3), &["--no-workloads"]).await;
    dev.ork.said("no workloads", WAIT).await;
    let kwok_config = format!("{needle}/kwok.yaml");
    assert_eq!(
        processes_mentioning(&kwok_config),
        Vec::<u32>::new(),
        "kwok runs despite --no-workloads"
    );
    dev.ork.terminate(WAIT).await;

    // A taken port makes the start after the reset fail at once, so the test ends quickly.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = ork()
        .args(["dev", "--reset", "--port", &port, "--state-dir"])
        .arg(&state_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("removed"), "{stderr}");
    assert!(stderr.contains("in use"), "{stderr}");
    assert!(
        !state_path.join("etcd").exists(),
        "etcd data survived --reset"
    );
}

#[test]
fn a_corrupt_state_directory_is_reported_with_the_fix() {
    let state = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(state.path().join("pki")).unwrap();
    std::fs::write(state.path().join("pki/client-ca.crt"), "damaged").unwrap();
    let out = ork()
        .args(["dev", "--state-dir"])
        .arg(state.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("corrupt") && stderr.contains("ork dev --reset"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing may reach stdout on failure");
}

/// The port of the `http://127.0.0.1:PORT` URL that follows `after` in `log`.
fn port_after(log: &str, after: &str) -> u16 {
    log.split(after)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|url| url.rsplit(':').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no URL after {after:?} in:\n{log}"))
}

/// A `Stack` (fixtures/stack's CRD) named `name` with `spec`.
fn stack(name: &str, spec: serde_json::Value) -> DynamicObject {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "bench.ork.test/v1", "kind": "Stack",
        "metadata": {"name": name}, "spec": spec,
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_runs_the_gateway_of_a_katalog_with_webhooks_and_unregisters_it_on_stop() {
    let state = tempfile::tempdir().unwrap();
    let state_path = state.path().join("dev");
    let dir = state.path().join("katalog");
    std::fs::create_dir(&dir).unwrap();
    let fixture = stack_katalog().parent().unwrap().join("crd.yaml");
    std::fs::copy(fixture, dir.join("crd.yaml")).unwrap();
    std::fs::write(
        dir.join("katalog.yaml"),
        r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: guarded}
security:
  webhooks:
    admission: {enabled: true}
spec:
  crds:
    stack:
      crdFile: ./crd.yaml
      validation:
        rules: [{field: spec.n, exists: true, message: "spec.n is required"}]
      operatorBox:
        onReconcile:
          configMaps:
            - name: "{{ .metadata.name }}-a"
              data: {n: "{{ .spec.n }}"}
"#,
    )
    .unwrap();
    let katalog = dir.join("katalog.yaml").display().to_string();
    let dev = start_dev(
        &state_path,
        &state.path().join("ork-dev-1.log"),
        &[&katalog, "--no-workloads", "--ui-port", "0"],
    )
    .await;
    let started = Duration::from_secs(180);
    dev.ork
        .said("ork dev: gateway HTTP API at http://", started)
        .await;
    dev.ork
        .said("ork dev: Control Center at http://", WAIT)
        .await;
    let log = dev.ork.log();
    assert!(
        log.contains("validation webhooks at https://127.0.0.1:"),
        "{log}"
    );
    let client = client(&dev.kubeconfig).await;
    let gvk = kube::core::GroupVersionKind::gvk("bench.ork.test", "v1", "Stack");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "stacks");
    let stacks: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);

    // The API server asks the gateway: a CR that breaks the rule is denied with its message,
    // one that keeps it is stored.
    let denied = stacks
        .create(
            &PostParams::default(),
            &stack("no-n", serde_json::json!({})),
        )
        .await
        .expect_err("a Stack without spec.n was admitted");
    assert!(
        denied.to_string().contains("spec.n is required"),
        "{denied}"
    );
    stacks
        .create(
            &PostParams::default(),
            &stack("with-n", serde_json::json!({"n": "1"})),
        )
        .await
        .unwrap();

    // The Control Center reads the gateway too: it is listed as a reachable gateway endpoint.
    let gateway_port = port_after(&log, "gateway HTTP API at ");
    let ui_port = port_after(&log, "Control Center at ");
    eventually("the gateway in the Control Center", WAIT * 3, || async {
        let (_, body) = http_get(ui_port, "/api/state").await?;
        let state: serde_json::Value = serde_json::from_str(&body).ok()?;
        state["endpoints"]
            .as_array()?
            .iter()
            .any(|e| {
                e["role"] == "gateway"
                    && e["reachable"] == true
                    && e["url"] == format!("http://127.0.0.1:{gateway_port}")
            })
            .then_some(())
    })
    .await;
    dev.ork.terminate(WAIT * 2).await;

    // Nothing of the gateway stays: after a restart without the Katalog no webhook is
    // registered and the CR the rule denied is admitted.
    let dev = start_dev(
        &state_path,
        &state.path().join("ork-dev-2.log"),
        &["--no-workloads"],
    )
    .await;
    let client = self::client(&dev.kubeconfig).await;
    let configs: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let left = configs.list(&Default::default()).await.unwrap();
    let names: Vec<_> = left.items.iter().map(|c| c.metadata.name.clone()).collect();
    assert!(
        names.is_empty(),
        "webhook configurations left behind: {names:?}"
    );
    let stacks: Api<DynamicObject> = Api::namespaced_with(client, "default", &resource);
    stacks
        .create(
            &PostParams::default(),
            &stack("no-n", serde_json::json!({})),
        )
        .await
        .unwrap();
    dev.ork.terminate(WAIT).await;
}
