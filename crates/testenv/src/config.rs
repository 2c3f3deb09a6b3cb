//! What kind of control plane to start.

use std::path::PathBuf;
use std::time::Duration;

/// The controllers kube-controller-manager runs by default: ownerReference garbage collection,
/// namespace deletion, and each namespace's `default` ServiceAccount.
pub const DEFAULT_CONTROLLERS: &[&str] = &[
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
];

/// How to start a [`crate::ControlPlane`]. Built with chained setters:
///
/// ```no_run
/// # async fn f() -> Result<(), testenv::Error> {
/// let cp = testenv::ControlPlane::start(testenv::Config::new().audit_log(true)).await?;
/// let client = cp.client().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) api_port: u16,
    pub(crate) controller_manager: bool,
    pub(crate) controllers: Vec<String>,
    pub(crate) audit_log: bool,
    pub(crate) start_timeout: Duration,
    pub(crate) binaries_dir: Option<PathBuf>,
    pub(crate) workloads: bool,
    pub(crate) max_requests_inflight: Option<(u32, u32)>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            state_dir: None,
            api_port: 0,
            controller_manager: true,
            controllers: DEFAULT_CONTROLLERS.iter().map(|c| c.to_string()).collect(),
            audit_log: false,
            start_timeout: Duration::from_secs(120),
            binaries_dir: None,
            workloads: false,
            max_requests_inflight: None,
        }
    }
}

impl Config {
    /// A throwaway control plane: data in a temporary directory removed on stop, free ports,
    /// kube-controller-manager with the default controllers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keep data in `dir` and reuse it on the next start (what `ork dev` does). The directory is
    /// not removed on stop.
    #[must_use]
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// The API server's port on 127.0.0.1; 0 (the default) picks a free one.
    #[must_use]
    pub fn api_port(mut self, port: u16) -> Self {
        self.api_port = port;
        self
    }

    /// Whether to run kube-controller-manager at all (default true; always with
    /// [`Config::workloads`]).
    #[must_use]
    pub fn controller_manager(mut self, enabled: bool) -> Self {
        self.controller_manager = enabled;
        self
    }

    /// Adds controllers to kube-controller-manager's list (names as in its `--controllers` flag).
    #[must_use]
    pub fn with_controllers<I, S>(mut self, controllers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for c in controllers {
            let c = c.into();
            if !self.controllers.contains(&c) {
                self.controllers.push(c);
            }
        }
        self
    }

    /// Write an audit log of every write request (file `audit.log` in the data directory), so
    /// tests can count the API writes a component makes.
    #[must_use]
    pub fn audit_log(mut self, enabled: bool) -> Self {
        self.audit_log = enabled;
        self
    }

    /// How long each process may take to become ready (default 120 s).
    #[must_use]
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Simulated workloads (default false): kube-controller-manager also runs the
    /// [`crate::WORKLOAD_CONTROLLERS`] (Deployments, ReplicaSets, Jobs, StatefulSets, DaemonSets,
    /// CronJobs, EndpointSlices, disruption budgets), kube-scheduler runs, and kwok plays the
    /// kubelets of [`crate::workloads::NODE_COUNT`] fake Nodes, so Pods run (on paper), Deployments
    /// become Available and Jobs complete. No container runs; see [`crate::workloads`] for what
    /// the simulated kubelets do and how to make a Job's Pods fail.
    ///
    /// It needs the `kwok` binary (built by `control-plane/build.sh`) and implies
    /// [`Config::controller_manager`]. [`crate::ControlPlane::start`] returns once every
    /// simulated Node is Ready.
    #[must_use]
    pub fn workloads(mut self, enabled: bool) -> Self {
        self.workloads = enabled;
        self
    }

    /// Starve the API server: at most `reads` non-mutating and `mutating` mutating requests in
    /// flight (its `--max-requests-inflight` and `--max-mutating-requests-inflight`, with API
    /// Priority and Fairness off so they apply); beyond that it answers 429 Too Many Requests
    /// with a `Retry-After`. Long-running requests (watches) do not count. Default: the API
    /// server's own limits.
    #[must_use]
    pub fn max_requests_inflight(mut self, reads: u32, mutating: u32) -> Self {
        self.max_requests_inflight = Some((reads, mutating));
        self
    }

    /// Read the binaries from `dir` instead of the build cache.
    #[must_use]
    pub fn binaries_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.binaries_dir = Some(dir.into());
        self
    }
}
