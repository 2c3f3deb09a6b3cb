//! What one request may cost the HTTP API: every route is a `GET` without a body, so a body
//! is refused past [`BODY_LIMIT`]; headers are bounded in count, size and time by
//! [`serve_connections`], the HTTP/1 loop `serve` runs (axum's own `serve` sets no
//! header-read timeout, so a client that never finishes its headers would hold a connection
//! forever).

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Largest request body (64 KiB): no route reads one.
pub const BODY_LIMIT: usize = 64 << 10;

/// How long a client may take to send a request's headers (hyper's `header_read_timeout`).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Most header lines one request may carry (hyper's default, stated here).
pub const MAX_HEADERS: usize = 100;

/// Most bytes hyper buffers while reading a request head (64 KiB; hyper's default would be
/// ~400 KiB).
pub const MAX_HEAD_BYTES: usize = 64 << 10;

/// Refuses a declared `Content-Length` over [`BODY_LIMIT`] with 413 and a JSON error before
/// the handler runs.
async fn refuse_large_bodies(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        let error = format!("the request body is larger than {BODY_LIMIT} bytes");
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(serde_json::json!({ "error": error })),
        )
            .into_response();
    }
    next.run(req).await
}

/// `router` with the body limit on every route: declared lengths are checked up front, and
/// any extractor that reads a body stops at [`BODY_LIMIT`].
pub fn bounded(router: Router) -> Router {
    router
        .layer(axum::middleware::from_fn(refuse_large_bodies))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Accepts on `listener` and serves `router` over HTTP/1.1 with [`HEADER_READ_TIMEOUT`],
/// [`MAX_HEADERS`] and [`MAX_HEAD_BYTES`] until `shutdown` completes; then stops accepting,
/// lets open requests finish and returns once every connection is closed.
pub async fn serve_connections(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_HEAD_BYTES);
    let (closing_tx, closing) = tokio::sync::watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "HTTP API: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let mut closing = closing.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                done = connection.as_mut() => {
                    if let Err(e) = done {
                        tracing::debug!(error = %e, "HTTP API: connection ended with an error");
                    }
                }
                _ = closing.changed() => {
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
