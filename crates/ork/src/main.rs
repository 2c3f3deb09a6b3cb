//! `ork`: declarative Kubernetes operators from a Katalog.
//!
//! `main` parses the command line, hands the parsed command to its module under
//! [`commands`], and maps the result to an exit code: 0 on success, 1 when the command
//! ran and found a problem (an invalid Katalog, a failed check), 2 on usage or
//! environment errors. Errors are printed once, with their cause chain, after an
//! `ork:` prefix.
//!
//! # Features
//!
//! | Feature | Default | Adds |
//! |---|---|---|
//! | `dev-tools` | on | `dev`, `bench`, `e2e`, `generate`, `template`, `validate`, … (`commands::dev_tools`) |
//! | `runtime-only` | off | nothing: names the production build, `--no-default-features` (`run`, `gateway`, `control` and `version`) |

mod cli;
mod commands;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::parse();
    commands::init_logging(&cli.global);
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("ork: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
