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
//! and ork's peak RSS. After each N has converged, it watches one resync pass (the fixture's
//! resync is 10 s; the window is 12 s): ork's RSS and CPU while idle, its reconciles (at least
//! N when the pass ran) and the API requests made meanwhile, by resource and verb, leases and
//! non-resource requests aside (aim: none, since a resync reads the children from the cache).
//! First of all, ork's RSS with 15 idle CRDs, on the still clean cluster. N=10000 works (`--crs 10000`); the convergence timeout
//! grows with N.

use std::collections::{BTreeMap, HashMap};
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

/// Measures the RSS of one process with 15 idle CRDs, then runs the throughput benchmark.
pub async fn measure(args: &BenchArgs, bench: &Bench) -> anyhow::Result<()> {
    let (client, dir) = (&bench.client, bench.dir.as_path());
    let workers = args.concurrency.max(1);
    let katalog = dir.join("katalog.yaml");
    std::fs::write(dir.join("crd.yaml"), CRD)?;
    std::fs::write(
        &katalog,
        KATALOG.replace("workers: 8", &format!("workers: {workers}")),
    )?;
    let resource = stack_resource();
    let spawn = |katalog, name| Spawn {
        katalog,
        kubeconfig: &bench.kubeconfig,
        dir,
        name,
        leader: None,
    };
    // Idle first, on a clean cluster: after the runs, their children would still be there
    // for the idle process's child watches to list.
    let idle = Fleet::write(dir, 15)?;
    let mut ork = Ork::start(&spawn(&idle.katalog, "ork-idle"))?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let rss = ork.memory();
    println!(
        "idle with 15 CRDs (clean cluster): RSS {:.1} MiB (peak {:.1} MiB), load average {}",
        mib(rss.now),
        mib(rss.peak),
        load_average()
    );
    ork.stop()?;

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
        let pass = resync_pass(client, &ork).await?;
        println!(
            "{n:>6} one resync pass ({:?} idle): RSS {:.1} MiB, CPU {:.2}% of a core, {} reconciles, API requests {} {}",
            RESYNC_WINDOW,
            mib(pass.rss),
            pass.cpu_share * 100.0,
            pass.reconciles.map_or("?".into(), |r| r.to_string()),
            pass.requests.values().sum::<f64>() as u64,
            describe(&pass.requests),
        );
    }
    ork.stop()?;
    Ok(())
}

/// The idle window after convergence: longer than the fixture's 10 s resync, so it holds one
/// full resync pass.
const RESYNC_WINDOW: Duration = Duration::from_secs(12);

/// What one idle resync pass cost.
struct ResyncPass {
    /// `VmRSS` at the end of the window, KiB.
    rss: u64,
    /// CPU time over the window, as a share of one core.
    cpu_share: f64,
    /// Reconciles counted by ork's `/metrics` over the window.
    reconciles: Option<u64>,
    /// API requests completed over the window by `resource verb`.
    requests: BTreeMap<String, f64>,
}

/// Measures [`RESYNC_WINDOW`] of an idle, converged `ork`.
async fn resync_pass(client: &Client, ork: &Ork) -> anyhow::Result<ResyncPass> {
    let metrics = || async {
        let request = http::Request::get("/metrics").body(Vec::new())?;
        anyhow::Ok(parse_requests_by_resource(
            &client.request_text(request).await?,
        ))
    };
    let (requests, reconciles, cpu) = (metrics().await?, ork.reconciles().await, ork.cpu_time());
    let started = Instant::now();
    tokio::time::sleep(RESYNC_WINDOW).await;
    let cpu_share =
        ork.cpu_time().saturating_sub(cpu).as_secs_f64() / started.elapsed().as_secs_f64();
    let reconciles = ork
        .reconciles()
        .await
        .zip(reconciles)
        .map(|(a, b)| a.saturating_sub(b));
    let after = metrics().await?;
    let requests = after
        .iter()
        .map(|(key, count)| {
            (
                key.clone(),
                count - requests.get(key).copied().unwrap_or(0.0),
            )
        })
        .filter(|(_, count)| *count > 0.0)
        .collect();
    Ok(ResyncPass {
        rss: ork.memory().now,
        cpu_share,
        reconciles,
        requests,
    })
}

