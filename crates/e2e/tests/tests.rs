//! Integration tests of `ork e2e` on the real local control plane (testenv, with simulated
//! workloads so Deployments become Available): one binary, one shared control plane. The
//! upstream acceptance suite runs in `upstream_suite.rs`, on a control plane of its own.

mod dev_server;
mod format;
mod helm;
mod runner;
mod util;
