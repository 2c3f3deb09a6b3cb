//! The poller: every refresh it asks each endpoint for its `/katalog` (following the leader),
//! reads the runtimes' `dependsOn` and reconcile counters, and rebuilds the [`Snapshot`] the UI
//! shows. An endpoint that stops answering is kept, shown unreachable with the error and the
//! last time it answered; its last answer is shown only while nothing else serves its Katalog.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::history::{History, samples_of};
use crate::merge::{GatewayAnswer, KatalogState, RuntimeAnswer, merge, pick_leader};
use crate::source::Source;
use crate::{depends, leader};

/// What an endpoint turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Not known yet: it never answered.
    Unknown,
    /// An ork (or Orkestra) runtime.
    Runtime,
    /// An ork gateway (`"source": "gateway"`).
    Gateway,
}

/// One endpoint as the overview shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointStatus {
    /// Its base URL, as given.
    pub url: String,
    /// What it is.
    pub role: Role,
    /// Whether it answered on the last poll.
    pub reachable: bool,
    /// Why the last poll failed, if it did.
    pub error: Option<String>,
    /// When it last answered (RFC 3339), if ever.
    pub last_seen: Option<String>,
    /// The Katalog it serves, once known.
    pub katalog: Option<String>,
    /// For a runtime, whether it said it leads.
    pub is_konductor: Option<bool>,
}

/// Everything the UI shows, as of one poll.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The poll period, in seconds; the UI refreshes at the same pace.
    pub refresh_seconds: f64,
    /// When the poll finished (RFC 3339), empty before the first.
    pub polled_at: String,
    /// Every endpoint, in the order given.
    pub endpoints: Vec<EndpointStatus>,
    /// Every Katalog, merged.
    pub katalogs: Vec<KatalogState>,
}

#[derive(Default)]
struct Inner {
    endpoints: Vec<EndpointStatus>,
    runtimes: BTreeMap<String, RuntimeAnswer>,
    gateways: BTreeMap<String, GatewayAnswer>,
    history: History,
    snapshot: Option<Arc<Snapshot>>,
}

/// Polls a fixed list of endpoints through a [`Source`].
pub struct Aggregator<S> {
    source: S,
    refresh: Duration,
    inner: Mutex<Inner>,
}

/// One endpoint's answer on one poll.
enum Polled {
    Runtime(RuntimeAnswer),
    Gateway(GatewayAnswer),
}

impl<S: Source> Aggregator<S> {
    /// An aggregator of `urls` (base URLs such as `http://localhost:8080`), polled every
    /// `refresh`.
    pub fn new(source: S, urls: &[String], refresh: Duration) -> Self {
        let endpoints = urls
            .iter()
            .map(|url| EndpointStatus {
                url: url.trim_end_matches('/').to_owned(),
                role: Role::Unknown,
                reachable: false,
                error: Some("not polled yet".to_owned()),
                last_seen: None,
                katalog: None,
                is_konductor: None,
            })
            .collect();
        Self {
            source,
            refresh,
            inner: Mutex::new(Inner {
                endpoints,
                ..Inner::default()
            }),
        }
    }

    /// Where answers come from.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The poll period.
    pub fn refresh(&self) -> Duration {
        self.refresh
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The latest snapshot (an empty one before the first poll).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        let inner = self.lock();
        inner.snapshot.clone().unwrap_or_else(|| {
            Arc::new(Snapshot {
                refresh_seconds: self.refresh.as_secs_f64(),
                polled_at: String::new(),
                endpoints: inner.endpoints.clone(),
                katalogs: Vec::new(),
            })
        })
    }

    /// Polls every endpoint once, concurrently, and rebuilds the snapshot.
    pub async fn poll(&self) {
        let urls: Vec<String> = self
            .lock()
            .endpoints
            .iter()
            .map(|e| e.url.clone())
            .collect();
        let answers = futures::future::join_all(urls.iter().map(|url| self.poll_one(url))).await;
        let now = OffsetDateTime::now_utc();
        let stamp = now.format(&Rfc3339).unwrap_or_default();
        let mut inner = self.lock();
        for (index, answer) in answers.into_iter().enumerate() {
            let url = urls[index].clone();
            let endpoint = &mut inner.endpoints[index];
            match answer {
                Ok((polled, samples)) => {
                    endpoint.reachable = true;
                    endpoint.error = None;
                    endpoint.last_seen = Some(stamp.clone());
                    match polled {
                        Polled::Runtime(answer) => {
                            endpoint.role = Role::Runtime;
                            endpoint.katalog = answer.summary["name"].as_str().map(str::to_owned);
                            endpoint.is_konductor = answer.summary["isKonductor"].as_bool();
                            let katalog = endpoint.katalog.clone().unwrap_or_default();
                            for (crd, sample) in samples {
                                inner.history.record(&katalog, &crd, sample);
                            }
                            inner.runtimes.insert(url, answer);
                        }
                        Polled::Gateway(answer) => {
                            endpoint.role = Role::Gateway;
                            endpoint.katalog = answer.body["katalog"].as_str().map(str::to_owned);
                            inner.gateways.insert(url, answer);
                        }
                    }
                }
                Err(error) => {
                    tracing::debug!(%url, %error, "endpoint unreachable");
                    endpoint.reachable = false;
                    endpoint.error = Some(error);
                    if let Some(answer) = inner.runtimes.get_mut(&url) {
                        answer.live = false;
                    }
                    if let Some(answer) = inner.gateways.get_mut(&url) {
                        answer.live = false;
                    }
                }
            }
        }
        let runtimes: Vec<RuntimeAnswer> = inner.runtimes.values().cloned().collect();
        let gateways: Vec<GatewayAnswer> = inner.gateways.values().cloned().collect();
        let history = &inner.history;
        let katalogs = merge(&runtimes, &gateways, &|k, c| history.series(k, c));
        inner.snapshot = Some(Arc::new(Snapshot {
            refresh_seconds: self.refresh.as_secs_f64(),
            polled_at: stamp,
            endpoints: inner.endpoints.clone(),
            katalogs,
        }));
    }

