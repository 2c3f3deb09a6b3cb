//! The runtime's HTTP API (§14): probes, `/metrics` and the read-only `/katalog` endpoints.
//!
//! [`router`] builds the axum router over a [`RuntimeView`]; [`serve`] binds it. Every route
//! is `GET` and read-only, and there is no authentication (as in Orkestra): bind it to
//! loopback for local runs and keep it behind a NetworkPolicy in a cluster. It shows the
//! Katalog, CR statuses and Events, never Secrets. Request bodies, headers and the time to
//! send them are bounded ([`limits`]).
//!
//! | Path | 200 | otherwise |
//! |---|---|---|
//! | `/startup` | boot finished | 503 while booting |
//! | `/health` | alive | 500 on a fatal error |
//! | `/ready` | ready | 503 while booting, shutting down, or with a degraded CRD |
//! | `/metrics` | OpenMetrics text, `process_*` families included | |
//! | `/api/v1/query?query=<name>[{matchers}]` | Prometheus instant-query JSON | 400 bad query |
//! | `/katalog` | summary | 503 when a CRD is degraded (body still sent) |
//! | `/katalog/raw`, `/katalog/enriched` | the Katalog as written / with defaults | |
//! | `/katalog/{crd}`, `/katalog/{crd}/raw`, `/katalog/{crd}/enriched` | one CRD | 404 unknown |
//! | `/katalog/{crd}/health` | healthy | 503 unhealthy (followers: `pending`) |
//! | `/katalog/{crd}/cr[?field=a.b]` | CRs from the cache | 404 unknown CRD |
//! | `/katalog/{crd}/cr/{ns}/{name}` (or `/cr/{name}`) | one CR with children | 404 |
//! | `/katalog/{crd}/cr/{ns}/{name}/events` (or `/cr/{name}/events`) | its Events | 404 |
//!
//! Every `/katalog/{crd}…` route also answers 404 when the CRD's `endpoints:` hide it (see
//! [`EndpointsView`]).

mod body;
mod children;
pub mod limits;
mod live;
mod process;
mod query;
mod settings;
mod view;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use time::OffsetDateTime;

pub use body::{
    CrDetail, CrEvents, CrItem, CrList, CrdInfo, KatalogSummary, MetricsInfo, QueueInfo,
    StatusCounts,
};
pub use live::LiveView;
pub use settings::{AdmissionView, AutoscalerView, CrdSettings, EndpointsView, Toggle};
pub use view::{ChildView, CrdView, EventView, KatalogView, Probes, RuntimeView};

/// Errors serving the API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address could not be bound.
    #[error("binding the HTTP API to {addr}")]
    BindFailed {
        /// The address.
        addr: SocketAddr,
        /// The socket failure.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The router of every route in the table above, reading from `view`, with the body limit of
/// [`limits::bounded`].
pub fn router<V: RuntimeView>(view: Arc<V>) -> Router {
    let router = Router::new()
        .route("/startup", get(startup::<V>))
        .route("/health", get(health::<V>))
        .route("/ready", get(ready::<V>))
        .route("/metrics", get(metrics::<V>))
        .route("/api/v1/query", get(instant_query::<V>))
        .route("/katalog", get(katalog::<V>))
        .route("/katalog/raw", get(katalog_raw::<V>))
        .route("/katalog/enriched", get(katalog_enriched::<V>))
        .route("/katalog/{crd}", get(crd_info::<V>))
        .route("/katalog/{crd}/raw", get(crd_raw::<V>))
        .route("/katalog/{crd}/enriched", get(crd_enriched::<V>))
        .route("/katalog/{crd}/health", get(crd_health::<V>))
        .route("/katalog/{crd}/cr", get(cr_list::<V>))
        .route("/katalog/{crd}/cr/{name}", get(cr_cluster::<V>))
        .route("/katalog/{crd}/cr/{name}/events", get(events_cluster::<V>))
        .route(
            "/katalog/{crd}/cr/{namespace}/{name}",
            get(cr_namespaced::<V>),
        )
        .route(
            "/katalog/{crd}/cr/{namespace}/{name}/events",
            get(events_namespaced::<V>),
        )
        .with_state(view);
    limits::bounded(router)
}

/// Serves `router` on `addr` until `shutdown` completes, then lets open requests finish
/// (see [`limits::serve_connections`]).
///
/// # Errors
/// [`Error::BindFailed`] when the address is taken or not allowed.
pub async fn serve(
    addr: SocketAddr,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::BindFailed { addr, source })?;
    tracing::info!(%addr, "HTTP API listening");
    limits::serve_connections(listener, router, shutdown).await;
    Ok(())
}

