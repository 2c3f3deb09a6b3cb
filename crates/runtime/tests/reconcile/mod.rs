//! The reconcile of one CR against a real control plane.