    async fn poll_one(
        &self,
        url: &str,
    ) -> Result<(Polled, BTreeMap<String, crate::history::Sample>), String> {
        let body = leader::katalog_of(&self.source, url).await?;
        if body["source"] == "gateway" {
            let answer = GatewayAnswer {
                url: url.to_owned(),
                body,
                live: true,
            };
            return Ok((Polled::Gateway(answer), BTreeMap::new()));
        }
        let depends_on = match self.source.get(&format!("{url}/katalog/raw")).await {
            Ok(answer) if answer.status == 200 => {
                depends::of_raw(&String::from_utf8_lossy(&answer.body)).unwrap_or_else(|error| {
                    tracing::debug!(%url, %error, "the raw Katalog does not parse");
                    BTreeMap::new()
                })
            }
            _ => BTreeMap::new(),
        };
        let samples = if body["isKonductor"].as_bool() == Some(false) {
            BTreeMap::new()
        } else {
            self.counters(url).await.unwrap_or_default()
        };
        let answer = RuntimeAnswer {
            url: url.to_owned(),
            summary: body,
            live: true,
            depends_on,
        };
        Ok((Polled::Runtime(answer), samples))
    }

    /// The leader's reconcile counters per CRD, for the plots.
    async fn counters(
        &self,
        url: &str,
    ) -> Result<BTreeMap<String, crate::history::Sample>, String> {
        let query = |name: &str| format!("{url}/api/v1/query?query={name}");
        let totals = self
            .source
            .get(&query("controller_reconcile_total"))
            .await?
            .ok_json()?;
        let buckets = self
            .source
            .get(&query("controller_reconcile_duration_seconds_bucket"))
            .await?
            .ok_json()?;
        Ok(samples_of(&totals, &buckets))
    }

    /// The runtimes of `katalog` to ask for CRs, best first: the one the snapshot shows (the
    /// leader), then the other live replicas.
    pub fn runtimes_of(&self, katalog: &str) -> Vec<String> {
        let inner = self.lock();
        let replicas: Vec<&RuntimeAnswer> = inner
            .runtimes
            .values()
            .filter(|a| a.summary["name"] == katalog)
            .collect();
        let mut order: Vec<String> = pick_leader(&replicas)
            .map(|(a, _)| a.url.clone())
            .into_iter()
            .collect();
        for answer in replicas.iter().filter(|a| a.live) {
            if !order.contains(&answer.url) {
                order.push(answer.url.clone());
            }
        }
        order
    }

    /// `path` (starting with `/katalog/`) from the runtimes of `katalog`, best first: the first
    /// answer that is not a connection failure.
    ///
    /// # Errors
    /// `(404, …)` when no runtime serves `katalog`; `(502, …)` when none could be reached; the
    /// runtime's status and error otherwise.
    pub async fn ask(&self, katalog: &str, path: &str) -> Result<Value, (u16, String)> {
        let runtimes = self.runtimes_of(katalog);
        if runtimes.is_empty() {
            return Err((404, format!("no runtime serves Katalog {katalog:?}")));
        }
        let mut failures = Vec::new();
        for url in runtimes {
            match self.source.get(&format!("{url}{path}")).await {
                Ok(answer) => return answer.ok_json().map_err(|e| (answer.status, e)),
                Err(error) => failures.push(format!("{url}: {error}")),
            }
        }
        Err((502, failures.join("; ")))
    }