type ViewState<V> = State<Arc<V>>;

fn text(status: StatusCode, body: &'static str) -> Response {
    (status, body).into_response()
}

fn not_found(what: String) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": format!("{what} not found") })),
    )
        .into_response()
}

async fn startup<V: RuntimeView>(State(view): ViewState<V>) -> Response {
    if view.probes().started {
        text(StatusCode::OK, "ok")
    } else {
        text(StatusCode::SERVICE_UNAVAILABLE, "starting")
    }
}

async fn health<V: RuntimeView>(State(view): ViewState<V>) -> Response {
    if view.probes().fatal {
        text(StatusCode::INTERNAL_SERVER_ERROR, "unhealthy")
    } else {
        text(StatusCode::OK, "ok")
    }
}

async fn ready<V: RuntimeView>(State(view): ViewState<V>) -> Response {
    let probes = view.probes();
    if !probes.started {
        text(StatusCode::SERVICE_UNAVAILABLE, "starting")
    } else if probes.shutting_down {
        text(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    } else if view
        .crds()
        .iter()
        .any(|c| c.enabled && c.health.state == crate::State::Degraded)
    {
        text(StatusCode::SERVICE_UNAVAILABLE, "degraded")
    } else {
        text(StatusCode::OK, "ok")
    }
}

/// The view's metrics plus this process's `process_*` families.
fn exposition<V: RuntimeView>(view: &V) -> String {
    process::with_process(view.metrics(), process::Sample::read())
}

async fn metrics<V: RuntimeView>(State(view): ViewState<V>) -> Response {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        exposition(&*view),
    )
        .into_response()
}

/// `?query=` of `/api/v1/query`.
#[derive(Debug, Deserialize)]
struct PromQuery {
    query: Option<String>,
}

async fn instant_query<V: RuntimeView>(
    State(view): ViewState<V>,
    Query(params): Query<PromQuery>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let time = now.unix_timestamp() as f64 + f64::from(now.millisecond()) / 1000.0;
    let answer = query::Answer::of(params.query.as_deref(), &exposition(&*view), time);
    let status = if answer.is_success() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, Json(answer)).into_response()
}

async fn katalog<V: RuntimeView>(State(view): ViewState<V>) -> Response {
    let summary = body::summary(&view.katalog(), &view.crds(), view.is_konductor());
    let status = StatusCode::from_u16(summary.status).unwrap_or(StatusCode::OK);
    (status, Json(summary)).into_response()
}

async fn katalog_raw<V: RuntimeView>(State(view): ViewState<V>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        view.katalog().raw,
    )
        .into_response()
}

async fn katalog_enriched<V: RuntimeView>(State(view): ViewState<V>) -> Response {
    Json(view.katalog().enriched).into_response()
}

/// The CRD `name`, if `serves` says its `endpoints:` show the route asked for: a hidden route
/// answers 404 as an unknown CRD does.
fn find_crd<V: RuntimeView>(
    view: &V,
    name: &str,
    serves: fn(&EndpointsView) -> bool,
) -> Option<CrdView> {
    view.crds()
        .into_iter()
        .find(|c| c.name == name && serves(&c.settings.endpoints))
}

/// Whether a CRD's CR routes (`/cr`, `/cr/…`, `…/events`) are shown.
fn serves_crs<V: RuntimeView>(view: &V, name: &str) -> bool {
    find_crd(view, name, |e| e.enabled).is_some()
}

async fn crd_info<V: RuntimeView>(State(view): ViewState<V>, Path(crd): Path<String>) -> Response {
    match find_crd(&*view, &crd, EndpointsView::serves_info) {
        Some(found) => Json(body::info(&found, view.is_konductor())).into_response(),
        None => not_found(format!("CRD {crd}")),
    }
}

async fn crd_raw<V: RuntimeView>(State(view): ViewState<V>, Path(crd): Path<String>) -> Response {
    let shown = find_crd(&*view, &crd, EndpointsView::serves_info).is_some();
    entry(view.katalog().raw_crds.remove(&crd).filter(|_| shown), &crd)
}

