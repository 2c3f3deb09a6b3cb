//! The ork gateway: the webhook server a Katalog's admission rules, conversion and
//! protection need, which leaves no trace when it stops.
//!
//! [`Gateway::start`] reads a [`Plan`] from the Katalog (what to serve), makes or reuses TLS
//! material ([`tls`]), serves HTTPS routes only for what the plan needs ([`serve`]), and
//! registers the webhook configurations ([`webhook_config`]) and CRD conversion stanzas
//! through [`cluster`]. A housekeeper re-asserts them while it runs and rotates the
//! certificate before it expires. [`Gateway::stop`] takes all of it back out of the cluster.
//!
//! The rules themselves are evaluated by [`katalog::admission`], the same code the runtime
//! runs at reconcile time.
//!
//! ```no_run
//! # async fn f(katalog: katalog::Katalog) -> Result<(), gateway::Error> {
//! let client = kube::Client::try_default().await.map_err(gateway::Error::ClientFailed)?;
//! let gw = gateway::Gateway::start(katalog, client, gateway::Config::new()).await?;
//! println!("webhooks on {}", gw.https_addr());
//! gw.stop().await?;
//! # Ok(()) }
//! ```

pub mod admit;
pub mod cluster;
mod config;
pub mod convert;
pub mod labels;
pub mod metrics;
pub mod notify;
pub mod plan;
pub mod serve;
pub mod tls;
pub mod webhook_config;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use katalog::Katalog;
use katalog::build::EngineRender;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use cluster::Cluster;
pub use config::{ClientMode, Config, NotifyConfig, UserTls};
pub use plan::{FailurePolicy, Plan};
pub use tls::Material;

use webhook_config::Endpoint;