    /// Polls now, then every refresh, until `shutdown` completes.
    pub async fn run(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        let mut ticks = tokio::time::interval(self.refresh);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = ticks.tick() => self.poll().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::leader::tests::Scripted;

    fn summary(leads: bool, state: &str) -> Value {
        json!({"name": "shop", "isKonductor": leads, "healthy": true,
               "crds": [{"name": "web", "gvk": "w.io/v1, Kind=Web", "state": state}]})
    }

    const RAW: &str = "spec:\n  crds:\n    web: {dependsOn: [db]}\n";

    fn runtime(source: &Scripted, base: &str, leads: bool) {
        source.answer(&format!("{base}/katalog"), 200, &summary(leads, "healthy"));
        source.push_text(&format!("{base}/katalog/raw"), RAW);
        let totals = json!({"data": {"result": [
            {"metric": {"crd": "web", "result": "success"}, "value": [1.0, "3"]}]}});
        source.answer(
            &format!("{base}/api/v1/query?query=controller_reconcile_total"),
            200,
            &totals,
        );
        source.answer(
            &format!("{base}/api/v1/query?query=controller_reconcile_duration_seconds_bucket"),
            200,
            &json!({"data": {"result": []}}),
        );
    }

    impl Scripted {
        fn push_text(&self, url: &str, text: &str) {
            self.answers
                .lock()
                .unwrap()
                .entry(url.to_owned())
                .or_default()
                .push_back(Ok(crate::source::Answer {
                    status: 200,
                    body: text.as_bytes().to_vec(),
                }));
        }
    }

    fn urls(list: &[&str]) -> Vec<String> {
        list.iter().map(|u| (*u).to_owned()).collect()
    }

    #[tokio::test]
    async fn before_the_first_poll_every_endpoint_is_not_polled_yet() {
        let aggregator = Aggregator::new(
            Scripted::default(),
            &urls(&["http://a/"]),
            Duration::from_secs(1),
        );
        let snapshot = aggregator.snapshot();
        assert_eq!(snapshot.endpoints[0].url, "http://a");
        assert_eq!(
            snapshot.endpoints[0].error.as_deref(),
            Some("not polled yet")
        );
        assert!(snapshot.katalogs.is_empty());
    }

    #[tokio::test]
    async fn an_endpoint_that_stops_answering_keeps_its_last_seen_time_and_shows_the_error() {
        let source = Scripted::default();
        runtime(&source, "http://a", true);
        let aggregator = Aggregator::new(source, &urls(&["http://a"]), Duration::from_secs(1));
        aggregator.poll().await;
        let first = aggregator.snapshot();
        let seen = first.endpoints[0].last_seen.clone();
        assert!(seen.is_some());
        assert_eq!(first.endpoints[0].role, Role::Runtime);
        assert_eq!(first.katalogs[0].crds[0].depends_on[0].name, "db");

        aggregator.source.clear("http://a/katalog");
        aggregator.poll().await;
        let second = aggregator.snapshot();
        let endpoint = &second.endpoints[0];
        assert!(!endpoint.reachable);
        assert!(endpoint.error.as_deref().unwrap().contains("refused"));
        assert_eq!(endpoint.last_seen, seen);
        assert!(
            !second.katalogs[0].reachable,
            "its Katalog is shown, unreachable"
        );
    }

    #[tokio::test]
    async fn crs_are_asked_of_the_leader_first_and_of_a_follower_when_it_is_down() {
        let source = Scripted::default();
        runtime(&source, "http://follower", false);
        runtime(&source, "http://leader", true);
        source.answer(
            "http://leader/katalog/web/cr",
            200,
            &json!({"items": ["from leader"]}),
        );
        source.answer(
            "http://follower/katalog/web/cr",
            200,
            &json!({"items": ["from follower"]}),
        );
        let aggregator = Aggregator::new(
            source,
            &urls(&["http://follower", "http://leader"]),
            Duration::from_secs(1),
        );
        aggregator.poll().await;
        assert_eq!(
            aggregator.runtimes_of("shop"),
            ["http://leader", "http://follower"]
        );
        let answer = aggregator.ask("shop", "/katalog/web/cr").await.unwrap();
        assert_eq!(answer["items"][0], "from leader");

        aggregator.source.clear("http://leader/katalog/web/cr");
        let answer = aggregator.ask("shop", "/katalog/web/cr").await.unwrap();
        assert_eq!(answer["items"][0], "from follower");
        assert_eq!(
            aggregator.ask("other", "/katalog").await.unwrap_err().0,
            404
        );
    }

    #[tokio::test]
    async fn counters_sampled_on_two_polls_make_a_series() {
        let source = Scripted::default();
        runtime(&source, "http://a", true);
        let aggregator = Aggregator::new(source, &urls(&["http://a"]), Duration::from_secs(1));
        aggregator.poll().await;
        assert!(aggregator.snapshot().katalogs[0].crds[0].history.is_none());
        let url = "http://a/api/v1/query?query=controller_reconcile_total";
        aggregator.source.clear(url);
        aggregator.source.answer(
            url,
            200,
            &json!({"data": {"result": [
                {"metric": {"crd": "web", "result": "success"}, "value": [3.0, "7"]}]}}),
        );
        aggregator.poll().await;
        let series = aggregator.snapshot().katalogs[0].crds[0]
            .history
            .clone()
            .unwrap();
        assert_eq!(series.rate, [2.0]);
    }
}
