//! One OperatorBox per CRD: its own watch, queue, workers and health, so that a panic or a
//! flood in one box never slows another.

pub mod health;
pub mod queue;
pub mod workers;
