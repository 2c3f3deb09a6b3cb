//! The gateway a test needs: when the Katalog declares admission rules, conversion or
//! protection, `ork e2e` runs the gateway in-process (`gateway::Gateway`, as `ork gateway`
//! runs it out of cluster) so the API server calls it for the test's CRs. Its webhook
//! configurations and CRD conversion stanzas point at `https://127.0.0.1:<free port>` with
//! a CA generated for this run and kept in memory; stopping it removes them from the cluster.
//! Start returns once the API server calls the conversion webhook (a dry-run probe), so the
//! test's CRs are converted from the first one. `ork dev` runs the same gateway next to its
//! runtime through [`Webhooks::start_with`] (preferred ports, waiting for the runtime to
//! install the CRDs whose conversion it registers).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

/// How often the gateway re-asserts its registrations while a test runs.
const REASSERT_EVERY: Duration = Duration::from_secs(5);
/// How long it gets to take its registrations back out of the cluster.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the API server gets to start calling a conversion webhook once registered.
const CONVERSION_SETTLE: Duration = Duration::from_secs(30);
/// How often the conversion probe asks again.
const PROBE_EVERY: Duration = Duration::from_millis(200);
/// The name of the object the conversion probe creates as a dry run (never stored).
const PROBE_NAME: &str = "ork-e2e-conversion-probe";

/// A running gateway.
pub struct Webhooks {
    gateway: gateway::Gateway,
}

/// Where [`Webhooks::start_with`] serves, and how long it waits for the CRDs it converts.
#[derive(Debug, Clone)]
pub struct Options {
    /// HTTPS address of the webhooks (port 0: a free one).
    pub https_addr: SocketAddr,
    /// Plain HTTP address of health, metrics and `/katalog` (port 0: a free one).
    pub http_addr: SocketAddr,
    /// How long to wait for each CRD whose conversion the gateway registers to exist and be
    /// Established (zero: no wait, it must exist already, as after `ork e2e`'s CRD step).
    pub crd_wait: Duration,
}

