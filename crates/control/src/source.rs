//! Where answers come from: the [`Source`] trait (one HTTP GET), its real implementation over
//! plain HTTP ([`HttpSource`]), and the helpers that read JSON out of an answer.
//!
//! Every request opens a fresh connection (no keep-alive pool): behind a Kubernetes Service
//! that is what lets a retry reach another replica, which leader following relies on.

use std::future::Future;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The biggest answer read from an endpoint (a `/katalog` of many CRDs, a list of many CRs).
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// One answer: its HTTP status and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The body, as sent.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON, or why it is not.
    ///
    /// # Errors
    /// The status and a short excerpt of the body when it is not JSON.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body).map_err(|error| {
            let text = String::from_utf8_lossy(&self.body);
            let excerpt: String = text.chars().take(120).collect();
            format!("HTTP {}: not JSON ({error}): {excerpt}", self.status)
        })
    }

    /// The body as JSON when the status is a success, or why not.
    ///
    /// # Errors
    /// The status and the server's `error` field (or body excerpt) otherwise.
    pub fn ok_json(&self) -> Result<serde_json::Value, String> {
        if (200..300).contains(&self.status) {
            return self.json();
        }
        match self.json() {
            Ok(body) => Err(format!(
                "HTTP {}: {}",
                self.status,
                body["error"].as_str().unwrap_or("error")
            )),
            Err(error) => Err(error),
        }
    }
}

/// Something that answers GET requests: the network, or a fixture in tests.
pub trait Source: Send + Sync + 'static {
    /// GETs `url`, or says why it could not be reached.
    fn get(&self, url: &str) -> impl Future<Output = Result<Answer, String>> + Send;
}

/// GETs over plain HTTP with a timeout, one connection per request.
#[derive(Clone, Debug)]
pub struct HttpSource {
    client: Client<HttpConnector, Empty<Bytes>>,
    timeout: Duration,
}

impl HttpSource {
    /// A source whose requests give up after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector);
        Self { client, timeout }
    }

    async fn fetch(&self, url: &str) -> Result<Answer, String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
        let response = self.client.get(uri).await.map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let limited = http_body_util::Limited::new(response.into_body(), MAX_BODY);
        let body = limited
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes()
            .to_vec();
        Ok(Answer { status, body })
    }
}

/// The error and its causes on one line (`connection refused`, not `client error (Connect)`).
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl Source for HttpSource {
    async fn get(&self, url: &str) -> Result<Answer, String> {
        match tokio::time::timeout(self.timeout, self.fetch(url)).await {
            Ok(answer) => answer,
            Err(_) => Err(format!("no answer within {:?}", self.timeout)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_answer_names_the_status_and_the_servers_reason() {
        let answer = Answer {
            status: 404,
            body: br#"{"error":"CRD x not found"}"#.to_vec(),
        };
        assert_eq!(answer.ok_json().unwrap_err(), "HTTP 404: CRD x not found");
        let html = Answer {
            status: 200,
            body: b"<html>".to_vec(),
        };
        assert!(html.ok_json().unwrap_err().contains("not JSON"));
    }

    #[tokio::test]
    async fn an_endpoint_with_nothing_listening_is_unreachable_with_the_cause() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let source = HttpSource::new(Duration::from_secs(2));
        let error = source
            .get(&format!("http://127.0.0.1:{port}/katalog"))
            .await
            .unwrap_err();
        assert!(error.to_lowercase().contains("refused"), "{error}");
    }
}
