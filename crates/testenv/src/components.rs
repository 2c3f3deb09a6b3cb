//! What the control plane's Go components (kube-controller-manager, kube-scheduler) are
//! started with in common, so [`crate::control_plane`] and [`crate::workloads`] both take it from
//! here instead of from each other.

use std::path::Path;

/// Requests per second the control plane's own clients (kube-controller-manager,
/// kube-scheduler) may send; the defaults (20 and 50) exist to protect a shared production API
/// server and would make a local rollout of 200 Pods take half a minute.
const LOCAL_CLIENT_QPS: u32 = 500;

/// The flags kube-controller-manager and kube-scheduler share: the admin kubeconfig for
/// everything, no leader election, no serving port, and no client-side rate limit to speak of
/// (20 and 50 requests/s by default would pace every rollout and garbage collection on a local
/// cluster; the API server's own limits still apply).
pub(crate) fn component_args(kubeconfig: &Path) -> Vec<String> {
    vec![
        format!("--kubeconfig={}", kubeconfig.display()),
        format!("--authentication-kubeconfig={}", kubeconfig.display()),
        format!("--authorization-kubeconfig={}", kubeconfig.display()),
        "--leader-elect=false".to_string(),
        "--bind-address=127.0.0.1".to_string(),
        "--secure-port=0".to_string(),
        format!("--kube-api-qps={LOCAL_CLIENT_QPS}"),
        format!("--kube-api-burst={}", 2 * LOCAL_CLIENT_QPS),
    ]
}
