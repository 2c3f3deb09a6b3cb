//! The HTTP side: the embedded UI and the read-only JSON it reads. Every route is a `GET`.
//!
//! | Path | Content |
//! |---|---|
//! | `/` | the UI (one HTML page; views are `#/…` URLs) |
//! | `/assets/app.js`, `/assets/app.css` | its script and style, embedded in the binary |
//! | `/healthz` | `ok` |
//! | `/api/state` | the [`Snapshot`](crate::aggregator::Snapshot): endpoints and merged Katalogs |
//! | `/api/katalogs/{k}/crds/{crd}/health` | the leader's `/katalog/{crd}/health` |
//! | `/api/katalogs/{k}/crds/{crd}/cr` | the leader's CR list |
//! | `/api/katalogs/{k}/crds/{crd}/cr/{ns}/{name}` | `{"detail", "events"}` of one CR (`ns` `_` when cluster-scoped) |
//!
//! CR requests go to the Katalog's leader first, then to its other live replicas. Children
//! of kind Secret are passed on by name and namespace only.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::aggregator::Aggregator;
use crate::source::Source;

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");

/// Nothing is loaded from anywhere but this server; no inline script or style.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

type Shared<S> = State<Arc<Aggregator<S>>>;

/// The router of the table above over `aggregator`.
pub fn router<S: Source>(aggregator: Arc<Aggregator<S>>) -> Router {
    let router = Router::new()
        .route("/", get(|| asset("text/html; charset=utf-8", INDEX)))
        .route(
            "/assets/app.js",
            get(|| asset("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/assets/app.css",
            get(|| asset("text/css; charset=utf-8", STYLE)),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/state", get(state::<S>))
        .route(
            "/api/katalogs/{katalog}/crds/{crd}/health",
            get(health::<S>),
        )
        .route("/api/katalogs/{katalog}/crds/{crd}/cr", get(cr_list::<S>))
        .route(
            "/api/katalogs/{katalog}/crds/{crd}/cr/{namespace}/{name}",
            get(cr_detail::<S>),
        )
        .with_state(aggregator)
        .layer(axum::middleware::map_response(secure_headers));
    runtime::http::limits::bounded(router)
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn secure_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn state<S: Source>(State(aggregator): Shared<S>) -> Response {
    Json(&*aggregator.snapshot()).into_response()
}

/// Whether `segment` may be put in a runtime URL as is: Kubernetes names and Katalog CRD
/// names are DNS labels or subdomains.
fn is_name(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= 253
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && segment != "."
        && segment != ".."
}

fn error(status: u16, message: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    (status, Json(json!({ "error": message }))).into_response()
}

fn bad_name(segment: &str) -> Response {
    error(400, format!("{segment:?} is not a Kubernetes name"))
}

async fn relay<S: Source>(aggregator: &Aggregator<S>, katalog: &str, path: &str) -> Response {
    match aggregator.ask(katalog, path).await {
        Ok(body) => Json(body).into_response(),
        Err((status, message)) => error(status, message),
    }
}

async fn health<S: Source>(
    State(aggregator): Shared<S>,
    Path((katalog, crd)): Path<(String, String)>,
) -> Response {
    if !is_name(&crd) {
        return bad_name(&crd);
    }
    // A degraded CRD answers 503 with its health: that is the answer to show.
    let path = format!("/katalog/{crd}/health");
    for url in aggregator.runtimes_of(&katalog) {
        if let Ok(answer) = aggregator.source().get(&format!("{url}{path}")).await {
            return match answer.json() {
                Ok(body) => Json(body).into_response(),
                Err(message) => error(502, message),
            };
        }
    }
    error(502, format!("no runtime of Katalog {katalog:?} answered"))
}

async fn cr_list<S: Source>(
    State(aggregator): Shared<S>,
    Path((katalog, crd)): Path<(String, String)>,
) -> Response {
    if !is_name(&crd) {
        return bad_name(&crd);
    }
    relay(&aggregator, &katalog, &format!("/katalog/{crd}/cr")).await
}

async fn cr_detail<S: Source>(
    State(aggregator): Shared<S>,
    Path((katalog, crd, namespace, name)): Path<(String, String, String, String)>,
) -> Response {
    let namespace = if namespace == "_" {
        String::new()
    } else {
        namespace
    };
    for segment in [&crd, &name] {
        if !is_name(segment) {
            return bad_name(segment);
        }
    }
    if !namespace.is_empty() && !is_name(&namespace) {
        return bad_name(&namespace);
    }
    let path = if namespace.is_empty() {
        format!("/katalog/{crd}/cr/{name}")
    } else {
        format!("/katalog/{crd}/cr/{namespace}/{name}")
    };
    let mut detail = match aggregator.ask(&katalog, &path).await {
        Ok(detail) => detail,
        Err((status, message)) => return error(status, message),
    };
    hide_secrets(&mut detail);
    let events = match aggregator.ask(&katalog, &format!("{path}/events")).await {
        Ok(events) => events["events"].clone(),
        Err((_, message)) => json!({ "error": message }),
    };
    Json(json!({ "detail": detail, "events": events })).into_response()
}

/// Keeps only the name and namespace of Secret children.
fn hide_secrets(detail: &mut Value) {
    let secrets = detail
        .get_mut("children")
        .and_then(|c| c.get_mut("Secret"))
        .and_then(Value::as_array_mut);
    if let Some(secrets) = secrets {
        for secret in secrets {
            *secret = json!({
                "name": secret["name"].clone(),
                "namespace": secret["namespace"].clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_passed_to_a_runtime() {
        assert!(is_name("my-app.v1"));
        for bad in ["", "..", "a/b", "a?b", "a%2Fb", "a b"] {
            assert!(!is_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn secret_children_keep_only_their_name() {
        let mut detail = json!({"children": {
            "Secret": [{"name": "creds", "namespace": "default", "ready": true, "data": {"k": "c2VjcmV0"}}],
            "Service": [{"name": "web", "namespace": "default", "ready": true}],
        }});
        hide_secrets(&mut detail);
        assert_eq!(
            detail["children"]["Secret"][0],
            json!({"name": "creds", "namespace": "default"})
        );
        assert_eq!(detail["children"]["Service"][0]["ready"], true);
        let mut without = json!({"children": {"Deployment": []}});
        hide_secrets(&mut without);
        assert_eq!(without, json!({"children": {"Deployment": []}}));
    }
}
