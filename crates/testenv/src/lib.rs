//! A real local Kubernetes control plane on loopback, for tests, benchmarks and `ork dev`.
//!
//! ork is tested against the real thing: etcd, kube-apiserver and kube-controller-manager,
//! built from Go modules by `control-plane/build.sh` and started here on free ports with key
//! material generated in Rust. A test binary shares one control plane ([`shared`]); tests
//! isolate themselves by namespace ([`namespace`]) and unique CRD group ([`unique_name`]);
//! [`install_crd`] makes a schemaless CRD in such a group.
//!
//! With [`Config::workloads`] the control plane also schedules and "runs" Pods on simulated
//! Nodes (kube-scheduler plus kwok), so Deployments become Available and Jobs complete; no
//! container ever runs. [`workloads`] describes the simulation and how to make a Job fail.
//!
//! Fault injection: [`ControlPlane::proxy`] puts a [`FaultProxy`] (latency, bandwidth, cut,
//! refused and reset connections) between a client and the API server, and a dedicated control
//! plane can SIGKILL and restart its API server ([`ControlPlane::kill_apiserver`]) or etcd
//! ([`ControlPlane::kill_etcd`]), or start starved so it answers 429
//! ([`Config::max_requests_inflight`]).
//!
//! ```no_run
//! # async fn f() {
//! let cp = testenv::shared().await;
//! let client = cp.client().await.unwrap();
//! let ns = testenv::namespace(&client, "my-test").await;
//! # }
//! ```

mod binaries;
mod components;
mod config;
mod control_plane;
mod crds;
mod fault;
mod kubeconfig;
mod pki;
mod process;
mod shared;
mod wait;
pub mod workloads;

pub use binaries::{Binaries, KUBERNETES_VERSION};
pub use config::{Config, DEFAULT_CONTROLLERS};
pub use control_plane::{ControlPlane, Error, Result};
pub use crds::install_crd;
pub use fault::FaultProxy;
pub use pki::Identity;
pub use process::is_alive;
pub use shared::{namespace, shared, shared_with, unique_name};
pub use wait::eventually;
pub use workloads::{SIMULATE_ANNOTATION, SIMULATE_FAIL, WORKLOAD_CONTROLLERS};

/// Errors of the individual building blocks, for callers that match on them.
pub mod errors {
    pub use crate::binaries::Error as BinariesError;
    pub use crate::kubeconfig::Error as KubeconfigError;
    pub use crate::pki::Error as PkiError;
    pub use crate::process::Error as ProcessError;
}
