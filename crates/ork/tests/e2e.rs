//! `ork e2e` on every pack of `examples/` (what `ork init --pack` writes): each pack's
//! `e2e.yaml` passes, every step PASS, none skipped, JUnit counting no failure; the packs that
//! declare webhooks run them through the in-process gateway.
//!
//! Left out: `intermediate/07-state-machine`, whose e2e file fails on a runtime defect being
//! fixed separately (its simulate file passes in `init.rs`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::util::ork;

/// Packs whose `e2e.yaml` is not run here, with the reason.
const LEFT_OUT: &[(&str, &str)] = &[];

/// Packs whose Katalog declares admission or conversion: their run starts the gateway.
const WITH_GATEWAY: &[&str] = &["advanced/11-conversion-gateway", "advanced/12-admission"];

/// Every `examples/<level>/<pack>` (and `examples/hello`) with an `e2e.yaml`, as
/// `level/pack`, sorted.
fn packs_with_e2e(examples: &Path) -> Vec<String> {
    let mut packs = Vec::new();
    if examples.join("hello/e2e.yaml").is_file() {
        packs.push("hello".to_owned());
    }
    for level in ["beginner", "intermediate", "advanced"] {
        for entry in std::fs::read_dir(examples.join(level)).unwrap() {
            let path = entry.unwrap().path();
            if path.join("e2e.yaml").is_file() {
                let name = path.file_name().unwrap().to_string_lossy();
                packs.push(format!("{level}/{name}"));
            }
        }
    }
    packs.sort();
    packs
}

/// What one pack's run printed, and whether it passed cleanly.
struct PackRun {
    pack: String,
    seconds: f64,
    problem: Option<String>,
}

/// Runs `ork e2e --use-current` on `pack`'s `e2e.yaml` against the cluster of `kubeconfig`.
fn run_pack(examples: &Path, pack: &str, kubeconfig: &Path) -> PackRun {
    let t = Instant::now();
    let junit = tempfile::NamedTempFile::new().unwrap();
    let output = ork()
        .arg("e2e")
        .arg(examples.join(pack).join("e2e.yaml"))
        .arg("--use-current")
        .arg("--junit")
        .arg(junit.path())
        .env("KUBECONFIG", kubeconfig)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let xml = std::fs::read_to_string(junit.path()).unwrap_or_default();
    let gateway_ok = !WITH_GATEWAY.contains(&pack) || stdout.contains("PASS  start gateway");
    let clean = output.status.success()
        && stdout.contains(" 0 failed, 0 skipped")
        && !stdout.contains("FAIL")
        && xml.contains("failures=\"0\" skipped=\"0\"");
    let problem = (!(clean && gateway_ok)).then(|| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        format!(
            "{pack}: exit {:?}, gateway started when declared: {gateway_ok}\n{stdout}\n{}",
            output.status.code(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    });
    PackRun {
        pack: pack.to_owned(),
        seconds: t.elapsed().as_secs_f64(),
        problem,
    }
}

/// The kinds of the CRDs among a pack's files.
fn crd_kinds(dir: &Path) -> Vec<String> {
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let docs = serde_saphyr::from_multiple::<serde_json::Value>(&text).unwrap_or_default();
        for doc in docs {
            if doc["kind"] == "CustomResourceDefinition"
                && let Some(kind) = doc["spec"]["names"]["kind"].as_str()
            {
                kinds.push(kind.to_owned());
            }
        }
    }
    kinds
}

/// `packs` in waves in which no two packs define a CRD of the same kind: kubectl resolves a
/// bare kind (`kubectl get Website`) to one group only, so two such packs cannot run at once
/// on one cluster.
fn waves(examples: &Path, packs: &[String]) -> Vec<Vec<String>> {
    let mut waves: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for pack in packs {
        let kinds = crd_kinds(&examples.join(pack));
        assert!(!kinds.is_empty(), "{pack} has no CRD");
        match waves
            .iter_mut()
            .find(|(_, taken)| kinds.iter().all(|k| !taken.contains(k)))
        {
            Some((members, taken)) => {
                members.push(pack.clone());
                taken.extend(kinds);
            }
            None => waves.push((vec![pack.clone()], kinds)),
        }
    }
    waves.into_iter().map(|(members, _)| members).collect()
}

