//! Latency: how soon an idle `ork run` reacts, with N steady CRs on the cluster.
//!
//! One `ork run` process runs `fixtures/stack` (one CRD, two ConfigMaps and a ServiceAccount
//! per CR, resync 10 s); the bench creates N CRs (the largest `--crs`) and waits until every
//! one has converged. Then, one sample at a time, `--samples` times each, on CRs spread over
//! the N:
//!
//! - **spec change → child updated**: a merge patch of the CR's `spec.n`, timed from just
//!   before the request to the bench's own ConfigMap watch delivering `<cr>-a` with the new
//!   value;
//! - **deleted child → restored**: a DELETE of the ConfigMap `<cr>-b`, timed from just before
//!   the request to the watch delivering a `<cr>-b` with a new uid.
//!
//! Timing is by watch, not polling, so each figure is ork's reaction plus one watch delivery to
//! the bench. It prints p50, p99 and max of each against the aims of issue 18 (p99 under 50 ms
//! and under 1 s), with the load average.

use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::runtime::watcher;
use tokio::sync::mpsc;

use super::process::{Ork, Spawn};
use super::throughput::{converge_in, stack_resource, wait_listable};
use super::{Bench, CRD, KATALOG, MANAGED, create_namespace, load_average};
use crate::commands::dev_tools::BenchArgs;

/// The longest one sample may take before the bench gives up.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(30);

/// One line of the table: a kind of sample, its timings and its aim for p99.
struct Row {
    what: &'static str,
    samples: Vec<Duration>,
    aim: Duration,
}

/// Runs the latency benchmark with the largest `--crs` steady CRs.
pub async fn measure(args: &BenchArgs, bench: &Bench) -> anyhow::Result<()> {
    let client = &bench.client;
    let n = args.crs.iter().copied().max().unwrap_or(1000).max(1);
    let samples = args.samples.max(1);
    let workers = args.concurrency.max(1);
    let dir = bench.dir.join("latency");
    let katalog = write_katalog(&dir, workers)?;
    let resource = stack_resource();
    let mut ork = Ork::start(&Spawn {
        katalog: &katalog,
        kubeconfig: &bench.kubeconfig,
        dir: &dir,
        name: "ork-latency",
        leader: None,
    })?;
    wait_listable(client, &resource).await?;
    let namespace = create_namespace(client, "latency").await?;
    let converged =
        converge_in(client, &resource, &namespace, n, workers, &bench.audit_log).await?;
    println!(
        "latency: {n} steady CRs (fixtures/stack, converged at {:.1} CR/s), {samples} samples of each, one at a time; ork: {workers} workers; load average {}",
        converged.rate,
        load_average()
    );

    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let (events, mut arrivals) = mpsc::unbounded_channel();
    let (listed, ready) = tokio::sync::oneshot::channel();
    let watch = tokio::spawn(forward(maps.clone(), events, listed));
    ready.await?;
    let crs: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &resource);
    let cr_of = |k: usize| format!("s{}", k * n / samples);

    let mut changed = Vec::with_capacity(samples);
    for k in 0..samples {
        let (cr, value) = (cr_of(k), format!("latency-{k}"));
        let child = format!("{cr}-a");
        let started = Instant::now();
        let patch = serde_json::json!({"spec": {"n": value}});
        crs.patch(&cr, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        let took = arrival(&mut arrivals, started, |map| {
            map.metadata.name.as_deref() == Some(child.as_str())
                && map.data.as_ref().and_then(|d| d.get("n")) == Some(&value)
        })
        .await;
        changed.push(took.map_err(|e| e.context(format!("{child} to hold n={value}")))?);
    }

    let mut restored = Vec::with_capacity(samples);
    for k in 0..samples {
        let child = format!("{}-b", cr_of(k));
        let old = maps.get(&child).await?.metadata.uid;
        let started = Instant::now();
        maps.delete(&child, &DeleteParams::default()).await?;
        let took = arrival(&mut arrivals, started, |map| {
            map.metadata.name.as_deref() == Some(child.as_str()) && map.metadata.uid != old
        })
        .await;
        restored.push(took.map_err(|e| e.context(format!("{child} to be restored")))?);
    }
    watch.abort();

    print!(
        "{}",
        table(&[
            Row {
                what: "spec change → child updated",
                samples: changed,
                aim: Duration::from_millis(50),
            },
            Row {
                what: "deleted child → restored",
                samples: restored,
                aim: Duration::from_secs(1),
            },
        ])
    );
    println!("latency: load average after the samples {}", load_average());
    ork.stop()?;
    Ok(())
}

