//! `ork e2e [FILE]`: runs an E2E file (spec §22.2) with the `e2e` crate and prints each step
//! as it finishes (PASS/FAIL/SKIP with its duration), progress on long waits on stderr, and a
//! summary; `--junit FILE` also writes JUnit XML. Exit 0 when no step failed (skipped steps
//! are listed, never counted as passes), 1 when one failed or the file is invalid.
//! `--dev-server` runs Orkestra's dev server for the `external:` packs ([`e2e::dev_server`]).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use super::E2eArgs;

/// Runs `ork e2e`.
pub fn run(args: E2eArgs) -> anyhow::Result<ExitCode> {
    let file = args
        .file
        .or(args.file_flag)
        .unwrap_or_else(|| PathBuf::from("e2e.yaml"));
    let suite = match e2e::load(&file) {
        Ok(suite) => suite,
        Err(diagnostics) => {
            for d in &diagnostics.items {
                eprintln!("{}", d.render(&diagnostics.sources));
            }
            let errors = diagnostics.errors().count();
            eprintln!(
                "error: {} is not a valid E2E file ({errors} error{})",
                file.display(),
                if errors == 1 { "" } else { "s" }
            );
            return Ok(ExitCode::from(1));
        }
    };
    for warning in &suite.warnings {
        eprintln!("{}", warning.render(&suite.sources));
    }
    let options = e2e::Options {
        target: match (args.cluster, args.use_current) {
            (Some(context), _) => e2e::Target::Context(context),
            (None, true) => e2e::Target::Current,
            (None, false) => e2e::Target::FromFile,
        },
        keep_cluster: args.keep_cluster,
        verbose: true,
        ..e2e::Options::default()
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    if args.dev_server {
        let port = args
            .dev_server_port
            .unwrap_or(simulate::dev_server::DEFAULT_PORT);
        let addr = runtime
            .block_on(e2e::dev_server::start(port))
            .with_context(|| format!("--dev-server: cannot listen on 127.0.0.1:{port}"))?;
        eprintln!(
            "dev server on http://{addr} (and at {})",
            e2e::dev_server::SERVICE_URL
        );
    }
    let report = runtime.block_on(e2e::run_suite(&suite, &options));
    println!("{}", report.summary());
    if let Some(path) = &args.junit {
        std::fs::write(path, report.junit())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