async fn crd_enriched<V: RuntimeView>(
    State(view): ViewState<V>,
    Path(crd): Path<String>,
) -> Response {
    let shown = find_crd(&*view, &crd, EndpointsView::serves_info).is_some();
    entry(
        view.katalog().enriched_crds.remove(&crd).filter(|_| shown),
        &crd,
    )
}

fn entry(found: Option<serde_json::Value>, crd: &str) -> Response {
    match found {
        Some(entry) => Json(entry).into_response(),
        None => not_found(format!("CRD {crd}")),
    }
}

async fn crd_health<V: RuntimeView>(
    State(view): ViewState<V>,
    Path(crd): Path<String>,
) -> Response {
    let Some(found) = find_crd(&*view, &crd, EndpointsView::serves_health) else {
        return not_found(format!("CRD {crd}"));
    };
    let mut health = found.health;
    health.is_konductor = view.is_konductor();
    let status = StatusCode::from_u16(health.status).unwrap_or(StatusCode::OK);
    (status, Json(health)).into_response()
}

/// `?field=<dot.path>` of the CR list.
#[derive(Debug, Deserialize)]
struct FieldQuery {
    field: Option<String>,
}

async fn cr_list<V: RuntimeView>(
    State(view): ViewState<V>,
    Path(crd): Path<String>,
    Query(query): Query<FieldQuery>,
) -> Response {
    let Some(objects) = view.objects(&crd).filter(|_| serves_crs(&*view, &crd)) else {
        return not_found(format!("CRD {crd}"));
    };
    let now = OffsetDateTime::now_utc();
    let field = query.field.as_deref().filter(|f| !f.is_empty());
    let mut items: Vec<CrItem> = objects.iter().map(|o| body::item(o, field, now)).collect();
    items.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Json(CrList { crd, items }).into_response()
}

/// The cached object `namespace/name` of `crd`, or what was not found.
fn find_object<V: RuntimeView>(
    view: &V,
    crd: &str,
    namespace: &str,
    name: &str,
) -> Result<serde_json::Value, String> {
    let objects = view
        .objects(crd)
        .filter(|_| serves_crs(view, crd))
        .ok_or_else(|| format!("CRD {crd}"))?;
    objects
        .into_iter()
        .find(|o| {
            let meta = &o["metadata"];
            meta["name"].as_str() == Some(name)
                && meta["namespace"].as_str().unwrap_or_default() == namespace
        })
        .ok_or_else(|| {
            let key = if namespace.is_empty() {
                name.to_owned()
            } else {
                format!("{namespace}/{name}")
            };
            format!("{crd} {key}")
        })
}

async fn cr_detail<V: RuntimeView>(view: &V, crd: &str, namespace: &str, name: &str) -> Response {
    match find_object(view, crd, namespace, name) {
        Ok(object) => {
            let children = view.children(crd, &object).await;
            Json(body::detail(crd, &object, children)).into_response()
        }
        Err(what) => not_found(what),
    }
}

async fn cr_events<V: RuntimeView>(view: &V, crd: &str, namespace: &str, name: &str) -> Response {
    match find_object(view, crd, namespace, name) {
        Ok(_) => {
            let mut events = view.events(crd, namespace, name).await;
            events.truncate(100);
            Json(CrEvents {
                name: name.to_owned(),
                namespace: namespace.to_owned(),
                events,
            })
            .into_response()
        }
        Err(what) => not_found(what),
    }
}

async fn cr_cluster<V: RuntimeView>(
    State(view): ViewState<V>,
    Path((crd, name)): Path<(String, String)>,
) -> Response {
    cr_detail(&*view, &crd, "", &name).await
}

async fn cr_namespaced<V: RuntimeView>(
    State(view): ViewState<V>,
    Path((crd, namespace, name)): Path<(String, String, String)>,
) -> Response {
    cr_detail(&*view, &crd, &namespace, &name).await
}

async fn events_cluster<V: RuntimeView>(
    State(view): ViewState<V>,
    Path((crd, name)): Path<(String, String)>,
) -> Response {
    cr_events(&*view, &crd, "", &name).await
}

async fn events_namespaced<V: RuntimeView>(
    State(view): ViewState<V>,
    Path((crd, namespace, name)): Path<(String, String, String)>,
) -> Response {
    cr_events(&*view, &crd, &namespace, &name).await
}
