//! Measures what the local control plane costs, for docs/testenv.md:
//!
//! - start time without and with the workloads mode (each started `RUNS` times, fresh);
//! - how long 100 Deployments × 2 replicas take to become Available in the workloads mode;
//! - the resident memory of the whole control plane (sum of every process's VmRSS), idle and
//!   with those 200 Pods.
//!
//! Run with `cargo run -p testenv --example measure [runs] [deployments]`; it prints a Markdown
//! table. The figures depend on the machine and its load; nothing here asserts on them.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{ListParams, PostParams};
use testenv::{Config, ControlPlane};

/// Sum of VmRSS over `pids`, in MiB, and each process's share.
fn rss_mib(pids: &[u32]) -> (f64, Vec<(String, f64)>) {
    let mut each = Vec::new();
    for &pid in pids {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
        };
        let name = field("Name:").unwrap_or_else(|| pid.to_string());
        let kib: f64 = field("VmRSS:")
            .and_then(|v| v.trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        each.push((name, kib / 1024.0));
    }
    (each.iter().map(|(_, m)| m).sum(), each)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

async fn start_times(config: impl Fn() -> Config, runs: usize) -> Vec<Duration> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let mut cp = ControlPlane::start(config())
            .await
            .expect("control plane start");
        times.push(started.elapsed());
        cp.stop(Duration::from_secs(10));
    }
    times
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "example.invalid/app:1"}]},
            },
        },
    }))
    .expect("a Deployment literal")
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let replicas = 2;

    let plain = start_times(Config::new, runs).await;
    let workloads = start_times(|| Config::new().workloads(true), runs).await;

    let cp = ControlPlane::start(Config::new().workloads(true))
        .await
        .expect("control plane start");
    let plain_cp = ControlPlane::start(Config::new())
        .await
        .expect("control plane start");
    let (plain_rss, _) = rss_mib(&plain_cp.pids());
    drop(plain_cp);
    let (idle_rss, _) = rss_mib(&cp.pids());

    let client = cp.client().await.expect("client");
    let ns = testenv::namespace(&client, "measure").await;
    let api: Api<Deployment> = Api::namespaced(client, &ns);
    let started = Instant::now();
    for i in 0..count {
        api.create(
            &PostParams::default(),
            &deployment(&format!("d{i}"), replicas),
        )
        .await
        .expect("create Deployment");
    }
    let created = started.elapsed();
    loop {
        let list = api.list(&ListParams::default()).await.expect("list");
        let available = list
            .items
            .iter()
            .filter(|d| d.status.as_ref().and_then(|s| s.available_replicas) == Some(replicas))
            .count();
        if available == count {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "only {available}/{count} Available after 10 min"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let converged = started.elapsed();
    let (busy_rss, each) = rss_mib(&cp.pids());

    let ms = |d: Duration| format!("{:.1} s", d.as_secs_f64());
    let list = |v: &[Duration]| v.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(", ");
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| start, plain (median of {runs}) | {} ({}) |",
        ms(median(plain.clone())),
        list(&plain)
    );
    println!(
        "| start, workloads mode (median of {runs}) | {} ({}) |",
        ms(median(workloads.clone())),
        list(&workloads)
    );
    println!(
        "| {count} Deployments × {replicas} replicas: created | {} |",
        ms(created)
    );
    println!(
        "| {count} Deployments × {replicas} replicas: all Available | {} |",
        ms(converged)
    );
    println!("| RSS, plain, idle | {plain_rss:.0} MiB |");
    println!("| RSS, workloads mode, idle | {idle_rss:.0} MiB |");
    println!(
        "| RSS, workloads mode, {} Pods | {busy_rss:.0} MiB |",
        count * replicas as usize
    );
    for (name, mib) in each {
        println!("| · {name} | {mib:.0} MiB |");
    }
}
