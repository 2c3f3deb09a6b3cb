//! `ork simulate`: the runtime's real reconcile pipeline run cycle by cycle against an
//! in-memory Kubernetes API, with no cluster and no control-plane binaries.
//!
//! - [`memory_api`]: the in-memory API a `kube::Client` talks to, recording every request.

pub mod memory_api;
