//! Idle: RSS and CPU of an idle leader and an idle follower.
//!
//! Two `ork run` processes (leader election on, default durations) run the fleet Katalog; the
//! bench creates the CRs, waits until every one is `Ready=True` with its ConfigMap and in the
//! follower's watch caches, then for a fixed window samples each process's `VmRSS` every second, its `VmHWM` at the end, and its
//! CPU time (`utime + stime`) at both ends. Which process leads comes from each one's HTTP API
//! (`isKonductor`). "Idle" still includes the periodic resync of every CR (the Katalog
//! default, 30 s) on the leader. It also prints the watches the two processes opened on the
//! API server, by resource (`apiserver_longrunning_requests` once they are idle, less the
//! reading before they started): one ConfigMap watch per process when the child watches are
//! shared, one per CRD and process when not.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::fleet::Fleet;
use super::process::{Memory, Ork};
use super::{Bench, load_average, mib};
use crate::commands::dev_tools::BenchArgs;

/// What one process did during the window.
struct Sample {
    role: &'static str,
    rss_mean: f64,
    rss_max: u64,
    end: Memory,
    /// CPU time used over the window, as a share of one core.
    cpu_share: f64,
    reconciles: Option<u64>,
}

/// Runs the idle benchmark on `fleet`, creating its CRs first if it has none.
pub async fn measure(args: &BenchArgs, bench: &Bench, fleet: &mut Fleet) -> anyhow::Result<()> {
    let watches_before = watches_by_resource(&bench.client).await?;
    let replicas = [
        fleet.replica(bench, "idle-a")?,
        fleet.replica(bench, "idle-b")?,
    ];
    let leader = fleet
        .leader(&[&replicas[0], &replicas[1]], Duration::from_secs(120))
        .await?;
    if fleet.crs < args.fleet_crs {
        fleet
            .populate(bench, args.fleet_crs, args.concurrency)
            .await?;
    }
    let took = fleet.converged(&bench.client).await?;
    let (leader, follower) = (&replicas[leader], &replicas[1 - leader]);
    fleet.cached(follower, Duration::from_secs(120)).await?;
    println!(
        "idle: {} CRDs, {} CRs (one ConfigMap each), converged {:.1?} after the last create; window {:?}; load average {}",
        fleet.crds.len(),
        fleet.crs,
        took,
        args.window,
        load_average()
    );
    let watches = watches_by_resource(&bench.client).await?;
    println!(
        "idle: watches the two processes opened on the API server: {}",
        opened(&watches_before, &watches)
    );
    let samples = window(args.window, [("leader", leader), ("follower", follower)]).await;
    let still = fleet
        .leader(&[leader, follower], Duration::from_secs(5))
        .await;
    println!(
        "{:<9} {:>8} {:>8} {:>8} {:>6} {:>11} {:>11} {:>12} {:>16} {:>17}",
        "role",
        "RSS MiB",
        "max MiB",
        "HWM MiB",
        "CPU %",
        "reconciles",
        "RSS KiB/CR",
        "RSS KiB/CRD",
        "CPU µs/s per CR",
        "CPU µs/s per CRD"
    );
    for sample in &samples {
        let cpu_per_second = sample.cpu_share;
        println!(
            "{:<9} {:>8.1} {:>8.1} {:>8.1} {:>6.2} {:>11} {:>11.1} {:>12.0} {:>16.2} {:>17.1}",
            sample.role,
            mib(sample.rss_mean as u64),
            mib(sample.rss_max),
            mib(sample.end.peak),
            cpu_per_second * 100.0,
            sample.reconciles.map_or("?".into(), |r| r.to_string()),
            sample.rss_mean / fleet.crs.max(1) as f64,
            sample.rss_mean / fleet.crds.len() as f64,
            cpu_per_second * 1e6 / fleet.crs.max(1) as f64,
            cpu_per_second * 1e6 / fleet.crds.len() as f64,
        );
    }
    println!(
        "idle: load average after the window {}; {}",
        load_average(),
        match still {
            Ok(0) => "the leader still leads".to_owned(),
            Ok(_) => "the leader CHANGED during the window".to_owned(),
            Err(error) => format!("no single leader after the window: {error}"),
        }
    );
    for mut replica in replicas {
        replica.stop()?;
    }
    Ok(())
}

/// The WATCH requests open on the API server now, by resource
/// (`apiserver_longrunning_requests`).
async fn watches_by_resource(client: &kube::Client) -> anyhow::Result<BTreeMap<String, u64>> {
    let request = http::Request::get("/metrics").body(Vec::new())?;
    Ok(parse_watches(&client.request_text(request).await?))
}

