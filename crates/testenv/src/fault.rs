//! A TCP proxy between a client (ork) and the API server that a test commands to inject
//! network faults: latency, bandwidth limits, cut connections, refused connections, reset
//! watches.
//!
//! The proxy listens on 127.0.0.1 and forwards bytes untouched, so TLS passes through: the
//! client still verifies the API server's certificate, whose SANs include `127.0.0.1`.
//! [`crate::ControlPlane::proxy`] starts one in front of a control plane's API server, and
//! [`crate::ControlPlane::client_through`] / [`crate::ControlPlane::kubeconfig_through`] give a
//! client or kubeconfig that goes through it.
//!
//! Because the traffic is encrypted, the proxy cannot see paths or requests. "Reset watches"
//! ([`FaultProxy::reset_quiet`]) is approximated by what a watch looks like on the wire: one
//! request, then a long streamed response during which the client sends nothing. Every
//! connection whose client has been silent for a given time is reset — watches, and also idle
//! keep-alive connections (which a real network failure resets too) — while a connection that
//! has just sent a request is spared.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Bytes read from a socket at once; one read is one chunk for latency and bandwidth.
const CHUNK: usize = 16 * 1024;

/// Chunks a direction may have in flight (delayed) before the proxy stops reading.
const IN_FLIGHT_CHUNKS: usize = 256;

/// A running fault proxy. Dropping it stops accepting and resets every connection.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

#[derive(Debug)]
struct Shared {
    upstream: SocketAddr,
    epoch: Instant,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    latency: Duration,
    bytes_per_second: Option<u64>,
    refuse_until: Option<Instant>,
    next_id: u64,
    connections: HashMap<u64, Connection>,
}

/// What the proxy keeps of one proxied connection.
#[derive(Debug)]
struct Connection {
    /// When the client last sent bytes, in milliseconds since the proxy's epoch.
    client_active: Arc<AtomicU64>,
    /// Resets the connection when sent to (or dropped).
    cut: oneshot::Sender<()>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// How long a chunk of `len` bytes is held back before it is written on.
    fn delay(&self, len: usize) -> (Duration, Duration) {
        let state = self.state();
        let pace = state.bytes_per_second.map_or(Duration::ZERO, |bps| {
            Duration::from_secs_f64(len as f64 / bps.max(1) as f64)
        });
        (state.latency, pace)
    }
}

