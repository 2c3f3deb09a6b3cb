//! Integration tests of the katalog crate: one binary, one module per concern.

mod build;
mod conformance;
mod loading;
mod never_panics;
mod operators;
mod snapshots;
mod upstream;
mod upstream_forms;
mod util;
