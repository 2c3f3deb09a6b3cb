//! The two servers: HTTPS webhooks (only the routes the [`Plan`](crate::Plan) needs) and plain
//! HTTP (`/health`, `/ready`, `/metrics`, `/katalog`, `/notify`). Every route of both has a
//! body limit ([`limits`](crate::limits)).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use std::sync::Arc;

use kube::core::conversion::ConversionReview;

use crate::admit::{self, protect, rules};
use crate::notify::Notification;
use crate::webhook_config::paths;
use crate::{HandlerContext, limits};

/// A TLS listener: TCP accepts and handshakes run in the background (a slow client never
/// holds up others), finished streams are handed to the server. The socket closes once the
/// listener is dropped.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    /// Accepts on `tcp` with `acceptor`.
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(128);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    accepted = tcp.accept() => accepted,
                    // The server dropped the listener: stop listening.
                    () = tx.closed() => break,
                };
                let (stream, addr) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::debug!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, addr)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { local, ready })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(x) => x,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// Reads an AdmissionReview, answers it with `decide`, and records the answer. A body that
/// is not an AdmissionReview with a request gets 400 and a review saying why.
async fn handle<F, Fut>(
    context: Arc<HandlerContext>,
    route: &'static str,
    body: Bytes,
    decide: F,
) -> (StatusCode, Json<admit::Review>)
where
    F: FnOnce(Arc<HandlerContext>, admit::Request) -> Fut,
    Fut: Future<Output = admit::Response>,
{
    let started = Instant::now();
    let req = match admit::parse(&body) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, Json(admit::invalid(&e))),
    };
    let kind = req.kind.kind.clone();
    let r = decide(context.clone(), req).await;
    context
        .metrics
        .admission_done(route, &kind, r.allowed, started.elapsed());
    (StatusCode::OK, Json(r.into_review()))
}

async fn validate(
    State(context): State<Arc<HandlerContext>>,
    body: Bytes,
) -> (StatusCode, Json<admit::Review>) {
    handle(context, "validate", body, async |s, req| {
        rules::admit(&s, &req, rules::Route::Validate).await
    })
    .await
}

async fn mutate(
    State(context): State<Arc<HandlerContext>>,
    body: Bytes,
) -> (StatusCode, Json<admit::Review>) {
    handle(context, "mutate", body, async |s, req| {
        rules::admit(&s, &req, rules::Route::Mutate).await
    })
    .await
}

async fn deletion(
    State(context): State<Arc<HandlerContext>>,
    body: Bytes,
) -> (StatusCode, Json<admit::Review>) {
    handle(context, "deletion-protection", body, async |s, req| {
        protect::deletion(&s.plan, &req)
    })
    .await
}

async fn strict(
    State(context): State<Arc<HandlerContext>>,
    body: Bytes,
) -> (StatusCode, Json<admit::Review>) {
    handle(context, "strict-mode-protection", body, async |_, req| {
        protect::strict(&req)
    })
    .await
}

async fn namespace(
    State(context): State<Arc<HandlerContext>>,
    body: Bytes,
) -> (StatusCode, Json<admit::Review>) {
    handle(context, "namespace-protection", body, async |s, req| {
        protect::namespace(&s.plan, &req)
    })
    .await
}

async fn convert(
    State(context): State<Arc<HandlerContext>>,
    body: Bytes,
) -> (StatusCode, Json<ConversionReview>) {
    match crate::convert::convert(&context, &body) {
        Ok(review) => (StatusCode::OK, Json(review)),
        Err(unreadable) => (StatusCode::BAD_REQUEST, Json(*unreadable)),
    }
}

/// The HTTPS router: a route only for what the plan serves, bodies up to
/// [`WEBHOOK_BODY_LIMIT`](crate::limits::WEBHOOK_BODY_LIMIT).
pub fn webhooks(context: Arc<HandlerContext>) -> Router {
    let plan = &context.plan;
    let mut r = Router::new();
    if plan.serves_validate() {
        r = r.route(paths::VALIDATE, post(validate));
    }
    if plan.serves_mutate() {
        r = r.route(paths::MUTATE, post(mutate));
    }
    if plan.serves_convert() {
        r = r.route(paths::CONVERT, post(convert));
    }
    if plan.deletion_protection.is_some() {
        r = r.route(paths::DELETION, post(deletion));
    }
    if plan.serves_strict_mode() {
        r = r.route(paths::STRICT, post(strict));
    }
    if plan.serves_namespace_protection() {
        r = r.route(paths::NAMESPACE, post(namespace));
    }
    limits::with_body_limit(r.with_state(context), limits::WEBHOOK_BODY_LIMIT)
}

