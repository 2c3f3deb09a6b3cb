//! Chaos: rounds of "N CRs converging, one fault at a random instant", and what is left after.
//!
//! A dedicated control plane (its processes are killed; no kube-controller-manager) with an
//! audit log and API Priority and Fairness off, so its in-flight limits ([`READS_IN_FLIGHT`], [`WRITES_IN_FLIGHT`]) answer 429
//! when full. One `ork run` process (`fixtures/stack`: three children per CR) reaches the API
//! server through a [`FaultProxy`], as an ordinary user (not `system:masters`, which is never
//! throttled).
//!
//! Each round creates N CRs in a new namespace and, at a random instant within the time the
//! previous round took to converge, injects one fault, drawn in turn from:
//!
//! - `kill-ork`: SIGKILL of `ork run`, restarted at once;
//! - `apiserver`: SIGKILL of kube-apiserver, restarted at once (same port, same etcd);
//! - `etcd`: SIGKILL of etcd, restarted at once;
//! - `cut`: every connection of ork reset and new ones refused, for 1 s to `--max-fault`;
//! - `storm`: 429 storm: 200 writers of another user fill the API server's write slots, for
//!   1 s to `--max-fault`;
//! - `latency`: 200 ms added to each chunk in each direction of ork's traffic, for 1 s to
//!   `--max-fault`.
//!
//! After the fault is over, it polls (every 500 ms) until every CR is `Ready=True` with each of
//! its three children present once and owned by it (the time from the end of the fault to
//! that moment is the round's convergence time), then counts orphans (managed children without
//! a live owner), duplicates (children beyond three per CR, or with several owners) and ork's
//! writes over `--steady` once converged and quiet (the audit log; it should be zero; the
//! window opens once ork has written nothing for [`QUIET`], at most [`SETTLE_MAX`] after
//! convergence, so the last CR's trailing `Reconciled` Event is not counted). A round that does
//! not converge within [`PATIENCE`] counts as not converged.
//!
//! It prints one line per round, a table per fault after every six rounds and at the end, and
//! fails (exit 1) when any round did
//! not converge or left an orphan, a duplicate or a steady write: those are the promises.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
};
use kube::{Client, ResourceExt};
use nix::sys::signal::Signal;
use serde_json::json;
use testenv::{Binaries, Config, ControlPlane, FaultProxy, Identity};

use super::process::{Ork, Spawn};
use super::{CRD, KATALOG, MANAGED, create_namespace, is_ready, load_average, poll};
use crate::commands::dev_tools::BenchArgs;

/// The API server's limits: non-mutating and mutating requests in flight (watches excluded).
const READS_IN_FLIGHT: u32 = 60;
const WRITES_IN_FLIGHT: u32 = 30;
/// The user `ork run` authenticates as (bound to `cluster-admin`).
const USER: &str = "ork-chaos";
/// The user of the 429 storm.
const STORM_USER: &str = "chaos-storm";
/// Concurrent writers of a 429 storm.
const STORM_WRITERS: usize = 200;
/// The latency fault.
const LATENCY: Duration = Duration::from_millis(200);
/// Longest wait for a round to converge, or a namespace to go.
const PATIENCE: Duration = Duration::from_secs(300);
/// How long ork must write nothing before the steady window opens.
const QUIET: Duration = Duration::from_secs(2);
/// The longest wait for ork to go quiet after convergence; a write loop never does, and the
/// steady window opens anyway.
const SETTLE_MAX: Duration = Duration::from_secs(30);
/// Children per CR in `fixtures/stack`, by name suffix.
const CHILDREN: [&str; 3] = ["-a", "-b", "-sa"];

/// One kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    KillOrk,
    Apiserver,
    Etcd,
    Cut,
    Storm,
    Latency,
}

const FAULTS: [Fault; 6] = [
    Fault::KillOrk,
    Fault::Apiserver,
    Fault::Etcd,
    Fault::Cut,
    Fault::Storm,
    Fault::Latency,
];

impl Fault {
    /// Whether the fault lasts a drawn length (the others are a kill and a restart).
    fn lasts(self) -> bool {
        matches!(self, Self::Cut | Self::Storm | Self::Latency)
    }

    fn name(self) -> &'static str {
        match self {
            Self::KillOrk => "kill-ork",
            Self::Apiserver => "apiserver",
            Self::Etcd => "etcd",
            Self::Cut => "cut",
            Self::Storm => "storm",
            Self::Latency => "latency",
        }
    }
}

/// What one round found.
#[derive(Debug)]
struct Round {
    fault: Fault,
    /// From the end of the fault to convergence; `None`: not converged.
    converged: Option<Duration>,
    orphans: usize,
    duplicates: usize,
    steady_writes: usize,
    /// `ork run` exited on its own.
    exited: bool,
}

