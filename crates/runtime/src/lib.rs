//! The ork runtime: one OperatorBox per CRD (watch, queue, workers, reconcile, status, events, finalizers), leader election, HTTP API and metrics.
