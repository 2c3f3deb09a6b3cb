//! Starting, using and stopping one local control plane.

use std::fs;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Api;

use crate::binaries::{self, Binaries};
use crate::components::component_args;
use crate::config::Config;
use crate::fault::FaultProxy;
use crate::kubeconfig;
use crate::pki::{self, Identity, Pki};
use crate::process::{self, Janitor, Process};
use crate::workloads;

/// How many log lines an error shows of the process that failed.
const LOG_TAIL_LINES: usize = 50;

/// The processes start in the order etcd, kube-apiserver, then the API server's clients; this is
/// the index of the first client.
const API_CLIENTS_FROM: usize = 2;

/// Index of etcd among the processes.
const ETCD: usize = 0;

/// Index of kube-apiserver among the processes.
const APISERVER: usize = 1;

/// Errors starting or using a control plane. Each says what failed and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The binaries are missing or could not be built.
    #[error(transparent)]
    Binaries(#[from] binaries::Error),
    /// Key material could not be generated.
    #[error("preparing certificates")]
    Pki(#[source] pki::Error),
    /// The persistent state directory is damaged.
    #[error(
        "the state directory {dir} is corrupt ({cause}); `ork dev --reset` wipes it and starts an empty cluster"
    )]
    CorruptState {
        /// The state directory.
        dir: PathBuf,
        /// What is wrong with it.
        cause: String,
    },
    /// Another process already runs a control plane on this state directory.
    #[error(
        "the state directory {dir} is in use by process {pid}; stop that `ork dev` first or choose another --state-dir"
    )]
    StateInUse {
        /// The state directory.
        dir: PathBuf,
        /// The pid recorded in its lock file.
        pid: u32,
    },
    /// A directory or file could not be created.
    #[error("creating {0}")]
    Io(PathBuf, #[source] std::io::Error),
    /// The requested API server port is taken.
    #[error(
        "port {0} on 127.0.0.1 is already in use (another API server?); choose another port or stop the process using it"
    )]
    PortInUse(u16),
    /// A process could not be started.
    #[error(transparent)]
    Spawn(#[from] process::Error),
    /// A process exited while starting.
    #[error("{name} exited during start-up ({status}); last lines of {log}:\n{tail}{hint}")]
    Exited {
        /// The process.
        name: String,
        /// How it exited.
        status: String,
        /// Its log file.
        log: PathBuf,
        /// The last lines of the log.
        tail: String,
        /// Extra advice, possibly empty.
        hint: String,
    },
    /// A process did not become ready in time.
    #[error(
        "{name} was not ready after {waited:?} (waiting for {what}); last lines of {log}:\n{tail}"
    )]
    NotReady {
        /// The process.
        name: String,
        /// What readiness check was waited on.
        what: &'static str,
        /// How long it waited.
        waited: Duration,
        /// Its log file.
        log: PathBuf,
        /// The last lines of the log.
        tail: String,
    },
    /// A kubeconfig or client could not be built.
    #[error(transparent)]
    Kubeconfig(#[from] kubeconfig::Error),
    /// The fault proxy could not listen.
    #[error("starting the fault proxy")]
    Proxy(#[source] std::io::Error),
    /// The simulated Nodes of the workloads mode could not be created.
    #[error("creating the simulated Nodes")]
    NodesNotCreated(#[source] kube::Error),
}

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug)]
enum DataDir {
    Throwaway(tempfile::TempDir),
    Persistent(PathBuf),
}

impl DataDir {
    fn path(&self) -> &Path {
        match self {
            Self::Throwaway(t) => t.path(),
            Self::Persistent(p) => p,
        }
    }
}

/// A running local control plane: etcd, kube-apiserver and (by default) kube-controller-manager
/// on 127.0.0.1, plus kube-scheduler and kwok in the workloads mode ([`Config::workloads`]).
/// Dropping it stops every process (by pid, newest first) and, for a throwaway control plane,
/// removes its data. If the owning process dies without dropping it, a small janitor process
/// does the same.
#[derive(Debug)]
pub struct ControlPlane {
    // Field order is drop order: the janitor is disarmed before the processes stop.
    janitor: Option<Janitor>,
    processes: Vec<Process>,
    pki: Pki,
    server: String,
    kubeconfig_path: PathBuf,
    kubeconfig_text: String,
    binaries: Binaries,
    etcd_addr: String,
    api_addr: String,
    start_timeout: Duration,
    lock: Option<PathBuf>,
    dir: DataDir,
}