impl Round {
    fn clean(&self) -> bool {
        self.converged.is_some()
            && self.orphans == 0
            && self.duplicates == 0
            && self.steady_writes == 0
            && !self.exited
    }
}

/// A small random generator (xorshift64*), seeded from the std hasher's random keys.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(u64::from(std::process::id()));
        Self(hasher.finish() | 1)
    }

    /// A number in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound.max(1)
    }

    /// A duration in `from..=to`, in whole milliseconds.
    fn between(&mut self, from: Duration, to: Duration) -> Duration {
        let span = to.saturating_sub(from).as_millis() as u64;
        from + Duration::from_millis(self.below(span + 1))
    }
}

/// Runs the chaos benchmark on its own control plane.
pub async fn run(args: &BenchArgs, binaries: &Binaries, dir: &Path) -> anyhow::Result<()> {
    let mut cp = ControlPlane::start(
        Config::new()
            .state_dir(dir.join("chaos-cluster"))
            .audit_log(true)
            .max_requests_inflight(READS_IN_FLIGHT, WRITES_IN_FLIGHT)
            .controller_manager(false)
            .binaries_dir(binaries.dir()),
    )
    .await?;
    let result = Chaos::new(args, &cp, dir).await;
    let result = match result {
        Ok(mut chaos) => chaos.rounds(args, &mut cp).await,
        Err(e) => Err(e),
    };
    tokio::task::spawn_blocking(move || cp.stop(Duration::from_secs(3))).await?;
    result
}

/// The state that outlives a round. The bench's own requests (admin client, not through the
/// proxy) are retried until [`PATIENCE`]: under load the API server may drop one.
struct Chaos<'a> {
    client: Client,
    proxy: FaultProxy,
    storm: Client,
    katalog: std::path::PathBuf,
    kubeconfig: std::path::PathBuf,
    dir: &'a Path,
    audit_log: std::path::PathBuf,
    resource: ApiResource,
    ork: Ork,
    restarts: usize,
}

impl<'a> Chaos<'a> {
    async fn new(args: &BenchArgs, cp: &ControlPlane, dir: &'a Path) -> anyhow::Result<Self> {
        let client = cp.client().await?;
        for user in [USER, STORM_USER] {
            bind_cluster_admin(&client, user).await?;
        }
        let proxy = cp.proxy().await?;
        let kubeconfig = dir.join("chaos.kubeconfig");
        std::fs::write(
            &kubeconfig,
            cp.kubeconfig_through(&proxy, &Identity::user(USER, &[]))?,
        )?;
        let storm = cp.client_as(&Identity::user(STORM_USER, &[])).await?;
        create_namespace(&client, STORM_USER).await?;
        std::fs::write(dir.join("crd.yaml"), CRD)?;
        let katalog = dir.join("chaos-katalog.yaml");
        std::fs::write(
            &katalog,
            KATALOG.replace(
                "workers: 8",
                &format!("workers: {}", args.concurrency.max(1)),
            ),
        )?;
        let resource = ApiResource {
            group: "bench.ork.test".into(),
            version: "v1".into(),
            api_version: "bench.ork.test/v1".into(),
            kind: "Stack".into(),
            plural: "stacks".into(),
        };
        let ork = Ork::start(&Spawn {
            katalog: &katalog,
            kubeconfig: &kubeconfig,
            dir,
            name: "ork-chaos-0",
            leader: None,
        })?;
        let stacks: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        poll("the Stack CRD", PATIENCE, || {
            let stacks = stacks.clone();
            async move { stacks.list(&ListParams::default().limit(1)).await.ok() }
        })
        .await?;
        Ok(Self {
            client,
            proxy,
            storm,
            katalog,
            kubeconfig,
            dir,
            audit_log: cp.audit_log_path(),
            resource,
            ork,
            restarts: 0,
        })
    }

    fn restart_ork(&mut self) -> anyhow::Result<()> {
        self.restarts += 1;
        let name = format!("ork-chaos-{}", self.restarts);
        self.ork = Ork::start(&Spawn {
            katalog: &self.katalog,
            kubeconfig: &self.kubeconfig,
            dir: self.dir,
            name: &name,
            leader: None,
        })?;
        Ok(())
    }

