//! One `external:` call as a reconcile makes it (spec §11.1): its conditions, `sleep`, the
//! templated request, auth, the per-call timeout and retries, and the result map templates
//! read as `.external.<name>.{status,body,error,called}`.
//!
//! Decisions:
//! - The result body keeps at most [`BODY_LIMIT`] bytes (the rest is never read); a
//!   `protocol: prometheus` answer is read up to [`PROMETHEUS_LIMIT`] and kept as the parsed
//!   JSON, which the `prom*` notes read.
//! - `retryBackoff` retries a failed call (no answer, or an unexpected status) up to
//!   `maxAttempts` times in all (unset or 0: 3), waiting `initial` (default 1s) times
//!   `multiplier` (default 2) per attempt, at most `max` (default 30s).
//! - A token comes from `token` (template, then `$VAR` expansion, where an unset variable is
//!   empty as in Orkestra, and an empty token sends no header) or from `auth.secretRef`
//!   (one GET of the Secret per call, in the CR's namespace unless `namespace` is given); it is
//!   sent as `<header>: Bearer <token>` (`header` default `Authorization`) and never logged.
//! - Log lines (debug) carry the CRD, CR key, call name, method, status and time; never the
//!   URL (it may carry credentials) nor any header.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use katalog::condition::{Conditions, Env, parse_duration};
use katalog::model::External;
use katalog::render::{Render, render_text};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::client::{self, Answer};
use super::stores::{self, Store};

/// Bytes of a body kept for templates.
pub const BODY_LIMIT: usize = 4096;

/// Bytes of a Prometheus answer read (it is parsed, not shown as text).
pub const PROMETHEUS_LIMIT: usize = 1 << 20;

/// Default per-call timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a call needs besides its declaration and the data map.
pub struct Context<'a> {
    /// Renders the templated fields.
    pub render: &'a dyn Render,
    /// Reads `auth.secretRef` Secrets.
    pub kube: &'a kube::Client,
    /// The CR's namespace (default namespace of a `secretRef`).
    pub namespace: Option<&'a str>,
    /// The clock of conditions.
    pub now: OffsetDateTime,
    /// Answer every call that passes its conditions with an empty success instead of sending
    /// it (`ork simulate --skip-external`).
    pub stub: bool,
    /// When every wait of the call (timeout, `sleep`, retry delay) must have ended (admission:
    /// the webhook's timeout); none at reconcile.
    pub deadline: Option<Instant>,
}

impl Context<'_> {
    /// `wanted`, cut to the time left before the deadline; `None` when none is left.
    fn within(&self, wanted: Duration) -> Option<Duration> {
        match self.deadline {
            None => Some(wanted),
            Some(d) => d
                .checked_duration_since(Instant::now())
                .filter(|left| !left.is_zero())
                .map(|left| left.min(wanted)),
        }
    }
}

/// The error of a call that ran out of its admission deadline.
const NO_TIME_LEFT: &str = "no time left within the admission webhook's timeout";

/// How one call ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `.external.<name>`: `status`, `body`, `error`, `called`.
    pub result: Value,
    /// `success`, `error`, `skipped` or `stubbed` (the metrics' `result` label).
    pub label: &'static str,
    /// The failure, when the call failed.
    pub error: Option<String>,
    /// Time taken (none when skipped).
    pub took: Option<Duration>,
}

impl Outcome {
    /// A call answered without being sent: the expected status (200 when any 2xx is
    /// expected) and an empty body.
    fn stubbed(call: &External) -> Self {
        let status = match call.expected_status {
            Some(s) if s > 0 => s.to_string(),
            _ => "200".to_owned(),
        };
        Outcome {
            result: json!({"status": status, "body": "", "error": "", "called": "true"}),
            label: "stubbed",
            error: None,
            took: None,
        }
    }

    fn skipped() -> Self {
        Outcome {
            result: json!({"status": "", "body": "", "error": "", "called": "false"}),
            label: "skipped",
            error: None,
            took: None,
        }
    }
}