impl ControlPlane {
    /// Starts a control plane and waits until it serves requests: etcd healthy, the API server's
    /// `/readyz` OK, kube-controller-manager's controllers working (the `default`
    /// ServiceAccount exists) and, in the workloads mode, every simulated Node Ready.
    ///
    /// # Errors
    /// Missing binaries (with how to build them; kwok only counts in the workloads mode), a
    /// taken port, a process that exits or is not ready in time (with the last 50 lines of its
    /// log), a corrupt or busy state directory.
    pub async fn start(config: Config) -> Result<Self> {
        let started = Instant::now();
        let binaries = match &config.binaries_dir {
            Some(dir) => Binaries::locate_in(dir.clone())?,
            None => Binaries::locate()?,
        };
        if config.workloads {
            binaries.require(binaries::WORKLOADS_REQUIRED)?;
        }
        let (dir, fresh) = match &config.state_dir {
            Some(path) => {
                let fresh = !path.join("pki").exists();
                fs::create_dir_all(path).map_err(|e| Error::Io(path.clone(), e))?;
                (DataDir::Persistent(path.clone()), fresh)
            }
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("ork-testenv-")
                    .tempdir()
                    .map_err(|e| Error::Io(std::env::temp_dir(), e))?;
                (DataDir::Throwaway(tmp), true)
            }
        };
        let root = dir.path().to_path_buf();
        let lock = match &dir {
            DataDir::Persistent(p) => Some(take_lock(p)?),
            DataDir::Throwaway(_) => None,
        };
        let pki_dir = root.join("pki");
        let pki = if fresh {
            Pki::generate(&pki_dir).map_err(Error::Pki)?
        } else {
            Pki::load(&pki_dir).map_err(|e| Error::CorruptState {
                dir: root.clone(),
                cause: error_chain(&e),
            })?
        };
        let logs = root.join("logs");
        fs::create_dir_all(&logs).map_err(|e| Error::Io(logs.clone(), e))?;

        let remembered = root.join("api-port");
        let api_port = match config.api_port {
            // A persistent cluster keeps its port across restarts when it can, so open
            // shells and tools keep working.
            0 if config.state_dir.is_some() => fs::read_to_string(&remembered)
                .ok()
                .and_then(|t| t.trim().parse::<u16>().ok())
                .filter(|&p| p != 0 && port_is_free(p))
                .map_or_else(free_port, Ok)?,
            0 => free_port()?,
            port if port_is_free(port) => port,
            port => return Err(Error::PortInUse(port)),
        };
        if config.state_dir.is_some() {
            fs::write(&remembered, api_port.to_string())
                .map_err(|e| Error::Io(remembered.clone(), e))?;
        }
        let etcd_port = free_port()?;
        let peer_port = free_port()?;
        let server = format!("https://127.0.0.1:{api_port}");
        let kubeconfig_text =
            kubeconfig::render("ork-local", &server, pki.serving_ca_pem(), pki.admin());
        let kubeconfig_path = root.join("kubeconfig");
        kubeconfig::write(&kubeconfig_path, &kubeconfig_text)?;

        let mut cp = Self {
            janitor: None,
            processes: Vec::new(),
            pki,
            server,
            kubeconfig_path,
            kubeconfig_text,
            binaries,
            etcd_addr: format!("127.0.0.1:{etcd_port}"),
            api_addr: format!("127.0.0.1:{api_port}"),
            start_timeout: config.start_timeout,
            lock,
            dir,
        };
        let persistent_hint = if fresh {
            String::new()
        } else {
            format!(
                "\n  it reused the state in {}; if that state is damaged, `ork dev --reset` wipes it",
                root.display()
            )
        };

        tracing::info!(dir = %root.display(), "starting etcd");
        let etcd = cp.spawn(
            "etcd",
            etcd_args(
                &root,
                etcd_port,
                peer_port,
                fresh && config.state_dir.is_none(),
            ),
            &logs,
        )?;
        cp.wait_etcd(etcd, &persistent_hint).await?;

