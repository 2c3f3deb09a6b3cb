//! Peers: ork against the floors, kro and a hand-written controller-runtime operator, on one
//! control plane, each engine alone on it in turn.
//!
//! The workload is `fixtures/stack` (one Stack CR → two ConfigMaps and a ServiceAccount), N CRs
//! created 8 at a time (`--concurrency`). Each engine runs with its defaults and with
//! `--concurrency` workers:
//!
//! - **floor (children)**: the 3·N children server-side-applied directly, no CR;
//! - **floor (+status)**: the bench's creates as for an engine, and, for each CR as its create
//!   returns, what the least correct operator writes: the 3 children applied with an owner
//!   reference, then one status patch (`Ready=True`), `--concurrency` of those requests in
//!   flight over the whole set (no watch, no reads); timed like an engine, from the first
//!   create to the last status;
//! - **ork**: this binary's `ork run` (defaults: the Katalog without `workers:`);
//! - **kro**: `kro` built by `bench/peers/build.sh`, the ResourceGraphDefinition of
//!   `bench/peers/kro/stack-rgd.yaml` (defaults: 1 instance worker;
//!   `--dynamic-controller-concurrent-reconciles`);
//! - **controller-runtime**: `bench/peers/stack-operator` (defaults: `MaxConcurrentReconciles`
//!   1; `--max-concurrent-reconciles`).
//!
//! Every (engine, setting, N, repetition) starts its engine afresh in a namespace of its own;
//! idle RSS is read once its CRD is served, peak RSS (VmHWM) once every CR is `Ready=True`;
//! then the engine stops and the namespace is deleted (CR finalizers stripped) before the next.
//! Requests per CR by verb come from the API server's `apiserver_request_total`, everyone's
//! (the control plane's own controllers included), less the bench's creates. The table gives
//! medians over the repetitions (peak RSS: the largest).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::Value;

use super::process::{Engine, Memory, Ork, Spawn};
use super::throughput::{apply_child, converge_in, floor_in, per_cr, requests_by_verb};
use super::{Bench, CRD, KATALOG, create_namespace, load_average, mib, poll};
use crate::commands::dev_tools::{BenchArgs, PeerEngine};

/// The group of the Stack CRD each engine serves: one each, so no engine sees another's CRs.
fn group(engine: PeerEngine) -> &'static str {
    match engine {
        PeerEngine::Floor | PeerEngine::Ork => "bench.ork.test",
        PeerEngine::Kro => "kro.bench.ork.test",
        PeerEngine::ControllerRuntime => "cr.bench.ork.test",
    }
}

/// The Stack resource of `group`.
fn stack(group: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: "v1".into(),
        api_version: format!("{group}/v1"),
        kind: "Stack".into(),
        plural: "stacks".into(),
    }
}

/// How long one engine may take to start, converge, or clean up.
const PATIENCE: Duration = Duration::from_secs(900);
/// How long an engine idles once its CRD is served before its idle RSS is read.
const SETTLE: Duration = Duration::from_secs(3);

/// One measured run.
#[derive(Clone, Debug)]
pub struct Run {
    /// `floor (children)`, `floor (+status)`, `ork`, `kro`, `controller-runtime`.
    pub engine: String,
    /// Workers: `None` for the engine's defaults.
    pub workers: Option<usize>,
    /// CRs.
    pub n: usize,
    /// CRs per second.
    pub rate: f64,
    /// Median create → last child.
    pub p50: Duration,
    /// 99th percentile create → last child.
    pub p99: Duration,
    /// The engine's RSS, idle before the CRs and at its peak after (KiB; zero for a floor).
    pub memory: Memory,
    /// API requests per CR by verb.
    pub by_verb: BTreeMap<String, f64>,
}

