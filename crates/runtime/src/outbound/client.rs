//! The process's one outbound HTTP client: connection pooling (hyper's legacy client), TLS by
//! rustls with the platform's roots (`SSL_CERT_FILE`/`SSL_CERT_DIR` honoured) plus an optional
//! PEM bundle named by [`CA_BUNDLE_ENV`], a timeout around each whole exchange, and a body
//! read only up to a caller-given limit (the rest is never read). Proxies come from the
//! environment ([`super::proxy`]).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::proxy::{Proxies, ProxyConnector};

/// Environment variable naming a PEM file of extra CA certificates for outbound calls.
pub const CA_BUNDLE_ENV: &str = "ORK_EXTERNAL_CA_BUNDLE";

/// How long an idle pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// Why an exchange failed (no response, or no complete head).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client could not be built (the CA bundle does not read).
    #[error("outbound client unavailable: {0}")]
    Unavailable(String),
    /// The request could not be built (bad URL, header).
    #[error("invalid request: {0}")]
    Request(String),
    /// Connecting, TLS, or reading the answer failed.
    #[error("{0}")]
    Transport(String),
    /// No answer within the call's timeout.
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
}

/// An answer: status, and the body up to the read limit.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status code.
    pub status: u16,
    /// The body's first bytes (at most the limit given).
    pub body: Vec<u8>,
    /// Whether the body was longer than the limit (the rest was not read).
    pub truncated: bool,
}

/// A pooled HTTP/1 client over plain TCP or rustls. Cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: Client<HttpsConnector<ProxyConnector>, Full<Bytes>>,
    proxies: Proxies,
}

impl HttpClient {
    /// A client trusting the platform's roots and the certificates of `extra_ca` (PEM), going
    /// through the proxies the environment names.
    ///
    /// # Errors
    /// The CA bundle cannot be read or holds no certificate, or no root is known at all.
    pub fn new(extra_ca: Option<&std::path::Path>) -> Result<Self, Error> {
        Self::with_proxies(extra_ca, Proxies::from_env())
    }

    /// [`HttpClient::new`] with the given proxies instead of the environment's.
    ///
    /// # Errors
    /// As [`HttpClient::new`].
    pub fn with_proxies(
        extra_ca: Option<&std::path::Path>,
        proxies: Proxies,
    ) -> Result<Self, Error> {
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        let _ = roots.add_parsable_certificates(native.certs);
        if let Some(path) = extra_ca {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(Iterator::collect)
                .map_err(|e| Error::Unavailable(format!("CA bundle {}: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(Error::Unavailable(format!(
                    "CA bundle {} holds no certificate",
                    path.display()
                )));
            }
            let (_, rejected) = roots.add_parsable_certificates(certs);
            if rejected > 0 {
                tracing::warn!(
                    rejected,
                    "some certificates of the outbound CA bundle were not usable"
                );
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Unavailable(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(ProxyConnector::new(proxies.clone()));
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .build(https);
        Ok(Self { inner, proxies })
    }

    /// Sends `request` and reads the answer's body up to `limit` bytes, all within `timeout`.
    ///
    /// # Errors
    /// [`Error::Transport`] or [`Error::TimedOut`]; an HTTP error status is an [`Answer`].
    pub async fn send(
        &self,
        mut request: http::Request<Full<Bytes>>,
        timeout: Duration,
        limit: usize,
    ) -> Result<Answer, Error> {
        if request.uri().scheme_str() == Some("http")
            && super::pinned::lookup(request.uri()).is_none()
            && let Some(auth) = self
                .proxies
                .for_uri(request.uri())
                .and_then(|p| p.basic_auth().cloned())
        {
            // Forwarded in clear: the proxy reads its credentials off the request itself.
            request
                .headers_mut()
                .insert(http::header::PROXY_AUTHORIZATION, auth);
        }
        let exchange = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|e| Error::Transport(crate::error_chain(&e)))?;
            let status = response.status().as_u16();
            let mut body = response.into_body();
            let mut bytes = Vec::new();
            let mut truncated = false;
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| Error::Transport(crate::error_chain(&e)))?;
                let Some(data) = frame.data_ref() else {
                    continue;
                };
                let room = limit - bytes.len();
                if data.len() > room {
                    bytes.extend_from_slice(&data[..room]);
                    truncated = true;
                    break;
                }
                bytes.extend_from_slice(data);
            }
            Ok(Answer {
                status,
                body: bytes,
                truncated,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| Error::TimedOut(timeout))?
    }
}

/// The process's client, built on first use (the CA bundle from [`CA_BUNDLE_ENV`]).
///
/// # Errors
/// [`Error::Unavailable`] when it could not be built; every call then fails with it.
pub fn shared() -> Result<&'static HttpClient, Error> {
    static SHARED: OnceLock<Result<HttpClient, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let bundle = std::env::var_os(CA_BUNDLE_ENV).map(std::path::PathBuf::from);
            HttpClient::new(bundle.as_deref()).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Unavailable(e.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server answering every connection once with `body` (HTTP/1.1, content-length).
    async fn server(body: Vec<u8>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                    let _ = s.write_all(head.as_bytes()).await;
                    let _ = s.write_all(&body).await;
                });
            }
        });
        format!("http://{addr}/")
    }

    fn get(url: &str) -> http::Request<Full<Bytes>> {
        http::Request::get(url).body(Full::default()).unwrap()
    }

    #[tokio::test]
    async fn a_long_body_is_read_only_up_to_the_limit() {
        let url = server(vec![b'x'; 100_000]).await;
        let client = HttpClient::new(None).unwrap();
        let answer = client
            .send(get(&url), Duration::from_secs(5), 4096)
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body.len(), 4096);
        assert!(answer.truncated);
        let short = server(b"ok".to_vec()).await;
        let answer = client
            .send(get(&short), Duration::from_secs(5), 4096)
            .await
            .unwrap();
        assert_eq!(
            (answer.body.as_slice(), answer.truncated),
            (&b"ok"[..], false)
        );
    }

    #[tokio::test]
    async fn a_pinned_host_is_reached_at_its_address_without_dns() {
        let url = server(b"pinned".to_vec()).await;
        let addr: std::net::SocketAddr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        // `.invalid` never resolves (RFC 6761): only the pin can reach it.
        super::super::pinned::pin("dev-server.client-test.invalid", 9999, addr);
        let client = HttpClient::new(None).unwrap();
        let answer = client
            .send(
                get("http://dev-server.client-test.invalid:9999/health"),
                Duration::from_secs(5),
                4096,
            )
            .await
            .unwrap();
        assert_eq!(
            (answer.status, answer.body.as_slice()),
            (200, &b"pinned"[..])
        );
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        // Accepts (the kernel does) but never answers.
        let client = HttpClient::new(None).unwrap();
        let e = client
            .send(get(&url), Duration::from_millis(200), 4096)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::TimedOut(_)), "{e}");
        drop(listener);
    }

    #[test]
    fn an_unreadable_ca_bundle_is_an_error() {
        let e = HttpClient::new(Some(std::path::Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }
}
