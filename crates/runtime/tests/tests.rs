//! Integration tests of the runtime against a real local control plane (`testenv`).

mod autoscale;
mod children;
mod cleanup;
mod cross;
mod cross_remote;
mod external;
mod gates;
mod health_view;
mod http;
mod includes;
mod kordination;
mod leader;
mod notify;
mod observe_events;
mod operator_box;
mod packs;
mod queue;
mod reconcile;
mod remote;
mod remove_finalizers;
mod setup_wait;
mod support;
mod unique;
mod wait;
mod watch_gate;
mod workload_autoscale;