/// Makes `call` against `data` (the CR with `.external` of the calls before it).
pub async fn run(call: &External, data: &Value, cx: &Context<'_>) -> Outcome {
    if !call.when.is_empty() || !call.or.is_empty() {
        let env = Env::new(data, cx.render, cx.now);
        match Conditions::new(&call.when, &call.or).evaluate(&env) {
            Ok(true) => {}
            Ok(false) => return Outcome::skipped(),
            Err(e) => return failed(None, format!("conditions: {e}"), Duration::ZERO),
        }
    }
    if cx.stub {
        return Outcome::stubbed(call);
    }
    let started = Instant::now();
    if let Some(store) = Store::of(call.protocol_name()) {
        // Boxed: keeps the future of every caller (the reconcile's) shallow.
        return Box::pin(store_call(store, call, data, cx, started)).await;
    }
    let prepared = match prepare(call, data, cx).await {
        Ok(p) => p,
        Err(e) => return failed(None, e, started.elapsed()),
    };
    if let Err(outcome) = pause(prepared.sleep, cx, started).await {
        return outcome;
    }
    let http = match client::shared() {
        Ok(c) => c,
        Err(e) => return failed(None, e.to_string(), started.elapsed()),
    };
    let prepared = &prepared;
    attempts(
        call,
        cx,
        started,
        prepared.timeout,
        move |timeout| async move {
            let request = prepared.request().map_err(|e| (None, e))?;
            match http.send(request, timeout, prepared.limit).await {
                Ok(answer) => judge(call, prepared, answer),
                Err(e) => Err((None, e.to_string())),
            }
        },
    )
    .await
}

/// A `protocol: redis|postgres` call: the templated `url` and `query`, the credential as the
/// password, `sleep`, timeout and retries as for HTTP.
async fn store_call(
    store: Store,
    call: &External,
    data: &Value,
    cx: &Context<'_>,
    started: Instant,
) -> Outcome {
    let prepared = async {
        let url = text(cx, data, "url", call.url.as_deref().unwrap_or_default())?;
        let query = text(cx, data, "query", call.query.as_deref().unwrap_or_default())?;
        let credential = token(call, data, cx).await?.map(|(_, t)| t);
        let (timeout, sleep) = waits(call, data, cx)?;
        Ok::<_, String>((url, query, credential, timeout, sleep))
    };
    let (url, query, credential, timeout, sleep) = match prepared.await {
        Ok(p) => p,
        Err(e) => return store_failed(failed(None, e, started.elapsed())),
    };
    if let Err(outcome) = pause(sleep, cx, started).await {
        return store_failed(outcome);
    }
    let (url, query, credential) = (&url, &query, credential.as_deref());
    let outcome = attempts(call, cx, started, timeout, move |timeout| async move {
        store
            .fetch(url, query, credential, timeout)
            .await
            .map_err(|e| (None, e))
    })
    .await;
    if outcome.error.is_some() {
        store_failed(outcome)
    } else {
        outcome
    }
}

/// A failed store call's result map (`result`, `error`, `called`).
fn store_failed(mut outcome: Outcome) -> Outcome {
    outcome.result = stores::failure(outcome.error.as_deref().unwrap_or_default());
    outcome
}

/// Waits the call's `sleep` (cut to the deadline); the failed outcome when no time is left.
async fn pause(sleep: Option<Duration>, cx: &Context<'_>, started: Instant) -> Result<(), Outcome> {
    if let Some(sleep) = sleep {
        let Some(sleep) = cx.within(sleep) else {
            return Err(failed(None, NO_TIME_LEFT.into(), started.elapsed()));
        };
        tokio::time::sleep(sleep).await;
    }
    Ok(())
}

/// The `(status, body)` of an answer and the error of a failed attempt.
type Failure = (Option<(String, Value)>, String);

