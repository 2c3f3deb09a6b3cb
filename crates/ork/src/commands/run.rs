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

/// Connects, waits for the API server (retrying, logged), prepares the cluster in local mode,
/// runs every box until `shutdown` completes, then stops them.
///
/// # Errors
///
/// When the kubeconfig is unusable, the cluster cannot be prepared, or a reconcile cannot be
/// built. An unreachable API server is waited for, not an error. Boxes that stop uncleanly
/// are logged, not errors: the process still exits 0.
pub async fn operate(
    loaded: Loaded,
    settings: Settings,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let katalog = &loaded.katalog;
    let client = cluster::connect(&settings.connect).await?;
    let mut shutdown = std::pin::pin!(shutdown);
    // Until the boxes run, a signal simply ends the run: nothing is in flight.
    let started = tokio::select! {
        started = start(&client, katalog, &settings) => started?,
        () = &mut shutdown => {
            tracing::info!("stopped before the boxes started");
            return Ok(());
        }
    };
    tracing::info!(
        katalog = %katalog.name,
        boxes = started.boxes().len(),
        "running; SIGTERM or Ctrl-C stops"
    );
    if let Err(errors) = started.run_until(shutdown).await {
        for error in errors {
            tracing::warn!(error = %anyhow::Error::new(error), "unclean stop");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Waits for the API server, prepares the cluster in local mode, starts the boxes.
async fn start(
    client: &kube::Client,
    katalog: &katalog::Katalog,
    settings: &Settings,
) -> anyhow::Result<Supervisor> {
    let version = cluster::wait_reachable(client).await;
    tracing::info!(%version, "API server reachable");
    if settings.setup && Mode::detect() == Mode::Local {
        tracing::info!("local mode: applying setup manifests, CRD files and CR files");
        cluster::prepare(client, katalog, settings.establish_timeout).await?;
    }
    let metrics = Metrics::new();
    Ok(Supervisor::start_katalog(client, katalog, &metrics, settings.stop_timeout).await?)
}
