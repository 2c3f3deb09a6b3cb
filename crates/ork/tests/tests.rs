//! Integration tests of the `ork` binary: each runs the real executable.

mod dev;
