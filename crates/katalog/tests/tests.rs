//! Integration tests of the katalog crate: one binary, one module per concern.

mod build;
mod conformance;
mod util;
