//! `ork e2e`: end-to-end tests of a Katalog on a real cluster, written in upstream Orkestra's
//! E2E file format (spec §22.2).
//!
//! A test runs on ork's own local control plane (`provider: kind`: etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler and kwok's simulated Nodes from `testenv`, so
//! Deployments become Available and Jobs complete without kind, Docker or any container) or
//! on an existing cluster (`provider: existing`, `--use-current`). The operator is the runtime
//! itself, in-process, and so is the gateway when the Katalog declares webhooks. Steps: CRD,
//! setup, gateway, operator, CR, the `cr-applied` expectations, CR
//! deletion, the `cr-deleted` expectations, teardown; each is reported PASS, FAIL or SKIP
//! with its duration, and a run can be written as JUnit XML.
//!
//! Modules: [`format`] (the file, strictly typed), [`load`] (imports, includes, offline
//! checks), [`run`] (the pipeline), `checks`, `assert` and `readiness` (one pass over an
//! expectation), [`cluster`], [`operator`], [`webhooks`] (the gateway, when the Katalog
//! declares admission or conversion), [`dev_server`] (`--dev-server`), [`kubectl`] (commands
//! with kubectl on PATH), [`helm`] (`setup.helm` charts), [`report`] (PASS/FAIL/SKIP, summary,
//! JUnit).

mod assert;
mod checks;
pub mod cluster;
pub mod dev_server;
pub mod format;
pub mod helm;
pub mod kubectl;
pub mod load;
pub mod operator;
mod readiness;
pub mod report;
pub mod run;
pub mod webhooks;

pub use cluster::Target;
pub use load::{Suite, Test, load};
pub use report::{Outcome, Report};
pub use run::{Options, run_suite};
