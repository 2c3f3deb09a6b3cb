//! The runtime under faults, each test on its own control plane (it kills and restarts
//! processes there, which would break tests sharing [`testenv::shared`]):
//!
//! - `control_plane`: kube-apiserver SIGKILLed and restarted, etcd SIGKILLed and restarted, a
//!   starved API server answering 429, each during the convergence of 200 CRs;
//! - `network`: every watch reset every 2 s for 30 s;
//! - `fencing`: a leader cut off from the API server stops writing before another replica
//!   takes over, proven from the API server's audit log.
//! - `restart`: a restarted runtime on a steady cluster writes nothing (audit log).
//!
//! The runtime runs as `ork run` runs it ([`runtime::run`], with its HTTP API), in a task of
//! the test; it must never end on its own.

mod control_plane;
mod fencing;
mod harness;
mod network;
mod restart;
