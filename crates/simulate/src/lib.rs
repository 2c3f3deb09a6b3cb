//! `ork simulate`: the runtime's real reconcile pipeline run cycle by cycle against an
//! in-memory Kubernetes API, with no cluster and no control-plane binaries.
//!
//! - [`memory_api`]: the in-memory API a `kube::Client` talks to, recording every request;
//!   [`envtest`]: the local control plane recorded the same way (`--envtest`); [`api`]: the
//!   choice of the two a run takes; [`dev_server`]: fixed answers for Orkestra's example
//!   packs' external calls (`--dev-server`);
//! - [`world`]: what it serves for a Katalog, and the controllers it stands in for;
//! - [`run`]: one CRD's CR reconciled for N cycles by `runtime::Reconciler`, with
//!   [`peers`] as the caches its `cross:` reads and, in memory, [`copies`] (cross-namespace
//!   copies) left out;
//! - [`file`]: the Simulate file format; [`expect`]: its expectations;
//! - [`report`]: the printed form; [`suite`]: files, aggregators and discovery;
//! - [`init`]: `ork simulate init`.

pub mod api;
pub mod copies;
pub mod dev_server;
pub mod envtest;
pub mod expect;
pub mod file;
pub mod init;
pub mod memory_api;
pub mod peers;
pub mod report;
pub mod run;
pub mod suite;
pub mod world;
