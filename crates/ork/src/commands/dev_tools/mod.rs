//! The developer commands (`dev`, `bench`, `e2e`, `generate`, `template`, `validate`, …)
//! and their arguments: everything the `dev-tools` feature adds to `ork`. The production
//! runtime binary (`--no-default-features`) has none of it, nor what only it needs
//! (`testenv`, the YAML writer, …).

mod bench;
mod cli;
mod completions;
mod dev;
mod diff;
mod e2e;
mod gate;
mod generate;
mod init;
mod notes;
mod plan;
mod simulate;
mod template;
mod validate;

use std::process::ExitCode;

pub use cli::{
    BenchArgs, Benchmark, BundleArgs, CompletionsArgs, DevArgs, DevTool, DiffArgs, E2eArgs,
    GateArgs, GenerateArgs, GenerateCommand, InitArgs, NotesArgs, NotesCommand, OutputFormat,
    PeerEngine, PlanArgs, TemplateArgs, ValidateArgs,
};
pub use cli::{SimulateArgs, SimulateCommand, SimulateInitArgs};

/// Runs the parsed developer command.
pub fn run(command: DevTool) -> anyhow::Result<ExitCode> {
    match command {
        DevTool::Dev(args) => dev::run(args),
        DevTool::Bench(args) => bench::run(args),
        DevTool::Generate(args) => generate::run(args),
        DevTool::Template(args) => template::run(args),
        DevTool::Validate(args) => validate::run(args),
        DevTool::Simulate(args) => simulate::run(args),
        DevTool::Gate(args) => gate::run(args),
        DevTool::Notes(args) => notes::run(args),
        DevTool::Init(args) => init::run(args),
        DevTool::Diff(args) => diff::run(args),
        DevTool::Plan(args) => plan::run(args),
        DevTool::Completions(args) => completions::run(args),
        DevTool::E2e(args) => e2e::run(args),
    }
}

/// Writes `text` to standard output; a reader that went away (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
