//! Integration tests of the runtime against a real local control plane (`testenv`).

mod http;
mod kordination;
mod leader;
mod operator_box;
mod packs;
mod reconcile;
mod wait;
