//! `ork simulate --dev-server`: a local HTTP server with fixed answers for the `external:`
//! calls of Orkestra's example packs (health checks, config blobs, image signing, tokens,
//! feature flags, SBOM and cosign, Vault KV, OPA decisions, certificate status, a worker
//! pool's queue metrics), so packs
//! that call `http://localhost:9999/...` run without any real service. Written from the
//! endpoint reference of Orkestra's dev server (behaviour only): every answer is immediate;
//! flag and certificate toggles last as long as the process.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// Orkestra's dev-server port.
pub const DEFAULT_PORT: u16 = 9999;

/// What the toggles changed: flags (`app/flag` → value), pending certificates, and whether
/// `/workload-metrics` reports high load.
#[derive(Debug, Default)]
struct Toggles {
    flags: HashMap<String, bool>,
    pending_certs: HashMap<String, bool>,
    high_load: bool,
}

type Shared = Arc<Mutex<Toggles>>;

fn json_at(code: StatusCode, body: Value) -> Response {
    (code, axum::Json(body)).into_response()
}

fn text(body: impl Into<String>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain")],
        body.into(),
    )
        .into_response()
}

async fn status_code(Path(code): Path<u16>) -> Response {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    let status = if code.is_success() {
        "ok"
    } else {
        "unavailable"
    };
    json_at(code, json!({"status": status}))
}

async fn sbom(Path(image): Path<String>) -> Response {
    match image.as_str() {
        "nginx:unknown" => json_at(
            StatusCode::NOT_FOUND,
            json!({"error": "no SBOM found", "image": image}),
        ),
        "nginx:vulnerable" => json_at(
            StatusCode::OK,
            json!({"image": image, "scanner": "dev-scanner", "critical": 3, "high": 12,
                   "medium": 2, "low": 7, "clean": false}),
        ),
        _ => json_at(
            StatusCode::OK,
            json!({"image": image, "scanner": "dev-scanner", "critical": 0, "high": 0,
                   "medium": 2, "low": 7, "clean": true}),
        ),
    }
}

