//! `ork completions bash|zsh|fish`: a shell completion script for every command and flag,
//! generated from the command line definition itself (so it never lags behind it).

use std::process::ExitCode;

use clap::CommandFactory as _;

use super::CompletionsArgs;

/// Runs `ork completions`: the script goes to standard output.
pub fn run(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = crate::cli::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "ork", &mut script);
    super::emit(&String::from_utf8(script)?)?;
    Ok(ExitCode::SUCCESS)
}
