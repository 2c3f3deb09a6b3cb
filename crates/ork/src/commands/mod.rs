//! One module per command. Each turns its arguments into a library configuration and
//! calls one library function. `run`, `gateway` and `control` are always compiled in (the
//! production image runs all three); the developer commands sit in `dev_tools`, compiled only with the
//! `dev-tools` feature (on by default), so the production binary is `--no-default-features`.

mod control;
#[cfg(feature = "dev-tools")]
pub mod dev_tools;
mod gateway;
mod run;

use std::process::ExitCode;

use crate::cli::{Cli, Command, Global};

/// kube's client logs every non-2xx response at error level, including the expected 500s of
/// `/readyz` while an API server starts. ork reports API errors itself, with context, so that
/// layer is quiet unless the user's filter names it.
const QUIET_KUBE_CLIENT: &str = "kube_client::client::builder=off";

/// Installs the tracing subscriber the flags ask for.
pub fn init_logging(global: &Global) {
    let directives = if global.log.contains("kube_client") {
        global.log.clone()
    } else {
        format!("{},{QUIET_KUBE_CLIENT}", global.log)
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if global.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(*args),
        Command::Gateway(args) => gateway::run(*args),
        Command::Control(args) => control::run(args),
        #[cfg(feature = "dev-tools")]
        Command::DevTools(command) => dev_tools::run(command),
        Command::Version => {
            println!("ork {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
    }
}
