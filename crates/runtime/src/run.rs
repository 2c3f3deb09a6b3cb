//! [`run`]: the whole life of one runtime process, from connecting to the last box stopped.
//!
//! 1. Apply the [`Config`]'s per-CRD defaults, connect as kubectl would (in-cluster in a pod).
//! 2. Wait for the API server (retrying, logged) and, outside a pod, apply each CRD's `setup`
//!    manifests and `crdFile`, wait for the CRDs to be Established, apply the `crFiles`
//!    ([`Config::setup`]). A shutdown in this phase simply ends the run.
//! 3. Serve the HTTP API (probes, `/metrics`, `/katalog`) and, when leader election is on,
//!    campaign for the Lease. While the API server's `/readyz` fails, every box is degraded
//!    ([`crate::readiness`]).
//! 4. Start every box's watches at once, on followers too (warm caches); a box's workers start
//!    while this replica leads and the box's `dependsOn` conditions hold.
//! 5. On shutdown stop taking work, let running reconciles finish
//!    ([`Config::stop_timeout`]), stop the boxes in reverse order, release the Lease, stop the
//!    HTTP API. A replica that loses the Lease aborts its reconciles at once and follows, its
//!    caches still warm.

use std::future::Future;
use std::sync::Arc;

use katalog::Loaded;

use crate::cluster::{self, Mode};
use crate::http::LiveView;
use crate::{Config, Elector, Leading, Metrics, Supervisor};

/// Why a runtime process could not run. Each source already names the step that failed, so
/// each variant shows its source's message as its own.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig is unusable, or the cluster could not be prepared in local mode.
    #[error(transparent)]
    ClusterFailed(#[from] cluster::Error),
    /// The leader-election settings are inconsistent.
    #[error(transparent)]
    ConfigInvalid(#[from] crate::config::Error),
    /// The elector could not be started.
    #[error(transparent)]
    ElectFailed(#[from] crate::leader::Error),
    /// The boxes could not be started (a reconcile could not be built).
    #[error(transparent)]
    StartFailed(#[from] crate::supervisor::Error),
    /// In a pod, the HTTP API (the probes) could not be served.
    #[error(transparent)]
    ServeFailed(#[from] crate::http::Error),
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs the operators of `loaded`, one OperatorBox per enabled CRD, until `shutdown`
/// completes, then stops them (see the [module docs](self) for the order).
///
/// ```no_run
/// # async fn f(loaded: katalog::Loaded) -> Result<(), runtime::run::Error> {
/// let shutdown = async {
///     let _ = runtime::supervisor::shutdown_signal().await;
/// };
/// runtime::run(loaded, runtime::Config::default(), shutdown).await
/// # }
/// ```
///
/// # Errors
///
/// When the kubeconfig is unusable, the cluster cannot be prepared, the leader election
/// settings are inconsistent, or a reconcile cannot be built; in a pod, also when the HTTP API
/// cannot be served. An unreachable API server is waited for, not an error. Boxes that stop
/// uncleanly are logged, not errors; outside a pod, so is an HTTP API that cannot be served.
pub async fn run(
    mut loaded: Loaded,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    config.apply_defaults(&mut loaded.katalog);
    let katalog = &loaded.katalog;
    let metrics = Metrics::new();
    let client = cluster::connect_counted(&config.connect, &metrics).await?;
    let mut shutdown = std::pin::pin!(shutdown);
    // Until the cluster is ready, a signal simply ends the run: nothing is in flight.
    tokio::select! {
        prepared = prepare(&client, katalog, &config) => prepared?,
        () = &mut shutdown => {
            tracing::info!("stopped before the boxes started");
            return Ok(());
        }
    }
    let mode = Mode::detect();
    let in_cluster = mode == Mode::InCluster;
    let leader = config.leader(in_cluster)?;
    let view = Arc::new(LiveView::new(
        &loaded,
        metrics.clone(),
        Some(client.clone()),
        &config.gateway_endpoint,
    ));
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let http = config.http_addr(in_cluster).map(|addr| {
        let router = crate::http::router(view.clone());
        tokio::spawn(crate::http::serve(addr, router, async {
            let _ = http_stopped.await;
        }))
    });
    view.mark_started();
    let elector = match leader {
        None => None,
        Some(config) => Some(Elector::spawn(client.clone(), config)?),
    };
    let leading = match &elector {
        None => crate::always_leading(),
        Some(elector) => {
            tracing::info!(identity = %elector.identity(), "watching; reconciling once this replica holds the Lease");
            elector.subscribe()
        }
    };
    let mirror = tokio::spawn(mirror_leading(leading.clone(), Arc::clone(&view)));
    let notifier =
        crate::outbound::notify::Notifier::for_katalog(katalog, &config.gateway_endpoint, &metrics);
    let supervisor = Supervisor::start_notifying(
        &client,
        katalog,
        &metrics,
        config.stop_timeout,
        leading,
        notifier,
    )
    .await?;
    view.set_boxes(supervisor.boxes());
    let healths = supervisor
        .boxes()
        .iter()
        .map(|b| b.health().clone())
        .collect();
    let readiness = tokio::spawn(crate::readiness::watch(client.clone(), healths));
    tracing::info!(
        katalog = %katalog.name,
        boxes = supervisor.boxes().len(),
        "running; SIGTERM or Ctrl-C stops"
    );
    shutdown.await;
    readiness.abort();
    view.mark_shutting_down();
    tracing::info!("stopping: no new work is taken in; running reconciles finish");
    if let Err(errors) = supervisor.stop().await {
        for error in errors {
            tracing::warn!(%error, "unclean stop");
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
            Ok(Err(error)) => tracing::warn!(%error, "no HTTP API"),
            Err(error) => tracing::warn!(%error, "the HTTP API task failed"),
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Waits for the API server and prepares the cluster in local mode.
async fn prepare(client: &kube::Client, katalog: &katalog::Katalog, config: &Config) -> Result<()> {
    let version = cluster::wait_reachable(client).await;
    tracing::info!(%version, "API server reachable");
    if config.setup && Mode::detect() == Mode::Local {
        tracing::info!("local mode: applying setup manifests, CRD files and CR files");
        cluster::prepare(client, katalog, config.establish_timeout).await?;
    }
    Ok(())
}

/// Keeps the HTTP API's `isKonductor` equal to this replica's leadership.
async fn mirror_leading(mut leading: Leading, view: Arc<LiveView>) {
    loop {
        view.set_leading(*leading.borrow_and_update());
        if leading.changed().await.is_err() {
            return;
        }
    }
}