        tracing::info!(%api_port, "starting kube-apiserver");
        let mut args = apiserver_args(&cp.pki, api_port, etcd_port, &config);
        if config.audit_log {
            let policy = root.join("audit-policy.yaml");
            fs::write(&policy, AUDIT_POLICY).map_err(|e| Error::Io(policy.clone(), e))?;
            args.push(format!("--audit-policy-file={}", policy.display()));
            args.push(format!(
                "--audit-log-path={}",
                cp.audit_log_path().display()
            ));
            args.push("--audit-log-format=json".into());
        }
        let apiserver = cp.spawn("kube-apiserver", args, &logs)?;
        let probe = cp.client().await?;
        cp.wait_apiserver(apiserver).await?;

        if config.controller_manager || config.workloads {
            let mut controllers = config.controllers.clone();
            if config.workloads {
                controllers.extend(
                    workloads::WORKLOAD_CONTROLLERS
                        .iter()
                        .map(|c| c.to_string()),
                );
            }
            tracing::info!(controllers = %controllers.join(","), "starting kube-controller-manager");
            let args = controller_manager_args(&cp.pki, &cp.kubeconfig_path, &controllers);
            let kcm = cp.spawn("kube-controller-manager", args, &logs)?;
            if config
                .controllers
                .iter()
                .any(|c| c == "serviceaccount-controller")
            {
                let sa: Api<ServiceAccount> = Api::namespaced(probe.clone(), "default");
                cp.wait_ready(
                    kcm,
                    "the default ServiceAccount",
                    config.start_timeout,
                    "",
                    || {
                        let sa = sa.clone();
                        async move { matches!(sa.get_opt("default").await, Ok(Some(_))) }
                    },
                )
                .await?;
            }
        }

        if config.workloads {
            cp.start_workloads(&root, &probe, config.start_timeout)
                .await?;
        }

