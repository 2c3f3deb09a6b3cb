//! The ork runtime: one OperatorBox per CRD (watch, queue, workers, reconcile, status, events,
//! finalizers), leader election, HTTP API and metrics.
//!
//! Each CRD of a Katalog becomes an OperatorBox with its own deduplicating, rate-limited
//! [`Queue`], its own pool of [`Workers`], its own [`Health`] and its own series in
//! [`Metrics`], so that a panic or a flood in one box never slows another. The pieces are
//! generic over the key type and know nothing of Kubernetes:
//!
//! ```no_run
//! use runtime::{Action, Health, Metrics, Queue, QueueConfig, Workers, WorkersConfig};
//!
//! # async fn example() {
//! let queue = Queue::new(QueueConfig::default());
//! let health = Health::default();
//! let metrics = Metrics::new();
//! let reconcile = |key: String| async move {
//!     println!("reconciling {key}");
//!     Ok::<_, std::convert::Infallible>(Action::Done)
//! };
//! let workers = Workers::spawn(
//!     queue.clone(),
//!     WorkersConfig::default().count(3),
//!     reconcile,
//!     (health.clone(), metrics.crd("website")),
//! );
//! health.mark_started();
//! queue.add("default/my-site".to_owned());
//! // …
//! workers.stop().await.expect("reconciles finish in time");
//! # }
//! ```
//!
//! Around the boxes, a process runs an [`Elector`] ([`leader`]: a Lease decides which replica
//! reconciles) and serves the read-only HTTP API of [`http`] (probes, `/metrics`, `/katalog`)
//! over a [`RuntimeView`]. [`run()`] is that whole process, from connecting to the last box
//! stopped, with its settings in a [`Config`] ([`config`]: every setting with its default).

pub mod api_retry;
pub mod cluster;
pub mod config;
pub mod discovery;
pub mod events;
pub mod finalizer;
mod go_format;
pub mod http;
pub mod kordinator;
pub mod leader;
mod managed_fields;
pub mod metrics;
pub mod observe;
pub mod operator_box;
pub mod outbound;
pub mod readiness;
pub mod reconcile;
pub mod refusal;
pub mod run;
pub mod seen;
pub mod setup_wait;
pub mod supervisor;
pub mod work;

pub use config::Config;
pub use discovery::Discovery;
pub use events::Recorder;
pub use http::RuntimeView;
pub use kordinator::{Leading, always_leading};
pub use leader::{Elector, LeaderConfig};
pub use metrics::{CrdMetrics, Metrics};
pub use operator_box::{BoxConfig, OperatorBox, Reconcile};
pub use reconcile::{Reconciler, ReconcilerConfig, Surroundings};
pub use run::run;
pub use supervisor::Supervisor;
pub use work::{
    Action, ActiveWorkers, Added, Claim, Health, HealthSnapshot, Key, Outcome, Queue, QueueConfig,
    Report, ReportSink, State, Workers, WorkersConfig,
};

/// An error with its causes, `: `-separated: one log field or condition message that says
/// why, not only what failed.
pub use katalog::admission::chain as error_chain;