/// The packs in a few waves on one control plane of this test's own (with simulated
/// workloads), every pack of a wave at once: their CRDs and object names are distinct, and most
/// of each run is spent waiting for the garbage collector to notice a new CRD's owners (its
/// discovery sync, about 30 s), which they share.
#[tokio::test(flavor = "multi_thread")]
async fn every_pack_passes_its_e2e_file() {
    let examples: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut packs = packs_with_e2e(&examples);
    assert!(
        packs.len() >= 12,
        "only {} packs with e2e.yaml",
        packs.len()
    );
    packs.retain(|pack| match LEFT_OUT.iter().find(|(p, _)| p == pack) {
        Some((_, why)) => {
            eprintln!("{pack}: left out ({why})");
            false
        }
        None => true,
    });
    let config = testenv::Config::new().workloads(true);
    let mut cp = testenv::ControlPlane::start(config).await.unwrap();
    let kubeconfig = cp.kubeconfig_path().to_path_buf();
    let started = Instant::now();
    let mut failures = Vec::new();
    let waves = waves(&examples, &packs);
    for wave in &waves {
        let runs: Vec<_> = wave
            .iter()
            .map(|pack| {
                let (examples, pack, kubeconfig) =
                    (examples.clone(), pack.clone(), kubeconfig.clone());
                tokio::task::spawn_blocking(move || run_pack(&examples, &pack, &kubeconfig))
            })
            .collect();
        for run in runs {
            let run = run.await.unwrap();
            eprintln!("{}: {:.1}s", run.pack, run.seconds);
            failures.extend(run.problem);
        }
    }
    eprintln!(
        "ork e2e on {} packs in {} waves: {:.1}s",
        packs.len(),
        waves.len(),
        started.elapsed().as_secs_f64()
    );
    cp.stop(std::time::Duration::from_secs(2));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `kubectl --kubeconfig <file> args…` with the control plane's kubectl; panics on failure.
fn kubectl(cp: &testenv::ControlPlane, kubeconfig: &Path, args: &[&str]) {
    let out = std::process::Command::new(cp.binaries().path("kubectl"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--cluster <ctx>` runs on that context of the current kubeconfig, not on its current
/// context (here one no server answers), and a context the kubeconfig lacks is an error.
#[tokio::test(flavor = "multi_thread")]
async fn cluster_runs_on_the_named_context_of_the_current_kubeconfig() {
    let cp = testenv::shared().await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::copy(cp.kubeconfig_path(), &kubeconfig).unwrap();
    let current = std::process::Command::new(cp.binaries().path("kubectl"))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["config", "current-context"])
        .output()
        .unwrap();
    let current = String::from_utf8_lossy(&current.stdout).trim().to_owned();
    kubectl(
        cp,
        &kubeconfig,
        &["config", "rename-context", &current, "chosen"],
    );
    kubectl(
        cp,
        &kubeconfig,
        &[
            "config",
            "set-cluster",
            "nowhere",
            "--server=https://127.0.0.1:1",
        ],
    );
    kubectl(
        cp,
        &kubeconfig,
        &["config", "set-context", "elsewhere", "--cluster=nowhere"],
    );
    kubectl(cp, &kubeconfig, &["config", "use-context", "elsewhere"]);

    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let file = examples.join("beginner/03-secret-copy/e2e.yaml");
    let run = |context: &str| {
        ork()
            .arg("e2e")
            .arg(&file)
            .args(["--cluster", context])
            .env("KUBECONFIG", &kubeconfig)
            .output()
            .unwrap()
    };
    let chosen = run("chosen");
    let stdout = String::from_utf8_lossy(&chosen.stdout);
    assert!(chosen.status.success(), "{stdout}");
    assert!(stdout.contains("context chosen of"), "{stdout}");
    assert!(stdout.contains(" 0 failed, 0 skipped"), "{stdout}");

    let missing = run("missing");
    let stdout = String::from_utf8_lossy(&missing.stdout);
    assert_eq!(missing.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL  cluster") && stdout.contains("\"missing\""),
        "{stdout}"
    );
}
