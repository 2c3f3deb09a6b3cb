//! `ork dev`: a persistent local control plane, optionally running a Katalog.

use std::process::ExitCode;

use crate::cli::DevArgs;

/// Runs `ork dev`.
pub fn run(_args: DevArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("ork dev is not built yet")
}