/// Why the gateway could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No Kubernetes client could be made.
    #[error("connecting to the cluster")]
    ClientFailed(#[source] kube::Error),
    /// The Katalog cannot be served.
    #[error("reading what the Katalog serves")]
    PlanFailed(#[source] plan::Error),
    /// The Katalog's notes do not compile into the template engine.
    #[error("building the template engine")]
    EngineFailed(#[source] gotmpl::NotesError),
    /// An address could not be bound.
    #[error("binding {0}")]
    BindFailed(SocketAddr, #[source] std::io::Error),
    /// User TLS files could not be read.
    #[error("reading {0}")]
    ReadTlsFailed(std::path::PathBuf, #[source] std::io::Error),
    /// TLS material could not be made or used.
    #[error("preparing TLS")]
    TlsFailed(#[source] tls::Error),
    /// A cluster write failed.
    #[error("updating the cluster")]
    ClusterFailed(#[source] cluster::Error),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What every handler reads.
pub struct SharedState {
    /// What the Katalog declares.
    pub plan: Plan,
    /// Renders rule messages, values and conversion templates.
    pub render: EngineRender,
    /// For `unique` sibling lists.
    pub client: kube::Client,
    /// Counters and histograms.
    pub metrics: metrics::Metrics,
    /// `/notify` routing.
    pub notifier: notify::Notifier,
    /// Set once webhooks are registered.
    pub ready: AtomicBool,
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedState")
            .field("katalog", &self.plan.katalog)
            .finish_non_exhaustive()
    }
}

/// The state handlers share.
pub type Shared = Arc<SharedState>;
pub(crate) type State = SharedState;

pub(crate) use katalog::admission::chain;

/// The default instance name of a Katalog: `ork-<name>`, as a DNS label.
pub fn default_instance(katalog: &str) -> String {
    let clean: String = katalog
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("ork-{}", clean.trim_matches('-'))
}

/// What the housekeeper re-asserts: the desired cluster state and current TLS material.
struct Desired {
    /// CRDs whose `spec.conversion` points at the gateway (`updateCRD: true`).
    converted_crds: Vec<String>,
    endpoint: Endpoint,
    material: Material,
    generated: bool,
    validity: Duration,
    rotate_before: Duration,
}

/// A running gateway.
#[derive(Debug)]
pub struct Gateway {
    state: Shared,
    cluster: Cluster,
    https_addr: SocketAddr,
    http_addr: SocketAddr,
    keep_on_exit: bool,
    stop_tx: watch::Sender<bool>,
    housekeeper: JoinHandle<()>,
    servers: Vec<JoinHandle<()>>,
    material: Arc<std::sync::Mutex<Material>>,
}

impl Gateway {
    /// Starts serving `katalog`: TLS, servers, then every webhook configuration, CRD
    /// conversion stanza and label the plan needs (adopting what a killed instance left).
    ///
    /// # Errors
    /// A plan, TLS, bind or cluster failure; nothing is left registered when start fails
    /// after registering.
    pub async fn start(katalog: Katalog, client: kube::Client, config: Config) -> Result<Gateway> {
        let plan = Plan::from_katalog(&katalog).map_err(Error::PlanFailed)?;
        let engine = katalog::build::engine_for(&katalog).map_err(Error::EngineFailed)?;
        let instance = config
            .instance
            .clone()
            .unwrap_or_else(|| default_instance(&plan.katalog));
        let cluster = Cluster::new(client.clone(), instance.clone(), config.namespace.clone());
        let validity = config
            .cert_validity
            .or(plan.cert_valid_for)
            .unwrap_or(tls::DEFAULT_VALIDITY);
        let rotate_before = tls::threshold(
            validity,
            config
                .rotate_before
                .or(plan.cert_rotate_before)
                .unwrap_or(tls::DEFAULT_ROTATE_BEFORE),
        );
        let (material, generated) =
            tls_material(&config, &cluster, validity, rotate_before).await?;
        let resolver = tls::Resolver::new(&material).map_err(Error::TlsFailed)?;
        let notifier = notify::Notifier::new(
            notify::teams(
                plan.notification.as_ref(),
                config.notify.slack_url.as_deref(),
            ),
            config.notify.clone(),
        );
        let state = Arc::new(SharedState {
            plan,
            render: EngineRender::new(engine),
            client,
            metrics: metrics::Metrics::default(),
            notifier,
            ready: AtomicBool::new(false),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut servers = Vec::new();
        let (https, https_addr) = bind(config.https_addr).await?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(resolver.server_config()));
        let listener = serve::TlsListener::new(https, acceptor)
            .map_err(|e| Error::BindFailed(config.https_addr, e))?;
        servers.push(spawn_server(
            listener,
            serve::webhooks(state.clone()),
            stop_rx.clone(),
        ));
        let (http, http_addr) = bind(config.http_addr).await?;
        servers.push(spawn_server(
            http,
            serve::plain(state.clone()),
            stop_rx.clone(),
        ));

        let endpoint = Endpoint {
            mode: config.client_mode.clone(),
            port: https_addr.port(),
            ca_bundle: material.ca_bundle.clone(),
        };
        let desired = Desired {
            converted_crds: state
                .plan
                .targets
                .iter()
                .filter(|t| t.conversion.as_ref().is_some_and(|c| c.update_crd))
                .map(|t| t.crd_name())
                .collect(),
            endpoint,
            material: material.clone(),
            generated,
            validity,
            rotate_before,
        };
        let material = Arc::new(std::sync::Mutex::new(material));
        if let Err(e) = adopt_and_assert(&state, &cluster, &instance, &desired).await {
            if !config.keep_on_exit {
                let _ = cluster.remove_all().await;
            }
            let _ = stop_tx.send(true);
            return Err(e);
        }
        state.ready.store(true, Ordering::Relaxed);
        tracing::info!(%instance, %https_addr, %http_addr, "gateway ready");
        let housekeeper = tokio::spawn(housekeep(
            state.clone(),
            cluster.clone(),
            instance,
            desired,
            resolver,
            material.clone(),
            config.reassert_every,
            stop_rx,
        ));
        Ok(Gateway {
            state,
            cluster,
            https_addr,
            http_addr,
            keep_on_exit: config.keep_on_exit,
            stop_tx,
            housekeeper,
            servers,
            material,
        })
    }

    /// The HTTPS (webhook) address.
    pub fn https_addr(&self) -> SocketAddr {
        self.https_addr
    }

    /// The plain HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// What the gateway serves.
    pub fn plan(&self) -> &Plan {
        &self.state.plan
    }

    /// The TLS material currently served.
    pub fn material(&self) -> Material {
        self.material
            .lock()
            .map(|m| m.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Stops: the housekeeper first, then (unless keep-on-exit) every webhook configuration,
    /// CRD conversion, namespace label and Secret goes, and last the servers.
    ///
    /// # Errors
    /// Cleanup that still failed after 5 attempts; the servers are stopped regardless.
    pub async fn stop(self) -> Result<()> {
        self.state.ready.store(false, Ordering::Relaxed);
        let _ = self.stop_tx.send(true);
        let _ = self.housekeeper.await;
        let mut result = Ok(());
        if !self.keep_on_exit {
            for attempt in 1..=5 {
                match self.cluster.remove_all().await {
                    Ok(()) => {
                        result = Ok(());
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(attempt, error = %chain(&e), "cleanup failed; retrying");
                        result = Err(Error::ClusterFailed(e));
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
        for s in self.servers {
            let _ = tokio::time::timeout(Duration::from_secs(5), s).await;
        }
        result
    }
}

/// Runs until `shutdown` resolves, then stops (see [`Gateway::stop`]).
///
/// # Errors
/// As [`Gateway::start`] and [`Gateway::stop`].
pub async fn run(
    katalog: Katalog,
    client: kube::Client,
    config: Config,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let gw = Gateway::start(katalog, client, config).await?;
    shutdown.await;
    tracing::info!("shutting down: removing webhook configurations");
    gw.stop().await
}

/// Binds `addr` and returns the listener with the address it got (port 0 → a free one).
async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr)> {
    let l = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::BindFailed(addr, e))?;
    let local = l.local_addr().map_err(|e| Error::BindFailed(addr, e))?;
    Ok((l, local))
}

fn spawn_server<L>(
    listener: L,
    router: axum::Router,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "server failed");
        }
    })
}

async fn tls_material(
    config: &Config,
    cluster: &Cluster,
    validity: Duration,
    rotate_before: Duration,
) -> Result<(Material, bool)> {
    if let Some(user) = &config.user_tls {
        let read = |p: &std::path::PathBuf| {
            std::fs::read_to_string(p).map_err(|e| Error::ReadTlsFailed(p.clone(), e))
        };
        let cert = read(&user.cert)?;
        let key = read(&user.key)?;
        let ca_bundle = match &user.ca {
            Some(ca) => read(ca)?,
            None => cert.clone(),
        };
        return Ok((
            Material {
                ca_bundle,
                ca_key: None,
                cert,
                key,
            },
            false,
        ));
    }
    let hosts = tls::hosts_for(&config.client_mode);
    if let Some(stored) = cluster.load_tls().await.map_err(Error::ClusterFailed)? {
        let usable = tls::not_after(&stored.cert).is_ok_and(|exp| !tls::is_due(exp, rotate_before))
            && tls::Resolver::new(&stored).is_ok();
        if usable {
            return Ok((stored, true));
        }
        tracing::info!("stored TLS material is expiring or malformed; generating new");
    }
    let m = tls::generate(&hosts, validity).map_err(Error::TlsFailed)?;
    cluster.store_tls(&m).await.map_err(Error::ClusterFailed)?;
    Ok((m, true))
}

/// Removes what a previous instance left that the plan no longer needs, then asserts the
/// desired state.
async fn adopt_and_assert(
    state: &State,
    cluster: &Cluster,
    instance: &str,
    desired: &Desired,
) -> Result<()> {
    let configs = webhook_config::desired(&state.plan, instance, &desired.endpoint);
    let names: BTreeSet<String> = configs.iter().map(|c| c.name.clone()).collect();
    let crds: BTreeSet<String> = desired.converted_crds.iter().cloned().collect();
    let stale = cluster
        .delete_webhooks_except(&names)
        .await
        .map_err(Error::ClusterFailed)?;
    let restored = cluster
        .restore_conversions_except(&crds)
        .await
        .map_err(Error::ClusterFailed)?;
    if stale + restored > 0 {
        tracing::info!(stale, restored, "cleaned up what a previous instance left");
    }
    assert_all(state, cluster, instance, desired).await
}

async fn assert_all(
    state: &State,
    cluster: &Cluster,
    instance: &str,
    desired: &Desired,
) -> Result<()> {
    let configs = webhook_config::desired(&state.plan, instance, &desired.endpoint);
    let r = cluster.apply_webhooks(&configs).await;
    state
        .metrics
        .housekeeping("webhook-configurations", r.is_ok());
    r.map_err(Error::ClusterFailed)?;
    let conversion = webhook_config::crd_conversion(&desired.endpoint);
    for crd in &desired.converted_crds {
        let r = cluster.patch_conversion(crd, &conversion).await;
        state
            .metrics
            .housekeeping("conversion-crd-cabundle", r.is_ok());
        r.map_err(Error::ClusterFailed)?;
    }
    if state.plan.deletion_protection.is_some() {
        let r = cluster.label_namespace().await;
        state.metrics.housekeeping("namespace-labels", r.is_ok());
        r.map_err(Error::ClusterFailed)?;
    }
    Ok(())
}

/// The first PEM certificate of a bundle.
fn first_cert(bundle: &str) -> &str {
    const END: &str = "-----END CERTIFICATE-----";
    match bundle.find(END) {
        Some(i) => &bundle[..i + END.len()],
        None => bundle,
    }
}

#[allow(clippy::too_many_arguments)]
async fn housekeep(
    state: Shared,
    cluster: Cluster,
    instance: String,
    mut desired: Desired,
    resolver: Arc<tls::Resolver>,
    current: Arc<std::sync::Mutex<Material>>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(every) => {}
        }
        if desired.generated
            && tls::not_after(&desired.material.cert)
                .is_ok_and(|exp| tls::is_due(exp, desired.rotate_before))
        {
            match tls::generate(&tls::hosts_for(&desired.endpoint.mode), desired.validity) {
                Ok(mut fresh) => {
                    // Trust the new CA and the previous one while the API server catches up.
                    fresh.ca_bundle = format!(
                        "{}\n{}\n",
                        first_cert(&fresh.ca_bundle).trim(),
                        first_cert(&desired.material.ca_bundle).trim()
                    );
                    desired.endpoint.ca_bundle = fresh.ca_bundle.clone();
                    if let Err(e) = assert_all(&state, &cluster, &instance, &desired).await {
                        tracing::warn!(error = %chain(&e), "re-patching caBundles failed; rotation retried");
                        continue;
                    }
                    if let Err(e) = resolver.swap(&fresh) {
                        tracing::warn!(error = %chain(&e), "new certificate unusable");
                        continue;
                    }
                    if let Err(e) = cluster.store_tls(&fresh).await {
                        tracing::warn!(error = %chain(&e), "storing the rotated certificate failed");
                    }
                    if let Ok(mut m) = current.lock() {
                        *m = fresh.clone();
                    }
                    desired.material = fresh;
                    tracing::info!("certificate rotated; caBundles re-patched");
                }
                Err(e) => tracing::warn!(error = %chain(&e), "generating a new certificate failed"),
            }
        }
        if let Err(e) = assert_all(&state, &cluster, &instance, &desired).await {
            tracing::warn!(error = %chain(&e), "re-asserting webhook configurations failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_are_dns_labels() {
        assert_eq!(default_instance("My_Katalog"), "ork-my-katalog");
    }

    #[test]
    fn the_first_certificate_of_a_bundle_is_cut_out() {
        let b = "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n";
        assert_eq!(
            first_cert(b),
            "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----"
        );
    }
}