/// The completed requests of `apiserver_request_total` in a metrics text by
/// `resource verb`, except leases (the control plane's own heartbeats), non-resource requests
/// (the bench's `/metrics`) and WATCH (a watch is counted when it ends, not per event).
fn parse_requests_by_resource(metrics: &str) -> BTreeMap<String, f64> {
    let mut by_key = BTreeMap::new();
    for line in metrics
        .lines()
        .filter_map(|l| l.strip_prefix("apiserver_request_total{"))
    {
        let Some((labels, value)) = line.rsplit_once("} ") else {
            continue;
        };
        let label = |name: &str| {
            labels
                .split(',')
                .find_map(|l| l.strip_prefix(name)?.strip_prefix("=\""))
                .map(|v| v.trim_end_matches('"'))
                .unwrap_or_default()
        };
        let (resource, verb) = (label("resource"), label("verb"));
        if resource.is_empty() || resource == "leases" || verb == "WATCH" {
            continue;
        }
        if let Ok(value) = value.trim().parse::<f64>() {
            *by_key.entry(format!("{resource} {verb}")).or_insert(0.0) += value;
        }
    }
    by_key
}

/// `(resource verb: count, …)`, or nothing when empty.
fn describe(requests: &BTreeMap<String, f64>) -> String {
    if requests.is_empty() {
        return String::new();
    }
    let each: Vec<String> = requests
        .iter()
        .map(|(key, count)| format!("{key}: {count}"))
        .collect();
    format!("({})", each.join(", "))
}

/// The CRs of `fixtures/stack`.
pub(super) fn stack_resource() -> ApiResource {
    ApiResource {
        group: "bench.ork.test".into(),
        version: "v1".into(),
        api_version: "bench.ork.test/v1".into(),
        kind: "Stack".into(),
        plural: "stacks".into(),
    }
}

/// The floor: every child applied directly, `workers` at a time; CRs (3 children) per second.
pub(super) async fn floor(client: &Client, n: usize, workers: usize) -> anyhow::Result<f64> {
    let namespace = create_namespace(client, &format!("floor-{n}")).await?;
    floor_in(client, &namespace, n, workers).await
}

