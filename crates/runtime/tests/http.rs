//! The HTTP API over a fixture view: status codes and the JSON shapes of §14 (insta snapshots,
//! volatile fields redacted), served through the real router; and over a [`LiveView`] of
//! running boxes on the real control plane, reading children and Events as the runtime's
//! ServiceAccount bound only by the generated rules.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use runtime::http::{
    AdmissionView, AutoscalerView, ChildView, CrdSettings, CrdView, EndpointsView, EventView,
    KatalogView, Probes, RuntimeView, Toggle, router,
};
use runtime::{Health, Metrics};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A process with two CRDs, `website` (healthy, 2 CRs) and `database` (configurable).
struct Fixture {
    probes: Mutex<Probes>,
    leader: bool,
    website: Health,
    database: Health,
    /// The `endpoints:` of `database`.
    database_endpoints: Mutex<EndpointsView>,
    metrics: Metrics,
}

impl Fixture {
    fn new(leader: bool) -> Self {
        let website = Health::new(3);
        let database = Health::new(2);
        if leader {
            website.mark_started();
            database.mark_started();
            website.record_success();
            website.record_failure("apply failed: conflict");
            website.record_success();
        }
        let metrics = Metrics::new();
        let web = metrics.crd("website");
        web.record_reconcile(Duration::from_millis(20), true);
        web.record_reconcile(Duration::from_millis(30), false);
        web.record_reconcile(Duration::from_millis(40), true);
        web.set_queue_depth(1);
        web.set_workers_active(2);
        web.set_resource_count(2);
        Self {
            probes: Mutex::new(Probes {
                started: true,
                ..Probes::default()
            }),
            leader,
            website,
            database,
            database_endpoints: Mutex::new(EndpointsView::default()),
            metrics,
        }
    }

    fn crd(&self, name: &str, gvk: &str, health: &Health, resources: usize) -> CrdView {
        let mut snapshot = health.snapshot(name);
        snapshot.queue_depth = 1;
        snapshot.resource_count = resources;
        CrdView {
            name: name.into(),
            gvk: gvk.into(),
            enabled: true,
            namespace: if name == "website" {
                "web".into()
            } else {
                String::new()
            },
            workers: 3,
            workers_source: "default".into(),
            resync: Duration::from_secs(30),
            rbac: vec![
                json!({"apiGroups": ["example.com"], "resources": [format!("{name}s")],
                              "verbs": ["get", "list", "watch"]}),
            ],
            health: snapshot,
            rollback_total: 0,
            rollback_active: 0,
            settings: if name == "website" {
                CrdSettings {
                    admission: AdmissionView {
                        webhooks_enabled: true,
                    },
                    deletion_protection: Toggle { enabled: true },
                    autoscaler: AutoscalerView {
                        enabled: true,
                        baseline_workers: 3,
                        scaled_workers: Some(8),
                        interval: Some("15s".into()),
                        cooldown: Some("2m".into()),
                        ..AutoscalerView::default()
                    },
                    ..CrdSettings::default()
                }
            } else {
                CrdSettings {
                    endpoints: *self.database_endpoints.lock().unwrap(),
                    ..CrdSettings::default()
                }
            },
        }
    }
}

impl RuntimeView for Fixture {
    fn katalog(&self) -> KatalogView {
        KatalogView {
            name: "shop".into(),
            version: "0.1.0".into(),
            raw: "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\n".into(),
            enriched: json!({"metadata": {"name": "shop"}}),
            raw_crds: BTreeMap::from([("website".into(), json!({"workers": 3}))]),
            enriched_crds: BTreeMap::from([(
                "website".into(),
                json!({"workers": 3, "resync": "30s"}),
            )]),
            gateway_endpoint: String::new(),
        }
    }

    fn probes(&self) -> Probes {
        *self.probes.lock().unwrap()
    }

    fn is_konductor(&self) -> bool {
        self.leader
    }

    fn crds(&self) -> Vec<CrdView> {
        vec![
            self.crd("website", "example.com/v1, Kind=Website", &self.website, 2),
            self.crd(
                "database",
                "example.com/v1, Kind=Database",
                &self.database,
                0,
            ),
        ]
    }

