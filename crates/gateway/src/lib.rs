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
mod context;
pub mod convert;
mod error;
mod gateway;
mod housekeeper;
pub mod labels;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod notify;
pub mod notify_access;
pub mod plan;
pub mod serve;
pub mod stats;
pub mod tls;
pub mod webhook_config;

pub use cluster::Cluster;
pub use config::{ClientMode, Config, NotifyConfig, UserTls};
pub use context::HandlerContext;
pub use error::{Error, Result};
pub use gateway::{Gateway, default_instance, run};
pub use plan::{FailurePolicy, Plan};
pub use tls::Material;

pub(crate) use katalog::admission::chain;
