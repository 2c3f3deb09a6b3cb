//! [`Error`]: why the gateway could not start or stop cleanly, shared by its lifecycle
//! ([`crate::Gateway`]) and its housekeeper.

use std::net::SocketAddr;

use crate::{cluster, tls};

/// Why the gateway could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No Kubernetes client could be made.
    #[error("connecting to the cluster")]
    ClientFailed(#[source] kube::Error),
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
