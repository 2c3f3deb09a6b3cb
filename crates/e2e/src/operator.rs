//! The operator under test: the runtime in-process (`runtime::run`), as `ork run` would run
//! it against the test's cluster, with its HTTP API on a free loopback port (what
//! `kubectl.port-forward` to the operator reaches) and no leader election (it runs alone).

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long the operator may take to finish booting.
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long it gets to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running operator.
pub struct Operator {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), String>>,
}

impl Operator {
    /// Loads the Katalog at `katalog` and starts the runtime on the cluster of `kubeconfig`;
    /// returns once its `/startup` answers 200. With `setup`, the runtime first applies the
    /// Katalog's own `crdFile`, setup manifests and `crFiles`, as `ork run` does locally.
    ///
    /// # Errors
    /// The Katalog's problems (rendered), or why the runtime stopped or did not boot in time.
    pub async fn start(katalog: &Path, kubeconfig: &Path, setup: bool) -> Result<Self, String> {
        let loaded = katalog::load(katalog).map_err(|d| d.render())?;
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port for the operator's API: {e}"))?
            .port();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let config = runtime::Config {
            connect: runtime::cluster::ConnectOptions {
                kubeconfig: Some(kubeconfig.to_path_buf()),
                context: None,
            },
            setup,
            leader_elect: Some(false),
            http: true,
            http_addr: Some(addr),
            ..runtime::Config::default()
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(async move {
            runtime::run(loaded, config, shutdown)
                .await
                .map_err(|e| format!("{:#}", anyhow::Error::new(e)))
        });
        let mut operator = Self {
            addr,
            stop: Some(stop),
            task,
        };
        operator.wait_started().await?;
        Ok(operator)
    }

    /// The address of its HTTP API.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    async fn wait_started(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let mut last = String::from("no answer yet");
        while started.elapsed() < START_TIMEOUT {
            if self.task.is_finished() {
                return Err(match (&mut self.task).await {
                    Ok(Err(e)) => format!("the operator stopped: {e}"),
                    Ok(Ok(())) => "the operator stopped before it started".into(),
                    Err(e) => format!("the operator panicked: {e}"),
                });
            }
            match startup_status(self.addr).await {
                Ok(200) => return Ok(()),
                Ok(code) => last = format!("/startup answered {code}"),
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(format!(
            "the operator did not finish starting within {START_TIMEOUT:?} ({last})"
        ))
    }

    /// Signals shutdown and waits for the runtime to stop.
    ///
    /// # Errors
    /// What the runtime reported, or that it did not stop in time.
    pub async fn stop(mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match tokio::time::timeout(STOP_TIMEOUT, &mut self.task).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(format!("the operator panicked: {e}")),
            Err(_) => {
                self.task.abort();
                Err(format!("the operator did not stop within {STOP_TIMEOUT:?}"))
            }
        }
    }
}

/// The status code of `GET /startup`, over a plain TCP connection.
async fn startup_status(addr: SocketAddr) -> Result<u16, String> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /startup HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    stream
        .read_exact(&mut head)
        .await
        .map_err(|e| e.to_string())?;
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| "not an HTTP answer".to_owned())
}