impl Default for Options {
    /// Free ports on 127.0.0.1, no waiting.
    fn default() -> Self {
        let any_port = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        Options {
            https_addr: any_port,
            http_addr: any_port,
            crd_wait: Duration::ZERO,
        }
    }
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
        Self::start_with(katalog, kubeconfig, Options::default()).await
    }

    /// [`Webhooks::start`] with `options`: its addresses, and how long to wait for the CRDs
    /// whose conversion it registers (a runtime started alongside installs them).
    ///
    /// # Errors
    /// As [`Webhooks::start`], and a converted CRD that did not appear in time.
    pub async fn start_with(
        katalog: &Path,
        kubeconfig: &Path,
        options: Options,
    ) -> Result<Option<Self>, String> {
        let loaded = katalog::load(katalog).map_err(|d| d.render())?;
        let plan = gateway::Plan::from_katalog(&loaded.katalog);
        if plan.is_empty() {
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
        for target in &plan.targets {
            if !options.crd_wait.is_zero()
                && target.conversion.as_ref().is_some_and(|c| c.update_crd)
            {
                wait_established(&client, &target.crd_name(), options.crd_wait).await?;
            }
        }
        let config = gateway::Config::new()
            .https_addr(options.https_addr)
            .http_addr(options.http_addr)
            .client_mode(gateway::ClientMode::Url {
                host: Ipv4Addr::LOCALHOST.to_string(),
            })
            .reassert_every(REASSERT_EVERY);
        let gateway = gateway::Gateway::start(loaded.katalog, client.clone(), config)
            .await
            .map_err(|e| format!("starting the gateway: {:#}", anyhow::Error::new(e)))?;
        let webhooks = Self { gateway };
        if let Err(e) = webhooks.wait_conversion_in_use(&client).await {
            let _ = webhooks.stop().await;
            return Err(e);
        }
        Ok(Some(webhooks))
    }

    /// Waits until the API server converts through the gateway for every CRD whose
    /// conversion it registered: it picks the registration up from its own watch of CRDs,
    /// a moment after the gateway patched it, and a CR applied before then would be stored
    /// unconverted. A server-side dry-run create of an empty object in a version other than
    /// the storage version is converted on the way to storage (never stored); the gateway
    /// counts each conversion it answers.
    async fn wait_conversion_in_use(&self, client: &kube::Client) -> Result<(), String> {
        use kube::api::{Api, ApiResource, DynamicObject, PostParams};
        for target in &self.gateway.plan().targets {
            let Some(conversion) = target.conversion.as_ref().filter(|c| c.update_crd) else {
                continue;
            };
            let crd = &target.crd;
            let storage = conversion
                .storage_version
                .as_ref()
                .map_or(crd.gvk.version.as_str(), |v| v.value.as_str());
            let Some(version) = conversion
                .paths
                .iter()
                .flat_map(|p| [&p.from, &p.to])
                .find(|v| v.as_str() != storage)
            else {
                continue;
            };
            let resource = ApiResource {
                group: crd.gvk.group.clone(),
                version: version.clone(),
                api_version: format!("{}/{version}", crd.gvk.group),
                kind: crd.gvk.kind.clone(),
                plural: crd.plural.clone(),
            };
            let mut probe = DynamicObject::new(PROBE_NAME, &resource);
            let api: Api<DynamicObject> = if crd.namespaced {
                probe.metadata.namespace = Some("default".into());
                Api::namespaced_with(client.clone(), "default", &resource)
            } else {
                Api::all_with(client.clone(), &resource)
            };
            let dry_run = PostParams {
                dry_run: true,
                ..PostParams::default()
            };
            let started = Instant::now();
            loop {
                let before = self.conversions().await?;
                let answer = api.create(&dry_run, &probe).await;
                if self.conversions().await? > before {
                    break;
                }
                if started.elapsed() >= CONVERSION_SETTLE {
                    let answer = match answer {
                        Ok(_) => "accepted without converting".to_owned(),
                        Err(e) => e.to_string(),
                    };
                    return Err(format!(
                        "the API server did not call the conversion webhook of {} within \
                         {CONVERSION_SETTLE:?} (a dry-run create in {version}: {answer})",
                        target.crd_name()
                    ));
                }
                tokio::time::sleep(PROBE_EVERY).await;
            }
        }
        Ok(())
    }

    /// How many conversions the gateway has answered (its `/metrics`).
    async fn conversions(&self) -> Result<f64, String> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let addr = self.gateway.http_addr();
        let read = async {
            let mut stream = tokio::net::TcpStream::connect(addr).await?;
            stream
                .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .await?;
            let mut text = String::new();
            stream.read_to_string(&mut text).await?;
            Ok::<_, std::io::Error>(text)
        };
        let text = read
            .await
            .map_err(|e| format!("reading the gateway's metrics at {addr}: {e}"))?;
        Ok(text
            .lines()
            .filter(|l| l.starts_with("orkestra_conversion_requests_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum())
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

    /// The address of its webhooks.
    pub fn https_addr(&self) -> SocketAddr {
        self.gateway.https_addr()
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

/// Waits up to `wait` for CRD `name` to be Established.
async fn wait_established(client: &kube::Client, name: &str, wait: Duration) -> Result<(), String> {
    use kube::api::{Api, ApiResource, DynamicObject};
    use kube::core::GroupVersionKind;
    let gvk = GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "customresourcedefinitions");
    let crds: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let started = Instant::now();
    loop {
        let established = match crds.get_opt(name).await {
            Ok(Some(crd)) => crd.data["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Established" && c["status"] == "True"),
            Ok(None) => false,
            Err(e) => return Err(format!("reading CRD {name}: {e}")),
        };
        if established {
            return Ok(());
        }
        if started.elapsed() >= wait {
            return Err(format!(
                "CRD {name} is not Established after {wait:?}; the gateway registers its \
                 conversion on it"
            ));
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
}
