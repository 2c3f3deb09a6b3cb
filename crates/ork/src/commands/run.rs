//! `ork run`: the operators of a Katalog, one OperatorBox per enabled CRD, until SIGTERM or
//! Ctrl-C.
//!
//! 1. Load and validate the Katalog; any error is printed with its source lines and ork exits 1
//!    before touching the cluster.
//! 2. Connect as kubectl would (`--kubeconfig`, `KUBECONFIG`, `--context`, in-cluster).
//! 3. Outside a pod, apply each CRD's `setup` manifests and `crdFile`, wait for the CRDs to be
//!    Established, apply the `crFiles` (`--no-setup` skips this).
//! 4. Start the boxes in `dependsOn` order; on SIGTERM/SIGINT stop taking work, let running
//!    reconciles finish (`--stop-timeout`), stop the boxes in reverse order, exit 0.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use katalog::Loaded;
use runtime::cluster::{self, ConnectOptions, Mode};
use runtime::{Metrics, Supervisor};

use crate::cli::RunArgs;

/// What `ork run` does once the Katalog is loaded.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How to reach the cluster.
    pub connect: ConnectOptions,
    /// Apply setup manifests, CRD files and CR files when not in a pod.
    pub setup: bool,
    /// Per applied CRD, how long to wait for `Established`.
    pub establish_timeout: Duration,
    /// Per box, how long running reconciles get on shutdown.
    pub stop_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            connect: ConnectOptions::default(),
            setup: true,
            establish_timeout: Duration::from_secs(60),
            stop_timeout: Duration::from_secs(30),
        }
    }
}

/// Runs `ork run`: exit 1 for an invalid Katalog, 0 after a clean shutdown.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let path = match args.katalog.or(args.file) {
        Some(path) => path,
        None => super::validate::default_file(Path::new("."))?,
    };
    let Some(loaded) = load(&path) else {
        return Ok(ExitCode::from(1));
    };
    let settings = Settings {
        connect: ConnectOptions {
            kubeconfig: args.kubeconfig,
            context: args.context,
        },
        setup: !args.no_setup,
        establish_timeout: args.establish_timeout,
        stop_timeout: args.stop_timeout,
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown = async {
            if let Err(error) = runtime::supervisor::shutdown_signal().await {
                tracing::error!(%error, "cannot listen for SIGTERM/SIGINT; stopping");
            }
        };
        operate(loaded, settings, shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
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

/// Connects, prepares the cluster in local mode, runs every box until `shutdown` completes,
/// then stops them.
///
/// # Errors
///
/// When the cluster cannot be reached or prepared, or a reconcile cannot be built. Boxes that
/// stop uncleanly are logged, not errors: the process still exits 0.
pub async fn operate(
    loaded: Loaded,
    settings: Settings,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let katalog = &loaded.katalog;
    let client = cluster::connect(&settings.connect).await?;
    let mode = Mode::detect();
    if settings.setup && mode == Mode::Local {
        tracing::info!("local mode: applying setup manifests, CRD files and CR files");
        cluster::prepare(&client, katalog, settings.establish_timeout).await?;
    }
    let metrics = Metrics::new();
    let supervisor =
        Supervisor::start_katalog(&client, katalog, &metrics, settings.stop_timeout).await?;
    tracing::info!(
        katalog = %katalog.name,
        boxes = supervisor.boxes().len(),
        "running; SIGTERM or Ctrl-C stops"
    );
    if let Err(errors) = supervisor.run_until(shutdown).await {
        for error in errors {
            tracing::warn!(error = %anyhow::Error::new(error), "unclean stop");
        }
    }
    tracing::info!("stopped");
    Ok(())
}