        cp.arm_janitor()?;
        tracing::info!(elapsed = ?started.elapsed(), server = %cp.server, "control plane ready");
        Ok(cp)
    }

    /// (Re-)arms the janitor for the current pids: the old one (if any) is disarmed first.
    fn arm_janitor(&mut self) -> Result<()> {
        self.janitor.take();
        let pids: Vec<u32> = self.processes.iter().map(Process::pid).collect();
        let removable = match &self.dir {
            DataDir::Throwaway(t) => Some(t.path().to_path_buf()),
            DataDir::Persistent(_) => None,
        };
        self.janitor = Some(
            Janitor::arm(&pids, removable.as_deref())
                .map_err(|e| Error::Io(PathBuf::from("sh"), e))?,
        );
        Ok(())
    }

    /// Waits until etcd (process `index`) answers `GET /health`.
    async fn wait_etcd(&mut self, index: usize, hint: &str) -> Result<()> {
        let addr = self.etcd_addr.clone();
        let timeout = self.start_timeout;
        self.wait_ready(index, "GET /health", timeout, hint, || {
            let addr = addr.clone();
            async move { etcd_healthy(&addr) }
        })
        .await
    }

    /// Waits until the API server (process `index`) answers `GET /readyz` with `ok`.
    async fn wait_apiserver(&mut self, index: usize) -> Result<()> {
        let probe = self.client().await?;
        let addr = self.api_addr.clone();
        let timeout = self.start_timeout;
        self.wait_ready(index, "GET /readyz", timeout, "", || {
            let client = probe.clone();
            let addr = addr.clone();
            async move { readyz(&client, &addr).await }
        })
        .await
    }

    /// SIGKILLs kube-apiserver, as a crash would: its connections drop and nothing answers on
    /// its port until [`ControlPlane::start_apiserver`]. Meant for a dedicated control plane
    /// ([`ControlPlane::start`]), never [`crate::shared`], whose other users would fail.
    pub fn kill_apiserver(&mut self) {
        tracing::info!("SIGKILL kube-apiserver");
        self.processes[APISERVER].kill();
    }

    /// Starts kube-apiserver again after [`ControlPlane::kill_apiserver`] — same etcd, same
    /// port, same certificates — and waits until `/readyz` answers `ok`.
    ///
    /// # Errors
    /// It exits or is not ready within the start timeout (with the last lines of its log).
    pub async fn start_apiserver(&mut self) -> Result<()> {
        tracing::info!("restarting kube-apiserver");
        self.processes[APISERVER].respawn()?;
        self.arm_janitor()?;
        self.wait_apiserver(APISERVER).await
    }

    /// SIGKILLs etcd: the API server stays up but fails every request that needs storage (and
    /// its `/readyz`) until [`ControlPlane::start_etcd`]. Dedicated control planes only, as for
    /// [`ControlPlane::kill_apiserver`].
    pub fn kill_etcd(&mut self) {
        tracing::info!("SIGKILL etcd");
        self.processes[ETCD].kill();
    }

    /// Starts etcd again after [`ControlPlane::kill_etcd`] — same data directory, same ports —
    /// and waits until etcd is healthy and the API server's `/readyz` answers `ok` again.
    ///
    /// # Errors
    /// etcd or the API server exits or is not ready within the start timeout.
    pub async fn start_etcd(&mut self) -> Result<()> {
        tracing::info!("restarting etcd");
        self.processes[ETCD].respawn()?;
        self.arm_janitor()?;
        self.wait_etcd(ETCD, "").await?;
        self.wait_apiserver(APISERVER).await
    }

    /// Starts kube-scheduler and kwok, creates the simulated Nodes and waits until kwok has made
    /// each of them Ready.
    async fn start_workloads(
        &mut self,
        root: &Path,
        client: &kube::Client,
        timeout: Duration,
    ) -> Result<()> {
        let logs = root.join("logs");
        tracing::info!("starting kube-scheduler");
        let scheduler = self.spawn(
            "kube-scheduler",
            workloads::scheduler_args(&self.kubeconfig_path),
            &logs,
        )?;
        let kwok_config = root.join("kwok.yaml");
        fs::write(&kwok_config, workloads::kwok_config())
            .map_err(|e| Error::Io(kwok_config.clone(), e))?;
        tracing::info!(nodes = workloads::NODE_COUNT, "starting kwok");
        let kwok = self.spawn(
            "kwok",
            workloads::kwok_args(&self.kubeconfig_path, &kwok_config),
            &logs,
        )?;
        workloads::create_nodes(client)
            .await
            .map_err(Error::NodesNotCreated)?;
        self.wait_ready(kwok, "every simulated Node Ready", timeout, "", || {
            let client = client.clone();
            async move { workloads::nodes_ready(&client).await }
        })
        .await?;
        // The scheduler has no readiness endpoint here (no serving port); it must at least
        // still be running.
        self.wait_ready(scheduler, "the process to run", timeout, "", || async {
            true
        })
        .await
    }

    fn spawn(&mut self, name: &str, args: Vec<String>, logs: &Path) -> Result<usize> {
        let program = self.binaries.path(name);
        let process = Process::spawn(name, &program, &args, logs.join(format!("{name}.log")))?;
        self.processes.push(process);
        Ok(self.processes.len() - 1)
    }

    async fn wait_ready<F, Fut>(
        &mut self,
        index: usize,
        what: &'static str,
        timeout: Duration,
        hint: &str,
        check: F,
    ) -> Result<()>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let start = Instant::now();
        loop {
            let process = &mut self.processes[index];
            if let Some(status) = process.exited() {
                return Err(Error::Exited {
                    name: process.name().to_string(),
                    status: status.to_string(),
                    log: process.log().to_path_buf(),
                    tail: process.log_tail(LOG_TAIL_LINES),
                    hint: hint.to_string(),
                });
            }
            if check().await {
                return Ok(());
            }
            if start.elapsed() > timeout {
                let process = &self.processes[index];
                return Err(Error::NotReady {
                    name: process.name().to_string(),
                    what,
                    waited: start.elapsed(),
                    log: process.log().to_path_buf(),
                    tail: process.log_tail(LOG_TAIL_LINES),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new admin client (group `system:masters`). Create one per tokio runtime: a client's
    /// connections belong to the runtime that made them.
    pub async fn client(&self) -> Result<kube::Client> {
        client_from(&self.kubeconfig_text).await
    }

    /// A client authenticated as `identity` (for example a ServiceAccount), subject to RBAC
    /// like any non-admin caller.
    pub async fn client_as(&self, identity: &Identity) -> Result<kube::Client> {
        let text = self.kubeconfig_as(identity)?;
        client_from(&text).await
    }

    /// kubeconfig text authenticating as `identity`.
    pub fn kubeconfig_as(&self, identity: &Identity) -> Result<String> {
        let cert = self.pki.client(identity).map_err(Error::Pki)?;
        Ok(kubeconfig::render(
            "ork-local",
            &self.server,
            self.pki.serving_ca_pem(),
            &cert,
        ))
    }

    /// Starts a [`FaultProxy`] in front of this control plane's API server, on the current
    /// tokio runtime. Clients reach it with [`ControlPlane::client_through`] or
    /// [`ControlPlane::kubeconfig_through`].
    ///
    /// # Errors
    /// The proxy cannot bind a port.
    pub async fn proxy(&self) -> Result<FaultProxy> {
        let upstream = self
            .api_addr
            .parse()
            .map_err(|_| Error::Proxy(std::io::Error::other("bad API server address")))?;
        FaultProxy::start(upstream).await.map_err(Error::Proxy)
    }

    /// A new admin client whose requests all go through `proxy`.
    pub async fn client_through(&self, proxy: &FaultProxy) -> Result<kube::Client> {
        let text = kubeconfig::render(
            "ork-local",
            &proxy.server(),
            self.pki.serving_ca_pem(),
            self.pki.admin(),
        );
        client_from(&text).await
    }

    /// kubeconfig text authenticating as `identity` whose server is `proxy` (the API server's
    /// certificate still verifies: both listen on 127.0.0.1).
    pub fn kubeconfig_through(&self, proxy: &FaultProxy, identity: &Identity) -> Result<String> {
        let cert = self.pki.client(identity).map_err(Error::Pki)?;
        Ok(kubeconfig::render(
            "ork-local",
            &proxy.server(),
            self.pki.serving_ca_pem(),
            &cert,
        ))
    }

    /// The admin kubeconfig file (absolute path).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// The admin kubeconfig text.
    pub fn kubeconfig(&self) -> &str {
        &self.kubeconfig_text
    }

    /// The API server URL, `https://127.0.0.1:<port>`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The directory with data, certificates and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The audit log (written only when [`Config::audit_log`] was set).
    pub fn audit_log_path(&self) -> PathBuf {
        self.dir.path().join("audit.log")
    }

    /// The binaries this control plane runs (e.g. to find `kubectl`).
    pub fn binaries(&self) -> &Binaries {
        &self.binaries
    }

    /// The pids of every process this control plane owns, janitor included.
    pub fn pids(&self) -> Vec<u32> {
        self.processes
            .iter()
            .map(Process::pid)
            .chain(self.janitor.as_ref().map(Janitor::pid))
            .collect()
    }

    /// Whether every control-plane process is still running.
    pub fn is_running(&mut self) -> bool {
        self.processes.iter_mut().all(|p| p.exited().is_none())
    }

    /// The name and exit status of the first process that has exited, if any.
    pub fn first_exited(&mut self) -> Option<(String, String)> {
        self.processes
            .iter_mut()
            .find_map(|p| p.exited().map(|s| (p.name().to_string(), s.to_string())))
    }

    /// Stops every process, newest first (kwok, scheduler, controller manager, API server, etcd),
    /// each given `grace` to exit after SIGTERM before it is killed. The API server's clients
    /// (every process after it) are signalled together, so they exit in parallel.
    pub fn stop(&mut self, grace: Duration) {
        self.janitor.take();
        for client in self.processes.iter().skip(API_CLIENTS_FROM) {
            client.terminate();
        }
        while let Some(mut process) = self.processes.pop() {
            tracing::debug!(name = process.name(), pid = process.pid(), "stopping");
            process.stop(grace);
        }
        if let Some(lock) = self.lock.take() {
            let _ = fs::remove_file(lock);
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// A client from kubeconfig text.
async fn client_from(kubeconfig_text: &str) -> Result<kube::Client> {
    let config = kubeconfig::config(kubeconfig_text).await?;
    kube::Client::try_from(config).map_err(|e| kubeconfig::Error::ClientFailed(e).into())
}

/// The full cause chain of an error on one line.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn take_lock(dir: &Path) -> Result<PathBuf> {
    let lock = dir.join("ork.pid");
    if let Some(pid) = fs::read_to_string(&lock)
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
        && pid != std::process::id()
        && process::is_alive(pid)
    {
        return Err(Error::StateInUse {
            dir: dir.to_path_buf(),
            pid,
        });
    }
    fs::write(&lock, std::process::id().to_string()).map_err(|e| Error::Io(lock.clone(), e))?;
    Ok(lock)
}

fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| Error::Io(PathBuf::from("127.0.0.1:0"), e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Io(PathBuf::from("127.0.0.1:0"), e))
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn etcd_args(root: &Path, client: u16, peer: u16, no_fsync: bool) -> Vec<String> {
    let mut args = vec![
        "--name=ork".to_string(),
        format!("--data-dir={}", root.join("etcd").display()),
        format!("--listen-client-urls=http://127.0.0.1:{client}"),
        format!("--advertise-client-urls=http://127.0.0.1:{client}"),
        format!("--listen-peer-urls=http://127.0.0.1:{peer}"),
        format!("--initial-advertise-peer-urls=http://127.0.0.1:{peer}"),
        format!("--initial-cluster=ork=http://127.0.0.1:{peer}"),
        "--log-level=warn".to_string(),
    ];
    // A throwaway cluster trades crash durability for speed; `ork dev` keeps fsync.
    if no_fsync {
        args.push("--unsafe-no-fsync".to_string());
    }
    args
}

fn apiserver_args(pki: &Pki, port: u16, etcd: u16, config: &Config) -> Vec<String> {
    let sa_key = pki.service_account_key_file();
    // No kubelets mount tokens here, and a namespace's default ServiceAccount may lag its
    // creation; Pods must not be refused for that. With simulated Nodes, no node-lifecycle
    // controller runs to lift the not-ready taint TaintNodesByCondition puts on new Nodes; kwok
    // marks them Ready instead, and they stay untainted.
    let disabled = if config.workloads {
        "ServiceAccount,TaintNodesByCondition"
    } else {
        "ServiceAccount"
    };
    let mut args = vec![
        format!("--etcd-servers=http://127.0.0.1:{etcd}"),
        "--bind-address=127.0.0.1".to_string(),
        "--advertise-address=127.0.0.1".to_string(),
        format!("--secure-port={port}"),
        format!("--tls-cert-file={}", pki.serving_cert_file().display()),
        format!(
            "--tls-private-key-file={}",
            pki.serving_key_file().display()
        ),
        format!("--client-ca-file={}", pki.client_ca_file().display()),
        format!("--service-account-issuer=https://127.0.0.1:{port}"),
        format!(
            "--service-account-key-file={}",
            pki.service_account_public_key_file().display()
        ),
        format!("--service-account-signing-key-file={}", sa_key.display()),
        "--service-cluster-ip-range=10.0.0.0/24".to_string(),
        "--authorization-mode=RBAC".to_string(),
        "--allow-privileged=true".to_string(),
        format!("--disable-admission-plugins={disabled}"),
        // 127.0.0.1 cannot be published as the `kubernetes` Service endpoint.
        "--endpoint-reconciler-type=none".to_string(),
    ];
    if let Some((reads, mutating)) = config.max_requests_inflight {
        // The limits only apply with API Priority and Fairness off; with it on, they are
        // folded into its (much larger) concurrency shares.
        args.extend([
            format!("--max-requests-inflight={reads}"),
            format!("--max-mutating-requests-inflight={mutating}"),
            "--enable-priority-and-fairness=false".to_string(),
        ]);
    }
    args
}

fn controller_manager_args(pki: &Pki, kubeconfig: &Path, controllers: &[String]) -> Vec<String> {
    let mut args = component_args(kubeconfig);
    args.extend([
        format!("--controllers={}", controllers.join(",")),
        format!("--root-ca-file={}", pki.serving_ca_file().display()),
        format!(
            "--service-account-private-key-file={}",
            pki.service_account_key_file().display()
        ),
        "--use-service-account-credentials=false".to_string(),
    ]);
    args
}

/// Audit every request that changes something (and nothing that only reads).
const AUDIT_POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
- level: None
";

fn etcd_healthy(addr: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200")
}

async fn readyz(client: &kube::Client, addr: &str) -> bool {
    // Ask kube only once the port accepts connections; before that its client logs every
    // refused connection as an error.
    if TcpStream::connect(addr).is_err() {
        return false;
    }
    let Ok(request) = http::Request::get("/readyz").body(Vec::new()) else {
        return false;
    };
    matches!(client.request_text(request).await, Ok(body) if body.trim() == "ok")
}