/// Runs the peers benchmark.
pub async fn measure(args: &BenchArgs, bench: &Bench) -> anyhow::Result<()> {
    let peers = Peers::locate(args)?;
    let workers = args.concurrency.max(1);
    println!(
        "peers: fixtures/stack (3 children per CR), N = {:?}, {} repetitions, {workers} creates in flight; engines {:?}; load average {}",
        args.crs,
        args.repetitions,
        args.engines,
        load_average()
    );
    let mut runs = Vec::new();
    let mut serial = 0;
    for &n in &args.crs {
        for repetition in 1..=args.repetitions {
            for &engine in &args.engines {
                let settings: &[Option<usize>] = if engine == PeerEngine::Floor {
                    &[Some(workers)]
                } else {
                    &[None, Some(workers)]
                };
                for &setting in settings {
                    serial += 1;
                    let namespace = format!("peers-{serial}");
                    let measured = match engine {
                        PeerEngine::Floor => floors(bench, &namespace, n, workers).await?,
                        _ => {
                            let engine =
                                Running::start(&peers, bench, engine, setting, serial).await?;
                            vec![engine.converge(bench, &namespace, n, workers).await?]
                        }
                    };
                    cleanup(&bench.client, &namespace, &stack(group(engine))).await?;
                    for run in measured {
                        println!(
                            "  #{repetition} {}   load average {}",
                            row(&run),
                            load_average()
                        );
                        runs.push(run);
                    }
                }
            }
        }
    }
    println!(
        "\npeers: medians of {} repetitions; load average {}",
        args.repetitions,
        load_average()
    );
    print!("{}", table(&runs));
    Ok(())
}

/// Where the Go peers were built (`bench/peers/build.sh`).
struct Peers {
    kro: Option<PathBuf>,
    operator: Option<PathBuf>,
}

impl Peers {
    /// Finds the peers `args.engines` names, newest build of each, under `--peers-dir`.
    fn locate(args: &BenchArgs) -> anyhow::Result<Self> {
        let root = args.peers_dir.clone().unwrap_or_else(default_peers_dir);
        let find = |engine: PeerEngine, prefix: &str, binary: &str| -> anyhow::Result<_> {
            if !args.engines.contains(&engine) {
                return Ok(None);
            }
            newest(&root, prefix, binary).map(Some).with_context(|| {
                format!(
                    "no {binary} under {}: build it with bench/peers/build.sh",
                    root.display()
                )
            })
        };
        Ok(Self {
            kro: find(PeerEngine::Kro, "kro-", "kro")?,
            operator: find(
                PeerEngine::ControllerRuntime,
                "stack-operator-",
                "stack-operator",
            )?,
        })
    }
}

/// `$ORK_PEERS_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/ork/peers`, as `build.sh` has it.
fn default_peers_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ORK_PEERS_DIR") {
        return dir.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    cache.join("ork/peers")
}

/// `root/<prefix>*/<binary>`, the most recently built.
fn newest(root: &Path, prefix: &str, binary: &str) -> anyhow::Result<PathBuf> {
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(root)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path().join(binary))
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    found.sort();
    found.pop().map(|(_, path)| path).context("no build found")
}