    async fn rounds(&mut self, args: &BenchArgs, cp: &mut ControlPlane) -> anyhow::Result<()> {
        let n = args.chaos_crs;
        println!(
            "chaos: {} rounds of {n} CRs (fixtures/stack, 3 children each), faults up to {:?}, steady window {:?}, API server in flight {READS_IN_FLIGHT}/{WRITES_IN_FLIGHT}; load average {}",
            args.rounds,
            args.max_fault,
            args.steady,
            load_average()
        );
        let mut rng = Rng::new();
        let mut typical = Duration::from_millis(20 * n as u64);
        let mut results = Vec::new();
        for round in 0..args.rounds {
            let fault = FAULTS[round % FAULTS.len()];
            let name = format!("chaos-{round}");
            let namespace = poll("the round's namespace", PATIENCE, || async {
                create_namespace(&self.client, &name).await.ok()
            })
            .await?;
            let started = Instant::now();
            let creating = tokio::spawn(create_crs(
                Api::namespaced_with(self.client.clone(), &namespace, &self.resource),
                self.resource.clone(),
                n,
                args.concurrency.max(1),
            ));
            let at = rng.between(Duration::ZERO, typical);
            tokio::time::sleep(at).await;
            let length = rng.between(Duration::from_secs(1), args.max_fault);
            let exited = self.ork.has_exited();
            self.inject(fault, length, cp).await?;
            let fault_over = Instant::now();
            creating.await??;
            let converged = poll("convergence", PATIENCE, || async {
                self.converged(&namespace, n).await.ok()
            })
            .await
            .ok()
            .map(|()| fault_over.elapsed());
            if converged.is_some() {
                // The next fault strikes within this round's time to converge (at most twice
                // the previous, so one slow round does not stretch every later one).
                typical = started.elapsed().min(typical * 2);
            }
            let (orphans, duplicates) = poll("the leftovers count", PATIENCE, || async {
                self.leftovers(&namespace).await.ok()
            })
            .await?;
            let steady_writes = if converged.is_some() {
                self.steady_writes(args.steady).await?
            } else {
                0
            };
            let exited = exited || self.ork.has_exited();
            if exited {
                self.restart_ork()?;
            }
            let result = Round {
                fault,
                converged,
                orphans,
                duplicates,
                steady_writes,
                exited,
            };
            println!(
                "round {round:>3} {:<9} at {:>6.1?} for {:>8}: {} orphans {orphans} duplicates {duplicates} steady writes {steady_writes}{} (load {})",
                fault.name(),
                at,
                if fault.lasts() {
                    format!("{length:.1?}")
                } else {
                    "restart".to_owned()
                },
                converged.map_or("NOT CONVERGED".into(), |d| format!(
                    "converged {d:.1?} after"
                )),
                if exited { " ORK EXITED" } else { "" },
                load_average()
            );
            results.push(result);
            if (round + 1) % FAULTS.len() == 0 && round + 1 < args.rounds {
                print_table(&results);
            }
            poll("the round's CRs to go", PATIENCE, || async {
                self.remove_crs(&namespace).await.ok()
            })
            .await?;
        }
        print_table(&results);
        let failed = results.iter().filter(|r| !r.clean()).count();
        anyhow::ensure!(failed == 0, "chaos: {failed} rounds failed their checks");
        Ok(())
    }

    /// Injects `fault` and returns once it is over (`length` for those that last).
    async fn inject(
        &mut self,
        fault: Fault,
        length: Duration,
        cp: &mut ControlPlane,
    ) -> anyhow::Result<()> {
        match fault {
            Fault::KillOrk => {
                self.ork.signal(Signal::SIGKILL)?;
                self.ork.reap();
                self.restart_ork()?;
            }
            Fault::Apiserver => {
                cp.kill_apiserver();
                cp.start_apiserver().await?;
            }
            Fault::Etcd => {
                cp.kill_etcd();
                cp.start_etcd().await?;
            }
            Fault::Cut => {
                self.proxy.refuse_for(length);
                self.proxy.cut();
                tokio::time::sleep(length).await;
            }
            Fault::Storm => storm(&self.storm, length).await,
            Fault::Latency => {
                self.proxy.set_latency(LATENCY);
                tokio::time::sleep(length).await;
                self.proxy.set_latency(Duration::ZERO);
            }
        }
        Ok(())
    }

    /// `Ok` once every CR of `namespace` is Ready with its children, each owned by it.
    async fn converged(&self, namespace: &str, n: usize) -> Result<(), String> {
        let crs =
            Api::<DynamicObject>::namespaced_with(self.client.clone(), namespace, &self.resource)
                .list(&ListParams::default())
                .await
                .map_err(|e| e.to_string())?;
        if crs.items.len() != n || !crs.items.iter().all(is_ready) {
            return Err("not every CR is Ready".into());
        }
        let children = self.children(namespace).await.map_err(|e| e.to_string())?;
        for cr in &crs.items {
            let uid = cr.uid().unwrap_or_default();
            for suffix in CHILDREN {
                let name = format!("{}{suffix}", cr.name_any());
                if children.get(&name) != Some(&vec![uid.clone()]) {
                    return Err(format!("{name} missing or not owned by its CR"));
                }
            }
        }
        Ok(())
    }

