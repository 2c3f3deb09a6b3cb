//! Integration tests of `ork e2e` on the real local control plane (testenv, with simulated
//! workloads so Deployments become Available): one binary, one shared control plane.

mod format;
mod runner;
mod upstream;
mod util;
