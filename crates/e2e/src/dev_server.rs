//! `ork e2e --dev-server`: Orkestra's dev server for the `external:` example packs, the one
//! `ork simulate --dev-server` runs ([`simulate::dev_server`]), on loopback.
//!
//! Upstream's `ork e2e --dev-server` deploys it into the cluster as the Service
//! `orkestra-dev-server` in `orkestra-system`, and the packs' `cr-e2e.yaml` files call
//! [`SERVICE_URL`]. Here the operator runs in-process, outside the cluster, and simulated Pods
//! run no container: so the dev server runs in this process, and that Service's host and port
//! are pinned to it for outbound calls ([`runtime::outbound::pinned`]). The packs' `cr.yaml`
//! files, which call `http://localhost:9999`, reach it too on the default port, and a
//! `kubectl.port-forward` to the Service goes to it ([`address`]).

use std::net::SocketAddr;

/// The dev server's address inside the cluster, as upstream's packs name it.
pub const SERVICE_URL: &str = "http://orkestra-dev-server.orkestra-system.svc:9999";

/// The host names of that Service (short and fully qualified).
const SERVICE_HOSTS: [&str; 2] = [
    "orkestra-dev-server.orkestra-system.svc",
    "orkestra-dev-server.orkestra-system.svc.cluster.local",
];

/// The Service's port.
const SERVICE_PORT: u16 = 9999;

/// The Service's name, which `kubectl.port-forward` checks name.
pub const SERVICE: &str = "orkestra-dev-server";

/// Where the dev server of this process listens, once [`start`]ed.
pub fn address() -> Option<SocketAddr> {
    runtime::outbound::pinned::lookup(&hyper::Uri::from_static(SERVICE_URL))
}

/// Starts the dev server on `127.0.0.1:port` (0: any free port) for the rest of the process
/// and pins the in-cluster Service address to it; returns the address it listens on.
///
/// # Errors
/// The port is taken.
pub async fn start(port: u16) -> std::io::Result<SocketAddr> {
    let addr = simulate::dev_server::start(port).await?;
    for host in SERVICE_HOSTS {
        runtime::outbound::pinned::pin(host, SERVICE_PORT, addr);
    }
    Ok(addr)
}
