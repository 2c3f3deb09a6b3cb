//! Failover: how long the follower takes to lead after the leader is signalled.
//!
//! Two `ork run` processes run the fleet Katalog with leader election at its **default**
//! durations (those of `runtime::Config::default()`: lease 15 s, renew deadline 10 s,
//! retry 2 s). Each round signals the leader, alternately SIGTERM (graceful hand-over: the
//! leader stops its boxes and releases the Lease) and SIGKILL (crash: the follower waits out
//! the lease), and polls the follower's `/katalog/{crd}/health` every 20 ms until it reports
//! `isKonductor: true`. The signalled process is then restarted as the new follower.
//!
//! Before each signal the round waits for a steady state: the new follower answers its API
//! with every CR in its watch caches, and the leader has reconciled every CR once since it
//! was elected (so a hand-over also stops real work, as in production); then one retry
//! period and [`SETTLE_MARGIN`] more, so the follower has seen a renewal of the Lease.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::fleet::Fleet;
use super::process::Ork;
use super::{Bench, distribution, load_average, poll};
use crate::commands::dev_tools::BenchArgs;

/// Quiet time before each signal beyond the default retry period, so that the follower has
/// polled the Lease since the leader last renewed it.
const SETTLE_MARGIN: Duration = Duration::from_secs(1);
/// The longest any one wait may take before the benchmark gives up.
const PATIENCE: Duration = Duration::from_secs(180);

/// The duration `ork run` takes from environment variable `name` (which the `ork run`
/// processes inherit), else `default`.
fn from_env(name: &str, default: Duration) -> Duration {
    std::env::var(name)
        .ok()
        .and_then(|text| crate::cli::parse_duration(&text).ok())
        .unwrap_or(default)
}

/// The figures of all rounds.
#[derive(Default)]
struct Figures {
    /// SIGTERM to the follower leading.
    handover: Vec<Duration>,
    /// SIGTERM to the old leader's exit.
    exit: Vec<Duration>,
    /// SIGKILL to the follower leading.
    takeover: Vec<Duration>,
}

/// Runs the failover benchmark on `fleet`, creating its CRs first if it has none.
pub async fn measure(args: &BenchArgs, bench: &Bench, fleet: &mut Fleet) -> anyhow::Result<()> {
    let mut serial = 0;
    let a = next_replica(fleet, bench, &mut serial)?;
    let b = next_replica(fleet, bench, &mut serial)?;
    let first = fleet.leader(&[&a, &b], PATIENCE).await?;
    let (mut leader, mut follower) = if first == 0 { (a, b) } else { (b, a) };
    if fleet.crs < args.fleet_crs {
        fleet
            .populate(bench, args.fleet_crs, args.concurrency)
            .await?;
        fleet.converged(&bench.client).await?;
    }
    let defaults = runtime::Config::default();
    println!(
        "failover: lease {:?} / renew deadline {:?} / retry {:?}, {} CRDs, {} CRs, {} SIGTERM and {} SIGKILL rounds alternating; load average {}",
        from_env("LEASE_DURATION", defaults.lease_duration),
        from_env("RENEW_DEADLINE", defaults.renew_deadline),
        from_env("RETRY_PERIOD", defaults.retry_period),
        fleet.crds.len(),
        fleet.crs,
        args.sigterm,
        args.sigkill,
        load_average()
    );
    let crd = fleet.crds[0].clone();
    let mut figures = Figures::default();
    let (mut terms, mut kills) = (args.sigterm, args.sigkill);
    let mut graceful = true;
    while terms + kills > 0 {
        graceful = (graceful && terms > 0) || kills == 0;
        steady(fleet, &leader, &follower).await?;
        let signal = if graceful {
            Signal::SIGTERM
        } else {
            Signal::SIGKILL
        };
        let (led, exited) = fail_over(&mut leader, &follower, &crd, signal).await?;
        let round = args.sigterm - terms + args.sigkill - kills + 1;
        println!(
            "  round {round:>2} {signal}: the follower leads after {led:.2?} (the old leader exited after {exited:.2?}); load average {}",
            load_average()
        );
        if graceful {
            terms -= 1;
            figures.handover.push(led);
            figures.exit.push(exited);
        } else {
            kills -= 1;
            figures.takeover.push(led);
        }
        graceful = !graceful;
        let restarted = next_replica(fleet, bench, &mut serial)?;
        leader = std::mem::replace(&mut follower, restarted);
    }
    println!(
        "failover: SIGTERM hand-over {}",
        distribution(&figures.handover)
    );
    println!(
        "failover: SIGTERM leader exit {}",
        distribution(&figures.exit)
    );
    println!(
        "failover: SIGKILL take-over {}",
        distribution(&figures.takeover)
    );
    println!("failover: load average {}", load_average());
    // A process that has not yet installed its signal handler would die of SIGTERM.
    follows(&follower, &crd).await?;
    follower.stop()?;
    leader.stop()?;
    Ok(())
}

/// Signals `leader`; the time until `follower` leads and until `leader` has exited.
async fn fail_over(
    leader: &mut Ork,
    follower: &Ork,
    crd: &str,
    signal: Signal,
) -> anyhow::Result<(Duration, Duration)> {
    let sent = Instant::now();
    leader.signal(signal)?;
    let mut exited = None;
    let led = loop {
        if exited.is_none() && leader.has_exited() {
            exited = Some(sent.elapsed());
        }
        if follower.is_konductor(crd).await == Some(true) {
            break sent.elapsed();
        }
        anyhow::ensure!(
            sent.elapsed() < PATIENCE,
            "the follower did not lead within {PATIENCE:?} of {signal}; its log: {}",
            follower.log.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    if let Some(exited) = exited {
        return Ok((led, exited));
    }
    poll("the old leader to exit", PATIENCE, || {
        let exited = leader.has_exited();
        async move { exited.then_some(()) }
    })
    .await?;
    Ok((led, sent.elapsed()))
}

/// The next replica of the fleet, numbered by `serial`.
fn next_replica(fleet: &Fleet, bench: &Bench, serial: &mut usize) -> anyhow::Result<Ork> {
    *serial += 1;
    fleet.replica(bench, &format!("failover-{serial}"))
}

/// Waits until `follower` follows with warm caches, `leader` has reconciled every CR, and
/// then one default retry period and [`SETTLE_MARGIN`].
async fn steady(fleet: &Fleet, leader: &Ork, follower: &Ork) -> anyhow::Result<()> {
    follows(follower, &fleet.crds[0]).await?;
    fleet.cached(follower, PATIENCE).await?;
    poll(
        "the leader's first pass over every CR",
        PATIENCE,
        || async {
            let done = leader.reconciles().await? >= fleet.crs as u64;
            done.then_some(())
        },
    )
    .await?;
    tokio::time::sleep(runtime::Config::default().retry_period + SETTLE_MARGIN).await;
    Ok(())
}

/// Waits until `follower` answers its API as a follower.
async fn follows(follower: &Ork, crd: &str) -> anyhow::Result<()> {
    poll("the new follower to follow", PATIENCE, || async {
        (follower.is_konductor(crd).await == Some(false)).then_some(())
    })
    .await
}