/// `total in all: resource count, …` of the watches in `after` that were not open `before`.
fn opened(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> String {
    let opened: Vec<String> = after
        .iter()
        .filter_map(|(resource, &count)| {
            let more = count.saturating_sub(before.get(resource).copied().unwrap_or(0));
            (more > 0).then(|| format!("{resource} {more}"))
        })
        .collect();
    let total: u64 = after
        .values()
        .sum::<u64>()
        .saturating_sub(before.values().sum());
    format!("{total} in all: {}", opened.join(", "))
}

/// The sum of the `verb="WATCH"` series of `apiserver_longrunning_requests` in a metrics
/// text, by `resource`; resources with none left out.
fn parse_watches(metrics: &str) -> BTreeMap<String, u64> {
    let mut by_resource = BTreeMap::new();
    for line in metrics
        .lines()
        .filter_map(|l| l.strip_prefix("apiserver_longrunning_requests{"))
    {
        let Some((labels, value)) = line.rsplit_once("} ") else {
            continue;
        };
        let label = |name: &str| {
            labels
                .split(',')
                .find_map(|l| l.strip_prefix(name)?.strip_prefix("=\""))
                .map(|v| v.trim_end_matches('"'))
        };
        if label("verb") != Some("WATCH") {
            continue;
        }
        if let (Some(resource), Ok(count)) = (label("resource"), value.trim().parse::<f64>())
            && count > 0.0
        {
            *by_resource.entry(resource.to_owned()).or_insert(0) += count as u64;
        }
    }
    by_resource
}

/// Samples `processes` every second for `length`: mean and max RSS, CPU time used, and
/// reconciles counted by their `/metrics`.
async fn window(length: Duration, processes: [(&'static str, &Ork); 2]) -> Vec<Sample> {
    let mut reconciles = Vec::new();
    for (_, ork) in processes {
        reconciles.push(ork.reconciles().await);
    }
    let cpu: Vec<Duration> = processes.iter().map(|(_, ork)| ork.cpu_time()).collect();
    let started = Instant::now();
    let mut rss: Vec<Vec<u64>> = vec![Vec::new(); processes.len()];
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    while started.elapsed() < length {
        ticks.tick().await;
        for (i, (_, ork)) in processes.iter().enumerate() {
            rss[i].push(ork.memory().now);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu: Vec<f64> = processes
        .iter()
        .zip(cpu)
        .map(|((_, ork), before)| ork.cpu_time().saturating_sub(before).as_secs_f64() / elapsed)
        .collect();
    let mut samples = Vec::new();
    for (i, (role, ork)) in processes.into_iter().enumerate() {
        let after = ork.reconciles().await;
        samples.push(Sample {
            role,
            rss_mean: rss[i].iter().sum::<u64>() as f64 / rss[i].len().max(1) as f64,
            rss_max: rss[i].iter().copied().max().unwrap_or(0),
            end: ork.memory(),
            cpu_share: cpu[i],
            reconciles: after.zip(reconciles[i]).map(|(a, b)| a.saturating_sub(b)),
        });
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_watches_are_summed_by_resource() {
        let metrics = "# TYPE apiserver_longrunning_requests gauge\n\
apiserver_longrunning_requests{component=\"apiserver\",group=\"\",resource=\"configmaps\",scope=\"namespace\",subresource=\"\",verb=\"WATCH\"} 2\n\
apiserver_longrunning_requests{component=\"apiserver\",group=\"\",resource=\"configmaps\",scope=\"cluster\",subresource=\"\",verb=\"WATCH\"} 1\n\
apiserver_longrunning_requests{component=\"apiserver\",group=\"\",resource=\"pods\",scope=\"namespace\",subresource=\"log\",verb=\"CONNECT\"} 4\n\
apiserver_longrunning_requests{component=\"apiserver\",group=\"apps\",resource=\"deployments\",scope=\"cluster\",subresource=\"\",verb=\"WATCH\"} 0\n";
        assert_eq!(
            parse_watches(metrics),
            [("configmaps".to_owned(), 3)].into()
        );
        let before = [("configmaps".to_owned(), 3), ("pods".to_owned(), 2)].into();
        let after = [
            ("configmaps".to_owned(), 5),
            ("pods".to_owned(), 2),
            ("webs".to_owned(), 2),
        ]
        .into();
        assert_eq!(opened(&before, &after), "4 in all: configmaps 2, webs 2");
    }
}
