//! Admission and conversion latency over TLS, from a local load generator.
//!
//! The gateway's real HTTPS stack (rustls, the TLS listener, the axum router of the
//! security-admission pack's rules plus a declared conversion) serves on loopback; keep-alive
//! HTTP/1.1 clients send AdmissionReview (`/validate`, `/mutate`) and ConversionReview
//! (`/convert`) bodies at 100 req/s, 1000 req/s (open loop, paced per connection; latency from the
//! actual send) and as fast as 16 connections go (closed loop). The floor is a route that
//! answers a canned AdmissionReview over the same stack, measured in the same run; the ratio
//! shows what rule evaluation adds. A second table times the pure evaluation in process.
//!
//! `cargo bench -p gateway --bench latency`

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use axum::routing::post;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use serde_json::{Value, json};

const KATALOG: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: bench}
gateway: {enabled: true}
security:
  webhooks: {admission: {enabled: true}}
  conversion: {enabled: true}
spec:
  crds:
    platform:
      apiTypes: {group: bench.ork.test, version: v1, kind: Platform, plural: platforms}
      validation:
        rules:
          - {field: spec.image, prefix: "registry.internal/", message: "images must come from registry.internal/, not {{ .spec.image }}"}
          - {field: spec.replicas, greaterThan: 0, message: "replicas must be at least 1"}
          - {field: spec.environment, operator: in, value: "development,staging,production", message: "bad environment"}
          - {field: spec.rateLimit, operator: exists, message: "declare spec.rateLimit", action: warn}
      mutation:
        rules:
          - {field: spec.replicas, default: "2", valueType: int}
          - {field: spec.environment, default: development}
          - {field: spec.rateLimit, default: "100", valueType: int}
      conversion:
        storageVersion: v1
        paths:
          - from: v1alpha1
            to: v1
            spec:
              image: "{{ .spec.image }}"
              replicas: "{{ .spec.size }}"
              environment: "{{ .spec.env }}"
              label: "{{ .metadata.name }}-{{ .spec.env }}"
"#;

fn object() -> Value {
    json!({
        "apiVersion": "bench.ork.test/v1", "kind": "Platform",
        "metadata": {"name": "web", "namespace": "default", "uid": "u", "labels": {"app": "web"}},
        "spec": {"image": "registry.internal/web:1.2.3", "environment": "staging"},
    })
}

fn admission_body() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "0c9a8d74", "operation": "CREATE", "name": "web", "namespace": "default",
            "kind": {"group": "bench.ork.test", "version": "v1", "kind": "Platform"},
            "resource": {"group": "bench.ork.test", "version": "v1", "resource": "platforms"},
            "userInfo": {"username": "bench"},
            "object": object(),
        },
    }))
    .unwrap()
}

