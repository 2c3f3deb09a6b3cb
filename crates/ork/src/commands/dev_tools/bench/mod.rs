//! `ork bench`: how `ork run` performs, on a throwaway local control plane (with an audit log).
//!
//! Benchmarks, chosen on the command line (default: `throughput`):
//!
//! - **throughput** (`throughput.rs`): how fast one `ork run` converges N CRs, against a floor
//!   of the same children applied directly; first of all, its RSS with 15 idle CRDs.
//! - **idle** (`idle.rs`): RSS and CPU of an idle leader and an idle follower (two `ork run`
//!   processes on one Lease) once 1000 CRs over 15 CRDs have converged.
//! - **failover** (`failover.rs`): the time from SIGTERM (hand-over) or SIGKILL (take-over) of
//!   the leader to the follower reporting `isKonductor: true`, with the default Lease
//!   durations.
//! - **chaos** (`chaos.rs`): rounds of one fault during convergence, on a control plane of its
//!   own; it fails when a round does not converge cleanly.
//!
//! - **peers** (`peers.rs`): ork against a floor of the children, a floor of the children and
//!   one status patch per CR, kro and a hand-written controller-runtime operator (the Go peers
//!   built by `bench/peers/build.sh`), each alone on the control plane in turn.
//!
//! - **latency** (`latency.rs`): with N steady CRs, the time from a spec change to the child
//!   updated and from a deleted child to its restoration, p50/p99.
//!
//! - **external** (`external.rs`): the cost of an `external:` call against a loopback server
//!   answering in 1 ms: per call against a bare HTTP client loop, and CRs/s of a reconcile
//!   with one call against the same without.
//!
//! A benchmark, not a test: nothing is asserted. Each figure is printed with the load average,
//! since the machine may be shared.

mod chaos;
mod external;
mod failover;
mod fleet;
mod idle;
mod latency;
mod peers;
mod process;
mod throughput;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, DynamicObject, ObjectMeta, PostParams};
use testenv::{Binaries, Config, ControlPlane, Identity};

use crate::commands::dev_tools::{BenchArgs, Benchmark};
use fleet::Fleet;

const KATALOG: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/stack/katalog.yaml"
));
const CRD: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/stack/crd.yaml"
));
/// The user `ork run` authenticates as, so the audit log tells its writes apart.
const ORK_USER: &str = "ork-bench";
const MANAGED: &str = "orkestra.orkspace.io/managed=true";
/// The namespace of the Lease of the two-process benchmarks.
const LEASE_NAMESPACE: &str = "ork-bench";

/// Runs `ork bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(bench(args))?;
    Ok(ExitCode::SUCCESS)
}

/// What every benchmark works with: the control plane's admin client, a kubeconfig for
/// `ork run` (as [`ORK_USER`]) and a scratch directory.
pub struct Bench {
    /// The admin client.
    pub client: Client,
    /// The kubeconfig `ork run` processes use.
    pub kubeconfig: PathBuf,
    /// Scratch space: Katalogs, logs.
    pub dir: PathBuf,
    /// The API server's audit log.
    pub audit_log: PathBuf,
}

async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let binaries = tokio::task::spawn_blocking(|| Binaries::locate_or_build(false)).await??;
    let state = tempfile::tempdir()?;
    let chosen = Benchmark::expand(&args.benchmarks);
    if chosen.contains(&Benchmark::Chaos) {
        chaos::run(&args, &binaries, state.path()).await?;
        if chosen.len() == 1 {
            return Ok(());
        }
    }
    let mut cp = ControlPlane::start(
        Config::new()
            .state_dir(state.path().join("cluster"))
            .audit_log(true)
            .binaries_dir(binaries.dir()),
    )
    .await?;
    let result = measure(&args, &cp, state.path()).await;
    tokio::task::spawn_blocking(move || cp.stop(Duration::from_secs(3))).await?;
    result
}

async fn measure(args: &BenchArgs, cp: &ControlPlane, dir: &Path) -> anyhow::Result<()> {
    let kubeconfig = dir.join("ork.kubeconfig");
    std::fs::write(
        &kubeconfig,
        cp.kubeconfig_as(&Identity::user(ORK_USER, &["system:masters"]))?,
    )?;
    let bench = Bench {
        client: cp.client().await?,
        kubeconfig,
        dir: dir.to_path_buf(),
        audit_log: cp.audit_log_path(),
    };
    println!(
        "ork bench: Kubernetes {}, {} CPUs, load average {}",
        testenv::KUBERNETES_VERSION,
        std::thread::available_parallelism().map_or(0, usize::from),
        load_average()
    );
    let chosen = Benchmark::expand(&args.benchmarks);
    if chosen.contains(&Benchmark::Throughput) {
        throughput::measure(args, &bench).await?;
    }
    if chosen.contains(&Benchmark::External) {
        external::measure(args, &bench).await?;
    }
    if chosen.contains(&Benchmark::Peers) {
        peers::measure(args, &bench).await?;
    }
    if chosen.contains(&Benchmark::Latency) {
        latency::measure(args, &bench).await?;
    }
    let mut fleet = None;
    for benchmark in [Benchmark::Idle, Benchmark::Failover] {
        if !chosen.contains(&benchmark) {
            continue;
        }
        if fleet.is_none() {
            create_namespace(&bench.client, LEASE_NAMESPACE).await?;
            fleet = Some(Fleet::write(&bench.dir, args.fleet_crds)?);
        }
        let fleet = fleet.as_mut().expect("written above");
        if benchmark == Benchmark::Idle {
            idle::measure(args, &bench, fleet).await?;
        } else {
            failover::measure(args, &bench, fleet).await?;
        }
    }
    Ok(())
}

/// `/proc/loadavg`'s three averages (1, 5, 15 minutes).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Polls `check` every 20 ms until it returns `Some`; an error naming `what` after `timeout`.
pub async fn poll<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether a CR's status has `Ready=True`.
fn is_ready(cr: &DynamicObject) -> bool {
    cr.data["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// Creates namespace `name` (already there is fine).
async fn create_namespace(client: &Client, name: &str) -> anyhow::Result<String> {
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    match Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(error) => return Err(error.into()),
    }
    Ok(name.to_owned())
}

/// Bytes in KiB as MiB.
fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// min / median / p90 / max of `samples` (nearest rank), as one line.
fn distribution(samples: &[Duration]) -> String {
    if samples.is_empty() {
        return "no samples".into();
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = |p: usize| sorted[(sorted.len() * p).div_ceil(100).clamp(1, sorted.len()) - 1];
    format!(
        "n={} min {:.2?} median {:.2?} p90 {:.2?} max {:.2?}",
        sorted.len(),
        sorted[0],
        rank(50),
        rank(90),
        sorted[sorted.len() - 1]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_distribution_takes_nearest_ranks() {
        let samples: Vec<Duration> = (1..=10).rev().map(Duration::from_secs).collect();
        assert_eq!(
            distribution(&samples),
            "n=10 min 1.00s median 5.00s p90 9.00s max 10.00s"
        );
        assert_eq!(
            distribution(&[Duration::from_millis(7)]),
            "n=1 min 7.00ms median 7.00ms p90 7.00ms max 7.00ms"
        );
        assert_eq!(distribution(&[]), "no samples");
    }
}
