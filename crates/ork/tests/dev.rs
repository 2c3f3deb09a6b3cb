//! `ork dev` against the real control-plane binaries: start, use, stop, restart with the same
//! data, reset, and a corrupt state directory.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::PostParams;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn ork() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ork"))
}

/// Starts `ork dev` and returns it with the kubeconfig path from its one stdout line.
fn start_dev(state: &Path) -> (Child, String) {
    let mut child = ork()
        .args(["dev", "--state-dir"])
        .arg(state)
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
        .recv_timeout(Duration::from_secs(180))
        .expect("ork dev printed nothing on stdout within 180 s");
    let path = line
        .strip_prefix("export KUBECONFIG=")
        .unwrap_or_else(|| panic!("unexpected first stdout line: {line}"))
        .to_string();
    assert!(Path::new(&path).is_absolute(), "{path}");
    (child, path)
}

/// Sends SIGTERM and checks the process exits 0 within 10 s.
fn stop_dev(mut child: Child) {
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

#[tokio::test(flavor = "multi_thread")]
async fn dev_keeps_its_cluster_across_restarts_and_reset_wipes_it() {
    let state = tempfile::tempdir().unwrap();
    let state_path = state.path().join("dev");
    let needle = state_path.display().to_string();

    let (child, kubeconfig) = start_dev(&state_path);
    let first_server = server_of(&kubeconfig);
    let cms: Api<ConfigMap> = Api::namespaced(client(&kubeconfig).await, "default");
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "survives-restart"}, "data": {"k": "v"}
    }))
    .unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    assert!(!processes_mentioning(&needle).is_empty());
    stop_dev(child);
    assert_eq!(processes_mentioning(&needle), Vec::<u32>::new());

    let (child, kubeconfig) = start_dev(&state_path);
    assert_eq!(
        server_of(&kubeconfig),
        first_server,
        "the API port changed across restarts"
    );
    let cms: Api<ConfigMap> = Api::namespaced(client(&kubeconfig).await, "default");
    assert!(cms.get_opt("survives-restart").await.unwrap().is_some());
    stop_dev(child);

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
