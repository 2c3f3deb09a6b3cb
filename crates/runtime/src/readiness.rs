//! Whether the API server can serve: its `GET /readyz`, checked every [`PERIOD`].
//!
//! When etcd is down, the API server still accepts connections and its watch cache keeps
//! watches open, but every write hangs until etcd's timeout: no watch fails and no reconcile
//! finishes, so nothing else would tell. While `/readyz` fails (or does not answer within
//! [`TIMEOUT`], or the API server is unreachable), every box carries the watch error
//! [`WATCH`] and `/katalog` reports it degraded; the first answer `ok` clears it. `/readyz`
//! is readable by every authenticated user (the `system:public-info-viewer` ClusterRole), so
//! this needs no RBAC rule.

use std::time::Duration;

use crate::Health;

/// How often `/readyz` is asked.
pub const PERIOD: Duration = Duration::from_secs(2);
/// How long one answer may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The name of the watch error it sets on every box.
pub const WATCH: &str = "apiserver";

/// Why the API server is not ready now, or `None` when it answers `ok`.
pub async fn not_ready(client: &kube::Client) -> Option<String> {
    let request = match hyper::Request::get("/readyz").body(Vec::new()) {
        Ok(request) => request,
        Err(error) => return Some(error.to_string()),
    };
    match tokio::time::timeout(TIMEOUT, client.request_text(request)).await {
        Ok(Ok(body)) if body.trim() == "ok" => None,
        Ok(Ok(body)) => Some(format!("API server not ready: {}", body.trim())),
        Ok(Err(error)) => Some(format!(
            "API server not ready: {}",
            crate::error_chain(&error)
        )),
        Err(_) => Some(format!(
            "API server not ready: no answer within {TIMEOUT:?}"
        )),
    }
}

/// Checks `/readyz` every [`PERIOD`] forever, marking `healths` degraded while it fails.
pub async fn watch(client: kube::Client, healths: Vec<Health>) {
    let mut failing = false;
    loop {
        match not_ready(&client).await {
            Some(reason) => {
                if !failing {
                    tracing::warn!(%reason, "the API server cannot serve: every OperatorBox is degraded until it can");
                }
                failing = true;
                for health in &healths {
                    health.set_watch_error(WATCH, &reason);
                }
            }
            None if failing => {
                tracing::info!("the API server is ready again");
                failing = false;
                for health in &healths {
                    health.clear_watch_error(WATCH);
                }
            }
            None => {}
        }
        tokio::time::sleep(PERIOD).await;
    }
}
