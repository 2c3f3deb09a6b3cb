//! `ork run`: the operators of a Katalog, one OperatorBox per enabled CRD, until SIGTERM or
//! Ctrl-C.
//!
//! Loads and validates the Katalog (any error is printed with its source lines and ork exits 1
//! before touching the cluster), turns the flags into a [`runtime::Config`] and hands both to
//! [`runtime::run()`], which owns the process's life: connect, prepare the cluster outside a
//! pod, serve the HTTP API, campaign for the Lease, run the boxes, and on SIGTERM/SIGINT stop
//! them in order; ork then exits 0.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use katalog::Loaded;

use crate::cli::RunArgs;

/// Files tried, in order, when no path is given (spec §21).
const DEFAULT_FILES: &[&str] = &["katalog.yaml", "komposer.yaml"];

/// Runs `ork run`: exit 1 for an invalid Katalog, 0 after a clean shutdown.
pub fn run(mut args: RunArgs) -> anyhow::Result<ExitCode> {
    let path = katalog_path(args.target.katalog.take().or(args.target.file.take()))?;
    let Some(loaded) = load(&path) else {
        return Ok(ExitCode::from(1));
    };
    let config = config(args);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown = async {
            if let Err(error) = runtime::supervisor::shutdown_signal().await {
                tracing::error!(%error, "cannot listen for SIGTERM/SIGINT; stopping");
            }
        };
        runtime::run(loaded, config, shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The library configuration the flags ask for.
fn config(args: RunArgs) -> runtime::Config {
    let flags = args.runtime;
    runtime::Config {
        connect: runtime::cluster::ConnectOptions {
            kubeconfig: args.target.kubeconfig,
            context: args.target.context,
        },
        setup: !args.no_setup,
        establish_timeout: args.establish_timeout,
        stop_timeout: args.stop_timeout,
        default_workers: flags.default_workers,
        default_resync: flags.default_resync,
        failure_threshold: flags.failure_threshold,
        leader_elect: flags.leader_elect,
        lease_name: flags.lease_name,
        namespace: flags.namespace,
        identity: flags.identity,
        lease_duration: flags.lease_duration,
        renew_deadline: flags.renew_deadline,
        retry_period: flags.retry_period,
        http: !flags.no_http,
        http_addr: flags.http_addr,
        port: flags.port,
        gateway_endpoint: flags.gateway_endpoint,
    }
}

/// The Katalog to run: the path given, else `KATALOG_PATH`, else [`default_file`] of the
/// current directory (spec §21, §23.1).
pub fn katalog_path(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match given {
        Some(path) => Ok(path),
        None => match from_env(std::env::var_os("KATALOG_PATH"))? {
            Some(path) => Ok(path),
            None => default_file(Path::new(".")),
        },
    }
}

/// The Katalog named by `KATALOG_PATH` (spec §23.1), when no path is given. Orkestra takes a
/// list (comma-separated); ork runs one Katalog, so a list of several is an error rather than
/// all but one being ignored.
pub fn from_env(value: Option<std::ffi::OsString>) -> anyhow::Result<Option<PathBuf>> {
    let Some(value) = value else { return Ok(None) };
    let text = value.to_string_lossy();
    let paths: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    match paths.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(PathBuf::from(one))),
        _ => anyhow::bail!(
            "KATALOG_PATH names {} Katalogs; ork runs one: compose them with a Komposer, or name one",
            paths.len()
        ),
    }
}

/// `katalog.yaml`, else `komposer.yaml`, in `dir`.
pub fn default_file(dir: &Path) -> anyhow::Result<PathBuf> {
    DEFAULT_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
        .map(|p| p.strip_prefix("./").map(Path::to_path_buf).unwrap_or(p))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no katalog.yaml or komposer.yaml in the current directory; pass a path"
            )
        })
}

/// Loads and validates the Katalog at `path`, printing warnings, or every problem when it is
/// invalid (then `None`).
pub fn load(path: &PathBuf) -> Option<Loaded> {
    match katalog::load(path) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                eprintln!("{}", warning.render(&loaded.sources));
            }
            Some(loaded)
        }
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    fn run_args(args: &[&str]) -> RunArgs {
        let argv = ["ork", "run"].iter().chain(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Run(args) => *args,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn no_flags_give_the_runtime_defaults() {
        assert_eq!(config(run_args(&[])), runtime::Config::default());
    }

    #[test]
    fn flags_reach_the_runtime_config() {
        let config = config(run_args(&[
            "--kubeconfig",
            "/tmp/kc",
            "--context",
            "dev",
            "--no-setup",
            "--stop-timeout",
            "5s",
            "--default-workers",
            "2",
            "--leader-elect",
            "true",
            "--identity",
            "pod-1",
            "--no-http",
            "--port",
            "9090",
            "--gateway-endpoint",
            "https://gw",
        ]));
        assert_eq!(
            config.connect.kubeconfig.as_deref(),
            Some(Path::new("/tmp/kc"))
        );
        assert_eq!(config.connect.context.as_deref(), Some("dev"));
        assert!(!config.setup);
        assert_eq!(config.stop_timeout, Duration::from_secs(5));
        assert_eq!(config.default_workers, Some(2));
        assert_eq!(config.leader_elect, Some(true));
        assert_eq!(config.identity.as_deref(), Some("pod-1"));
        assert!(!config.http);
        assert_eq!(config.port, 9090);
        assert_eq!(config.gateway_endpoint, "https://gw");
    }

    #[test]
    fn katalog_path_names_one_katalog() {
        assert_eq!(from_env(None).unwrap(), None);
        assert_eq!(from_env(Some(" ".into())).unwrap(), None);
        assert_eq!(
            from_env(Some("/etc/orkestra/katalog.yaml".into())).unwrap(),
            Some(PathBuf::from("/etc/orkestra/katalog.yaml"))
        );
        assert!(from_env(Some("a.yaml,b.yaml".into())).is_err());
    }

    #[test]
    fn default_file_prefers_katalog_then_komposer() {
        let dir = tempfile::tempdir().unwrap();
        assert!(default_file(dir.path()).is_err());
        std::fs::write(dir.path().join("komposer.yaml"), "x").unwrap();
        assert!(default_file(dir.path()).unwrap().ends_with("komposer.yaml"));
        std::fs::write(dir.path().join("katalog.yaml"), "x").unwrap();
        assert!(default_file(dir.path()).unwrap().ends_with("katalog.yaml"));
    }
}
