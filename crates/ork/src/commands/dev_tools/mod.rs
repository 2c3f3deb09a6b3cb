//! The developer commands (`dev`, `bench`, `e2e`, `generate`, `gateway`, `template`, `validate`)
//! and their arguments: everything the `dev-tools` feature adds to `ork`. The production
//! runtime binary (`--no-default-features`) has none of it, nor what only it needs
//! (`testenv`, the YAML writer, …).

mod bench;
mod cli;
mod dev;
mod e2e;
mod gateway;
mod generate;
mod template;
mod validate;

use std::process::ExitCode;

pub use cli::{
    BenchArgs, Benchmark, BundleArgs, DevArgs, DevTool, E2eArgs, GatewayArgs, GenerateArgs,
    GenerateCommand, OutputFormat, TemplateArgs, ValidateArgs,
};

/// Runs the parsed developer command.
pub fn run(command: DevTool) -> anyhow::Result<ExitCode> {
    match command {
        DevTool::Dev(args) => dev::run(args),
        DevTool::Bench(args) => bench::run(args),
        DevTool::Generate(args) => generate::run(args),
        DevTool::Gateway(args) => gateway::run(*args),
        DevTool::Template(args) => template::run(args),
        DevTool::Validate(args) => validate::run(args),
        DevTool::E2e(args) => e2e::run(args),
    }
}