/// The bench's creates of `n` CRs (`workers` in flight, as for every engine) and, for each CR
/// as its create returns, what the least correct operator writes: its 3 children (with a
/// controller owner reference), then one status patch (`Ready=True`), with `workers` of
/// those requests in flight over the whole set. Create → last child of each CR.
async fn ideal_operator(
    client: &Client,
    crs: &Api<DynamicObject>,
    (namespace, resource): (&str, &ApiResource),
    n: usize,
    workers: usize,
) -> anyhow::Result<Vec<Duration>> {
    let slots = tokio::sync::Semaphore::new(workers);
    let (created, arrivals) =
        futures::channel::mpsc::unbounded::<(usize, String, Value, Instant)>();
    let creates = async move {
        futures::stream::iter(0..n)
            .map(|i| {
                let created = created.clone();
                async move {
                    let name = format!("t{i}");
                    let mut cr = DynamicObject::new(&name, resource);
                    cr.data = serde_json::json!({"spec": {"n": i.to_string()}});
                    let at = Instant::now();
                    let cr = crs.create(&PostParams::default(), &cr).await?;
                    let owner = serde_json::json!({
                        "apiVersion": resource.api_version, "kind": "Stack", "name": name,
                        "uid": cr.uid().unwrap_or_default(), "controller": true,
                        "blockOwnerDeletion": true,
                    });
                    created.unbounded_send((i, name, owner, at))?;
                    Ok::<_, anyhow::Error>(())
                }
            })
            .buffer_unordered(workers)
            .try_collect::<Vec<()>>()
            .await
    };
    let status = serde_json::json!({"status": {"conditions": [{
        "type": "Ready", "status": "True", "reason": "Reconciled", "message": "",
        "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
    let operate = arrivals
        .map(|(i, name, owner, at)| {
            let (slots, status, owner) = (&slots, &status, owner);
            async move {
                futures::future::try_join_all((0..3).map(|which| {
                    let (name, owner) = (&name, &owner);
                    async move {
                        let _slot = slots.acquire().await?;
                        apply_child(client, namespace, name, i, which, Some(owner)).await
                    }
                }))
                .await?;
                let latency = at.elapsed();
                let _slot = slots.acquire().await?;
                crs.patch_status(&name, &PatchParams::default(), &Patch::Merge(status))
                    .await?;
                Ok::<_, anyhow::Error>(latency)
            }
        })
        .buffer_unordered(n.max(1))
        .try_collect::<Vec<Duration>>();
    let ((), latencies) = futures::try_join!(async { creates.await.map(drop) }, operate)?;
    Ok(latencies)
}

/// Both floors in `namespace`: children only, then children + status with the creates.
async fn floors(
    bench: &Bench,
    namespace: &str,
    n: usize,
    workers: usize,
) -> anyhow::Result<Vec<Run>> {
    let client = &bench.client;
    create_namespace(client, namespace).await?;
    let children = floor_in(client, namespace, n, workers).await?;
    let resource = stack(group(PeerEngine::Floor));
    install_crd(client, group(PeerEngine::Floor)).await?;
    let crs: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let before = requests_by_verb(client).await?;
    let started = Instant::now();
    let mut latencies = ideal_operator(client, &crs, (namespace, &resource), n, workers).await?;
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let by_verb = per_cr(&before, &requests_by_verb(client).await?, n, n);
    latencies.sort();
    let floor = |engine: &str, rate| Run {
        engine: engine.into(),
        workers: Some(workers),
        n,
        rate,
        p50: percentile(&latencies, 50),
        p99: percentile(&latencies, 99),
        memory: Memory::default(),
        by_verb: BTreeMap::new(),
    };
    let mut with_status = floor("floor (+status)", rate);
    with_status.by_verb = by_verb;
    let mut children_only = floor("floor (children)", children);
    (children_only.p50, children_only.p99) = (Duration::ZERO, Duration::ZERO);
    children_only.by_verb = BTreeMap::from([("APPLY".to_owned(), 3.0)]);
    Ok(vec![children_only, with_status])
}

/// The nearest-rank `p`th percentile of sorted `samples` (zero when empty).
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() * p).div_ceil(100).clamp(1, sorted.len()) - 1]
}

/// An engine running alone on the control plane.
struct Running {
    engine: PeerEngine,
    workers: Option<usize>,
    process: Process,
}

/// The process of an engine: ork's own kind, or a Go peer's.
enum Process {
    Ork(Ork),
    Go(Engine),
}

impl Running {
    /// Starts `engine` with `workers` (its defaults when `None`) and waits until its Stack
    /// CRD is served.
    async fn start(
        peers: &Peers,
        bench: &Bench,
        engine: PeerEngine,
        workers: Option<usize>,
        serial: usize,
    ) -> anyhow::Result<Self> {
        let dir = &bench.dir;
        let log = dir.join(format!("peers-{serial}-{engine:?}.log"));
        let process = match engine {
            PeerEngine::Floor => anyhow::bail!("a floor is not an engine"),
            PeerEngine::Ork => {
                std::fs::write(dir.join("crd.yaml"), CRD)?;
                let katalog = dir.join(format!("peers-{serial}.katalog.yaml"));
                let workers_line = match workers {
                    Some(w) => format!("workers: {w}"),
                    None => String::new(),
                };
                std::fs::write(&katalog, KATALOG.replace("workers: 8", &workers_line))?;
                let name = format!("peers-{serial}-ork");
                Process::Ork(Ork::start(&Spawn {
                    katalog: &katalog,
                    kubeconfig: &bench.kubeconfig,
                    dir,
                    name: &name,
                    leader: None,
                })?)
            }
            PeerEngine::Kro => {
                let binary = peers.kro.as_deref().context("kro was not located")?;
                install_kro(&bench.client, binary).await?;
                let mut args = vec![
                    "--metrics-bind-address=0".to_owned(),
                    "--health-probe-bind-address=0".to_owned(),
                ];
                if let Some(w) = workers {
                    args.push(format!("--dynamic-controller-concurrent-reconciles={w}"));
                }
                Process::Go(Engine::start(binary, &args, &bench.kubeconfig, &log)?)
            }
            PeerEngine::ControllerRuntime => {
                let binary = peers
                    .operator
                    .as_deref()
                    .context("stack-operator was not located")?;
                install_crd(&bench.client, group(engine)).await?;
                let args: Vec<String> = workers
                    .map(|w| format!("--max-concurrent-reconciles={w}"))
                    .into_iter()
                    .collect();
                Process::Go(Engine::start(binary, &args, &bench.kubeconfig, &log)?)
            }
        };
        let running = Self {
            engine,
            workers,
            process,
        };
        let api: Api<DynamicObject> = Api::all_with(bench.client.clone(), &stack(group(engine)));
        poll(
            &format!("{engine:?} to serve its CRD"),
            PATIENCE,
            || async { api.list(&Default::default()).await.ok().map(drop) },
        )
        .await?;
        Ok(running)
    }

    fn memory(&self) -> Memory {
        match &self.process {
            Process::Ork(ork) => ork.memory(),
            Process::Go(engine) => engine.memory(),
        }
    }

    /// Converges N CRs in a fresh `namespace`, then stops the engine.
    async fn converge(
        mut self,
        bench: &Bench,
        namespace: &str,
        n: usize,
        creates: usize,
    ) -> anyhow::Result<Run> {
        tokio::time::sleep(SETTLE).await;
        let idle = self.memory().now;
        create_namespace(&bench.client, namespace).await?;
        let resource = stack(group(self.engine));
        let converged = converge_in(
            &bench.client,
            &resource,
            namespace,
            n,
            creates,
            &bench.audit_log,
        )
        .await?;
        let peak = self.memory().peak;
        match &mut self.process {
            Process::Ork(ork) => ork.stop()?,
            Process::Go(engine) => engine.stop(Duration::from_secs(10)).await,
        }
        Ok(Run {
            engine: name(self.engine).into(),
            workers: self.workers,
            n,
            rate: converged.rate,
            p50: converged.p50,
            p99: converged.p99,
            memory: Memory { now: idle, peak },
            by_verb: converged.by_verb,
        })
    }
}

/// The name of `engine` in the table.
fn name(engine: PeerEngine) -> &'static str {
    match engine {
        PeerEngine::Floor => "floor",
        PeerEngine::Ork => "ork",
        PeerEngine::Kro => "kro",
        PeerEngine::ControllerRuntime => "controller-runtime",
    }
}

/// Installs the Stack CRD of `fixtures/stack` in `group` (already there is fine).
async fn install_crd(client: &Client, group: &str) -> anyhow::Result<()> {
    apply_yaml(client, &CRD.replace("bench.ork.test", group)).await
}

/// Installs kro's CRDs (from its build directory) and the Stack ResourceGraphDefinition.
async fn install_kro(client: &Client, binary: &Path) -> anyhow::Result<()> {
    let crds = binary.parent().context("kro's directory")?.join("crds");
    for entry in std::fs::read_dir(&crds).with_context(|| format!("reading {}", crds.display()))? {
        apply_yaml(client, &std::fs::read_to_string(entry?.path())?).await?;
    }
    let definitions = ApiResource {
        group: "kro.run".into(),
        version: "v1alpha1".into(),
        api_version: "kro.run/v1alpha1".into(),
        kind: "ResourceGraphDefinition".into(),
        plural: "resourcegraphdefinitions".into(),
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &definitions);
    poll("kro's CRDs to be served", PATIENCE, || async {
        api.list(&Default::default()).await.ok().map(drop)
    })
    .await?;
    apply_yaml(client, STACK_RGD).await
}

/// `bench/peers/kro/stack-rgd.yaml`.
const STACK_RGD: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../bench/peers/kro/stack-rgd.yaml"
));