async fn cosign(body: String) -> Response {
    let image = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["image"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if image == "nginx:unsigned" {
        return json_at(
            StatusCode::FORBIDDEN,
            json!({"error": "no valid signature found", "image": image,
                   "reason": "image has no cosign signature — sign it before deploying"}),
        );
    }
    json_at(
        StatusCode::OK,
        json!({"verified": true, "image": image, "signer": "dev-signer@example.com",
               "algorithm": "ecdsa-p256"}),
    )
}

async fn vault(Path(path): Path<String>) -> Response {
    if path.contains("expired") {
        return json_at(
            StatusCode::FORBIDDEN,
            json!({"errors": ["lease expired: the secret must be rotated"]}),
        );
    }
    if path.contains("missing") {
        return json_at(StatusCode::NOT_FOUND, json!({"errors": []}));
    }
    json_at(
        StatusCode::OK,
        json!({"data": {
            "data": {"value": "dev-secret-value", "expires_at": "2099-12-31T00:00:00Z"},
            "metadata": {"version": 1, "created_time": "2026-01-01T00:00:00Z",
                         "deletion_time": "", "destroyed": false},
        }}),
    )
}

async fn opa(body: String) -> Response {
    let input = serde_json::from_str::<Value>(&body)
        .map(|v| v["input"].clone())
        .unwrap_or(Value::Null);
    let reason = if input["namespace"] == "forbidden" {
        "namespace not permitted by org policy"
    } else if input["name"].as_str().is_some_and(|n| n.contains("deny")) {
        "name contains a denied prefix"
    } else {
        ""
    };
    let allow = reason.is_empty();
    json_at(
        StatusCode::OK,
        json!({"result": {"allow": allow, "deny": !allow, "reason": reason}}),
    )
}

async fn flag(State(t): State<Shared>, Path((app, flag)): Path<(String, String)>) -> Response {
    let toggles = t.lock().unwrap_or_else(PoisonError::into_inner);
    let value = toggles
        .flags
        .get(&format!("{app}/{flag}"))
        .copied()
        .unwrap_or(true);
    text(value.to_string())
}

async fn toggle_flag(
    State(t): State<Shared>,
    Path((app, flag)): Path<(String, String)>,
) -> Response {
    let mut toggles = t.lock().unwrap_or_else(PoisonError::into_inner);
    let value = toggles.flags.entry(format!("{app}/{flag}")).or_insert(true);
    *value = !*value;
    text(value.to_string())
}

async fn cert(State(t): State<Shared>, Path(name): Path<String>) -> Response {
    let pending = t
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pending_certs
        .get(&name)
        .copied()
        .unwrap_or(false);
    let (code, status) = if pending {
        (StatusCode::ACCEPTED, "pending")
    } else {
        (StatusCode::OK, "issued")
    };
    json_at(
        code,
        json!({"name": name, "status": status, "issuer": "dev-ca",
               "expires_at": "2099-12-31T00:00:00Z"}),
    )
}

async fn toggle_cert(State(t): State<Shared>, Path(name): Path<String>) -> Response {
    let mut toggles = t.lock().unwrap_or_else(PoisonError::into_inner);
    let pending = toggles.pending_certs.entry(name).or_insert(false);
    *pending = !*pending;
    text(if *pending { "pending" } else { "issued" })
}

/// A worker pool's queue: 8 pending jobs, or 152 under high load (above the 100 of the
/// workload-autoscaler packs' scale-up condition).
async fn workload_metrics(State(t): State<Shared>) -> Response {
    let high = t.lock().unwrap_or_else(PoisonError::into_inner).high_load;
    let pending = if high { 152 } else { 8 };
    json_at(
        StatusCode::OK,
        json!({"queue": {"pendingJobs": pending, "processingRate": 120, "errorRate": 0,
                         "workerUtilPct": 22}}),
    )
}

async fn flip_workload_metrics(State(t): State<Shared>) -> Response {
    let mut toggles = t.lock().unwrap_or_else(PoisonError::into_inner);
    toggles.high_load = !toggles.high_load;
    text(if toggles.high_load {
        "high-load"
    } else {
        "baseline"
    })
}

/// The dev server's routes.
pub fn router() -> Router {
    Router::new()
        .route(
            "/health",
            get(|| async { json_at(StatusCode::OK, json!({"status": "ok"})) }),
        )
        .route("/status/{code}", get(status_code))
        .route(
            "/config/{name}",
            get(|Path(name): Path<String>| async move {
                json_at(
                    StatusCode::OK,
                    json!({"name": name, "env": "production", "debug": "false", "replicas": 2}),
                )
            }),
        )
        .route(
            "/sign",
            post(|| async { json_at(StatusCode::OK, json!({"signed": true})) }),
        )
        .route("/auth/token", post(|| async { text("dev-token-abc123") }))
        .route(
            "/resources/{name}",
            get(|Path(name): Path<String>| async move {
                json_at(
                    StatusCode::OK,
                    json!({"name": name, "status": "active", "ready": true}),
                )
            }),
        )
        .route(
            "/flags/{name}",
            get(|Path(name): Path<String>| async move {
                json_at(
                    StatusCode::OK,
                    json!({"name": name, "v2Enabled": true, "betaEnabled": false}),
                )
            }),
        )
        .route("/flags/{name}/{flag}", get(flag))
        .route("/flags/{name}/{flag}/toggle", post(toggle_flag))
        .route("/sbom/{*image}", get(sbom))
        .route("/cosign/verify", post(cosign))
        .route("/vault/v1/secret/data/{*path}", get(vault))
        .route("/v1/data/{*policy}", post(opa))
        .route("/certs/{name}/status", get(cert))
        .route("/certs/{name}/toggle", post(toggle_cert))
        .route("/workload-metrics", get(workload_metrics))
        .route("/workload-metrics/flip", post(flip_workload_metrics))
        .with_state(Shared::default())
}

/// Starts the dev server on `127.0.0.1:port` (0: a free port) in the background, for the
/// rest of the process; returns the address it listens on.
///
/// # Errors
/// The port is taken.
pub async fn start(port: u16) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router()).await;
    });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    use super::*;

    async fn call(app: &Router, method: &str, uri: &str, body: &str) -> (u16, String) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::from(body.to_owned()))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let code = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (code, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn answers_and_toggles_as_the_example_packs_expect() {
        let app = router();
        assert_eq!(call(&app, "GET", "/health", "").await.0, 200);
        assert_eq!(call(&app, "GET", "/status/503", "").await.0, 503);
        assert!(
            call(&app, "GET", "/config/web", "")
                .await
                .1
                .contains("\"name\":\"web\"")
        );
        assert_eq!(call(&app, "GET", "/flags/shop/v2", "").await.1, "true");
        assert_eq!(
            call(&app, "POST", "/flags/shop/v2/toggle", "").await.1,
            "false"
        );
        assert_eq!(call(&app, "GET", "/flags/shop/v2", "").await.1, "false");
        assert_eq!(call(&app, "GET", "/sbom/nginx:unknown", "").await.0, 404);
        assert!(
            call(&app, "GET", "/sbom/nginx:vulnerable", "")
                .await
                .1
                .contains("\"clean\":false")
        );
        let unsigned = r#"{"image": "nginx:unsigned"}"#;
        assert_eq!(call(&app, "POST", "/cosign/verify", unsigned).await.0, 403);
        assert_eq!(
            call(&app, "GET", "/vault/v1/secret/data/app/expired", "")
                .await
                .0,
            403
        );
        let denied = r#"{"input": {"name": "a", "namespace": "forbidden"}}"#;
        assert!(
            call(&app, "POST", "/v1/data/org/allow", denied)
                .await
                .1
                .contains("\"allow\":false")
        );
        let pending = |body: String| body.contains("\"pendingJobs\":152");
        assert!(!pending(call(&app, "GET", "/workload-metrics", "").await.1));
        assert_eq!(
            call(&app, "POST", "/workload-metrics/flip", "").await.1,
            "high-load"
        );
        assert!(pending(call(&app, "GET", "/workload-metrics", "").await.1));
        assert_eq!(call(&app, "POST", "/certs/c/toggle", "").await.1, "pending");
        assert_eq!(call(&app, "GET", "/certs/c/status", "").await.0, 202);
    }
}
