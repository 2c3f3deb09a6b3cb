//! Throughput: how fast `ork run` converges, against a floor measured in the same run.
//!
//! For each N:
//!
//! - **floor**: a tight loop server-side-applying the 3·N children directly, with as many
//!   requests in flight as ork has workers;
//! - **ork**: a real `ork run` process (this binary) running `fixtures/stack` (one CRD, two
//!   ConfigMaps and a ServiceAccount per CR) converges N new CRs: every child applied and the CR
//!   `Ready=True`.
//!
//! It prints the throughput ratio ork/floor, p50/p99 latency from a CR's create to its last
//! child applied, write requests per CR (from the audit log, by ork's own user), requests of
//! every verb per CR (the API server's `apiserver_request_total`, less the bench's creates),
//! and ork's peak RSS; finally ork's RSS with 15 idle CRDs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::fleet::Fleet;
use super::process::{Ork, Spawn};
use super::{
    Bench, CRD, KATALOG, MANAGED, ORK_USER, create_namespace, is_ready, load_average, mib, poll,
};
use crate::commands::dev_tools::BenchArgs;

/// Runs the throughput benchmark, then the RSS of one process with 15 idle CRDs.
pub async fn measure(args: &BenchArgs, bench: &Bench) -> anyhow::Result<()> {
    let (client, dir) = (&bench.client, bench.dir.as_path());
    let workers = args.concurrency.max(1);
    let katalog = dir.join("katalog.yaml");
    std::fs::write(dir.join("crd.yaml"), CRD)?;
    std::fs::write(
        &katalog,
        KATALOG.replace("workers: 8", &format!("workers: {workers}")),
    )?;
    let resource = ApiResource {
        group: "bench.ork.test".into(),
        version: "v1".into(),
        api_version: "bench.ork.test/v1".into(),
        kind: "Stack".into(),
        plural: "stacks".into(),
    };
    let spawn = |katalog, name| Spawn {
        katalog,
        kubeconfig: &bench.kubeconfig,
        dir,
        name,
        leader: None,
    };
    let mut ork = Ork::start(&spawn(&katalog, "ork"))?;
    wait_listable(client, &resource).await?;
    println!(
        "throughput: {} in flight (ork: {workers} workers), fixtures/stack (3 children per CR)",
        workers
    );
    println!(
        "{:>6} {:>11} {:>11} {:>6} {:>9} {:>9} {:>10} {:>9} {:>10} {:>14}",
        "N",
        "floor CR/s",
        "ork CR/s",
        "ratio",
        "p50",
        "p99",
        "writes/CR",
        "reqs/CR",
        "peak RSS",
        "load average"
    );
    for &n in &args.crs {
        let floor = floor(client, n, workers).await?;
        let converged = converge(client, &resource, n, workers, &bench.audit_log).await?;
        let rss = ork.memory();
        println!(
            "{n:>6} {:>11.1} {:>11.1} {:>6.2} {:>9} {:>9} {:>10.1} {:>9.1} {:>10} {:>14}",
            floor,
            converged.rate,
            converged.rate / floor,
            format!("{:.0?}", converged.p50),
            format!("{:.0?}", converged.p99),
            converged.writes_per_cr,
            converged.requests_per_cr,
            format!("{:.1} MiB", mib(rss.peak)),
            load_average()
        );
    }
    ork.stop()?;

    // Idle: 15 CRDs, no CRs.
    let idle = Fleet::write(dir, 15)?;
    let mut ork = Ork::start(&spawn(&idle.katalog, "ork-idle"))?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let rss = ork.memory();
    println!(
        "idle with 15 CRDs: RSS {:.1} MiB (peak {:.1} MiB), load average {}",
        mib(rss.now),
        mib(rss.peak),
        load_average()
    );
    ork.stop()?;
    Ok(())
}

/// The floor: every child applied directly, `workers` at a time; CRs (3 children) per second.
async fn floor(client: &Client, n: usize, workers: usize) -> anyhow::Result<f64> {
    let namespace = create_namespace(client, &format!("floor-{n}")).await?;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &namespace);
    let params = PatchParams::apply("floor").force();
    let started = Instant::now();
    futures::stream::iter(0..n * 3)
        .map(|i| {
            let (maps, accounts, params) = (&maps, &accounts, &params);
            async move {
                let name = format!("s{}", i / 3);
                let body = match i % 3 {
                    0 | 1 => serde_json::json!({
                        "apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": format!("{name}-{}", if i % 3 == 0 { "a" } else { "b" }),
                                     "labels": {"orkestra.orkspace.io/managed": "true"}},
                        "data": {"n": (i / 3).to_string()},
                    }),
                    _ => serde_json::json!({
                        "apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": format!("{name}-sa"),
                                     "labels": {"orkestra.orkspace.io/managed": "true"}},
                    }),
                };
                let child = body["metadata"]["name"].as_str().unwrap_or_default().to_owned();
                if i % 3 == 2 {
                    accounts.patch(&child, params, &Patch::Apply(&body)).await.map(drop)
                } else {
                    maps.patch(&child, params, &Patch::Apply(&body)).await.map(drop)
                }
            }
        })
        .buffer_unordered(workers)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