fn conversion_body() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
        "request": {"uid": "c1", "desiredAPIVersion": "bench.ork.test/v1", "objects": [{
            "apiVersion": "bench.ork.test/v1alpha1", "kind": "Platform",
            "metadata": {"name": "web", "namespace": "default", "uid": "u"},
            "spec": {"image": "registry.internal/web:1.2.3", "size": 3, "env": "staging"},
        }]},
    }))
    .unwrap()
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: std::net::SocketAddr, tls: tokio_rustls::TlsConnector) -> Sender {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let stream = tls
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

async fn send(sender: &mut Sender, path: &str, body: &Bytes) {
    sender.ready().await.unwrap();
    let req = hyper::Request::post(path)
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .body(Full::new(body.clone()))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    let _ = resp.into_body().collect().await.unwrap();
}

/// Latencies (µs) of `path` at `rate` req/s for `secs`, over `conns` connections (open
/// loop); `rate == 0` runs closed loop and returns the achieved rate too.
async fn load(
    addr: std::net::SocketAddr,
    tls: &tokio_rustls::TlsConnector,
    path: &'static str,
    body: &Bytes,
    rate: u32,
    secs: f64,
    conns: usize,
) -> (Vec<f64>, f64) {
    let start = Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::new();
    for c in 0..conns {
        let mut sender = connect(addr, tls.clone()).await;
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            if rate == 0 {
                tokio::time::sleep_until(start.into()).await;
                while start.elapsed().as_secs_f64() < secs {
                    let t = Instant::now();
                    send(&mut sender, path, &body).await;
                    lat.push(t.elapsed().as_secs_f64() * 1e6);
                }
            } else {
                let period = Duration::from_secs_f64(conns as f64 / rate as f64);
                let n = (secs * rate as f64 / conns as f64) as u32;
                for i in 0..n {
                    let scheduled = start + period * i + period.mul_f64(c as f64 / conns as f64);
                    tokio::time::sleep_until(scheduled.into()).await;
                    // From the actual send: tokio's timer wakes up to 1 ms late, which would
                    // swamp sub-millisecond figures; requests finish far inside the period,
                    // so no queueing is hidden.
                    let t = Instant::now();
                    send(&mut sender, path, &body).await;
                    lat.push(t.elapsed().as_secs_f64() * 1e6);
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let achieved = all.len() as f64 / secs;
    (all, achieved)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn row(name: &str, rate: &str, mut lat: Vec<f64>, achieved: f64, floor_p50: Option<f64>) -> f64 {
    lat.sort_by(f64::total_cmp);
    let mean = lat.iter().sum::<f64>() / lat.len() as f64;
    let p50 = pct(&lat, 0.5);
    let ratio = floor_p50.map_or(String::from("-"), |f| format!("{:.2}", p50 / f));
    println!(
        "{name:<10} {rate:>6} {achieved:>9.0} {:>7} {p50:>9.0} {:>9.0} {mean:>9.0} {ratio:>8}",
        lat.len(),
        pct(&lat, 0.99),
    );
    p50
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let loaded = katalog::load_text("bench.yaml", KATALOG).unwrap();
        let k = loaded.katalog;
        let plan = gateway::Plan::from_katalog(&k);
        let engine = katalog::build::engine_for(&k).unwrap();
        let client = kube::Client::try_from(kube::Config::new("http://127.0.0.1:1".parse().unwrap())).unwrap();
        let state = Arc::new(gateway::HandlerContext {
            plan,
            render: Arc::new(katalog::build::EngineRender::new(engine)),
            calls: Default::default(),
            client,
            metrics: gateway::metrics::Metrics::default(),
            notifier: gateway::notify::Notifier::new(Vec::new(), gateway::NotifyConfig::default()),
            notify_access: gateway::notify_access::Access::Open,
            ready: AtomicBool::new(true),
        });

        // In-process evaluation, no network.
        let crd = k.crds[0].clone();
        let obj = object();
        let conv = katalog::admission::Conversion::of(&crd).unwrap();
        let alpha: Value = serde_json::from_slice::<Value>(&conversion_body()).unwrap()["request"]["objects"][0].clone();
        let n = 20_000;
        let t = Instant::now();
        for _ in 0..n {
            let input = katalog::admission::Input::new(&obj, &*state.render, katalog::admission::Stage::Admission);
            let a = katalog::admission::admit(&crd, &input, true, true);
            assert!(a.is_allowed());
        }
        let admit_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        let t = Instant::now();
        for _ in 0..n {
            katalog::admission::convert(&conv, &alpha, "bench.ork.test/v1", &*state.render).unwrap();
        }
        let convert_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        println!("in process (mean of {n}): admit (mutate+validate) {admit_us:.1} µs, convert {convert_us:.1} µs");

        // The HTTPS stack.
        let material = gateway::tls::generate(&["127.0.0.1".into()], Duration::from_secs(3600)).unwrap();
        let resolver = gateway::tls::Resolver::new(&material).unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(resolver.server_config()));
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listener = gateway::serve::TlsListener::new(tcp, acceptor).unwrap();
        let addr = axum::serve::Listener::local_addr(&listener).unwrap();
        let canned = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                            "response": {"uid": "0c9a8d74", "allowed": true}});
        let router = gateway::serve::webhooks(state.clone()).route(
            "/floor",
            post(move |_b: Bytes| {
                let c = canned.clone();
                async move { axum::Json(c) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from_pem_slice(material.ca_bundle.as_bytes()).unwrap()).unwrap();
        let client_config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(client_config));
        let admission = Bytes::from(admission_body());
        let conversion = Bytes::from(conversion_body());
        // Warm up every route.
        for path in ["/floor", "/validate", "/mutate"] {
            load(addr, &tls, path, &admission, 0, 0.3, 4).await;
        }
        load(addr, &tls, "/convert", &conversion, 0, 0.3, 4).await;

        println!("\nover TLS, HTTP/1.1 keep-alive; latency in µs; ratio = p50 / floor p50 at the same rate");
        println!("{:<10} {:>6} {:>9} {:>7} {:>9} {:>9} {:>9} {:>8}", "route", "target", "achieved", "n", "p50", "p99", "mean", "ratio");
        for (label, rate, secs, conns) in [("100", 100, 5.0, 4), ("1000", 1000, 5.0, 8), ("max", 0, 3.0, 16)] {
            let (lat, ach) = load(addr, &tls, "/floor", &admission, rate, secs, conns).await;
            let floor = row("floor", label, lat, ach, None);
            for path in ["/validate", "/mutate"] {
                let (lat, ach) = load(addr, &tls, path, &admission, rate, secs, conns).await;
                row(path, label, lat, ach, Some(floor));
            }
            let (lat, ach) = load(addr, &tls, "/convert", &conversion, rate, secs, conns).await;
            row("/convert", label, lat, ach, Some(floor));
        }
    });
}
