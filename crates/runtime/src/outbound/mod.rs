//! Outbound calls: the process's one HTTP client ([`client`]) and the `external:` calls of
//! a CRD ([`call`], [`Calls`]), made in declaration order so later calls and templates see
//! the results of earlier ones under `.external.<name>`.

pub mod alerts;
pub mod call;
pub mod client;
pub mod notify;
pub mod pinned;
pub mod proxy;
#[cfg(test)]
mod proxy_tests;
pub mod remote;
pub(crate) mod secret;
pub mod stores;
#[cfg(test)]
mod stores_tests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use katalog::Crd;
use katalog::build::EngineRender;
use katalog::model::External;
use katalog::model::external::{Place, calls_of};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::metrics::CrdMetrics;

/// A call that failed with `continueOnError: false`: the reconcile stops there.
#[derive(Debug, Clone, thiserror::Error)]
#[error("external call `{name}` failed: {message}")]
pub struct Halted {
    /// The call's name.
    pub name: String,
    /// Why it failed.
    pub message: String,
}

/// Where the outcome of each call is counted (`orkestra_external_call_*`): the runtime's or
/// the gateway's metrics.
pub trait Record: Send + Sync {
    /// Counts one call of `name` ending as `result` (`success`, `error`, `skipped`,
    /// `stubbed`) after `took` (none when not made).
    fn record(&self, name: &str, result: &'static str, took: Option<Duration>);
}

impl Record for CrdMetrics {
    fn record(&self, name: &str, result: &'static str, took: Option<Duration>) {
        self.record_external(name, result, took);
    }
}

/// When calls are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// In a reconcile: `fires.reconcile: false` calls are left out.
    Reconcile,
    /// In an admission review: every call is made, and each timeout, `sleep` and retry wait
    /// ends by `deadline` (the webhook's own timeout, less a margin).
    Admission {
        /// When the last call must have ended.
        deadline: Instant,
    },
}

/// The `external:` calls of one CRD with what making them needs. Shared by its workers.
pub struct Calls {
    crd: String,
    lists: Vec<(Place, Vec<External>)>,
    render: Arc<EngineRender>,
    kube: kube::Client,
    metrics: Option<Arc<dyn Record>>,
    stub: bool,
}

impl std::fmt::Debug for Calls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calls")
            .field("crd", &self.crd)
            .finish_non_exhaustive()
    }
}

impl Calls {
    /// The calls `crd` declares (none: `None`). Calls of resource blocks that do not read
    /// were refused by validation and are left out here.
    pub fn of(
        crd: &Crd,
        render: Arc<EngineRender>,
        kube: kube::Client,
        metrics: Option<CrdMetrics>,
    ) -> Option<Self> {
        let lists: Vec<(Place, Vec<External>)> = calls_of(crd)
            .into_iter()
            .map(|(place, list)| (place, list.into_iter().filter_map(Result::ok).collect()))
            .collect();
        (!lists.is_empty()).then(|| Calls {
            crd: crd.name.clone(),
            lists,
            render,
            kube,
            metrics: metrics.map(|m| Arc::new(m) as Arc<dyn Record>),
            stub: false,
        })
    }

    /// Counts the calls in `record` instead.
    #[must_use]
    pub fn recording(mut self, record: Arc<dyn Record>) -> Self {
        self.metrics = Some(record);
        self
    }

    /// Answers every call with an empty success instead of sending it (simulation).
    #[must_use]
    pub fn stubbed(mut self, stub: bool) -> Self {
        self.stub = stub;
        self
    }

    /// Whether any call is declared in one of `places`.
    pub fn any_in(&self, places: &[Place]) -> bool {
        self.lists
            .iter()
            .any(|(p, l)| places.contains(p) && !l.is_empty())
    }

