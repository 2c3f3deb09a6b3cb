//! Integration tests of the `ork` binary: each runs the real executable.

#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
mod bundle;
mod commands;
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
mod dev;
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
mod gateway;
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
mod leader;
mod run;
mod util;
