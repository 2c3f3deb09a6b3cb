//! The gateway a test needs: when the Katalog declares admission rules, conversion or
//! protection, `ork e2e` runs the gateway in-process (`gateway::Gateway`, as `ork gateway`
//! runs it out of cluster) so the API server calls it for the test's CRs. Its webhook
//! configurations and CRD conversion stanzas point at `https://127.0.0.1:<free port>` with
//! a CA generated for this run and kept in memory; stopping it removes them from the cluster.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

/// How often the gateway re-asserts its registrations while a test runs.
const REASSERT_EVERY: Duration = Duration::from_secs(5);
/// How long it gets to take its registrations back out of the cluster.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running gateway.
pub struct Webhooks {
    gateway: gateway::Gateway,
}

impl Webhooks {
    /// Starts the gateway for the Katalog at `katalog` on the cluster of `kubeconfig`, or
    /// returns `None` when the Katalog declares nothing a webhook serves. Call it after the
    /// CRDs exist (conversion is registered on them) and before any CR is applied.
    ///
    /// # Errors
    /// The Katalog's problems (rendered), a kubeconfig that does not connect, or why the
    /// gateway did not start (TLS, bind, registration).
    pub async fn start(katalog: &Path, kubeconfig: &Path) -> Result<Option<Self>, String> {
        let loaded = katalog::load(katalog).map_err(|d| d.render())?;
        if gateway::Plan::from_katalog(&loaded.katalog).is_empty() {
            return Ok(None);
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let connect = runtime::cluster::ConnectOptions {
            kubeconfig: Some(kubeconfig.to_path_buf()),
            context: None,
        };
        let client = runtime::cluster::connect(&connect)
            .await
            .map_err(|e| format!("connecting to the cluster: {:#}", anyhow::Error::new(e)))?;
        let any_port = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let config = gateway::Config::new()
            .https_addr(any_port)
            .http_addr(any_port)
            .client_mode(gateway::ClientMode::Url {
                host: Ipv4Addr::LOCALHOST.to_string(),
            })
            .reassert_every(REASSERT_EVERY);
        let gateway = gateway::Gateway::start(loaded.katalog, client, config)
            .await
            .map_err(|e| format!("starting the gateway: {:#}", anyhow::Error::new(e)))?;
        Ok(Some(Self { gateway }))
    }

    /// A line for the report: what it serves and where.
    pub fn describe(&self) -> String {
        let plan = self.gateway.plan();
        let serves: Vec<&str> = [
            (plan.serves_mutate(), "mutation"),
            (plan.serves_validate(), "validation"),
            (plan.serves_convert(), "conversion"),
            (plan.serves_namespace_protection(), "namespace protection"),
            (plan.deletion_protection.is_some(), "deletion protection"),
        ]
        .into_iter()
        .filter_map(|(on, what)| on.then_some(what))
        .collect();
        format!(
            "in-process, {} webhooks at https://{} (health at http://{})",
            serves.join(", "),
            self.gateway.https_addr(),
            self.gateway.http_addr()
        )
    }

    /// The address of its plain HTTP API (health, metrics).
    pub fn http_addr(&self) -> SocketAddr {
        self.gateway.http_addr()
    }

    /// Stops it and removes its webhook configurations and conversion stanzas.
    ///
    /// # Errors
    /// A cleanup that failed or did not finish in time.
    pub async fn stop(self) -> Result<(), String> {
        match tokio::time::timeout(STOP_TIMEOUT, self.gateway.stop()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("stopping the gateway: {:#}", anyhow::Error::new(e))),
            Err(_) => Err(format!("the gateway did not stop within {STOP_TIMEOUT:?}")),
        }
    }
}
