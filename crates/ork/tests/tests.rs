//! Integration tests of the `ork` binary: each runs the real executable.

#[cfg(feature = "dev-tools")]
mod bundle;
#[cfg(feature = "dev-tools")]
mod chaos;
mod commands;
#[cfg(feature = "dev-tools")]
mod completions;
#[cfg(feature = "dev-tools")]
mod control;
mod cross_processes;
#[cfg(feature = "dev-tools")]
mod deployments;
#[cfg(feature = "dev-tools")]
mod dev;
#[cfg(feature = "dev-tools")]
mod diff;
#[cfg(feature = "dev-tools")]
mod e2e;
#[cfg(feature = "dev-tools")]
mod gate;
#[cfg(feature = "dev-tools")]
mod gateway;
#[cfg(feature = "dev-tools")]
mod init;
#[cfg(feature = "dev-tools")]
mod leader;
#[cfg(feature = "dev-tools")]
mod notes;
#[cfg(feature = "dev-tools")]
mod plan;
mod run;
#[cfg(feature = "dev-tools")]
mod simulate;
mod util;
#[cfg(feature = "dev-tools")]
mod validate_files;
