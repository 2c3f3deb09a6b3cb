//! The work of a box, free of Kubernetes: the [`Queue`] of [`Key`]s, the [`Workers`] that
//! drain it, the [`Intake`] that routes keys to the queue of the current activation, and the
//! [`Health`] record the workers keep.
//!
//! The queue and the workers are generic over their key and the rest holds plain values, so
//! all of it is tested without a cluster; only [`Key`] knows how to read itself from an
//! object's metadata. The watches ([`crate::operator_box`], [`crate::observe`]) put keys in,
//! and the reconcile ([`crate::reconcile`]) is what the workers run. Nothing here imports
//! them.

pub mod behaviour;
pub mod health;
pub mod intake;
pub mod key;
pub mod queue;
pub mod workers;

pub use behaviour::{Behaviour, Fired, Rule};
pub use health::{Health, HealthSnapshot, State};
pub use intake::Intake;
pub use key::Key;
pub use queue::{Added, Claim, Queue, QueueConfig};
pub use workers::{Action, ActiveWorkers, Outcome, Report, ReportSink, Workers, WorkersConfig};
