//! External: what an `external:` call costs, against a loopback server that answers in 1 ms.
//!
//! - **floor**: the process's outbound HTTP client in a tight loop, one call at a time;
//! - **calls**: the same request as a declared call (`runtime::outbound::Calls::run`: its
//!   templates, the result map, the metrics), one at a time: the difference per call is
//!   ork's overhead;
//! - **reconcile**: a real `ork run` process converges N CRs of one CRD whose reconcile makes
//!   one call and writes its status into a ConfigMap child and `.status.health`, and the same N
//!   without the call: CRs per second of each.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use kube::runtime::watcher;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::process::{Ork, Spawn};
use super::throughput::first_seen;
use super::{Bench, CRD, create_namespace, is_ready, load_average, poll};
use crate::commands::dev_tools::BenchArgs;

/// Calls per round of the floor and of the declared-call loop.
const CALLS: usize = 1000;
/// Rounds of each, alternating; the best is kept (the machine may be shared).
const ROUNDS: usize = 3;

/// Runs the external-call benchmark.
pub async fn measure(args: &BenchArgs, bench: &Bench) -> anyhow::Result<()> {
    let (url, served) = server().await?;
    println!(
        "external: a loopback server answering in 1 ms, {CALLS} calls one at a time per round, best of {ROUNDS} alternating rounds after a warm-up"
    );
    let calls = declared_calls(&url)?;
    floor(&url, CALLS / 10).await?;
    declared(&calls, CALLS / 10).await?;
    let (mut floors, mut declareds) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        floors.push(floor(&url, CALLS).await?);
        declareds.push(declared(&calls, CALLS).await?);
    }
    let floor = floors.into_iter().min().unwrap_or_default();
    let declared = declareds.into_iter().min().unwrap_or_default();
    println!(
        "  floor (HTTP client loop): {:.0} calls/s, {:.3} ms per call",
        1.0 / floor.as_secs_f64(),
        ms(floor)
    );
    println!(
        "  declared call (Calls::run): {:.0} calls/s, {:.3} ms per call, overhead {:+.3} ms per call (negative: below the noise), load average {}",
        1.0 / declared.as_secs_f64(),
        ms(declared),
        ms(declared) - ms(floor),
        load_average()
    );

    let workers = args.concurrency.max(1);
    std::fs::write(bench.dir.join("crd.yaml"), CRD)?;
    let resource = ApiResource {
        group: "bench.ork.test".into(),
        version: "v1".into(),
        api_version: "bench.ork.test/v1".into(),
        kind: "Stack".into(),
        plural: "stacks".into(),
    };
    println!(
        "{:>6} {:>16} {:>13} {:>10} {:>14}",
        "N", "with call CR/s", "plain CR/s", "calls", "load average"
    );
    for &n in &args.crs {
        let mut rates = Vec::new();
        let mut calls = 0;
        for with_call in [true, false] {
            let name = if with_call { "ext" } else { "plain" };
            let katalog = bench.dir.join(format!("katalog-{name}.yaml"));
            std::fs::write(&katalog, katalog_text(&url, workers, with_call))?;
            let mut ork = Ork::start(&Spawn {
                katalog: &katalog,
                kubeconfig: &bench.kubeconfig,
                dir: &bench.dir,
                name: &format!("ork-{name}-{n}"),
                leader: None,
            })?;
            let before = served.load(Ordering::Relaxed);
            let rate = converge(&bench.client, &resource, &format!("{name}-{n}"), n, workers).await;
            ork.stop()?;
            rates.push(rate?);
            if with_call {
                calls = served.load(Ordering::Relaxed) - before;
            }
        }
        println!(
            "{n:>6} {:>16.1} {:>13.1} {:>10} {:>14}",
            rates[0],
            rates[1],
            calls,
            load_average()
        );
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A keep-alive HTTP/1.1 server on 127.0.0.1 answering `200 up` 1 ms after each request;
/// its URL and a count of requests served.
async fn server() -> anyhow::Result<(String, Arc<AtomicUsize>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                // One request per read: the client sends small GETs and waits for each answer.
                while let Ok(n) = conn.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    count.fetch_add(1, Ordering::Relaxed);
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nup";
                    if conn.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok((url, served))
}

/// Mean time per call of the bare client, over `n` calls.
async fn floor(url: &str, n: usize) -> anyhow::Result<Duration> {
    let client = runtime::outbound::client::shared()?;
    let started = Instant::now();
    for i in 0..n {
        let request = http::Request::get(format!("{url}/health/s{i}"))
            .body(http_body_util::Full::default())?;
        let answer = client.send(request, Duration::from_secs(10), 4096).await?;
        anyhow::ensure!(
            answer.status == 200,
            "the floor's call answered {}",
            answer.status
        );
    }
    Ok(started.elapsed() / n as u32)
}

/// The one call of the reconcile Katalog, ready to make in this process.
fn declared_calls(url: &str) -> anyhow::Result<runtime::outbound::Calls> {
    let text = katalog_text(url, 1, true);
    let loaded = katalog::load_text(
        "katalog.yaml",
        text.replace(
            "crdFile: ./crd.yaml",
            "apiTypes: {group: bench.ork.test, version: v1, kind: Stack, plural: stacks}",
        ),
    )
    .map_err(|d| anyhow::anyhow!("{}", d.render()))?;
    let crd = loaded.katalog.crd("stack").expect("declared").clone();
    let engine = katalog::build::engine_for(&loaded.katalog)?;
    // Never contacted: the call reads no Secret.
    let kube = kube::Client::try_from(kube::Config::new("http://127.0.0.1:9".parse()?))?;
    let metrics = runtime::Metrics::new();
    runtime::outbound::Calls::of(
        &crd,
        Arc::new(katalog::build::EngineRender::new(engine)),
        kube,
        Some(metrics.crd("stack")),
    )
    .ok_or_else(|| anyhow::anyhow!("no call declared"))
}

/// Mean time per call of a declared call (templates, result map and metrics included), over
/// `n` calls.
async fn declared(calls: &runtime::outbound::Calls, n: usize) -> anyhow::Result<Duration> {
    let places = [katalog::model::external::Place::OnReconcile];
    let started = Instant::now();
    for i in 0..n {
        let mut cr = serde_json::json!({"metadata": {"name": format!("s{i}"), "namespace": "b"}});
        calls
            .run(&places, &mut cr, "b/s", time::OffsetDateTime::now_utc())
            .await?;
        anyhow::ensure!(cr["external"]["check"]["status"] == "200", "{cr}");
    }
    Ok(started.elapsed() / n as u32)
}

/// The Katalog of the reconcile measurement: one ConfigMap child per CR, with or without one
/// call whose status the child and `.status.health` carry.
fn katalog_text(url: &str, workers: usize, with_call: bool) -> String {
    let (call, value) = if with_call {
        (
            format!(
                "          external:\n            - {{name: check, url: '{url}/health/{{{{ .metadata.name }}}}'}}\n"
            ),
            "{{ .external.check.status }}",
        )
    } else {
        (String::new(), "200")
    };
    format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata:
  name: external-bench
spec:
  crds:
    stack:
      crdFile: ./crd.yaml
      workers: {workers}
      resync: 10m
      operatorBox:
        onReconcile:
{call}          configMaps:
            - name: '{{{{ .metadata.name }}}}-a'
              data: {{health: '{value}'}}
        status:
          fields:
            - {{path: health, value: '{value}'}}
"
    )
}