    fn objects(&self, crd: &str) -> Option<Vec<Value>> {
        match crd {
            "website" => Some(vec![
                json!({"metadata": {"name": "b-site", "namespace": "web", "generation": 1,
                                    "creationTimestamp": "2026-01-01T00:00:00Z"},
                       "spec": {"email": "b@example.com"}}),
                json!({"metadata": {"name": "a-site", "namespace": "web", "generation": 2,
                                    "creationTimestamp": "2026-01-01T00:00:00Z"},
                       "spec": {"email": "a@example.com"},
                       "status": {"phase": "Running",
                                  "conditions": [{"type": "Ready", "status": "True"}]}}),
            ]),
            "database" => Some(Vec::new()),
            _ => None,
        }
    }

    async fn children(&self, _: &str, cr: &Value) -> BTreeMap<String, Vec<ChildView>> {
        let text = |key: &str| cr["metadata"][key].as_str().unwrap_or_default().to_owned();
        BTreeMap::from([
            (
                "Deployment".to_owned(),
                vec![ChildView {
                    name: text("name"),
                    namespace: text("namespace"),
                    uid: String::new(),
                    ready: Some(true),
                }],
            ),
            (
                "Service".to_owned(),
                vec![ChildView {
                    name: format!("{}-web", text("name")),
                    namespace: text("namespace"),
                    uid: String::new(),
                    ready: None,
                }],
            ),
        ])
    }

    async fn events(&self, _: &str, _: &str, name: &str) -> Vec<EventView> {
        (0..120)
            .map(|i| EventView {
                type_: "Normal".into(),
                reason: "Reconciled".into(),
                message: format!("reconciled {name} #{i}"),
                age: format!("{i}s"),
            })
            .collect()
    }

    fn metrics(&self) -> String {
        self.metrics.encode()
    }
}

async fn get<V: RuntimeView>(view: Arc<V>, uri: &str) -> (StatusCode, String) {
    let response = router(view)
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn get_json<V: RuntimeView>(view: Arc<V>, uri: &str) -> (StatusCode, Value) {
    let (status, text) = get(view, uri).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{uri}: {e}: {text}")),
    )
}

