//! Integration tests of the `ork` binary: each runs the real executable.

#[cfg(feature = "dev-tools")]
mod bundle;
#[cfg(feature = "dev-tools")]
mod chaos;
mod commands;
#[cfg(feature = "dev-tools")]
mod dev;
#[cfg(feature = "dev-tools")]
mod gateway;
#[cfg(feature = "dev-tools")]
mod leader;
mod run;
mod util;
