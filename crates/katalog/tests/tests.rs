//! Integration tests of the katalog crate: one binary, one module per concern.

mod conformance;
mod loading;
mod never_panics;
mod snapshots;
mod util;
