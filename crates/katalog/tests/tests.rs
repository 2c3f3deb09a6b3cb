//! Integration tests of the katalog crate: one binary, one module per concern.

mod build;
mod conformance;
mod emit;
mod externals;
mod keys;
mod loading;
mod never_panics;
mod operators;
mod snapshots;
mod upstream;
mod upstream_forms;
mod util;
