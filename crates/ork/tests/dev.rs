//! `ork dev` against the real control-plane binaries: start, use, stop, restart with the same
//! data, reset, and a corrupt state directory.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Node};
use kube::Api;
use kube::api::PostParams;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn ork() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ork"))
}

/// A running `ork dev`, the kubeconfig path from its one stdout line, and what it has written on
/// stderr so far (passed through to the test's stderr as well).
struct Dev {
    child: Child,
    kubeconfig: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Dev {
    /// Waits up to 10 s for `ork dev` to have said `text` on stderr (its stderr is read on
    /// another thread, which may lag behind the stdout line).
    fn wait_for_stderr(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let said = self.stderr.lock().unwrap().clone();
            if said.contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "ork dev did not say {text:?}; it said:\n{said}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Starts `ork dev` (with `extra` arguments) and waits for its kubeconfig line.
fn start_dev(state: &Path, extra: &[&str]) -> Dev {
    let mut child = ork()
        .args(["dev", "--state-dir"])
        .arg(state)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (err, collected) = (child.stderr.take().unwrap(), stderr.clone());
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("{line}");
            let mut text = collected.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap_or_default());
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(180))
        .expect("ork dev printed nothing on stdout within 180 s");
    let path = line
        .strip_prefix("export KUBECONFIG=")
        .unwrap_or_else(|| panic!("unexpected first stdout line: {line}"))
        .to_string();
    assert!(Path::new(&path).is_absolute(), "{path}");
    Dev {
        child,
        kubeconfig: path,
        stderr,
    }
}

/// A test that fails half-way must not leave `ork dev` and its control plane running.
impl Drop for Dev {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
            let _ = self.child.wait();
        }
    }
}

/// Sends SIGTERM and checks the process exits 0 within 10 s.
fn stop_dev(mut dev: Dev) {
    let child = &mut dev.child;
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "ork dev exited with {status}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "ork dev did not stop within 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
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

/// Creates a one-replica Deployment and waits up to 60 s for it to be Available, which only
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
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let status = api.get("simulated").await.unwrap().status;
        if status.and_then(|s| s.available_replicas) == Some(1) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the Deployment was not Available within 180 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_keeps_its_cluster_across_restarts_and_reset_wipes_it() {
    let state = tempfile::tempdir().unwrap();
    let state_path = state.path().join("dev");
    let needle = state_path.display().to_string();

    let dev = start_dev(&state_path, &[]);
    dev.wait_for_stderr("workloads are simulated");
    dev.wait_for_stderr("no container runs");
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
    stop_dev(dev);
    assert_eq!(processes_mentioning(&needle), Vec::<u32>::new());

    // The restart finds its data, its port and its simulated Nodes, and kwok plays them again.
    let dev = start_dev(&state_path, &[]);
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
    stop_dev(dev);

    let dev = start_dev(&state_path, &["--no-workloads"]);
    dev.wait_for_stderr("no workloads");
    let kwok_config = format!("{needle}/kwok.yaml");
    assert_eq!(
        processes_mentioning(&kwok_config),
        Vec::<u32>::new(),
        "kwok runs despite --no-workloads"
    );
    stop_dev(dev);

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
