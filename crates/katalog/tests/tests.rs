//! Integration tests of the katalog crate.
mod build;
