//! What one request may cost the gateway: body sizes, header count and size, and how long a
//! client may take to send them; and [`serve`], the HTTP/1 server loop that enforces them on
//! both servers (axum's own `serve` sets no header-read timeout, so a client that never
//! finishes its headers would hold a connection forever).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Largest AdmissionReview or ConversionReview body (4 MiB). The API server sends the object
/// (and, on UPDATE, the old object) in one review; etcd stores objects up to 1.5 MiB, so a
/// review of the largest object with its old copy is about 3 MiB, plus JSON overhead.
pub const WEBHOOK_BODY_LIMIT: usize = 4 << 20;

/// Largest body of the plain HTTP server: a `/notify` notification is a few hundred bytes
/// (64 KiB).
pub const PLAIN_BODY_LIMIT: usize = 64 << 10;

/// How long a client may take to send a request's headers (hyper's `header_read_timeout`).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to send a body once its headers are in.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Most header lines one request may carry (hyper's default, stated here).
pub const MAX_HEADERS: usize = 100;

/// Most bytes hyper buffers while reading a request head: request line plus headers (64 KiB;
/// hyper's default would be ~400 KiB).
pub const MAX_HEAD_BYTES: usize = 64 << 10;

/// An error answer: `{"kind": "Status", "status": "Failure", "code": …, "message": …}`, a
/// `metav1.Status`, which the API server's client reads and shows in its own error.
fn refuse(status: StatusCode, reason: &str, message: String) -> Response {
    let body: Value = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "code": status.as_u16(),
        "message": message,
        "error": message,
    });
    (status, Json(body)).into_response()
}

/// Middleware: reads the whole body (at most `limit` bytes, within [`BODY_READ_TIMEOUT`])
/// before the handler runs. Too large → 413, too slow → 408, broken → 400, each with a JSON
/// body; a `Content-Length` over the limit is refused before a byte of the body is read.
pub async fn bounded_body(limit: usize, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("the request body is larger than {limit} bytes"),
        )
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let bytes =
        match tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(body, limit)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) if is_length_limit(&e) => return too_large(),
            Ok(Err(e)) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!("reading the request body: {e}"),
                );
            }
            Err(_) => {
                return refuse(
                    StatusCode::REQUEST_TIMEOUT,
                    "Timeout",
                    format!(
                        "the request body did not arrive within {}s",
                        BODY_READ_TIMEOUT.as_secs()
                    ),
                );
            }
        };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Resolves once `flag` is true (or its sender is gone).
async fn turned_true(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|f| *f).await;
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// `router` with [`bounded_body`] at `limit` in front of every route.
pub fn with_body_limit(router: Router, limit: usize) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| bounded_body(limit, req, next),
    ))
}

/// Serves `router` on `listener` over HTTP/1.1 with [`HEADER_READ_TIMEOUT`], [`MAX_HEADERS`]
/// and [`MAX_HEAD_BYTES`], until `stop` turns true; then stops accepting, lets open requests
/// finish, and returns once every connection is closed.
pub async fn serve<L>(mut listener: L, router: Router, mut stop: watch::Receiver<bool>)
where
    L: axum::serve::Listener,
{
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_HEAD_BYTES);
    let (closing_tx, closing) = watch::channel(false);
    let mut connections = JoinSet::new();
    loop {
        let (io, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = turned_true(&mut stop) => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let connection = http.serve_connection(TokioIo::new(io), service);
        let mut closing = closing.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                done = connection.as_mut() => {
                    if let Err(e) = done {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                () = turned_true(&mut closing) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = closing_tx.send(true);
    while connections.join_next().await.is_some() {}
}
