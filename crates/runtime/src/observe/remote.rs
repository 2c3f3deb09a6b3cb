//! Remote cross reads (`cross[].source`, spec §11.2): what another ork (or Orkestra) runtime
//! serves on its `/katalog` API, read over HTTP when this process has no such CR.
//!
//! Decisions:
//! - **When.** Resolution order is the spec's: the informer caches of this process first
//!   ([`Cross`](super::Cross)); a declaration with `source.host` or `source.endpoint` is read
//!   over HTTP only when that read found nothing (the CRD is not run here, or the CR is not
//!   in its cache).
//! - **URL.** `endpoint` (templated) when given; otherwise `host` plus the protocol's path:
//!   `cr` (default) `/katalog/<crd>/cr/<ns>/<name>`, `health` `/katalog/<crd>/health`,
//!   `metrics` and `info` `/katalog/<crd>`, `events` `/katalog/<crd>/cr/<ns>/<name>/events`.
//!   `<ns>` is `source.namespace`, else `selector.namespace`, else the reading CR's; `<name>`
//!   is `selector.name` (templated). Without a name, the `cr` and `events` protocols read
//!   nothing.
//! - **Shape.** `cr`: `found: "true"` with `name`, `namespace`, `spec`, `status` (a full
//!   object is read as a local match is; ork's `/katalog` CR view adds its other keys, such as
//!   `phase` and `ready`). `health`, `metrics`, `info`, `events`: `found: "true"` and the
//!   answer (JSON, else text) under `.health`, `.metrics`, `.info` or `.events`; for
//!   `metrics`, the answer's `metrics` object when it has one (`/katalog/<crd>` does), so
//!   `.metrics.queueDepth` reads as for a same-process source. A 404 or any
//!   failure reads as not found; failures are logged at warn, once until the next success.
//! - **Cache.** An answer (or a 404) is kept `cacheFor` (default [`DEFAULT_CACHE_FOR`]) per
//!   URL. As nothing notifies this process of a remote change, a CR that read a remote source
//!   is reconciled again after `cacheFor` (the shortest of its declarations), so it follows
//!   the source within about that delay.
//! - **Auth.** `auth.token` (`$VAR`/`${VAR}` expanded from the environment) or
//!   `auth.secretRef` (`name`, `key`, `namespace` default the reading CR's; read once, then
//!   kept for the process's life), sent as `Authorization: Bearer <token>`; never logged.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use katalog::Crd;
use katalog::condition::parse_duration;
use katalog::model::CrossSource;
use katalog::render::{Render, render_text};
use kube::api::DynamicObject;
use serde_json::{Map, Value};

use super::cross::{found, missing};
use crate::outbound::client;

/// How long an answer is kept when `cacheFor` is not given.
pub const DEFAULT_CACHE_FOR: Duration = Duration::from_secs(30);

/// Time allowed for one read.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes of an answer read.
const LIMIT: usize = 1 << 20;

/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 1024;

/// One declaration with a remote source.
struct Read {
    alias: String,
    crd: String,
    name: Option<String>,
    namespace: Option<String>,
    source: CrossSource,
    cache_for: Duration,
    /// A failure was logged since the last success.
    warned: AtomicBool,
    /// `auth.secretRef`'s value, once read.
    secret: Mutex<Option<String>>,
}

/// The remote cross reads of one CRD, with their cache. Shared by its workers.
pub struct RemoteCross {
    reads: Vec<Read>,
    cache: Mutex<HashMap<String, (Instant, Duration, Value)>>,
    kube: kube::Client,
}

