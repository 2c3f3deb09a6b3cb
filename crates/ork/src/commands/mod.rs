//! One module per command. Each turns its arguments into a library configuration and
//! calls one library function.

#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
mod bench;
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
mod dev;
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
mod gateway;
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
mod generate;
mod run;
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
mod template;
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
mod validate;

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
        #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
        Command::Dev(args) => dev::run(args),
        Command::Run(args) => run::run(*args),
        #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
        Command::Bench(args) => bench::run(args),
        #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
        Command::Generate(args) => generate::run(args),
        #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
        Command::Gateway(args) => gateway::run(*args),
        #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
        Command::Template(args) => template::run(args),
        #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
        Command::Validate(args) => validate::run(args),
        Command::Version => {
            println!("ork {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
    }
}