async fn health() -> &'static str {
    "ok"
}

async fn ready(State(context): State<Arc<HandlerContext>>) -> impl IntoResponse {
    if context.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

async fn metrics(State(context): State<Arc<HandlerContext>>) -> impl IntoResponse {
    (
        [(
            "content-type",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        context.metrics.encode(),
    )
}

fn crd_info(t: &crate::plan::Target) -> Value {
    json!({
        "gvr": format!("{}/{}/{}", t.crd.gvk.group, t.crd.gvk.version, t.crd.plural),
        "kind": t.crd.gvk.kind,
        "admission": {"validation": t.validate, "mutation": t.mutate, "operations": t.operations},
        "conversion": t.conversion.as_ref().map(|c| json!({
            "storageVersion": c.storage_version(),
            "paths": c.paths.iter().map(|p| format!("{}->{}", p.from, p.to)).collect::<Vec<_>>(),
        })),
        "deletionProtection": {"protectCRD": t.protect_crd},
        "namespaceProtection": {"restricted": t.restricted_namespaces, "allowed": t.allowed_namespaces},
    })
}

/// [`crd_info`] with the target's counters ([`crate::stats`]).
fn counted(context: &HandlerContext, t: &crate::plan::Target) -> Value {
    let mut info = crd_info(t);
    context.metrics.stats().add_to(&t.crd.gvk.kind, &mut info);
    info
}

async fn katalog_all(State(context): State<Arc<HandlerContext>>) -> Json<Value> {
    let plan = &context.plan;
    let crds: serde_json::Map<String, Value> = plan
        .targets
        .iter()
        .map(|t| (t.crd.name.clone(), counted(&context, t)))
        .collect();
    Json(json!({
        "source": "gateway",
        "katalog": plan.katalog,
        "security": {
            "admissionWebhooks": plan.serves_validate() || plan.serves_mutate(),
            "conversion": plan.serves_convert(),
            "deletionProtection": plan.deletion_protection.is_some(),
            "strictMode": plan.serves_strict_mode(),
            "namespaceProtection": plan.serves_namespace_protection(),
        },
        "crds": crds,
    }))
}

async fn katalog_one(
    State(context): State<Arc<HandlerContext>>,
    Path(crd): Path<String>,
) -> impl IntoResponse {
    match context.plan.targets.iter().find(|t| t.crd.name == crd) {
        Some(t) => {
            let mut v = counted(&context, t);
            v["source"] = json!("gateway");
            (StatusCode::OK, Json(v))
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("the gateway serves nothing for CRD {crd:?}")})),
        ),
    }
}

async fn notify(
    State(context): State<Arc<HandlerContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    if let Err((status, why)) = context.notify_access.admit(&headers) {
        return (status, Json(why));
    }
    let n: Notification = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("not a notification: {e}")})),
            );
        }
    };
    let outcome = context.notifier.notify(&n, &context.metrics).await;
    (StatusCode::ACCEPTED, Json(json!(outcome)))
}

/// The plain HTTP router, bodies up to [`PLAIN_BODY_LIMIT`](crate::limits::PLAIN_BODY_LIMIT).
pub fn plain(context: Arc<HandlerContext>) -> Router {
    let router = Router::new()
        .route("/health", get(health))
        .route("/healthz", get(health))
        .route("/ready", get(ready))
        // Startup and readiness coincide: the gateway has started once its webhooks are
        // registered, and a pod's startup probe stops asking after its first success.
        .route("/startup", get(ready))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/katalog", get(katalog_all))
        .route("/katalog/{crd}", get(katalog_one))
        .route("/notify", post(notify))
        .with_state(context);
    limits::with_body_limit(router, limits::PLAIN_BODY_LIMIT)
}