/// Creates `n` CRs in a new namespace and waits for each to be `Ready=True` with
/// `.status.health` 200; CRs per second from the first create to the last ready.
async fn converge(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: &str,
    n: usize,
    workers: usize,
) -> anyhow::Result<f64> {
    let namespace = create_namespace(client, namespace).await?;
    let crs: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, resource);
    poll("ork to serve the CRD", Duration::from_secs(60), || async {
        crs.list(&Default::default()).await.ok().map(drop)
    })
    .await?;
    let ready: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let watch = tokio::spawn(first_seen(
        crs.clone(),
        watcher::Config::default(),
        Arc::clone(&ready),
        |cr: &DynamicObject| is_ready(cr) && cr.data["status"]["health"] == "200",
    ));
    let started = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| {
            let crs = &crs;
            async move {
                let mut cr = DynamicObject::new(&format!("s{i}"), resource);
                cr.data = serde_json::json!({"spec": {"n": i.to_string()}});
                crs.create(&PostParams::default(), &cr).await.map(drop)
            }
        })
        .buffer_unordered(workers)
        .try_collect::<Vec<()>>()
        .await?;
    poll("the CRs to converge", Duration::from_secs(600), || async {
        (ready.lock().map(|r| r.len()).unwrap_or(0) >= n).then_some(())
    })
    .await?;
    let finished = ready
        .lock()
        .ok()
        .and_then(|r| r.values().max().copied())
        .unwrap_or_else(Instant::now);
    watch.abort();
    Ok(n as f64 / finished.duration_since(started).as_secs_f64())
}