/// Server-side-applies one YAML object (its kind discovered from its `apiVersion`).
async fn apply_yaml(client: &Client, yaml: &str) -> anyhow::Result<()> {
    let object: DynamicObject = serde_saphyr::from_str(yaml)?;
    let types = object
        .types
        .clone()
        .context("an object without apiVersion/kind")?;
    let (group, version) = types
        .api_version
        .rsplit_once('/')
        .unwrap_or(("", &types.api_version));
    let gvk = kube::api::GroupVersionKind::gvk(group, version, &types.kind);
    let (resource, _) = kube::discovery::pinned_kind(client, &gvk).await?;
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    api.patch(
        &object.name_any(),
        &PatchParams::apply("ork-bench").force(),
        &Patch::Apply(&object),
    )
    .await?;
    Ok(())
}

/// Deletes `namespace` once its engine has stopped: strips the finalizers of its CRs of
/// `resource`, deletes it, and waits until it is gone.
async fn cleanup(client: &Client, namespace: &str, resource: &ApiResource) -> anyhow::Result<()> {
    let crs: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, resource);
    let listed = crs
        .list(&Default::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    let strip = serde_json::json!({"metadata": {"finalizers": null}});
    futures::stream::iter(listed.iter().filter(|cr| !cr.finalizers().is_empty()))
        .map(|cr| {
            let (crs, strip) = (&crs, &strip);
            async move {
                match crs
                    .patch(
                        &cr.name_any(),
                        &PatchParams::default(),
                        &Patch::Merge(strip),
                    )
                    .await
                {
                    Ok(_) | Err(kube::Error::Api(_)) => Ok(()),
                    Err(error) => Err(error),
                }
            }
        })
        .buffer_unordered(8)
        .try_collect::<Vec<()>>()
        .await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    match namespaces.delete(namespace, &DeleteParams::default()).await {
        Ok(_) | Err(kube::Error::Api(_)) => {}
        Err(error) => return Err(error.into()),
    }
    poll(
        &format!("namespace {namespace} to be deleted"),
        PATIENCE,
        || async {
            match namespaces.get_opt(namespace).await {
                Ok(None) => Some(()),
                _ => None,
            }
        },
    )
    .await
}

