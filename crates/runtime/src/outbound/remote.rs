//! The remote reconciler (spec §9.7): one POST per reconcile to the CRD's templated
//! `reconcile.remote.endpoint`, and its answer read into what the reconcile applies.
//!
//! The request body is `{"key", "gvk": {"Group","Version","Kind"}, "object", "prepared",
//! "args"}`: `object` is the CR as the cache holds it, `prepared` what templates see beside
//! it (`.cross`, `.external`, Motif `.inputs`, ...), `args` the declared `args` with every
//! string in them rendered as a template against what templates see (the CR and the keys
//! beside it), as string args are evaluated per CR in Orkestra; numbers, booleans and the
//! shape (maps, lists) are kept. An arg that fails to render fails the call, naming its path.
//!
//! Decisions:
//! - Any 2xx answer is read (at most [`ANSWER_LIMIT`] bytes); another status, a timeout
//!   (`timeout`, default 10 s), or a body that is not the documented JSON fails the reconcile
//!   (`Ready=False`, retried with backoff). A non-empty `error`, or `result: error`, does too.
//! - `result: requeue` needs a `requeueAfter` duration; `result` absent means `ok`.
//! - `status` (a map) is merged into `.status` next to ork's conditions (which it cannot
//!   replace); `null` or absent leaves the status as it is.
//! - `auth`: `secretRef` (one GET of the Secret per call, in the CR's namespace unless
//!   given) or `env` (the ork process's environment), sent as `<header>: Bearer <value>`
//!   (`header` default `Authorization`); never logged.
//! - Each call counts in `orkestra_external_call_total{name="remote"}` and its histogram.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use katalog::Crd;
use katalog::build::EngineRender;
use katalog::build::remote::declarations_of;
use katalog::condition::parse_duration;
use katalog::remote::{Credential, ManagedKind, RemoteAuth, managed_kinds};
use katalog::render::render_text;
use katalog::resources::HookTemplates;
use serde_json::{Map, Value, json};

use super::client;
use crate::metrics::CrdMetrics;

/// Bytes of an answer read (the rest is never read, and the answer is refused).
pub const ANSWER_LIMIT: usize = 1 << 20;

/// The metrics' `name` label of remote reconciler calls.
pub const METRIC_NAME: &str = "remote";

/// What the reconcile does after applying the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// `ok`: nothing more (the CRD's own `requeue` may still apply).
    Ok,
    /// `requeue`: reconcile again after this delay.
    Requeue(Duration),
}

/// A remote reconciler's answer, read.
#[derive(Debug, Clone)]
pub struct Reply {
    /// `result` (with `requeueAfter`).
    pub verdict: Verdict,
    /// `status` to merge into the CR's status, when given.
    pub status: Option<Map<String, Value>>,
    /// `resources`, as declarations the builder builds.
    pub resources: HookTemplates,
}

/// The remote reconciler of one CRD. Shared by its workers.
pub struct Remote {
    crd: String,
    gvk: Value,
    endpoint: String,
    timeout: Duration,
    auth: Option<RemoteAuth>,
    args: Value,
    managed: Vec<ManagedKind>,
    render: Arc<EngineRender>,
    kube: kube::Client,
    metrics: Option<CrdMetrics>,
    stub: bool,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("crd", &self.crd)
            .finish_non_exhaustive()
    }
}

impl Remote {
    /// The remote reconciler `crd` declares (none: `None`). A declaration validation refuses
    /// (bad `auth`, bad `timeout`) never gets here; were it to, the call fails each time.
    pub fn of(
        crd: &Crd,
        render: Arc<EngineRender>,
        kube: kube::Client,
        metrics: Option<CrdMetrics>,
    ) -> Option<Self> {
        let remote = crd
            .operator_box()
            .reconciler
            .as_ref()
            .and_then(|r| r.remote.as_ref())?;
        let r = &remote.value;
        let gvk = crd.gvk();
        Some(Remote {
            crd: crd.name.clone(),
            gvk: json!({"Group": gvk.group, "Version": gvk.version, "Kind": gvk.kind}),
            endpoint: r.endpoint.clone().unwrap_or_default(),
            timeout: r
                .timeout
                .as_ref()
                .and_then(|t| parse_duration(&t.value))
                .and_then(|d| Duration::try_from(d).ok())
                .unwrap_or(super::call::DEFAULT_TIMEOUT),
            auth: r.auth.as_ref().and_then(|a| RemoteAuth::parse(a).ok()),
            args: r.args.clone().unwrap_or(Value::Null),
            managed: managed_kinds(r),
            render,
            kube,
            metrics,
            stub: false,
        })
    }

    /// Answers every call with `ok` and nothing else instead of sending it (simulation with
    /// `--skip-external`).
    #[must_use]
    pub fn stubbed(mut self, stub: bool) -> Self {
        self.stub = stub;
        self
    }

    /// The kinds it may manage.
    pub fn managed(&self) -> &[ManagedKind] {
        &self.managed
    }

    /// Whether it may manage objects of `api_version` and `kind`.
    pub fn permits(&self, api_version: &str, kind: &str) -> bool {
        self.managed.iter().any(|m| m.matches(api_version, kind))
    }

    /// Asks the reconciler about the CR `object` (keyed `key`); `data` is what templates see
    /// (the CR and the keys beside it), the endpoint is rendered against it.
    ///
    /// # Errors
    /// Why there is no usable answer; never carries the credential.
    pub async fn call(&self, key: &str, object: &Value, data: &Value) -> Result<Reply, String> {
        if self.stub {
            return Ok(Reply {
                verdict: Verdict::Ok,
                status: None,
                resources: HookTemplates::default(),
            });
        }
        let started = Instant::now();
        let result = self.exchange(key, object, data).await;
        let label = if result.is_ok() { "success" } else { "error" };
        tracing::debug!(
            crd = %self.crd,
            key,
            call = METRIC_NAME,
            result = label,
            error = result.as_ref().err().map_or("", String::as_str),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "remote reconciler"
        );
        if let Some(m) = &self.metrics {
            m.record_external(METRIC_NAME, label, Some(started.elapsed()));
        }
        result
    }