#[tokio::test]
async fn probes_answer_503_while_booting_and_shutting_down() {
    let view = Arc::new(Fixture::new(true));
    *view.probes.lock().unwrap() = Probes::default();
    assert_eq!(
        get(view.clone(), "/startup").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get(view.clone(), "/ready").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(get(view.clone(), "/health").await.0, StatusCode::OK);
    view.probes.lock().unwrap().started = true;
    assert_eq!(get(view.clone(), "/startup").await.0, StatusCode::OK);
    assert_eq!(get(view.clone(), "/ready").await.0, StatusCode::OK);
    view.probes.lock().unwrap().shutting_down = true;
    assert_eq!(
        get(view.clone(), "/ready").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    view.probes.lock().unwrap().fatal = true;
    assert_eq!(
        get(view, "/health").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[tokio::test]
async fn a_degraded_crd_makes_katalog_and_ready_answer_503() {
    let view = Arc::new(Fixture::new(true));
    view.database.record_failure("boom");
    view.database.record_failure("boom");
    let (status, body) = get_json(view.clone(), "/katalog").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["healthy"], false);
    assert_eq!(body["totalDegraded"], 1);
    assert_eq!(body["degradedReason"], "degraded: database");
    assert_eq!(
        get(view.clone(), "/ready").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (status, health) = get_json(view, "/katalog/database/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health["state"], "degraded");
}

#[tokio::test]
async fn the_katalog_summary_has_the_documented_shape() {
    let (status, body) = get_json(Arc::new(Fixture::new(true)), "/katalog").await;
    assert_eq!(status, StatusCode::OK);
    insta::assert_json_snapshot!(body);
}

#[tokio::test]
async fn crd_info_and_health_have_the_documented_shape() {
    let view = Arc::new(Fixture::new(true));
    let (status, info) = get_json(view.clone(), "/katalog/website").await;
    assert_eq!(status, StatusCode::OK);
    insta::assert_json_snapshot!("crd_info", info);
    let (status, health) = get_json(view, "/katalog/website/health").await;
    assert_eq!(status, StatusCode::OK);
    insta::assert_json_snapshot!("crd_health", health, {
        ".startedAt" => "[time]", ".lastReconcile" => "[time]", ".uptime" => "[duration]",
    });
}

#[tokio::test]
async fn a_follower_reports_pending_and_is_not_konductor() {
    let view = Arc::new(Fixture::new(false));
    let (status, health) = get_json(view.clone(), "/katalog/website/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health["isKonductor"], false);
    assert_eq!(health["state"], "pending");
    assert_eq!(health["pending"], true);
    let (_, summary) = get_json(view.clone(), "/katalog").await;
    assert_eq!(summary["isKonductor"], false);
    assert_eq!(summary["OrkReady"], false);
    assert_eq!(summary["statusCounts"]["pending"], 2);
    assert_eq!(
        get(view, "/ready").await.0,
        StatusCode::OK,
        "followers serve traffic"
    );
}

#[tokio::test]
async fn cr_list_detail_and_events_have_the_documented_shape() {
    let view = Arc::new(Fixture::new(true));
    let (status, list) = get_json(view.clone(), "/katalog/website/cr?field=spec.email").await;
    assert_eq!(status, StatusCode::OK);
    insta::assert_json_snapshot!("cr_list", list, { ".items[].age" => "[duration]" });
    let (status, detail) = get_json(view.clone(), "/katalog/website/cr/web/a-site").await;
    assert_eq!(status, StatusCode::OK);
    insta::assert_json_snapshot!("cr_detail", detail);
    let (status, events) = get_json(view.clone(), "/katalog/website/cr/web/a-site/events").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        events["events"].as_array().unwrap().len(),
        100,
        "at most 100"
    );
    assert_eq!(
        events["events"][0],
        json!({"type": "Normal", "reason": "Reconciled",
        "message": "reconciled a-site #0", "age": "0s"})
    );
    assert_eq!(events["namespace"], "web");
}

#[tokio::test]
async fn unknown_crds_and_crs_are_404() {
    let view = Arc::new(Fixture::new(true));
    for uri in [
        "/katalog/nope",
        "/katalog/nope/health",
        "/katalog/nope/cr",
        "/katalog/website/cr/web/missing",
        "/katalog/website/cr/missing",
        "/katalog/website/cr/web/missing/events",
        "/katalog/database/raw",
    ] {
        let (status, body) = get_json(view.clone(), uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(
            body["error"].as_str().unwrap().ends_with("not found"),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn raw_and_enriched_serve_the_katalog_and_single_entries() {
    let view = Arc::new(Fixture::new(true));
    let (status, raw) = get(view.clone(), "/katalog/raw").await;
    assert_eq!(status, StatusCode::OK);
    assert!(raw.starts_with("apiVersion: orkestra.orkspace.io/v1"));
    assert_eq!(
        get_json(view.clone(), "/katalog/enriched").await.1["metadata"]["name"],
        "shop"
    );
    assert_eq!(
        get_json(view.clone(), "/katalog/website/raw").await.1,
        json!({"workers": 3})
    );
    assert_eq!(
        get_json(view, "/katalog/website/enriched").await.1["resync"],
        "30s"
    );
}

#[tokio::test]
async fn metrics_expose_the_five_controller_families_with_their_values() {
    let (status, text) = get(Arc::new(Fixture::new(true)), "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for line in [
        r#"controller_reconcile_total{crd="website",result="success"} 2"#,
        r#"controller_reconcile_total{crd="website",result="error"} 1"#,
        r#"controller_reconcile_duration_seconds_count{crd="website"} 3"#,
        r#"controller_queue_depth{crd="website"} 1"#,
        r#"controller_workers_active{crd="website"} 2"#,
        r#"controller_resource_count{crd="website"} 2"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}

#[tokio::test]
async fn endpoints_false_hides_the_routes_it_names() {
    let view = Arc::new(Fixture::new(true));
    let status = |uri: &'static str| {
        let view = view.clone();
        async move { get(view, uri).await.0 }
    };
    *view.database_endpoints.lock().unwrap() = EndpointsView {
        health: false,
        ..EndpointsView::default()
    };
    assert_eq!(
        status("/katalog/database/health").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(status("/katalog/database").await, StatusCode::OK);
    *view.database_endpoints.lock().unwrap() = EndpointsView {
        info: false,
        ..EndpointsView::default()
    };
    for uri in ["/katalog/database", "/katalog/database/enriched"] {
        assert_eq!(status(uri).await, StatusCode::NOT_FOUND, "{uri}");
    }
    assert_eq!(status("/katalog/database/health").await, StatusCode::OK);
    assert_eq!(status("/katalog/database/cr").await, StatusCode::OK);
    *view.database_endpoints.lock().unwrap() = EndpointsView {
        enabled: false,
        ..EndpointsView::default()
    };
    for uri in [
        "/katalog/database",
        "/katalog/database/health",
        "/katalog/database/cr",
        "/katalog/database/cr/x",
        "/katalog/database/cr/x/events",
    ] {
        assert_eq!(status(uri).await, StatusCode::NOT_FOUND, "{uri}");
    }
    let (_, summary) = get_json(view.clone(), "/katalog").await;
    let listed: Vec<&str> = summary["crds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["website"], "a hidden CRD is not listed");
    assert_eq!(summary["namespaces"], json!({"web": ["website"]}));
    assert_eq!(summary["total"], 2, "but it still counts");
    assert_eq!(status("/katalog/website/health").await, StatusCode::OK);
}

#[tokio::test]
async fn the_instant_query_answers_in_prometheus_shape() {
    let view = Arc::new(Fixture::new(true));
    let (status, answer) = get_json(
        view.clone(),
        "/api/v1/query?query=controller_reconcile_total%7Bcrd%3D%22website%22%7D",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    insta::assert_json_snapshot!("instant_query", answer, {
        ".data.result[].value[0]" => "[time]",
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let at = answer["data"]["result"][0]["value"][0].as_f64().unwrap();
    assert!((now - at).abs() < 60.0, "evaluated now: {at} vs {now}");
    let (status, unknown) = get_json(view.clone(), "/api/v1/query?query=nope_total").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unknown["data"]["result"], json!([]));
    let (status, refused) = get_json(
        view.clone(),
        "/api/v1/query?query=rate(controller_reconcile_total%5B5m%5D)",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("instant_query_refused", refused);
    assert_eq!(
        get_json(view, "/api/v1/query").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn metrics_include_the_process_families_and_the_query_reads_them() {
    let view = Arc::new(Fixture::new(true));
    let (_, text) = get(view.clone(), "/metrics").await;
    for family in [
        "process_cpu_seconds_total ",
        "process_resident_memory_bytes ",
        "process_virtual_memory_bytes ",
        "process_open_fds ",
        "process_max_fds ",
        "process_threads ",
        "process_start_time_seconds ",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(family)),
            "{family}in\n{text}"
        );
    }
    assert!(text.ends_with("# EOF\n"), "the end marker stays last");
    let (_, answer) = get_json(view, "/api/v1/query?query=process_resident_memory_bytes").await;
    let rss: u64 = answer["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rss > 0);
}

#[tokio::test]
async fn the_api_is_served_over_tcp_until_shutdown() {
    let (addr, stop, server) = serve_fixture().await;
    let mut stream = connect(addr).await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /startup HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// Serves the fixture's API on a free loopback port; returns the address and the stop switch.
async fn serve_fixture() -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<runtime::http::Result<()>>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(runtime::http::serve(
        addr,
        router(Arc::new(Fixture::new(true))),
        async move {
            let _ = stopped.await;
        },
    ));
    (addr, stop, server)
}

/// Connects to `addr` once the server listens.
async fn connect(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    loop {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(stream) => break stream,
            Err(_) => tokio::task::yield_now().await,
        }
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_and_unfinished_headers_are_cut_off() {
    use runtime::http::limits;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (addr, stop, server) = serve_fixture().await;
    // Declared too large: 413 with a JSON error, on any route and method.
    for (method, path) in [
        ("GET", "/katalog"),
        ("POST", "/health"),
        ("PUT", "/metrics"),
    ] {
        let mut stream = connect(addr).await;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            limits::BODY_LIMIT + 1
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply).await;
        assert!(
            reply.starts_with("HTTP/1.1 413"),
            "{method} {path}: {reply}"
        );
        let body: Value = serde_json::from_str(reply.split_once("\r\n\r\n").unwrap().1).unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("larger than"),
            "{body}"
        );
    }
    // A small body on a GET is harmless: the route answers.
    let mut stream = connect(addr).await;
    stream
        .write_all(
            b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
        )
        .await
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");

    // Headers never finished (one byte a second): the connection is closed after the
    // header-read timeout, and the server still answers others.
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let mut slow = connect(addr).await;
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (mut r, mut w) = slow.split();
    let mut buf = [0u8; 256];
    let cut = async {
        loop {
            tokio::select! {
                read = r.read(&mut buf) => if matches!(read, Ok(0) | Err(_)) { return },
                () = tokio::time::sleep(Duration::from_secs(1)) => {
                    if w.write_all(b"x").await.is_err() { return }
                }
            }
        }
    };
    tokio::time::timeout(limits::HEADER_READ_TIMEOUT * 2, cut)
        .await
        .expect("a connection with unfinished headers was not cut off");
    assert!(started.elapsed() >= limits::HEADER_READ_TIMEOUT - Duration::from_secs(1));
    tokio::time::resume();
    let mut stream = connect(addr).await;
    stream
        .write_all(b"GET /startup HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

// ── Against the real control plane ────────────────────────────────────────────────────────

const LIVE_CRD: &str = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: sites.GROUP}
spec:
  group: GROUP
  scope: Namespaced
  names: {kind: Site, plural: sites}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
";

/// Two Deployments (one of them scaled to zero, so ready without nodes) and a ConfigMap.
const LIVE_KATALOG: &str = r#"
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: live-http}
spec:
  crds:
    site:
      crdFile: ./crd.yaml
      operatorBox:
        onCreate:
          deployments:
            - name: "{{ .metadata.name }}"
              image: nginx
              replicas: "1"
              reconcile: true
            - name: "{{ .metadata.name }}-idle"
              image: nginx
              replicas: "0"
              reconcile: true
          configMaps:
            - name: "{{ .metadata.name }}-config"
              data: {greeting: hello}
              reconcile: true
"#;

/// A client authenticated as ServiceAccount `account` of `ns`, bound by a ClusterRole holding
/// the runtime rules `katalog::rbac` derives for `katalog`, less those `drop` picks.
async fn as_runtime(
    admin: &kube::Client,
    ns: &str,
    account: &str,
    katalog: &katalog::Katalog,
    drop: impl Fn(&katalog::rbac::PolicyRule) -> bool,
) -> kube::Client {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    let needs = katalog::rbac::Needs::from_katalog(katalog);
    let rules: Vec<Value> = katalog::rbac::runtime_rules(&needs)
        .iter()
        .filter(|r| !drop(r))
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    let name = format!("{ns}-{account}");
    let role: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": name}, "rules": rules,
    }))
    .unwrap();
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": ns}],
    }))
    .unwrap();
    let params = kube::api::PostParams::default();
    kube::Api::<ClusterRole>::all(admin.clone())
        .create(&params, &role)
        .await
        .unwrap();
    kube::Api::<ClusterRoleBinding>::all(admin.clone())
        .create(&params, &binding)
        .await
        .unwrap();
    testenv::shared()
        .await
        .client_as(&testenv::Identity::service_account(ns, account))
        .await
        .unwrap()
}

/// Log lines written while a future runs (`with_subscriber`), for checking warnings.
#[derive(Clone, Default)]
pub(crate) struct Captured(pub(crate) Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_and_events_are_served_live_with_only_the_generated_rules() {
    use kube::api::{Api, ApiResource, DynamicObject, PostParams};
    use runtime::http::LiveView;
    use tracing::instrument::WithSubscriber;

    let cp = testenv::shared().await;
    let admin = cp.client().await.unwrap();
    let ns = testenv::namespace(&admin, "http-live").await;
    let group = format!("{}.http.test", testenv::unique_name("g"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("crd.yaml"),
        LIVE_CRD.replace("GROUP", &group),
    )
    .unwrap();
    std::fs::write(dir.path().join("katalog.yaml"), LIVE_KATALOG).unwrap();
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    runtime::cluster::prepare(&admin, &loaded.katalog, Duration::from_secs(60))
        .await
        .unwrap();
    let supervisor = crate::support::supervise(&admin, &loaded.katalog, &Metrics::new()).await;
    let live = |client: kube::Client| {
        let view = Arc::new(LiveView::new(&loaded, Metrics::new(), Some(client), ""));
        view.set_leading(true);
        view.set_boxes(supervisor.boxes());
        view.mark_started();
        view
    };
    let runtime_client = as_runtime(&admin, &ns, "orkestra", &loaded.katalog, |_| false).await;
    let view = live(runtime_client);

    let sites = ApiResource {
        group: group.clone(),
        version: "v1".into(),
        api_version: format!("{group}/v1"),
        kind: "Site".into(),
        plural: "sites".into(),
    };
    let crs: Api<DynamicObject> = Api::namespaced_with(admin.clone(), &ns, &sites);
    crs.create(&PostParams::default(), &DynamicObject::new("web", &sites))
        .await
        .unwrap();
    // Children are cached for 30 s once looked up: ask only when all three exist.
    let configs: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(admin.clone(), &ns);
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(admin.clone(), &ns);
    crate::wait::eventually("the three children", Duration::from_secs(30), || async {
        configs.get_opt("web-config").await.ok()??;
        deployments.get_opt("web").await.ok()??;
        deployments.get_opt("web-idle").await.ok()??;
        view.objects("site")?
            .iter()
            .any(|o| o["metadata"]["name"] == "web")
            .then_some(())
    })
    .await;

    let uri = format!("/katalog/site/cr/{ns}/web");
    let (status, mut detail) = get_json(view.clone(), &uri).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    // Each child carries its uid (a child deleted and created again has a new one).
    for child in detail["children"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .flat_map(|list| list.as_array_mut().unwrap())
    {
        let uid = child.as_object_mut().unwrap().remove("uid");
        assert!(
            uid.is_some_and(|u| !u.as_str().unwrap().is_empty()),
            "{child}"
        );
    }
    assert_eq!(
        detail["children"],
        json!({
            "ConfigMap": [{"name": "web-config", "namespace": ns}],
            "Deployment": [
                {"name": "web", "namespace": ns, "ready": false},
                {"name": "web-idle", "namespace": ns, "ready": true},
            ],
        }),
        "no node runs the one-replica Deployment; the idle one needs none"
    );
    assert_eq!(detail["eventsEndpoint"], format!("{uri}/events"));

    let events_uri = format!("{uri}/events");
    let events =
        crate::wait::eventually("the Reconciled Event", Duration::from_secs(30), || async {
            let (status, body) = get_json(view.clone(), &events_uri).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let events = body["events"].as_array()?.clone();
            events
                .iter()
                .any(|e| e["reason"] == "Reconciled")
                .then_some(events)
        })
        .await;
    // An Event about the Deployment of the same name is not the CR's.
    let about_child: k8s_openapi::api::events::v1::Event = serde_json::from_value(json!({
        "metadata": {"name": "web.child", "namespace": ns},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "test", "reportingInstance": "test", "action": "Scale",
        "type": "Normal", "reason": "ScalingReplicaSet", "note": "scaled up",
        "regarding": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": ns},
    }))
    .unwrap();
    Api::<k8s_openapi::api::events::v1::Event>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &about_child)
        .await
        .unwrap();
    let (_, body) = get_json(view.clone(), &events_uri).await;
    assert!(
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["reason"] != "ScalingReplicaSet"),
        "{body}"
    );
    let reconciled = events.iter().find(|e| e["reason"] == "Reconciled").unwrap();
    assert_eq!(reconciled["type"], "Normal");
    assert!(
        reconciled["message"]
            .as_str()
            .unwrap()
            .starts_with("reconciled"),
        "{reconciled}"
    );
    assert!(
        reconciled["age"].as_str().unwrap().ends_with('s'),
        "{reconciled}"
    );

    // Without the events.k8s.io rule: 200 with no Events, and a warning that says why.
    let blind_client = as_runtime(&admin, &ns, "blind", &loaded.katalog, |r| {
        r.api_groups == ["events.k8s.io"]
    })
    .await;
    let blind = live(blind_client);
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let log = log.clone();
            move || log.clone()
        })
        .with_ansi(false)
        .finish();
    let (status, body) = get_json(blind, &events_uri)
        .with_subscriber(subscriber)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["events"], json!([]));
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("WARN") && log.contains("Events not shown") && log.contains("forbidden"),
        "{log}"
    );
    supervisor.stop().await.unwrap();
}