/// Makes `once` (given its timeout, cut to the deadline) until it succeeds or `retryBackoff`
/// gives up.
async fn attempts<F, Fut>(
    call: &External,
    cx: &Context<'_>,
    started: Instant,
    timeout: Duration,
    mut once: F,
) -> Outcome
where
    F: FnMut(Duration) -> Fut,
    Fut: std::future::Future<Output = Result<Value, Failure>>,
{
    let retry = Retry::of(call);
    let mut attempt = 1;
    loop {
        let Some(timeout) = cx.within(timeout) else {
            return failed(None, NO_TIME_LEFT.into(), started.elapsed());
        };
        match once(timeout).await {
            Ok(result) => {
                return Outcome {
                    result,
                    label: "success",
                    error: None,
                    took: Some(started.elapsed()),
                };
            }
            Err((answer, error)) if attempt >= retry.attempts => {
                return failed(answer, error, started.elapsed());
            }
            Err((answer, error)) => {
                let delay = retry.delay(attempt);
                if cx.within(delay) != Some(delay) {
                    // The wait would outlast the deadline: this failure is the answer.
                    return failed(answer, error, started.elapsed());
                }
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
        }
    }
}

fn failed(answer: Option<(String, Value)>, error: String, took: Duration) -> Outcome {
    let (status, body) = answer.unwrap_or_else(|| (String::new(), Value::String(String::new())));
    Outcome {
        result: json!({"status": status, "body": body, "error": error, "called": "true"}),
        label: "error",
        error: Some(error),
        took: Some(took),
    }
}

/// The result of an answer, or `(status and body, error)` when its status is not the
/// expected one.
fn judge(call: &External, prepared: &Prepared, answer: Answer) -> Result<Value, Failure> {
    let status = answer.status.to_string();
    let body = if prepared.prometheus {
        serde_json::from_slice(&answer.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&answer.body).into_owned()))
    } else {
        Value::String(String::from_utf8_lossy(&answer.body).into_owned())
    };
    let expected = call.expected_status.unwrap_or(0);
    let ok = if expected == 0 {
        (200..300).contains(&answer.status)
    } else {
        i64::from(answer.status) == expected
    };
    if ok {
        Ok(json!({"status": status, "body": body, "error": "", "called": "true"}))
    } else {
        let want = if expected == 0 {
            "2xx".to_string()
        } else {
            expected.to_string()
        };
        let error = format!("HTTP {status} (expected {want})");
        Err((Some((status, body)), error))
    }
}

/// A call ready to send (possibly several times).
struct Prepared {
    method: http::Method,
    url: String,
    headers: BTreeMap<String, String>,
    body: String,
    timeout: Duration,
    sleep: Option<Duration>,
    limit: usize,
    prometheus: bool,
}

impl Prepared {
    fn request(&self) -> Result<http::Request<Full<Bytes>>, String> {
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(&self.url);
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        builder
            .body(Full::new(Bytes::from(self.body.clone())))
            .map_err(|e| format!("invalid request: {e}"))
    }
}

/// Renders and checks everything a call sends.
async fn prepare(call: &External, data: &Value, cx: &Context<'_>) -> Result<Prepared, String> {
    let text = |what: &str, src: &str| text(cx, data, what, src);
    let prometheus = call.protocol_name() == "prometheus";
    let mut url = text("url", call.url.as_deref().unwrap_or_default())?;
    if prometheus {
        let query = text("query", call.query.as_deref().unwrap_or_default())?;
        url = format!(
            "{}/api/v1/query?query={}",
            url.trim_end_matches('/'),
            percent_encode(&query)
        );
    }
    url.parse::<http::Uri>()
        .map_err(|e| format!("invalid url: {e}"))?;
    let method = call
        .method
        .as_deref()
        .unwrap_or("GET")
        .trim()
        .to_ascii_uppercase();
    let method = http::Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("invalid method `{method}`"))?;
    let body = match &call.body {
        Some(b) => text("body", b)?,
        None => String::new(),
    };
    let mut headers = BTreeMap::new();
    if !body.is_empty() {
        headers.insert("content-type".to_string(), "application/json".to_string());
    }
    for (k, v) in call.headers.iter().flatten() {
        headers.insert(k.to_ascii_lowercase(), text(&format!("headers.{k}"), v)?);
    }
    if let Some((header, token)) = token(call, data, cx).await? {
        headers.insert(header.to_ascii_lowercase(), format!("Bearer {token}"));
    }
    let (timeout, sleep) = waits(call, data, cx)?;
    Ok(Prepared {
        method,
        url,
        headers,
        body,
        timeout,
        sleep,
        limit: if prometheus {
            PROMETHEUS_LIMIT
        } else {
            BODY_LIMIT
        },
        prometheus,
    })
}

/// `src` rendered for `data`, trimmed.
fn text(cx: &Context<'_>, data: &Value, what: &str, src: &str) -> Result<String, String> {
    render_text(cx.render, src, data)
        .map(|t| t.trim().to_string())
        .map_err(|e| format!("rendering `{what}`: {e}"))
}

/// The call's timeout (default [`DEFAULT_TIMEOUT`]) and `sleep`, rendered and read.
fn waits(
    call: &External,
    data: &Value,
    cx: &Context<'_>,
) -> Result<(Duration, Option<Duration>), String> {
    let duration = |what: &str, v: Option<&katalog::de::Spanned<String>>| {
        v.map(|s| {
            let t = text(cx, data, what, &s.value)?;
            parse_duration(&t)
                .and_then(|d| Duration::try_from(d).ok())
                .ok_or_else(|| format!("`{what}` `{t}` is not a duration"))
        })
        .transpose()
    };
    Ok((
        duration("timeout", call.timeout.as_ref())?.unwrap_or(DEFAULT_TIMEOUT),
        duration("sleep", call.sleep.as_ref())?,
    ))
}

