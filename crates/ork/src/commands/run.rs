//! `ork run`: the operators of a Katalog, one OperatorBox per enabled CRD, until SIGTERM or
//! Ctrl-C.
//!
//! 1. Load and validate the Katalog; any error is printed with its source lines and ork exits 1
//!    before touching the cluster.
//! 2. Connect as kubectl would (`--kubeconfig`, `KUBECONFIG`, `--context`, in-cluster).
//! 3. Outside a pod, apply each CRD's `setup` manifests and `crdFile`, wait for the CRDs to be
//!    Established, apply the `crFiles` (`--no-setup` skips this).
//! 4. Serve the HTTP API (probes, `/metrics`, `/katalog`) and, when leader election is on,
//!    campaign for the Lease.
//! 5. Start every box's watches at once, on followers too (warm caches); a box's workers
//!    start while this replica leads and the box's `dependsOn` conditions hold. On
//!    SIGTERM/SIGINT stop taking work, let running reconciles finish (`--stop-timeout`),
//!    stop the boxes in reverse order, release the Lease, exit 0. A replica that loses the
//!    Lease aborts its reconciles at once and follows, its caches still warm.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use katalog::Loaded;
use runtime::cluster::{self, ConnectOptions, Mode};
use std::sync::Arc;

use runtime::http::LiveView;
use runtime::{Elector, Metrics, Supervisor};

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
    /// Leader election, HTTP API and defaults.
    pub runtime: runtime::RuntimeArgs,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            connect: ConnectOptions::default(),
            setup: true,
            establish_timeout: Duration::from_secs(60),
            stop_timeout: Duration::from_secs(30),
            runtime: runtime::RuntimeArgs::default(),
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
        runtime: args.runtime,
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
    mut loaded: Loaded,
    settings: Settings,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    settings.runtime.apply_defaults(&mut loaded.katalog);
    let katalog = &loaded.katalog;
    let client = cluster::connect(&settings.connect).await?;
    let mut shutdown = std::pin::pin!(shutdown);
    // Until the cluster is ready, a signal simply ends the run: nothing is in flight.
    tokio::select! {
        prepared = prepare(&client, katalog, &settings) => prepared?,
        () = &mut shutdown => {
            tracing::info!("stopped before the boxes started");
            return Ok(());
        }
    }
    let mode = Mode::detect();
    let metrics = Metrics::new();
    let in_cluster = mode == Mode::InCluster;
    let leader = settings.runtime.leader(in_cluster)?;
    let view = Arc::new(LiveView::new(
        &loaded,
        metrics.clone(),
        Some(client.clone()),
        &settings.runtime.gateway_endpoint,
    ));
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let http = settings.runtime.http_addr(in_cluster).map(|addr| {
        let router = runtime::http::router(view.clone());
        tokio::spawn(runtime::http::serve(addr, router, async {
            let _ = http_stopped.await;
        }))
    });
    view.mark_started();
    let elector = match leader {
        None => None,
        Some(config) => Some(Elector::spawn(client.clone(), config)?),
    };
    let leading = match &elector {
        None => runtime::always_leading(),
        Some(elector) => {
            tracing::info!(identity = %elector.identity(), "watching; reconciling once this replica holds the Lease");
            elector.subscribe()
        }
    };
    let mirror = tokio::spawn(mirror_leading(leading.clone(), Arc::clone(&view)));
    let supervisor =
        Supervisor::start_katalog(&client, katalog, &metrics, settings.stop_timeout, leading)
            .await?;
    view.set_boxes(supervisor.boxes());
    tracing::info!(
        katalog = %katalog.name,
        boxes = supervisor.boxes().len(),
        "running; SIGTERM or Ctrl-C stops"
    );
    shutdown.await;
    view.mark_shutting_down();
    tracing::info!("stopping: no new work is taken in; running reconciles finish");
    if let Err(errors) = supervisor.stop().await {
        for error in errors {
            tracing::warn!(error = %anyhow::Error::new(error), "unclean stop");
        }
    }
    mirror.abort();
    view.set_leading(false);
    if let Some(elector) = elector {
        elector.shutdown().await;
    }
    let _ = stop_http.send(());
    if let Some(http) = http {
        match http.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) if in_cluster => return Err(error.into()),
            Ok(Err(error)) => tracing::warn!(error = %anyhow::Error::new(error), "no HTTP API"),
            Err(error) => tracing::warn!(%error, "the HTTP API task failed"),
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Waits for the API server and prepares the cluster in local mode.
async fn prepare(
    client: &kube::Client,
    katalog: &katalog::Katalog,
    settings: &Settings,
) -> anyhow::Result<()> {
    let version = cluster::wait_reachable(client).await;
    tracing::info!(%version, "API server reachable");
    if settings.setup && Mode::detect() == Mode::Local {
        tracing::info!("local mode: applying setup manifests, CRD files and CR files");
        cluster::prepare(client, katalog, settings.establish_timeout).await?;
    }
    Ok(())
}

/// Keeps the HTTP API's `isKonductor` equal to this replica's leadership.
async fn mirror_leading(mut leading: runtime::Leading, view: Arc<LiveView>) {
    loop {
        view.set_leading(*leading.borrow_and_update());
        if leading.changed().await.is_err() {
            return;
        }
    }
}