/// [`floor`] in an existing `namespace`.
pub(super) async fn floor_in(
    client: &Client,
    namespace: &str,
    n: usize,
    workers: usize,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    futures::stream::iter(0..n * 3)
        .map(|i| async move {
            apply_child(
                client,
                namespace,
                &format!("s{}", i / 3),
                i / 3,
                i % 3,
                None,
            )
            .await
        })
        .buffer_unordered(workers)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Server-side-applies child `which` (0, 1: ConfigMaps `-a`, `-b`; 2: ServiceAccount `-sa`)
/// of CR `name` number `n`, as `fixtures/stack` renders it, with `owner` as its controller
/// owner reference when given.
pub(super) async fn apply_child(
    client: &Client,
    namespace: &str,
    name: &str,
    n: usize,
    which: usize,
    owner: Option<&serde_json::Value>,
) -> anyhow::Result<()> {
    let params = PatchParams::apply("floor").force();
    let suffix = ["a", "b", "sa"][which.min(2)];
    let child = format!("{name}-{suffix}");
    let mut body = serde_json::json!({
        "apiVersion": "v1",
        "kind": if which < 2 { "ConfigMap" } else { "ServiceAccount" },
        "metadata": {"name": child, "labels": {"orkestra.orkspace.io/managed": "true"}},
    });
    if which < 2 {
        body["data"] = serde_json::json!({"n": n.to_string()});
    }
    if let Some(owner) = owner {
        body["metadata"]["ownerReferences"] = serde_json::json!([owner]);
    }
    if which < 2 {
        let maps: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
        maps.patch(&child, &params, &Patch::Apply(&body)).await?;
    } else {
        let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
        accounts
            .patch(&child, &params, &Patch::Apply(&body))
            .await?;
    }
    Ok(())
}

/// What one convergence run measured.
pub(super) struct Converged {
    /// CRs per second, from the first create to the last `Ready=True`.
    pub rate: f64,
    /// Median create → last child seen.
    pub p50: Duration,
    /// 99th percentile create → last child seen.
    pub p99: Duration,
    /// Write requests by [`ORK_USER`] per CR (from the audit log).
    pub writes_per_cr: f64,
    /// Requests of every verb per CR, less the bench's creates.
    pub requests_per_cr: f64,
    /// Requests per CR by verb (`apiserver_request_total`'s `verb`), less the bench's creates.
    pub by_verb: BTreeMap<String, f64>,
}

/// Creates N CRs (`workers` at a time) in namespace `ork-{n}` and waits for every child and
/// every `Ready=True`.
async fn converge(
    client: &Client,
    resource: &ApiResource,
    n: usize,
    workers: usize,
    audit_log: &Path,
) -> anyhow::Result<Converged> {
    let namespace = create_namespace(client, &format!("ork-{n}")).await?;
    converge_in(client, resource, &namespace, n, workers, audit_log).await
}

/// [`converge`] in an existing `namespace`.
pub(super) async fn converge_in(
    client: &Client,
    resource: &ApiResource,
    namespace: &str,
    n: usize,
    workers: usize,
    audit_log: &Path,
) -> anyhow::Result<Converged> {
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let ready: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut watches = tokio::task::JoinSet::new();
    let config = || watcher::Config::default().labels(MANAGED);
    watches.spawn(first_seen(
        Api::<ConfigMap>::namespaced(client.clone(), namespace),
        config(),
        Arc::clone(&seen),
        |_| true,
    ));
    watches.spawn(first_seen(
        Api::<ServiceAccount>::namespaced(client.clone(), namespace),
        config(),
        Arc::clone(&seen),
        |_| true,
    ));
    let crs: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, resource);
    watches.spawn(first_seen(
        crs.clone(),
        watcher::Config::default(),
        Arc::clone(&ready),
        is_ready,
    ));
    let writes_before = writes_by(audit_log, ORK_USER);
    let requests_before = requests_by_verb(client).await?;
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
    // A 10k run on a debug build may take longer than 10 minutes.
    let timeout = Duration::from_secs((n as u64 / 5).max(600));
    poll("the CRs to converge", timeout, || async {
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
    let by_verb = per_cr(&requests_before, &requests_by_verb(client).await?, n, n);
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
        requests_per_cr: by_verb.values().sum(),
        by_verb,
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

/// Requests the API server has completed so far by verb (`apiserver_request_total`).
pub(super) async fn requests_by_verb(client: &Client) -> anyhow::Result<BTreeMap<String, f64>> {
    let request = http::Request::get("/metrics").body(Vec::new())?;
    Ok(parse_requests_by_verb(&client.request_text(request).await?))
}

/// Requests per CR by verb between two readings of [`requests_by_verb`], less `creates` POSTs
/// of the bench's own; verbs with none left out.
pub(super) fn per_cr(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
    creates: usize,
    n: usize,
) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(verb, count)| {
            let mut count = count - before.get(verb).copied().unwrap_or(0.0);
            if verb == "POST" {
                count -= creates as f64;
            }
            (verb.clone(), count / n as f64)
        })
        .filter(|(_, count)| *count > 0.0)
        .collect()
}

/// The sum of every `apiserver_request_total` series of a metrics text, by its `verb` label.
pub(super) fn parse_requests_by_verb(metrics: &str) -> BTreeMap<String, f64> {
    let mut by_verb = BTreeMap::new();
    for line in metrics
        .lines()
        .filter_map(|l| l.strip_prefix("apiserver_request_total{"))
    {
        let Some((labels, value)) = line.rsplit_once("} ") else {
            continue;
        };
        let verb = labels
            .split(',')
            .find_map(|l| l.strip_prefix("verb=\""))
            .map(|v| v.trim_end_matches('"'));
        if let (Some(verb), Ok(value)) = (verb, value.trim().parse::<f64>()) {
            *by_verb.entry(verb.to_owned()).or_insert(0.0) += value;
        }
    }
    by_verb
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
pub(super) async fn wait_listable(client: &Client, resource: &ApiResource) -> anyhow::Result<()> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), resource);
    poll(
        "ork to install the CRD",
        Duration::from_secs(60),
        || async { api.list(&Default::default()).await.ok().map(drop) },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_resource_and_verb_leaving_out_leases_watches_and_non_resources() {
        let metrics = "apiserver_request_total{code=\"200\",component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"configmaps\",scope=\"namespace\",subresource=\"\",verb=\"LIST\",version=\"v1\"} 3\n\
apiserver_request_total{code=\"200\",component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"configmaps\",scope=\"namespace\",subresource=\"\",verb=\"LIST\",version=\"v1\"} 2\n\
apiserver_request_total{code=\"200\",component=\"apiserver\",dry_run=\"\",group=\"bench.ork.test\",resource=\"stacks\",scope=\"namespace\",subresource=\"status\",verb=\"PATCH\",version=\"v1\"} 1\n\
apiserver_request_total{code=\"200\",component=\"apiserver\",dry_run=\"\",group=\"coordination.k8s.io\",resource=\"leases\",scope=\"namespace\",subresource=\"\",verb=\"PUT\",version=\"v1\"} 40\n\
apiserver_request_total{code=\"0\",component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"configmaps\",scope=\"cluster\",subresource=\"\",verb=\"WATCH\",version=\"v1\"} 9\n\
apiserver_request_total{code=\"200\",component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"\",scope=\"\",subresource=\"/metrics\",verb=\"GET\",version=\"\"} 7\n";
        let counted = parse_requests_by_resource(metrics);
        assert_eq!(
            counted,
            [
                ("configmaps LIST".to_owned(), 5.0),
                ("stacks PATCH".to_owned(), 1.0)
            ]
            .into()
        );
        assert_eq!(describe(&counted), "(configmaps LIST: 5, stacks PATCH: 1)");
        assert_eq!(describe(&BTreeMap::new()), "");
    }
}