impl std::fmt::Debug for RemoteCross {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteCross")
            .field(
                "aliases",
                &self.reads.iter().map(|r| &r.alias).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl RemoteCross {
    /// The declarations of `crd` with a remote `source` (none: `None`).
    pub fn of(crd: &Crd, kube: kube::Client) -> Option<Self> {
        let reads: Vec<Read> = crd
            .operator_box()
            .cross
            .iter()
            .filter_map(|spanned| {
                let c = &spanned.value;
                let source = c.source.clone()?;
                if source.host.is_none() && source.endpoint.is_none() {
                    return None;
                }
                let crd_name = c.crd.as_ref().map(|n| n.value.clone()).unwrap_or_default();
                let selector = c.selector.clone().unwrap_or_default();
                Some(Read {
                    alias: c
                        .alias
                        .clone()
                        .filter(|a| !a.is_empty())
                        .unwrap_or_else(|| crd_name.clone()),
                    crd: crd_name,
                    name: selector.name.filter(|n| !n.is_empty()),
                    namespace: selector.namespace.filter(|n| !n.is_empty()),
                    cache_for: source
                        .cache_for
                        .as_ref()
                        .and_then(|d| parse_duration(&d.value))
                        .and_then(|d| Duration::try_from(d).ok())
                        .unwrap_or(DEFAULT_CACHE_FOR),
                    source,
                    warned: AtomicBool::new(false),
                    secret: Mutex::new(None),
                })
            })
            .collect();
        (!reads.is_empty()).then(|| RemoteCross {
            reads,
            cache: Mutex::new(HashMap::new()),
            kube,
        })
    }

    /// How soon a CR that read a remote source is reconciled again: the shortest `cacheFor`.
    pub fn poll_every(&self) -> Duration {
        self.reads
            .iter()
            .map(|r| r.cache_for)
            .min()
            .unwrap_or(DEFAULT_CACHE_FOR)
            .max(Duration::from_secs(1))
    }

    /// Fills `cross` (the local reads of the CR `cr`, keyed by alias) with a remote read for
    /// each declaration the local read did not find.
    pub async fn complete(&self, render: &dyn Render, cr: &Value, cross: &mut Map<String, Value>) {
        for read in &self.reads {
            let local_found = cross
                .get(&read.alias)
                .and_then(|v| v.get("found"))
                .and_then(Value::as_str)
                == Some("true");
            if local_found {
                continue;
            }
            let value = self.read_one(read, render, cr).await;
            cross.insert(read.alias.clone(), value);
        }
    }

    async fn read_one(&self, read: &Read, render: &dyn Render, cr: &Value) -> Value {
        let text = |t: &str| {
            render_text(render, t, cr)
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let name = read.name.as_deref().map(text).filter(|n| !n.is_empty());
        let namespace = read
            .source
            .namespace
            .as_deref()
            .or(read.namespace.as_deref())
            .map(text)
            .filter(|n| !n.is_empty())
            .or_else(|| {
                cr.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let protocol = read.source.protocol.as_deref().unwrap_or("cr");
        let url = match &read.source.endpoint {
            Some(e) => Some(text(e)),
            None => {
                let host = text(read.source.host.as_deref().unwrap_or_default());
                let host = host.trim_end_matches('/');
                let crd = &read.crd;
                let cr_path = name.as_ref().map(|n| {
                    if namespace.is_empty() {
                        format!("{host}/katalog/{crd}/cr/{n}")
                    } else {
                        format!("{host}/katalog/{crd}/cr/{namespace}/{n}")
                    }
                });
                match protocol {
                    "health" => Some(format!("{host}/katalog/{crd}/health")),
                    "metrics" | "info" => Some(format!("{host}/katalog/{crd}")),
                    "events" => cr_path.map(|p| format!("{p}/events")),
                    _ => cr_path,
                }
            }
        };
        let absent = || missing(name.as_deref(), Some(namespace.as_str()));
        let Some(url) = url.filter(|u| !u.is_empty()) else {
            return absent();
        };
        if let Some(v) = self.cached(&url) {
            return v;
        }
        let value = match self.fetch(read, &url, &namespace).await {
            Ok(Some(body)) => {
                read.warned.store(false, Ordering::Relaxed);
                shape(protocol, body).unwrap_or_else(absent)
            }
            Ok(None) => absent(),
            Err(error) => {
                if !read.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(alias = %read.alias, %error, "cross: remote read failed; it reads as not found");
                }
                return absent();
            }
        };
        self.keep(url, read.cache_for, value.clone());
        value
    }

    fn cached(&self, url: &str) -> Option<Value> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(url)
            .filter(|(at, ttl, _)| at.elapsed() < *ttl)
            .map(|(_, _, v)| v.clone())
    }

    fn keep(&self, url: String, ttl: Duration, value: Value) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= SWEEP_AT {
            cache.retain(|_, (at, ttl, _)| at.elapsed() < *ttl);
        }
        cache.insert(url, (Instant::now(), ttl, value));
    }

    /// The answer's body as JSON (text when not JSON); `None` on 404.
    async fn fetch(
        &self,
        read: &Read,
        url: &str,
        namespace: &str,
    ) -> Result<Option<Value>, String> {
        let mut request = http::Request::builder().method(http::Method::GET).uri(url);
        if let Some(token) = self.token(read, namespace).await? {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request
            .body(Full::new(Bytes::new()))
            .map_err(|e| format!("invalid request: {e}"))?;
        let http = client::shared().map_err(|e| e.to_string())?;
        let answer = http
            .send(request, TIMEOUT, LIMIT)
            .await
            .map_err(|e| e.to_string())?;
        match answer.status {
            404 => Ok(None),
            200..=299 if !answer.truncated => {
                Ok(Some(serde_json::from_slice(&answer.body).unwrap_or_else(
                    |_| Value::String(String::from_utf8_lossy(&answer.body).into_owned()),
                )))
            }
            200..=299 => Err(format!("answer larger than {LIMIT} bytes")),
            s => Err(format!("HTTP {s}")),
        }
    }

    async fn token(&self, read: &Read, namespace: &str) -> Result<Option<String>, String> {
        let Some(auth) = &read.source.auth else {
            return Ok(None);
        };
        if let Some(t) = &auth.value.token {
            return katalog::resolve::expand_env(t, |n| std::env::var(n).ok())
                .map(Some)
                .map_err(|e| format!("`auth.token`: {e}"));
        }
        let Some(r) = &auth.value.secret_ref else {
            return Ok(None);
        };
        if let Some(v) = read
            .secret
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Ok(Some(v));
        }
        let field = |k: &str| r.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        let (Some(name), Some(key)) = (field("name"), field("key")) else {
            return Err("`auth.secretRef` needs `name` and `key`".into());
        };
        let ns = field("namespace").unwrap_or(namespace);
        let value = crate::outbound::secret::value(&self.kube, ns, name, key).await?;
        *read.secret.lock().unwrap_or_else(|e| e.into_inner()) = Some(value.clone());
        Ok(Some(value))
    }
}

/// The `.cross.<as>` value of an answer.
fn shape(protocol: &str, body: Value) -> Option<Value> {
    let mut m = Map::new();
    match protocol {
        "health" | "metrics" | "info" | "events" => {
            // `/katalog/<crd>` carries the box's numbers under `metrics`, which is what
            // `.cross.<as>.metrics.<field>` reads (as Orkestra's autoscaler does); an answer
            // without that key is kept whole.
            let body = match (protocol, body) {
                ("metrics", Value::Object(mut o))
                    if o.get("metrics").is_some_and(Value::is_object) =>
                {
                    o.remove("metrics").unwrap_or_default()
                }
                (_, body) => body,
            };
            m.insert("found".into(), "true".into());
            m.insert(protocol.into(), body);
            m.insert("spec".into(), Value::Object(Map::new()));
            m.insert("status".into(), Value::Object(Map::new()));
            Some(Value::Object(m))
        }
        _ => {
            if body.get("metadata").is_some() {
                let object: DynamicObject = serde_json::from_value(body).ok()?;
                return Some(found(&object));
            }
            let o = body.as_object()?;
            m.extend(o.clone());
            m.insert("found".into(), "true".into());
            for key in ["spec", "status"] {
                if !m.get(key).is_some_and(Value::is_object) {
                    m.insert(key.into(), Value::Object(Map::new()));
                }
            }
            Some(Value::Object(m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_shaped_per_protocol() {
        let v = shape("cr", json!({"name": "db", "namespace": "data", "status": {"endpoint": "x"}, "phase": "Running"})).unwrap();
        assert_eq!(v["found"], "true");
        assert_eq!(v["status"]["endpoint"], "x");
        assert_eq!(v["spec"], json!({}));
        assert_eq!(v["phase"], "Running");
        let v = shape("cr", json!({"apiVersion": "a/v1", "kind": "Db", "metadata": {"name": "db", "namespace": "data"}, "spec": {"size": 1}})).unwrap();
        assert_eq!((&v["name"], &v["spec"]["size"]), (&json!("db"), &json!(1)));
        let v = shape(
            "metrics",
            json!({"name": "db", "metrics": {"queueDepth": 3}}),
        )
        .unwrap();
        assert_eq!(v["metrics"], json!({"queueDepth": 3}));
        let v = shape("metrics", json!({"queueDepth": 4})).unwrap();
        assert_eq!(v["metrics"], json!({"queueDepth": 4}));
        let v = shape("health", json!({"healthy": true})).unwrap();
        assert_eq!(v["health"]["healthy"], true);
        assert!(shape("cr", json!("text")).is_none());
    }
}
