//! [`Gateway`] and [`run`]: a gateway's lifecycle. Start makes TLS material, binds both
//! servers, registers what the plan needs and hands it to the housekeeper; stop takes it all
//! back out of the cluster.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use katalog::Katalog;
use katalog::build::EngineRender;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::housekeeper::{Certificate, Housekeeper, Registration};
use crate::webhook_config::Endpoint;
use crate::{
    Cluster, Config, Error, HandlerContext, Material, Plan, Result, chain, limits, metrics, notify,
    notify_access, serve, tls,
};

/// The default instance name of a Katalog: `ork-<name>`, as a DNS label.
pub fn default_instance(katalog: &str) -> String {
    let clean: String = katalog
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("ork-{}", clean.trim_matches('-'))
}

/// A running gateway. Dropping it without [`Gateway::stop`] abandons it as a crash would:
/// the servers and the housekeeper stop, and everything it registered stays in the cluster
/// for the next start to adopt.
#[derive(Debug)]
pub struct Gateway {
    context: Arc<HandlerContext>,
    cluster: Cluster,
    https_addr: SocketAddr,
    http_addr: SocketAddr,
    keep_on_exit: bool,
    stop_tx: watch::Sender<bool>,
    housekeeper: JoinHandle<()>,
    servers: Vec<JoinHandle<()>>,
    material: Arc<Mutex<Material>>,
}

impl Gateway {
    /// Starts serving `katalog`: TLS, servers, then every webhook configuration, CRD
    /// conversion stanza and label the plan needs (adopting what a killed instance left).
    ///
    /// # Errors
    /// A plan, TLS, bind or cluster failure; nothing is left registered when start fails
    /// after registering.
    pub async fn start(katalog: Katalog, client: kube::Client, config: Config) -> Result<Gateway> {
        let plan = Plan::from_katalog(&katalog);
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
        let render = Arc::new(EngineRender::new(engine));
        let metrics = metrics::Metrics::default();
        let calls = crate::admit::external::calls(&plan, &render, &client, &metrics);
        let context = Arc::new(HandlerContext {
            plan,
            render,
            calls,
            client,
            metrics,
            notifier,
            notify_access: notify_access::Access::new(
                config.http_addr.ip(),
                config.notify.token.clone(),
            ),
            ready: AtomicBool::new(false),
        });
        if context.notify_access == notify_access::Access::Refused {
            tracing::warn!(
                http_addr = %config.http_addr,
                "/notify is refused: the HTTP server is not bound to loopback and no notify \
                 token is configured (--notify-token or ORK_NOTIFY_TOKEN)"
            );
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut servers = Vec::new();
        let (https, https_addr) = bind(config.https_addr).await?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(resolver.server_config()));
        let listener = serve::TlsListener::new(https, acceptor)
            .map_err(|e| Error::BindFailed(config.https_addr, e))?;
        servers.push(spawn_server(
            listener,
            serve::webhooks(context.clone()),
            stop_rx.clone(),
        ));
        let (http, http_addr) = bind(config.http_addr).await?;
        servers.push(spawn_server(
            http,
            serve::plain(context.clone()),
            stop_rx.clone(),
        ));

        let endpoint = Endpoint {
            mode: config.client_mode.clone(),
            port: https_addr.port(),
            ca_bundle: material.ca_bundle.clone(),
        };
        let registration =
            Registration::new(context.clone(), cluster.clone(), instance.clone(), endpoint);
        if let Err(e) = registration.adopt_and_assert().await {
            if !config.keep_on_exit {
                let _ = cluster.remove_all().await;
            }
            let _ = stop_tx.send(true);
            return Err(e);
        }
        context.ready.store(true, Ordering::Relaxed);
        tracing::info!(%instance, %https_addr, %http_addr, "gateway ready");
        let certificate = Certificate {
            material: material.clone(),
            generated,
            validity,
            rotate_before,
        };
        let material = Arc::new(Mutex::new(material));
        let housekeeper = Housekeeper::new(registration, certificate, resolver, material.clone());
        let housekeeper = tokio::spawn(housekeeper.run(config.reassert_every, stop_rx));
        Ok(Gateway {
            context,
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
        &self.context.plan
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
        self.context.ready.store(false, Ordering::Relaxed);
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

fn spawn_server<L>(listener: L, router: axum::Router, stop: watch::Receiver<bool>) -> JoinHandle<()>
where
    L: axum::serve::Listener,
{
    tokio::spawn(limits::serve(listener, router, stop))
}

/// The user's TLS files, else the material stored by a previous instance while it is usable
/// and not due, else new material (stored for the next instance). The flag says whether the
/// gateway made it (and so may rotate it).
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
        let now = time::OffsetDateTime::now_utc();
        let usable = tls::not_after(&stored.cert)
            .is_ok_and(|exp| !tls::is_due(exp, rotate_before, now))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_are_dns_labels() {
        assert_eq!(default_instance("My_Katalog"), "ork-my-katalog");
    }
}
