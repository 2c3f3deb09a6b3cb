//! Integration tests of the runtime against a real control plane.

mod reconcile;
