//! The ork Control Center (`ork control`): a read-only web UI over any number of runtimes'
//! and gateways' `/katalog` APIs.
//!
//! * [`aggregator`] polls every endpoint each refresh, follows the leader ([`leader`]), and
//!   merges the answers by GVR ([`merge`]), with the `dependsOn` graph ([`depends`]) and the
//!   reconcile-rate, error-rate and p99 series ([`history`]).
//! * [`server`] serves the UI (HTML, one script, one style sheet, embedded at build time:
//!   nothing is fetched at run time, no JS toolchain is needed) and the JSON it reads.
//!
//! ```no_run
//! # async fn f() -> Result<(), control::Error> {
//! let config = control::Config::new(vec!["http://127.0.0.1:8080".into()]);
//! let cc = control::ControlCenter::bind(config).await?;
//! println!("Control Center at http://{}", cc.local_addr());
//! cc.serve(std::future::pending()).await;
//! # Ok(()) }
//! ```

pub mod aggregator;
pub mod depends;
pub mod history;
pub mod leader;
pub mod merge;
pub mod server;
pub mod source;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::aggregator::Aggregator;
use crate::source::HttpSource;

/// The default port, as Orkestra's.
pub const DEFAULT_PORT: u16 = 8081;

/// What to serve and what to poll.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the UI listens.
    pub addr: SocketAddr,
    /// Base URLs of runtimes and gateways (`http://host:port`).
    pub urls: Vec<String>,
    /// How often to poll them; the UI refreshes at the same pace.
    pub refresh: Duration,
    /// How long one request to an endpoint may take.
    pub timeout: Duration,
}

impl Config {
    /// Polls `urls` every 10 s, listening on 127.0.0.1:8081.
    pub fn new(urls: Vec<String>) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            urls,
            refresh: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Errors starting the Control Center.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address could not be bound.
    #[error("binding the Control Center to {addr}")]
    BindFailed {
        /// The address.
        addr: SocketAddr,
        /// The socket failure.
        #[source]
        source: std::io::Error,
    },
    /// An endpoint URL the Control Center cannot poll.
    #[error("endpoint {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Nothing to poll.
    #[error("no endpoint to poll: give at least one runtime or gateway URL")]
    NoEndpoints,
}

/// Checks that every URL is a plain `http://host[:port]` base the poller can use.
///
/// # Errors
/// [`Error::BadUrl`] for the first that is not, [`Error::NoEndpoints`] for none.
pub fn check_urls(urls: &[String]) -> Result<(), Error> {
    if urls.is_empty() {
        return Err(Error::NoEndpoints);
    }
    for url in urls {
        let bad = |reason| Error::BadUrl {
            url: url.clone(),
            reason,
        };
        if url.starts_with("https://") {
            return Err(bad(
                "https is not supported: the runtime and gateway HTTP APIs are plain HTTP",
            ));
        }
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(bad("must start with http://"));
        };
        if rest.trim_end_matches('/').is_empty() || url.parse::<hyper::Uri>().is_err() {
            return Err(bad("not a URL"));
        }
    }
    Ok(())
}

/// A bound Control Center, ready to serve.
pub struct ControlCenter {
    listener: TcpListener,
    aggregator: Arc<Aggregator<HttpSource>>,
}

impl ControlCenter {
    /// Checks the URLs and binds the listen address.
    ///
    /// # Errors
    /// [`Error::BadUrl`], [`Error::NoEndpoints`] or [`Error::BindFailed`].
    pub async fn bind(config: Config) -> Result<Self, Error> {
        check_urls(&config.urls)?;
        let listener =
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| Error::BindFailed {
                    addr: config.addr,
                    source,
                })?;
        let aggregator = Arc::new(Aggregator::new(
            HttpSource::new(config.timeout),
            &config.urls,
            config.refresh,
        ));
        Ok(Self {
            listener,
            aggregator,
        })
    }

    /// The address bound (its port is the real one when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Polls and serves until `shutdown` completes.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let (stop, stopped) = tokio::sync::watch::channel(());
        let poller = tokio::spawn(self.aggregator.clone().run(async move {
            let mut stopped = stopped;
            let _ = stopped.changed().await;
        }));
        tracing::info!(addr = %self.local_addr(), "Control Center listening");
        let router = server::router(self.aggregator);
        runtime::http::limits::serve_connections(self.listener, router, shutdown).await;
        drop(stop);
        let _ = poller.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_base_urls_are_accepted() {
        let urls = |list: &[&str]| list.iter().map(|u| (*u).to_owned()).collect::<Vec<_>>();
        assert!(check_urls(&urls(&["http://localhost:8080", "http://10.0.0.1:80/"])).is_ok());
        assert!(matches!(check_urls(&[]), Err(Error::NoEndpoints)));
        for bad in ["https://gw:8443", "localhost:8080", "http://", "http://a b"] {
            assert!(check_urls(&urls(&[bad])).is_err(), "{bad}");
        }
    }
}