    /// Per managed child of `namespace` (ConfigMaps and ServiceAccounts), its owners' UIDs.
    async fn children(&self, namespace: &str) -> kube::Result<HashMap<String, Vec<String>>> {
        let params = ListParams::default().labels(MANAGED);
        let maps = Api::<ConfigMap>::namespaced(self.client.clone(), namespace)
            .list_metadata(&params)
            .await?;
        let accounts = Api::<ServiceAccount>::namespaced(self.client.clone(), namespace)
            .list_metadata(&params)
            .await?;
        Ok(maps
            .items
            .iter()
            .map(|m| &m.metadata)
            .chain(accounts.items.iter().map(|a| &a.metadata))
            .map(|m| {
                let owners = m
                    .owner_references
                    .iter()
                    .flatten()
                    .map(|o| o.uid.clone())
                    .collect();
                (m.name.clone().unwrap_or_default(), owners)
            })
            .collect())
    }

    /// Orphans (children without a live owner) and duplicates (children beyond three per CR,
    /// or with several owners) in `namespace`.
    async fn leftovers(&self, namespace: &str) -> anyhow::Result<(usize, usize)> {
        let crs =
            Api::<DynamicObject>::namespaced_with(self.client.clone(), namespace, &self.resource)
                .list_metadata(&ListParams::default())
                .await?;
        let live: std::collections::HashSet<String> =
            crs.items.iter().filter_map(|c| c.uid()).collect();
        let mut per_owner: HashMap<String, usize> = HashMap::new();
        let (mut orphans, mut duplicates) = (0, 0);
        for owners in self.children(namespace).await?.values() {
            if owners.is_empty() || !owners.iter().all(|o| live.contains(o)) {
                orphans += 1;
            }
            if owners.len() > 1 {
                duplicates += 1;
            }
            for owner in owners {
                *per_owner.entry(owner.clone()).or_default() += 1;
            }
        }
        duplicates += per_owner
            .values()
            .map(|&c| c.saturating_sub(CHILDREN.len()))
            .sum::<usize>();
        Ok((orphans, duplicates))
    }

    /// ork's writes (any verb, any object) in the audit log over `window`, once ork has gone
    /// quiet (no write for [`QUIET`], at most [`SETTLE_MAX`]): the tail of convergence, such as
    /// a `Reconciled` Event published just after the status write that made the last CR Ready,
    /// is not a steady write, while a write loop never goes quiet and is counted. When there
    /// are some, what they were (verb resource/subresource namespace, counted) is printed.
    async fn steady_writes(&self, window: Duration) -> anyhow::Result<usize> {
        let settle_until = std::time::Instant::now() + SETTLE_MAX;
        let mut from = self.audit_len();
        while std::time::Instant::now() < settle_until {
            tokio::time::sleep(QUIET).await;
            let (writes, end) = self.writes_since(from)?;
            from = end;
            if writes.is_empty() {
                break;
            }
        }
        tokio::time::sleep(window).await;
        let (kinds, _) = self.writes_since(from)?;
        if !kinds.is_empty() {
            println!("  steady writes: {kinds:?}");
        }
        Ok(kinds.values().sum())
    }

    /// The audit log's length now.
    fn audit_len(&self) -> u64 {
        std::fs::metadata(&self.audit_log).map_or(0, |m| m.len())
    }

    /// ork's writes in the audit log after byte `from`, counted by kind, and where the log
    /// ends.
    fn writes_since(&self, from: u64) -> anyhow::Result<(BTreeMap<String, usize>, u64)> {
        let text = std::fs::read(&self.audit_log)?;
        let tail = String::from_utf8_lossy(text.get(from as usize..).unwrap_or_default());
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for line in tail.lines() {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if entry["user"]["username"] != USER {
                continue;
            }
            let object = &entry["objectRef"];
            let kind = format!(
                "{} {}/{} in {} ({})",
                entry["verb"].as_str().unwrap_or("?"),
                object["resource"].as_str().unwrap_or("?"),
                object["subresource"].as_str().unwrap_or(""),
                object["namespace"].as_str().unwrap_or(""),
                entry["responseStatus"]["code"]
            );
            *kinds.entry(kind).or_default() += 1;
        }
        Ok((kinds, text.len() as u64))
    }

