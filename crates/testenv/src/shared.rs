//! One control plane per test binary, and the helpers tests use to stay out of each other's way.

use std::sync::atomic::{AtomicU64, Ordering};

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use tokio::sync::OnceCell;

use crate::config::Config;
use crate::control_plane::{ControlPlane, error_chain};

static SHARED: OnceCell<Result<ControlPlane, String>> = OnceCell::const_new();

/// The test binary's shared control plane with the default [`Config`] plus an audit log,
/// started on first use.
///
/// # Panics
/// When the control plane cannot start — missing binaries, a crash at start-up — with the
/// reason and how to fix it. Every test using it then fails with the same message; nothing is
/// skipped. The processes are stopped by the janitor when the test binary exits.
pub async fn shared() -> &'static ControlPlane {
    shared_with(Config::new().audit_log(true)).await
}

/// Like [`shared`], with a configuration chosen by the test binary. The first caller's
/// configuration wins; use one configuration per test binary.
pub async fn shared_with(config: Config) -> &'static ControlPlane {
    let started = SHARED
        .get_or_init(|| async move {
            ControlPlane::start(config)
                .await
                .map_err(|e| error_chain(&e))
        })
        .await;
    match started {
        Ok(cp) => cp,
        Err(message) => panic!("the local control plane did not start: {message}"),
    }
}

/// A name unique within this test run: `<prefix>-<pid>-<counter>`, lowercase, RFC 1123.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// Creates a fresh namespace named after `prefix` and returns its name.
///
/// # Panics
/// When the namespace cannot be created.
pub async fn namespace(client: &kube::Client, prefix: &str) -> String {
    let name = unique_name(prefix);
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    api.create(&PostParams::default(), &ns)
        .await
        .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_differ_and_are_valid_dns_labels() {
        let a = unique_name("t");
        let b = unique_name("t");
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }
}