/// Writes `fixtures/stack` with `workers` workers under `dir`; its Katalog's path.
fn write_katalog(dir: &Path, workers: usize) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("crd.yaml"), CRD)?;
    let katalog = dir.join("katalog.yaml");
    std::fs::write(
        &katalog,
        KATALOG.replace("workers: 8", &format!("workers: {workers}")),
    )?;
    Ok(katalog)
}

/// Sends every managed ConfigMap the watch delivers after its first list, with the instant it
/// arrived; `listed` fires when the first list is complete.
async fn forward(
    maps: Api<ConfigMap>,
    arrivals: mpsc::UnboundedSender<(Instant, ConfigMap)>,
    listed: tokio::sync::oneshot::Sender<()>,
) {
    let mut listed = Some(listed);
    let config = watcher::Config::default().labels(MANAGED);
    let mut events = std::pin::pin!(watcher(maps, config));
    while let Some(event) = events.next().await {
        match event {
            Ok(watcher::Event::InitDone) => {
                if let Some(listed) = listed.take() {
                    let _ = listed.send(());
                }
            }
            Ok(watcher::Event::Apply(map)) => {
                // Fails only once the bench has stopped listening, checked below.
                let _ = arrivals.send((Instant::now(), map));
            }
            _ => {}
        }
        if arrivals.is_closed() {
            return;
        }
    }
}

/// The time from `started` to the first arrival that `matches` (others are skipped).
async fn arrival(
    arrivals: &mut mpsc::UnboundedReceiver<(Instant, ConfigMap)>,
    started: Instant,
    matches: impl Fn(&ConfigMap) -> bool,
) -> anyhow::Result<Duration> {
    let found = tokio::time::timeout(SAMPLE_TIMEOUT, async {
        while let Some((at, map)) = arrivals.recv().await {
            if matches(&map) {
                return Some(at.saturating_duration_since(started));
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(took)) => Ok(took),
        Ok(None) => anyhow::bail!("the bench's ConfigMap watch ended"),
        Err(_) => anyhow::bail!("not seen within {SAMPLE_TIMEOUT:?}"),
    }
}

/// The `p`th percentile of `sorted` (nearest rank); zero when empty.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() * p).div_ceil(100).clamp(1, sorted.len()) - 1]
}

/// The table of `rows`: samples, p50, p99, max, the aim for p99 and whether it was met.
fn table(rows: &[Row]) -> String {
    let mut text = format!(
        "{:<30} {:>7} {:>10} {:>10} {:>10} {:>12} {:>6}\n",
        "latency", "samples", "p50", "p99", "max", "aim p99 <", "met"
    );
    for row in rows {
        let mut sorted = row.samples.clone();
        sorted.sort();
        let p99 = percentile(&sorted, 99);
        text.push_str(&format!(
            "{:<30} {:>7} {:>10} {:>10} {:>10} {:>12} {:>6}\n",
            row.what,
            sorted.len(),
            format!("{:.1?}", percentile(&sorted, 50)),
            format!("{p99:.1?}"),
            format!("{:.1?}", sorted.last().copied().unwrap_or_default()),
            format!("{:?}", row.aim),
            if sorted.is_empty() {
                "?"
            } else if p99 < row.aim {
                "yes"
            } else {
                "NO"
            },
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_gives_nearest_rank_percentiles_against_each_aim() {
        let ms = Duration::from_millis;
        let rows = [
            Row {
                what: "spec change → child updated",
                samples: (1..=100).rev().map(ms).collect(),
                aim: ms(50),
            },
            Row {
                what: "deleted child → restored",
                samples: vec![ms(300), ms(20)],
                aim: Duration::from_secs(1),
            },
            Row {
                what: "nothing",
                samples: Vec::new(),
                aim: ms(1),
            },
        ];
        let text = table(&rows);
        let lines: Vec<Vec<&str>> = text
            .lines()
            .map(|l| {
                l.split("  ")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .collect();
        assert_eq!(
            lines[0],
            [
                "latency",
                "samples",
                "p50",
                "p99",
                "max",
                "aim p99 <",
                "met"
            ]
        );
        assert_eq!(
            lines[1],
            [
                "spec change → child updated",
                "100",
                "50.0ms",
                "99.0ms",
                "100.0ms",
                "50ms",
                "NO"
            ]
        );
        assert_eq!(
            lines[2],
            [
                "deleted child → restored",
                "2",
                "20.0ms",
                "300.0ms",
                "300.0ms",
                "1s",
                "yes"
            ]
        );
        assert_eq!(lines[3][1..], ["0", "0.0ns", "0.0ns", "0.0ns", "1ms", "?"]);
    }
}