    /// Makes the calls of `places` (in declaration order, `fires.reconcile: false` ones left
    /// out) for the CR `data` (keyed `key`), adding each result to `data.external` as it
    /// comes. Stops at the first failed call without `continueOnError`.
    ///
    /// # Errors
    /// [`Halted`] for that call; the results so far are in `data`.
    pub async fn run(
        &self,
        places: &[Place],
        data: &mut Value,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<(), Halted> {
        self.run_at(Occasion::Reconcile, places, data, key, now)
            .await
    }

    /// [`Calls::run`] on `occasion`.
    ///
    /// # Errors
    /// As [`Calls::run`].
    pub async fn run_at(
        &self,
        occasion: Occasion,
        places: &[Place],
        data: &mut Value,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<(), Halted> {
        let namespace = data
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_string);
        let cx = call::Context {
            render: &*self.render,
            kube: &self.kube,
            namespace: namespace.as_deref(),
            now,
            stub: self.stub,
            deadline: match occasion {
                Occasion::Reconcile => None,
                Occasion::Admission { deadline } => Some(deadline),
            },
        };
        let made = |e: &&External| occasion != Occasion::Reconcile || e.fires_at_reconcile();
        for (place, list) in self.lists.iter().filter(|(p, _)| places.contains(p)) {
            for external in list.iter().filter(made) {
                let name = external.name.as_ref().map_or("", |n| n.value.as_str());
                let outcome = call::run(external, data, &cx).await;
                tracing::debug!(
                    crd = %self.crd,
                    key,
                    call = name,
                    place = place.path(),
                    method = external.method.as_deref().unwrap_or("GET"),
                    status = outcome.result.get("status").and_then(serde_json::Value::as_str).unwrap_or(""),
                    result = outcome.label,
                    error = outcome.error.as_deref().unwrap_or(""),
                    elapsed_ms = outcome.took.map_or(0.0, |d| d.as_secs_f64() * 1000.0),
                    "external call"
                );
                if let Some(m) = &self.metrics {
                    m.record(name, outcome.label, outcome.took);
                }
                insert(data, name, outcome.result);
                if let Some(message) = outcome.error
                    && external.continue_on_error != Some(true)
                {
                    return Err(Halted {
                        name: name.to_string(),
                        message,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Sets `data.external.<name>` (creating `external`).
fn insert(data: &mut Value, name: &str, result: Value) {
    if let Some(map) = data.as_object_mut() {
        let external = map
            .entry("external")
            .or_insert_with(|| Value::Object(Map::new()));
        if !external.is_object() {
            *external = Value::Object(Map::new());
        }
        if let Some(e) = external.as_object_mut() {
            e.insert(name.to_string(), result);
        }
    }
}

/// `namespace/name` (or `name`) of a CR as JSON, for log lines.
pub fn key_of(cr: &Value) -> String {
    let text = |p: &str| cr.pointer(p).and_then(Value::as_str).unwrap_or_default();
    match text("/metadata/namespace") {
        "" => text("/metadata/name").to_string(),
        ns => format!("{ns}/{}", text("/metadata/name")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use katalog::model::external::Place::{OnReconcile, PreReconcile};
    use serde_json::json;
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback server answering `(status, body)` as currently set; records request heads.
    struct Server {
        url: String,
        answer: Arc<Mutex<(u16, String)>>,
        seen: Arc<Mutex<Vec<String>>>,
    }

    async fn server(status: u16, body: &str) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new((status, body.to_string())));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (a, s) = (answer.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let (a, s) = (a.clone(), s.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    loop {
                        let Ok(n) = conn.read(&mut buf).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        s.lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                        let (status, body) = a.lock().unwrap().clone();
                        let head = format!(
                            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if conn.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Server { url, answer, seen }
    }

    thread_local! {
        /// The metrics of this test's calls (each tokio test runs on its own thread).
        static METRICS: crate::Metrics = crate::Metrics::new();
    }

    pub(super) fn calls(on_reconcile: &str) -> Calls {
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        onReconcile:\n          external:\n{on_reconcile}"
        );
        let loaded =
            katalog::load_text("k.yaml", text).unwrap_or_else(|d| panic!("{}", d.render()));
        let crd = loaded.katalog.crd("app").unwrap().clone();
        let engine = katalog::build::engine_for(&loaded.katalog).unwrap();
        // Never contacted: no call here reads a Secret.
        let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
        let kube = kube::Client::try_from(config).unwrap();
        let metrics = METRICS.with(Clone::clone);
        Calls::of(
            &crd,
            Arc::new(EngineRender::new(engine)),
            kube,
            Some(metrics.crd("app")),
        )
        .unwrap()
    }

    pub(super) fn cr(url: &str, gate: &str) -> Value {
        json!({"metadata": {"name": "site", "namespace": "ns"}, "spec": {"url": url, "gate": gate}})
    }

    pub(super) async fn run(c: &Calls, data: &mut Value) -> Result<(), Halted> {
        c.run(
            &[PreReconcile, OnReconcile],
            data,
            "ns/site",
            OffsetDateTime::now_utc(),
        )
        .await
    }

    #[tokio::test]
    async fn results_follow_the_server_and_later_calls_see_earlier_ones() {
        let s = server(200, "up").await;
        let c = calls(
            "            - {name: check, url: '{{ .spec.url }}/health', continueOnError: true}\n            - {name: echo, url: '{{ .spec.url }}/seen/{{ .external.check.status }}', continueOnError: true}\n",
        );
        let mut data = cr(&s.url, "on");
        run(&c, &mut data).await.unwrap();
        assert_eq!(
            data["external"]["check"],
            json!({"status": "200", "body": "up", "error": "", "called": "true"})
        );
        assert!(
            s.seen
                .lock()
                .unwrap()
                .iter()
                .any(|r| r.starts_with("GET /seen/200 "))
        );
        *s.answer.lock().unwrap() = (503, "down".into());
        let mut data = cr(&s.url, "on");
        run(&c, &mut data).await.unwrap();
        assert_eq!(data["external"]["check"]["status"], "503");
        assert_eq!(
            data["external"]["check"]["error"],
            "HTTP 503 (expected 2xx)"
        );
    }

    #[tokio::test]
    async fn a_failed_call_without_continue_on_error_halts() {
        let s = server(500, "boom").await;
        let c = calls(
            "            - {name: check, url: '{{ .spec.url }}'}\n            - {name: after, url: '{{ .spec.url }}'}\n",
        );
        let mut data = cr(&s.url, "on");
        let halted = run(&c, &mut data).await.unwrap_err();
        assert_eq!(halted.name, "check");
        assert!(halted.to_string().contains("HTTP 500"), "{halted}");
        assert!(data["external"].get("after").is_none());
        assert_eq!(s.seen.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_request_that_cannot_be_built_is_a_failed_call_not_another_request() {
        let s = server(200, "x").await;
        let c = calls(
            "            - {name: check, url: '{{ .spec.url }}', headers: {'bad header': v}, continueOnError: true}\n",
        );
        let mut data = cr(&s.url, "on");
        run(&c, &mut data).await.unwrap();
        let error = data["external"]["check"]["error"].as_str().unwrap();
        assert!(error.starts_with("invalid request"), "{error}");
        assert!(s.seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_call_whose_when_fails_is_not_made() {
        let s = server(200, "x").await;
        let c = calls(
            "            - name: check\n              url: '{{ .spec.url }}'\n              when: [{field: spec.gate, equals: 'on'}]\n",
        );
        let mut data = cr(&s.url, "off");
        run(&c, &mut data).await.unwrap();
        assert_eq!(data["external"]["check"]["called"], "false");
        assert!(s.seen.lock().unwrap().is_empty());
        let text = METRICS.with(crate::Metrics::encode);
        assert!(
            text.contains(
                r#"orkestra_external_call_total{crd="app",name="check",result="skipped"} 1"#
            ),
            "{text}"
        );
    }

    #[tokio::test]
    async fn timeouts_retries_bodies_headers_and_tokens() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent = format!("http://{}", listener.local_addr().unwrap());
        let c = calls(&format!(
            "            - {{name: slow, url: '{silent}', timeout: 200ms, continueOnError: true, retryBackoff: {{initial: 10ms, maxAttempts: 2}}}}\n"
        ));
        let mut data = cr("", "on");
        run(&c, &mut data).await.unwrap();
        assert_eq!(data["external"]["slow"]["error"], "timed out after 200ms");
        assert_eq!(data["external"]["slow"]["status"], "");
        drop(listener);

        let s = server(201, &"y".repeat(10_000)).await;
        let c = calls(
            "            - name: post\n              url: '{{ .spec.url }}/x'\n              method: post\n              body: '{\"name\": \"{{ .metadata.name }}\"}'\n              headers: {X-Team: '{{ .metadata.namespace }}'}\n              token: 'tok-{{ .metadata.name }}'\n              expectedStatus: 201\n",
        );
        let mut data = cr(&s.url, "on");
        run(&c, &mut data).await.unwrap();
        assert_eq!(
            data["external"]["post"]["body"].as_str().unwrap().len(),
            call::BODY_LIMIT
        );
        let seen = s.seen.lock().unwrap().join("\n");
        assert!(seen.starts_with("POST /x "), "{seen}");
        assert!(seen.contains("authorization: Bearer tok-site"), "{seen}");
        assert!(seen.contains("x-team: ns"), "{seen}");
        assert!(seen.contains("content-type: application/json"), "{seen}");
        assert!(seen.contains(r#"{"name": "site"}"#), "{seen}");
    }

    #[tokio::test]
    async fn at_admission_admission_only_calls_are_made_and_waits_end_by_the_deadline() {
        let s = server(200, "ok").await;
        let c = calls(
            "            - {name: check, url: '{{ .spec.url }}', fires: {reconcile: false}}\n",
        );
        let mut data = cr(&s.url, "on");
        run(&c, &mut data).await.unwrap();
        assert!(data.get("external").is_none(), "not made at reconcile");
        assert!(s.seen.lock().unwrap().is_empty());
        let admission = Occasion::Admission {
            deadline: Instant::now() + Duration::from_secs(5),
        };
        let now = OffsetDateTime::now_utc();
        c.run_at(admission, &[OnReconcile], &mut data, "ns/site", now)
            .await
            .unwrap();
        assert_eq!(data["external"]["check"]["status"], "200");
        assert_eq!(s.seen.lock().unwrap().len(), 1);

        // A call allowed 10s (and a retry) gets what is left of a 300ms deadline.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent = format!("http://{}", listener.local_addr().unwrap());
        let c = calls(&format!(
            "            - {{name: slow, url: '{silent}', timeout: 10s, retryBackoff: {{initial: 1s, maxAttempts: 3}}}}\n"
        ));
        let admission = Occasion::Admission {
            deadline: Instant::now() + Duration::from_millis(300),
        };
        let mut data = cr("", "on");
        let halted = c
            .run_at(admission, &[OnReconcile], &mut data, "ns/site", now)
            .await
            .unwrap_err();
        let error = data["external"]["slow"]["error"].as_str().unwrap();
        let ms: f64 = error
            .strip_prefix("timed out after ")
            .and_then(|t| t.strip_suffix("ms"))
            .unwrap_or_else(|| panic!("{error}"))
            .parse()
            .unwrap();
        assert!(ms <= 300.0, "{error}");
        assert_eq!(halted.name, "slow");
        drop(listener);
    }

    #[tokio::test]
    async fn a_prometheus_call_is_an_instant_query_read_by_the_prom_notes() {
        let answer = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1,"42"]}]}}"#;
        let s = server(200, answer).await;
        let c = calls(
            "            - {name: load, url: '{{ .spec.url }}/', protocol: prometheus, query: 'up{job=\"a\"}'}\n",
        );
        let mut data = cr(&s.url, "on");
        run(&c, &mut data).await.unwrap();
        let seen = s.seen.lock().unwrap().join("\n");
        assert!(
            seen.starts_with("GET /api/v1/query?query=up%7Bjob%3D%22a%22%7D "),
            "{seen}"
        );
        let value =
            katalog::render::render_text(&*c.render, "{{ promValue .external.load }}", &data)
                .unwrap()
                .into_owned();
        assert_eq!(value, "42");
    }
}
