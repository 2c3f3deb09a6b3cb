//! kube's retry of throttled and unavailable answers (429, 503, 504, honouring `Retry-After`,
//! with exponential backoff), counted in `controller_api_retries_total{code}` so a 429 storm
//! shows in `/metrics` although no reconcile fails.

use hyper::{Request, Response};
use kube::client::retry::RetryPolicy;
use kube::client::{Body, ClientBuilder};
use tower::BoxError;
use tower::buffer::BufferLayer;
use tower::retry::{Policy, RetryLayer};

use crate::Metrics;

/// Requests waiting for the client when all its connections are busy.
const BUFFER: usize = 1024;

/// kube's [`RetryPolicy::server_retry`], counting each retry in `metrics`.
#[derive(Clone)]
struct Counted {
    policy: RetryPolicy,
    metrics: Metrics,
}

impl<Res> Policy<Request<Body>, Response<Res>, BoxError> for Counted {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        request: &mut Request<Body>,
        result: &mut Result<Response<Res>, BoxError>,
    ) -> Option<Self::Future> {
        let code = result.as_ref().map_or(0, |r| r.status().as_u16());
        let retry = self.policy.retry(request, result)?;
        self.metrics.record_api_retry(code);
        Some(retry)
    }

    fn clone_request(&mut self, request: &Request<Body>) -> Option<Request<Body>> {
        Policy::<Request<Body>, Response<Res>, BoxError>::clone_request(&mut self.policy, request)
    }
}

/// A client for `config` that retries as kube's default client does, counting the retries in
/// `metrics`.
///
/// # Errors
/// As [`kube::Client::try_from`].
pub fn client(mut config: kube::Config, metrics: &Metrics) -> kube::Result<kube::Client> {
    config.default_retry = false;
    let retry = RetryLayer::new(Counted {
        policy: RetryPolicy::server_retry(),
        metrics: metrics.clone(),
    });
    Ok(ClientBuilder::try_from(config)?
        .with_layer(&BufferLayer::new(BUFFER))
        .with_layer(&retry)
        .build())
}