    /// Deletes the CRs of `namespace` and waits until they are gone, so rounds do not
    /// overlap (the caller retries it: the API server may drop a request under load). Their children stay (no garbage collector runs): the next round counts only
    /// its own namespace.
    async fn remove_crs(&self, namespace: &str) -> anyhow::Result<()> {
        let crs: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, &self.resource);
        crs.delete_collection(&DeleteParams::background(), &ListParams::default())
            .await?;
        poll("the round's CRs to go", PATIENCE, || {
            let crs = crs.clone();
            async move {
                let left = crs
                    .list_metadata(&ListParams::default().limit(1))
                    .await
                    .ok()?;
                left.items.is_empty().then_some(())
            }
        })
        .await
    }
}

/// Creates `n` CRs, `concurrency` at a time, retrying each until it exists (the API server may
/// be down meanwhile).
async fn create_crs(
    api: Api<DynamicObject>,
    resource: ApiResource,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    futures::stream::iter(0..n)
        .map(|i| {
            let (api, resource) = (api.clone(), &resource);
            async move {
                let mut cr = DynamicObject::new(&format!("stack-{i}"), resource);
                cr.data = json!({"spec": {"n": i}});
                let deadline = Instant::now() + PATIENCE;
                loop {
                    match api.create(&PostParams::default(), &cr).await {
                        Ok(_) => return Ok(()),
                        Err(kube::Error::Api(s)) if s.code == 409 => return Ok(()),
                        Err(e) if Instant::now() > deadline => return Err(anyhow::Error::from(e)),
                        Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                    }
                }
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<anyhow::Result<()>>>()
        .await
        .into_iter()
        .collect()
}

/// A 429 storm for `length`: [`STORM_WRITERS`] writers patching their own ConfigMap in a loop.
async fn storm(client: &Client, length: Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..STORM_WRITERS)
        .map(|i| {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), STORM_USER);
            let (stop, writes) = (Arc::clone(&stop), Arc::clone(&writes));
            tokio::spawn(async move {
                let params = PatchParams::apply("storm").force();
                let name = format!("storm-{i}");
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let patch = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"n": n.to_string()}});
                    if api.patch(&name, &params, &Patch::Apply(patch)).await.is_ok() {
                        writes.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(length).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        let _ = writer.await;
    }
}

async fn bind_cluster_admin(client: &Client, user: &str) -> anyhow::Result<()> {
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": user},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }))?;
    match Api::<ClusterRoleBinding>::all(client.clone())
        .create(&PostParams::default(), &binding)
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The table per fault.
fn print_table(results: &[Round]) {
    let mut by_fault: BTreeMap<Fault, Vec<&Round>> = BTreeMap::new();
    for r in results {
        by_fault.entry(r.fault).or_default().push(r);
    }
    println!(
        "{:<10} {:>6} {:>9} {:>9} {:>9} {:>7} {:>10} {:>13} {:>6}",
        "fault",
        "rounds",
        "converged",
        "p50",
        "p99",
        "orphans",
        "duplicates",
        "steady writes",
        "exits"
    );
    for (fault, rounds) in by_fault {
        let mut times: Vec<Duration> = rounds.iter().filter_map(|r| r.converged).collect();
        times.sort();
        let rank = |p: usize| {
            times
                .get((times.len() * p).div_ceil(100).clamp(1, times.len().max(1)) - 1)
                .map_or("-".to_owned(), |d| format!("{d:.1?}"))
        };
        println!(
            "{:<10} {:>6} {:>9} {:>9} {:>9} {:>7} {:>10} {:>13} {:>6}",
            fault.name(),
            rounds.len(),
            times.len(),
            rank(50),
            rank(99),
            rounds.iter().map(|r| r.orphans).sum::<usize>(),
            rounds.iter().map(|r| r.duplicates).sum::<usize>(),
            rounds.iter().map(|r| r.steady_writes).sum::<usize>(),
            rounds.iter().filter(|r| r.exited).count(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_durations_stay_in_their_bounds() {
        let mut rng = Rng::new();
        for _ in 0..1000 {
            let d = rng.between(Duration::from_secs(1), Duration::from_secs(20));
            assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(20));
        }
        assert_eq!(rng.between(Duration::ZERO, Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn a_round_is_clean_only_when_converged_without_leftovers() {
        let clean = Round {
            fault: Fault::Cut,
            converged: Some(Duration::from_secs(1)),
            orphans: 0,
            duplicates: 0,
            steady_writes: 0,
            exited: false,
        };
        assert!(clean.clean());
        assert!(
            !Round {
                converged: None,
                ..clean
            }
            .clean()
        );
    }
}