    async fn exchange(&self, key: &str, object: &Value, data: &Value) -> Result<Reply, String> {
        let url = render_text(&*self.render, &self.endpoint, data)
            .map_err(|e| format!("rendering `endpoint`: {e}"))?
            .trim()
            .to_owned();
        url.parse::<http::Uri>()
            .map_err(|e| format!("invalid endpoint: {e}"))?;
        let prepared: Map<String, Value> = data
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| object.get(k.as_str()).is_none())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let args = render_args(&*self.render, &self.args, data, "args")?;
        let body = json!({
            "key": key,
            "gvk": self.gvk,
            "object": object,
            "prepared": prepared,
            "args": args,
        });
        let mut request = http::Request::builder()
            .method(http::Method::POST)
            .uri(&url)
            .header("content-type", "application/json");
        if let Some(auth) = &self.auth {
            let namespace = object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default");
            let value = self.credential(auth, namespace).await?;
            request = request.header(auth.header.as_str(), format!("Bearer {value}"));
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| format!("invalid request: {e}"))?;
        let http = client::shared().map_err(|e| e.to_string())?;
        let answer = http
            .send(request, self.timeout, ANSWER_LIMIT)
            .await
            .map_err(|e| e.to_string())?;
        if !(200..300).contains(&answer.status) {
            return Err(format!("answered HTTP {}", answer.status));
        }
        if answer.truncated {
            return Err(format!("answer larger than {ANSWER_LIMIT} bytes"));
        }
        read_reply(&answer.body)
    }

    async fn credential(&self, auth: &RemoteAuth, cr_namespace: &str) -> Result<String, String> {
        match &auth.credential {
            Credential::Env(var) => std::env::var(var)
                .map_err(|_| format!("`auth.env`: environment variable {var} is not set")),
            Credential::Secret {
                name,
                key,
                namespace,
            } => {
                let ns = namespace.as_deref().unwrap_or(cr_namespace);
                super::secret::value(&self.kube, ns, name, key).await
            }
        }
    }
}

/// `args` with each string rendered against `data`; `path` names the value in errors.
fn render_args(
    render: &dyn katalog::render::Render,
    args: &Value,
    data: &Value,
    path: &str,
) -> Result<Value, String> {
    Ok(match args {
        Value::String(t) => Value::String(
            render_text(render, t, data)
                .map_err(|e| format!("rendering `{path}`: {e}"))?
                .into_owned(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| render_args(render, v, data, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    Ok((
                        k.clone(),
                        render_args(render, v, data, &format!("{path}.{k}"))?,
                    ))
                })
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Reads an answer's body.
fn read_reply(body: &[u8]) -> Result<Reply, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("answer is not JSON: {e}"))?;
    let o = v.as_object().ok_or("answer is not a JSON object")?;
    let text = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
    let error = text("error");
    if !error.is_empty() {
        return Err(error.to_owned());
    }
    let verdict = match text("result") {
        "" | "ok" => Verdict::Ok,
        "requeue" => {
            let after = text("requeueAfter");
            let d = parse_duration(after.trim())
                .and_then(|d| Duration::try_from(d).ok())
                .ok_or_else(|| {
                    format!("`result: requeue` needs a `requeueAfter` duration, got `{after}`")
                })?;
            Verdict::Requeue(d)
        }
        "error" => return Err("answered `result: error`".into()),
        other => return Err(format!("unknown `result` `{other}` (ok, requeue or error)")),
    };
    let status = match o.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return Err("`status` must be a map or null".into()),
    };
    let resources = match o.get("resources") {
        None | Some(Value::Null) => HookTemplates::default(),
        Some(Value::Array(list)) => declarations_of(list)?,
        Some(_) => return Err("`resources` must be a list".into()),
    };
    Ok(Reply {
        verdict,
        status,
        resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(v: Value) -> Result<Reply, String> {
        read_reply(v.to_string().as_bytes())
    }

    #[test]
    fn results_status_and_resources_are_read() {
        let r = reply(
            json!({"result": "requeue", "requeueAfter": "60s", "status": {"phase": "Ready"},
            "resources": [{"type": "configMap", "fields": {"name": "x", "data": {"a": "b"}}}]}),
        )
        .unwrap();
        assert_eq!(r.verdict, Verdict::Requeue(Duration::from_secs(60)));
        assert_eq!(r.status.unwrap()["phase"], "Ready");
        assert_eq!(r.resources.config_maps.len(), 1);
        let r = reply(json!({"status": null})).unwrap();
        assert_eq!((r.verdict, r.status), (Verdict::Ok, None));
    }

    #[test]
    fn errors_and_malformed_answers_fail() {
        assert_eq!(
            reply(json!({"result": "ok", "error": "db down"})).unwrap_err(),
            "db down"
        );
        for (bad, why) in [
            (json!({"result": "error"}), "result: error"),
            (json!({"result": "requeue"}), "needs a `requeueAfter`"),
            (json!({"result": "later"}), "unknown `result`"),
            (json!({"status": "Ready"}), "`status` must be"),
            (
                json!({"resources": [{"type": "gadget"}]}),
                "resources[0]: unknown resource type",
            ),
            (json!([1]), "not a JSON object"),
        ] {
            let e = reply(bad).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
        assert!(
            read_reply(b"<html>")
                .unwrap_err()
                .starts_with("answer is not JSON")
        );
    }
}