struct Converged {
    rate: f64,
    p50: Duration,
    p99: Duration,
    writes_per_cr: f64,
    requests_per_cr: f64,
}

/// Creates N CRs (`workers` at a time) and waits for every child and every `Ready=True`.
async fn converge(
    client: &Client,
    resource: &ApiResource,
    n: usize,
    workers: usize,
    audit_log: &Path,
) -> anyhow::Result<Converged> {
    let namespace = create_namespace(client, &format!("ork-{n}")).await?;
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let ready: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut watches = tokio::task::JoinSet::new();
    let config = || watcher::Config::default().labels(MANAGED);
    watches.spawn(first_seen(
        Api::<ConfigMap>::namespaced(client.clone(), &namespace),
        config(),
        Arc::clone(&seen),
        |_| true,
    ));
    watches.spawn(first_seen(
        Api::<ServiceAccount>::namespaced(client.clone(), &namespace),
        config(),
        Arc::clone(&seen),
        |_| true,
    ));
    let crs: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, resource);
    watches.spawn(first_seen(
        crs.clone(),
        watcher::Config::default(),
        Arc::clone(&ready),
        is_ready,
    ));
    let writes_before = writes_by(audit_log, ORK_USER);
    let requests_before = requests_served(client).await?;
    let started = Instant::now();
    let created: Vec<(String, Instant)> = futures::stream::iter(0..n)
        .map(|i| {
            let crs = &crs;
            async move {
                let name = format!("s{i}");
                let mut cr = DynamicObject::new(&name, resource);
                cr.data = serde_json::json!({"spec": {"n": i.to_string()}});
                let at = Instant::now();
                crs.create(&PostParams::default(), &cr).await?;
                Ok::<_, kube::Error>((name, at))
            }
        })
        .buffer_unordered(workers)
        .try_collect()
        .await?;
    poll("the CRs to converge", Duration::from_secs(600), || async {
        let done = seen.lock().map(|s| s.len()).unwrap_or(0) >= n * 3
            && ready.lock().map(|r| r.len()).unwrap_or(0) >= n;
        done.then_some(())
    })
    .await?;
    let finished = {
        let ready = ready.lock().expect("not poisoned");
        ready.values().max().copied().unwrap_or_else(Instant::now)
    };
    watches.abort_all();
    // The audit log is written as requests complete; let the last lines land.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let writes = writes_by(audit_log, ORK_USER) - writes_before;
    // Everyone's requests, less the bench's own N creates (its watches are long requests that
    // have not completed, so they are not counted yet).
    let requests = requests_served(client)
        .await?
        .saturating_sub(requests_before + n as u64);
    let seen = seen.lock().expect("not poisoned");
    let mut latencies: Vec<Duration> = created
        .iter()
        .map(|(name, at)| {
            ["a", "b", "sa"]
                .iter()
                .filter_map(|suffix| seen.get(&format!("{name}-{suffix}")))
                .max()
                .map_or(Duration::ZERO, |last| last.saturating_duration_since(*at))
        })
        .collect();
    latencies.sort();
    let percentile = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    Ok(Converged {
        rate: n as f64 / finished.duration_since(started).as_secs_f64(),
        p50: percentile(50),
        p99: percentile(99),
        writes_per_cr: writes as f64 / n as f64,
        requests_per_cr: requests as f64 / n as f64,
    })
}

/// Records when each object first passes `keep`.
pub(super) async fn first_seen<K>(
    api: Api<K>,
    config: watcher::Config,
    seen: Arc<Mutex<HashMap<String, Instant>>>,
    keep: fn(&K) -> bool,
) where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let mut events = std::pin::pin!(watcher(api, config));
    while let Some(event) = events.next().await {
        if let Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) = event
            && keep(&object)
            && let Ok(mut seen) = seen.lock()
        {
            seen.entry(object.name_any()).or_insert_with(Instant::now);
        }
    }
}

/// Requests the API server has completed so far (`apiserver_request_total`, every verb).
async fn requests_served(client: &Client) -> anyhow::Result<u64> {
    let request = http::Request::get("/metrics").body(Vec::new())?;
    let text = client.request_text(request).await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64)
}

/// Write requests by `user` in the audit log (the policy audits only writes).
fn writes_by(audit_log: &Path, user: &str) -> usize {
    let needle = format!("\"username\":\"{user}\"");
    std::fs::read_to_string(audit_log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&needle) && l.contains("\"stage\":\"ResponseComplete\""))
        .count()
}

/// Waits until ork has installed the CRD of `resource`.
async fn wait_listable(client: &Client, resource: &ApiResource) -> anyhow::Result<()> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), resource);
    poll(
        "ork to install the CRD",
        Duration::from_secs(60),
        || async { api.list(&Default::default()).await.ok().map(drop) },
    )
    .await
}