/// The bearer token and the header it goes in, from `token` or `auth.secretRef`.
async fn token(
    call: &External,
    data: &Value,
    cx: &Context<'_>,
) -> Result<Option<(String, String)>, String> {
    if let Some(t) = call.token.as_deref().filter(|t| !t.is_empty()) {
        let rendered =
            render_text(cx.render, t, data).map_err(|e| format!("rendering `token`: {e}"))?;
        // An unset variable expands to nothing, as Go's os.ExpandEnv in Orkestra: the packs
        // name `$IMAGE_SIGNING_TOKEN` or `$VAULT_TOKEN` and run against a dev server that
        // needs none. An empty token sends no header.
        let token = katalog::resolve::expand_env(rendered.trim(), |n| {
            Some(std::env::var(n).unwrap_or_default())
        })
        .map_err(|e| format!("`token`: {e}"))?;
        if token.is_empty() {
            tracing::debug!("external call: `token` is empty, no authorization header");
            return Ok(None);
        }
        return Ok(Some(("authorization".into(), token)));
    }
    let Some(auth) = call.auth.as_ref().and_then(Value::as_object) else {
        return Ok(None);
    };
    let header = auth
        .get("header")
        .and_then(Value::as_str)
        .unwrap_or("authorization")
        .to_string();
    let Some(secret_ref) = auth.get("secretRef") else {
        return Ok(None);
    };
    let field = |k: &str| {
        secret_ref
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let (Some(name), Some(key)) = (field("name"), field("key")) else {
        return Err("`auth.secretRef` needs `name` and `key`".into());
    };
    let namespace = field("namespace")
        .or_else(|| cx.namespace.map(str::to_string))
        .unwrap_or_else(|| "default".into());
    let value = super::secret::value(cx.kube, &namespace, &name, &key).await?;
    Ok(Some((header, value)))
}

/// The retry policy of a call.
struct Retry {
    attempts: u32,
    initial: Duration,
    max: Duration,
    multiplier: f64,
}

impl Retry {
    fn of(call: &External) -> Self {
        let Some(b) = call.retry_backoff.as_ref().map(|b| &b.value) else {
            return Retry {
                attempts: 1,
                initial: Duration::ZERO,
                max: Duration::ZERO,
                multiplier: 1.0,
            };
        };
        let dur = |s: Option<&String>, default: u64| {
            s.and_then(|s| parse_duration(s))
                .and_then(|d| Duration::try_from(d).ok())
                .unwrap_or(Duration::from_secs(default))
        };
        Retry {
            attempts: b
                .max_attempts
                .filter(|n| *n > 0)
                .map_or(3, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            initial: dur(b.initial.as_ref(), 1),
            max: dur(b.max.as_ref(), 30),
            multiplier: b.multiplier.filter(|m| *m >= 1.0).unwrap_or(2.0),
        }
    }

    /// The wait after failed attempt `n` (1-based).
    fn delay(&self, n: u32) -> Duration {
        let factor = self
            .multiplier
            .powi(i32::try_from(n - 1).unwrap_or(i32::MAX));
        let secs = (self.initial.as_secs_f64() * factor).min(self.max.as_secs_f64());
        Duration::try_from_secs_f64(secs).unwrap_or(self.max)
    }
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_promql_query_is_percent_encoded() {
        assert_eq!(
            percent_encode(r#"up{job="a b"}"#),
            "up%7Bjob%3D%22a%20b%22%7D"
        );
    }

    #[test]
    fn retries_grow_by_the_multiplier_up_to_the_maximum() {
        let call = External::from_json(&json!({
            "name": "x", "url": "u",
            "retryBackoff": {"initial": "1s", "max": "3s", "multiplier": 2.0}
        }))
        .unwrap();
        let r = Retry::of(&call);
        assert_eq!(r.attempts, 3);
        let delays: Vec<_> = (1..=3).map(|n| r.delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 3]);
        let plain = External::from_json(&json!({"name": "x", "url": "u"})).unwrap();
        assert_eq!(Retry::of(&plain).attempts, 1);
    }
}
