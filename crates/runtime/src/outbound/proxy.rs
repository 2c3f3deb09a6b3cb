//! Proxies for the outbound client, from the environment as curl reads it: `HTTPS_PROXY`,
//! `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (each also lowercase; the uppercase name wins when
//! both are set).
//!
//! Decisions:
//! - An `https://` destination is reached through an HTTP `CONNECT` tunnel to the proxy, then
//!   TLS end to end with the destination (the proxy sees only the host and port).
//! - An `http://` destination is sent to the proxy in absolute form (`GET http://host/path`).
//! - Credentials in the proxy URL (`http://user:pass@proxy:3128`) go as
//!   `Proxy-Authorization: Basic …`, in the `CONNECT` or on the forwarded request.
//! - `NO_PROXY` takes host names (a leading `.` or none: the domain and its subdomains), IP
//!   addresses, CIDR blocks and `*` (no proxy at all).
//! - A destination pinned to an address ([`super::pinned`]) is connected to directly.
//! - Only `http://` proxies are supported; an `https://` proxy URL makes every call through it
//!   fail with a message saying so, rather than sending in clear what was meant to be wrapped.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The proxy variables, as read from the environment (or a test's map).
#[derive(Clone)]
pub struct Proxies {
    matcher: Arc<Matcher>,
    any: bool,
}

impl std::fmt::Debug for Proxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The matcher's Debug shows proxy hosts, never credentials.
        f.debug_struct("Proxies")
            .field("matcher", &self.matcher)
            .finish()
    }
}

impl Proxies {
    /// The proxies the process environment names.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The proxies `lookup` names (`lookup("HTTPS_PROXY")` …).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: [&str; 2]| {
            names
                .into_iter()
                .find_map(|n| lookup(n).filter(|v| !v.trim().is_empty()))
                .unwrap_or_default()
        };
        let all = first(["ALL_PROXY", "all_proxy"]);
        let http = first(["HTTP_PROXY", "http_proxy"]);
        let https = first(["HTTPS_PROXY", "https_proxy"]);
        let any = !(all.is_empty() && http.is_empty() && https.is_empty());
        let matcher = Matcher::builder()
            .all(all)
            .http(http)
            .https(https)
            .no(first(["NO_PROXY", "no_proxy"]))
            .build();
        Proxies {
            matcher: Arc::new(matcher),
            any,
        }
    }

    /// No proxy at all.
    pub fn none() -> Self {
        Self::from_lookup(|_| None)
    }

    /// The proxy for `dst`, if one applies.
    pub fn for_uri(&self, dst: &Uri) -> Option<Intercept> {
        if !self.any {
            return None;
        }
        self.matcher.intercept(dst)
    }
}

/// Connects to the destination directly, through a `CONNECT` tunnel (`https://` behind a
/// proxy), or to the proxy itself (`http://` behind a proxy, marked so that hyper sends the
/// request in absolute form).
#[derive(Clone, Debug)]
pub struct ProxyConnector {
    tcp: HttpConnector,
    proxies: Proxies,
}

impl ProxyConnector {
    /// A connector using `proxies`.
    pub fn new(proxies: Proxies) -> Self {
        let mut tcp = HttpConnector::new();
        // The TLS layer above asks for `https://` destinations too.
        tcp.enforce_http(false);
        ProxyConnector { tcp, proxies }
    }
}

impl tower::Service<Uri> for ProxyConnector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut tcp = self.tcp.clone();
        if let Some(addr) = super::pinned::lookup(&dst) {
            // Straight to the pinned address: no DNS, no proxy.
            let scheme = dst.scheme_str().unwrap_or("http").to_owned();
            return Box::pin(async move {
                let at: Uri = format!("{scheme}://{addr}/").parse()?;
                Ok(Stream::direct(tcp.call(at).await?))
            });
        }
        let Some(proxy) = self.proxies.for_uri(&dst) else {
            return Box::pin(async move { Ok(Stream::direct(tcp.call(dst).await?)) });
        };
        let proxy_uri = proxy.uri().clone();
        if proxy_uri.scheme_str() != Some("http") {
            return Box::pin(async move {
                Err(format!(
                    "proxy {}: only http:// proxies are supported",
                    proxy_uri.host().unwrap_or_default()
                )
                .into())
            });
        }
        if dst.scheme_str() == Some("https") {
            let mut tunnel = Tunnel::new(proxy_uri, tcp);
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            Box::pin(async move { Ok(Stream::direct(tunnel.call(dst).await?)) })
        } else {
            Box::pin(async move {
                let io = tcp.call(proxy_uri).await?;
                Ok(Stream { io, proxied: true })
            })
        }
    }
}

/// A TCP connection, to the destination or to a forwarding proxy.
#[derive(Debug)]
pub struct Stream {
    io: TokioIo<TcpStream>,
    proxied: bool,
}

impl Stream {
    fn direct(io: TokioIo<TcpStream>) -> Self {
        Stream { io, proxied: false }
    }
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl Read for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn proxies(vars: &[(&str, &str)]) -> Proxies {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        Proxies::from_lookup(move |n| vars.get(n).cloned())
    }

    fn proxy_host(p: &Proxies, dst: &str) -> Option<String> {
        p.for_uri(&dst.parse().unwrap())
            .map(|i| i.uri().authority().unwrap().to_string())
    }

    #[test]
    fn each_variable_is_read_in_both_cases_uppercase_first() {
        let p = proxies(&[
            ("https_proxy", "http://low-s:1"),
            ("http_proxy", "http://low:2"),
            ("HTTP_PROXY", "http://up:3"),
        ]);
        assert_eq!(proxy_host(&p, "https://a.io/").as_deref(), Some("low-s:1"));
        assert_eq!(proxy_host(&p, "http://a.io/").as_deref(), Some("up:3"));
        let p = proxies(&[("all_proxy", "http://all:4")]);
        assert_eq!(proxy_host(&p, "https://a.io/").as_deref(), Some("all:4"));
        assert_eq!(proxy_host(&proxies(&[]), "https://a.io/"), None);
    }

    #[test]
    fn no_proxy_takes_domains_addresses_blocks_and_star() {
        let p = proxies(&[
            ("HTTPS_PROXY", "http://p:1"),
            ("no_proxy", "internal.io, 10.0.0.0/8,127.0.0.1"),
        ]);
        assert_eq!(proxy_host(&p, "https://api.internal.io/"), None);
        assert_eq!(proxy_host(&p, "https://internal.io/"), None);
        assert_eq!(proxy_host(&p, "https://10.1.2.3/"), None);
        assert_eq!(proxy_host(&p, "https://127.0.0.1:8443/"), None);
        assert!(proxy_host(&p, "https://external.io/").is_some());
        assert!(proxy_host(&p, "https://notinternal.io/").is_some());
        let p = proxies(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "*")]);
        assert_eq!(proxy_host(&p, "https://external.io/"), None);
    }

    #[test]
    fn credentials_in_the_proxy_url_become_basic_auth() {
        let p = proxies(&[("HTTPS_PROXY", "http://ann:s3cret@p:1")]);
        let i = p.for_uri(&"https://a.io/".parse().unwrap()).unwrap();
        assert_eq!(i.basic_auth().unwrap(), "Basic YW5uOnMzY3JldA==");
        assert!(!format!("{p:?}").contains("s3cret"));
    }
}