impl FaultProxy {
    /// Starts a proxy on a free port of 127.0.0.1 that forwards every connection to `upstream`.
    /// It runs on the current tokio runtime.
    ///
    /// # Errors
    /// The listening socket cannot be bound.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            epoch: Instant::now(),
            state: Mutex::new(State::default()),
        });
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        tracing::debug!(%addr, %upstream, "fault proxy listening");
        Ok(Self {
            addr,
            shared,
            accept,
        })
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy as an API server URL, `https://127.0.0.1:<port>`.
    pub fn server(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Holds every chunk back by `latency` in each direction, from now on (also on open
    /// connections); `Duration::ZERO` removes it. Chunks are delayed, not serialised: a
    /// request's round trip grows by about twice `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.state().latency = latency;
    }

    /// Limits each direction of each connection to about `bytes_per_second`; `None` removes
    /// the limit.
    pub fn set_bandwidth(&self, bytes_per_second: Option<u64>) {
        self.shared.state().bytes_per_second = bytes_per_second;
    }

    /// Resets (TCP RST) every open connection, in both directions. New connections are
    /// accepted as before. Returns how many were reset.
    pub fn cut(&self) -> usize {
        self.reset_where(|_| true)
    }

    /// Resets every new connection right after accepting it, for `period` from now: the
    /// client sees "connection reset" as when a server is unreachable. Open connections are
    /// left alone (combine with [`FaultProxy::cut`] for a full partition).
    pub fn refuse_for(&self, period: Duration) {
        self.shared.state().refuse_until = Some(Instant::now() + period);
    }

    /// Resets every connection whose client has sent nothing for at least `quiet`: watches
    /// (and idle keep-alive connections), never one that has just sent a request. See the
    /// module documentation for why this stands for "reset the watches". Returns how many
    /// were reset.
    pub fn reset_quiet(&self, quiet: Duration) -> usize {
        let now = self.shared.now_ms();
        let quiet = u64::try_from(quiet.as_millis()).unwrap_or(u64::MAX);
        self.reset_where(|c| now.saturating_sub(c.client_active.load(Ordering::Relaxed)) >= quiet)
    }

    /// How many connections are open through the proxy.
    pub fn connections(&self) -> usize {
        self.shared.state().connections.len()
    }

    fn reset_where(&self, select: impl Fn(&Connection) -> bool) -> usize {
        let mut state = self.shared.state();
        let chosen: Vec<u64> = state
            .connections
            .iter()
            .filter(|(_, c)| select(c))
            .map(|(id, _)| *id)
            .collect();
        for id in &chosen {
            if let Some(c) = state.connections.remove(id) {
                let _ = c.cut.send(());
            }
        }
        tracing::debug!(reset = chosen.len(), "fault proxy reset connections");
        chosen.len()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let refusing = shared
            .state()
            .refuse_until
            .is_some_and(|until| Instant::now() < until);
        if refusing {
            reset(&client);
            continue;
        }
        let client_active = Arc::new(AtomicU64::new(shared.now_ms()));
        let (cut, cut_rx) = oneshot::channel();
        let id = {
            let mut state = shared.state();
            let id = state.next_id;
            state.next_id += 1;
            state.connections.insert(
                id,
                Connection {
                    client_active: Arc::clone(&client_active),
                    cut,
                },
            );
            id
        };
        tokio::spawn(proxy_connection(
            Arc::clone(&shared),
            id,
            client,
            client_active,
            cut_rx,
        ));
    }
}

/// Forwards one connection until either side closes or the test cuts it.
async fn proxy_connection(
    shared: Arc<Shared>,
    id: u64,
    client: TcpStream,
    client_active: Arc<AtomicU64>,
    cut: oneshot::Receiver<()>,
) {
    let upstream = match TcpStream::connect(shared.upstream).await {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(error = %e, "fault proxy: upstream unreachable");
            reset(&client);
            shared.state().connections.remove(&id);
            return;
        }
    };
    let (mut client, mut upstream) = (client, upstream);
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let was_cut = {
        let (client_read, client_write) = client.split();
        let (upstream_read, upstream_write) = upstream.split();
        let up = pump(
            &shared,
            client_read,
            upstream_write,
            Some(client_active.as_ref()),
        );
        let down = pump(&shared, upstream_read, client_write, None);
        tokio::select! {
            _ = async { tokio::join!(up, down) } => false,
            _ = cut => true,
        }
    };
    if was_cut {
        reset(&client);
        reset(&upstream);
    }
    shared.state().connections.remove(&id);
}

/// Copies `from` to `to` chunk by chunk, each chunk held back by the current latency and
/// bandwidth. On end of input, shuts `to` down (half-close). `activity`, when given, records
/// when bytes last arrived.
async fn pump(
    shared: &Shared,
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    activity: Option<&AtomicU64>,
) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Duration, Vec<u8>)>(IN_FLIGHT_CHUNKS);
    let read = async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some(a) = activity {
                a.store(shared.now_ms(), Ordering::Relaxed);
            }
            let (latency, pace) = shared.delay(n);
            if tx
                .send((Instant::now() + latency, pace, buf[..n].to_vec()))
                .await
                .is_err()
            {
                break;
            }
        }
    };
    let write = async {
        while let Some((due, pace, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
            if !pace.is_zero() {
                tokio::time::sleep(pace).await;
            }
        }
        // The reading side ended: pass the half-close on.
        let _ = to.shutdown().await;
    };
    tokio::join!(read, write);
}

/// Resets `stream` (RST instead of FIN) when dropped.
fn reset(stream: &TcpStream) {
    let _ = stream.set_zero_linger();
}
