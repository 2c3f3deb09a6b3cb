//! Integration tests of the katalog crate.