/// One run as a line of the table.
fn row(run: &Run) -> String {
    let workers = run.workers.map_or("default".to_owned(), |w| w.to_string());
    let latency = |d: Duration| {
        if d.is_zero() {
            "-".to_owned()
        } else {
            format!("{:.0?}", d)
        }
    };
    let rss = |kib: u64| {
        if kib == 0 {
            "-".to_owned()
        } else {
            format!("{:.0} MiB", mib(kib))
        }
    };
    format!(
        "{:<18} {:>7} {:>5} {:>8.1} {:>8} {:>8} {:>8} {:>8} {}",
        run.engine,
        workers,
        run.n,
        run.rate,
        latency(run.p50),
        latency(run.p99),
        rss(run.memory.now),
        rss(run.memory.peak),
        row_verbs(run)
    )
}

/// The summary: per (N, engine, workers), the medians of the repetitions, with each engine's
/// ratio to both floors of the same N.
pub fn table(runs: &[Run]) -> String {
    let mut groups: Vec<(usize, String, Option<usize>)> = Vec::new();
    for run in runs {
        let key = (run.n, run.engine.clone(), run.workers);
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    // `workers`: `Some(setting)` picks one setting; `None` any (a floor has only one).
    let median_of = |n: usize, engine: &str, workers: Option<Option<usize>>| -> Option<Run> {
        let same: Vec<&Run> = runs
            .iter()
            .filter(|r| r.n == n && r.engine == engine && workers.is_none_or(|w| r.workers == w))
            .collect();
        median_run(&same)
    };
    let mut out = format!(
        "{:<18} {:>7} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}  {}\n",
        "engine",
        "workers",
        "N",
        "CRs/s",
        "p50",
        "p99",
        "idle RSS",
        "peak RSS",
        "×children",
        "×+status",
        "requests/CR by verb"
    );
    for (n, engine, workers) in groups {
        let Some(median) = median_of(n, &engine, Some(workers)) else {
            continue;
        };
        let ratio = |floor: &str| {
            median_of(n, floor, None)
                .map_or("-".to_owned(), |f| format!("{:.2}", median.rate / f.rate))
        };
        let line = row(&median);
        let verbs = row_verbs(&median);
        let head = &line[..line.len() - verbs.len()];
        out.push_str(&format!(
            "{head}{:>9} {:>9}  {verbs}\n",
            ratio("floor (children)"),
            ratio("floor (+status)"),
        ));
    }
    out
}

/// The verbs part of [`row`].
fn row_verbs(run: &Run) -> String {
    run.by_verb
        .iter()
        .map(|(verb, count)| format!("{} {count:.1}", verb.to_lowercase()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The medians of `runs` field by field (peak RSS: the largest); `None` when empty.
fn median_run(runs: &[&Run]) -> Option<Run> {
    let first = (*runs.first()?).clone();
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let durations = |f: fn(&Run) -> Duration| {
        Duration::from_secs_f64(median(runs.iter().map(|r| f(r).as_secs_f64()).collect()))
    };
    let mut verbs: BTreeMap<String, f64> = BTreeMap::new();
    for verb in runs.iter().flat_map(|r| r.by_verb.keys()) {
        let values = runs
            .iter()
            .map(|r| r.by_verb.get(verb).copied().unwrap_or(0.0))
            .collect();
        verbs.insert(verb.clone(), median(values));
    }
    Some(Run {
        rate: median(runs.iter().map(|r| r.rate).collect()),
        p50: durations(|r| r.p50),
        p99: durations(|r| r.p99),
        memory: Memory {
            now: median(runs.iter().map(|r| r.memory.now as f64).collect()) as u64,
            peak: runs.iter().map(|r| r.memory.peak).max().unwrap_or(0),
        },
        by_verb: verbs,
        ..first
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(engine: &str, workers: Option<usize>, rate: f64, p99_ms: u64) -> Run {
        Run {
            engine: engine.into(),
            workers,
            n: 100,
            rate,
            p50: Duration::from_millis(p99_ms / 2),
            p99: Duration::from_millis(p99_ms),
            memory: Memory {
                now: 20 * 1024,
                peak: 30 * 1024,
            },
            by_verb: BTreeMap::from([("APPLY".into(), 3.0), ("PATCH".into(), 1.0)]),
        }
    }

    #[test]
    fn the_table_gives_medians_and_ratios_to_both_floors() {
        let runs = [
            run("floor (children)", Some(8), 100.0, 0),
            run("floor (+status)", Some(8), 50.0, 40),
            run("ork", None, 10.0, 900),
            run("ork", None, 30.0, 100),
            run("ork", None, 20.0, 300),
            run("ork", Some(8), 40.0, 200),
        ];
        let table = table(&runs);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5, "{table}");
        assert!(
            lines[0].starts_with("engine") && lines[0].contains("×+status"),
            "{table}"
        );
        let ork_default = lines[3];
        assert!(ork_default.starts_with("ork"), "{table}");
        assert!(ork_default.contains("default"), "{ork_default}");
        // median rate 20 of 10, 20, 30; ratios 20/100 and 20/50; median p99 300 ms
        assert!(ork_default.contains(" 20.0 "), "{ork_default}");
        assert!(
            ork_default.contains(" 0.20 ") && ork_default.contains(" 0.40 "),
            "{ork_default}"
        );
        assert!(ork_default.contains("300ms"), "{ork_default}");
        assert!(
            ork_default.contains("20 MiB") && ork_default.contains("30 MiB"),
            "{ork_default}"
        );
        assert!(
            ork_default.ends_with("apply 3.0, patch 1.0"),
            "{ork_default}"
        );
        assert!(
            lines[4].contains(" 0.40 ") && lines[4].contains(" 0.80 "),
            "{}",
            lines[4]
        );
        // a floor has no RSS
        assert!(
            lines[1].contains(" 1.00 ") && lines[1].contains(" 2.00 "),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn requests_per_cr_subtract_the_earlier_reading_and_the_bench_creates() {
        let before = BTreeMap::from([("POST".into(), 10.0), ("GET".into(), 5.0)]);
        let after = BTreeMap::from([
            ("POST".into(), 220.0),
            ("GET".into(), 5.0),
            ("APPLY".into(), 300.0),
        ]);
        assert_eq!(
            per_cr(&before, &after, 100, 100),
            BTreeMap::from([("APPLY".into(), 3.0), ("POST".into(), 1.1)])
        );
    }

    #[test]
    fn the_metrics_text_is_summed_by_verb() {
        let metrics = "# HELP apiserver_request_total x\n\
            apiserver_request_total{code=\"201\",component=\"apiserver\",group=\"\",resource=\"configmaps\",verb=\"POST\",version=\"v1\"} 3\n\
            apiserver_request_total{code=\"200\",component=\"apiserver\",group=\"\",resource=\"configmaps\",verb=\"APPLY\",version=\"v1\"} 4\n\
            apiserver_request_total{code=\"409\",component=\"apiserver\",group=\"\",resource=\"secrets\",verb=\"POST\",version=\"v1\"} 2\n\
            apiserver_request_duration_seconds_count{verb=\"POST\"} 99\n";
        assert_eq!(
            super::super::throughput::parse_requests_by_verb(metrics),
            BTreeMap::from([("APPLY".into(), 4.0), ("POST".into(), 5.0)])
        );
    }

    #[test]
    fn the_newest_build_of_a_peer_is_found_and_a_missing_one_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        assert!(newest(root.path(), "kro-", "kro").is_err());
        std::fs::create_dir(root.path().join("kro-v1")).unwrap();
        std::fs::write(root.path().join("kro-v1/kro"), "").unwrap();
        std::fs::create_dir(root.path().join("stack-operator-abc")).unwrap();
        assert_eq!(
            newest(root.path(), "kro-", "kro").unwrap(),
            root.path().join("kro-v1/kro")
        );
        assert!(newest(root.path(), "stack-operator-", "stack-operator").is_err());
    }
}
