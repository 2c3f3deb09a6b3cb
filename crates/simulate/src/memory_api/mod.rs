//! An in-memory Kubernetes API that a [`kube::Client`] talks to, so the runtime's real
//! reconcile pipeline runs against it unchanged.
//!
//! [`MemoryApi::client`] gives a client over a `tower` service that answers discovery
//! (`/api`, `/apis`, each group version's resource list), GET, LIST (label and simple field
//! selectors), POST, server-side apply, merge and JSON patches, PUT and DELETE, on the main
//! resource and the `status` subresource, with the semantics of [`objects`]. Watches answer
//! with an empty stream: nothing in a simulation watches.
//!
//! Every request is recorded as an [`Op`] tagged with the current cycle
//! ([`MemoryApi::set_cycle`]), in the order answered.

pub mod kinds;
pub mod objects;
pub mod ops;
pub mod route;
pub mod selector;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};

pub use kinds::{Kind, Kinds};
pub use objects::{ApiError, PatchKind, Store, Written};
pub use ops::{Op, Verb};
use route::{Route, Target};
use selector::Selector;

/// What the API holds: kinds, objects, the ops so far and the current cycle.
#[derive(Debug, Default)]
struct State {
    kinds: Kinds,
    store: Store,
    ops: Vec<Op>,
    cycle: u32,
}

/// The in-memory API. Clones share the same state.
#[derive(Debug, Clone, Default)]
pub struct MemoryApi {
    state: Arc<Mutex<State>>,
}

/// The default namespace of the client (and of namespaced objects that name none).
pub const DEFAULT_NAMESPACE: &str = "default";

impl MemoryApi {
    /// An API serving the built-in kinds ([`Kinds::default`]) and no objects.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Serves `kind` too.
    pub fn add_kind(&self, kind: Kind) {
        self.state().kinds.add(kind);
    }

    /// The kind named `kind` in `api_version`, if served.
    pub fn kind(&self, api_version: &str, kind: &str) -> Option<Kind> {
        self.state().kinds.by_kind(api_version, kind).cloned()
    }

    /// A client whose every request this API answers.
    pub fn client(&self) -> kube::Client {
        let api = self.clone();
        let service = tower::service_fn(move |request: Request<Body>| {
            let api = api.clone();
            async move { Ok::<_, Infallible>(api.answer(request).await) }
        });
        kube::Client::new(service, DEFAULT_NAMESPACE)
    }

    /// Ops from now on are tagged with `cycle`.
    pub fn set_cycle(&self, cycle: u32) {
        self.state().cycle = cycle;
    }

    /// Every op so far, in order.
    pub fn ops(&self) -> Vec<Op> {
        self.state().ops.clone()
    }

    /// The stored object of `kind` named `name`, if any.
    pub fn get(&self, kind: &Kind, namespace: Option<&str>, name: &str) -> Option<Value> {
        self.state().store.get(kind, namespace, name).cloned()
    }

    /// Every stored object of `kind`.
    pub fn list(&self, kind: &Kind) -> Vec<Value> {
        self.state()
            .store
            .list(kind, None, &Selector::default(), &Selector::default())
    }

    /// Stores an object without recording an op (seeding what exists before the first
    /// cycle).
    ///
    /// # Errors
    /// As a POST would fail.
    pub fn seed(&self, kind: &Kind, object: Value) -> Result<Value, ApiError> {
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned);
        self.state()
            .store
            .create(kind, namespace.as_deref(), object, None)
            .map(|w| w.object)
    }

    /// Sets an object's status without recording an op, as a controller would; returns
    /// whether it changed.
    pub fn set_status(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
        status: Value,
    ) -> bool {
        self.state().store.set_status(kind, namespace, name, status)
    }

    /// Answers one request.
    pub async fn answer(&self, request: Request<Body>) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let body = body.collect_bytes().await.unwrap_or_default();
        let query = route::query(parts.uri.query());
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let (code, value) = self.dispatch(
            &parts.method,
            parts.uri.path(),
            &query,
            &content_type,
            &body,
        );
        // A watch answers with an empty stream; everything else with a JSON document.
        let bytes = if value.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&value).unwrap_or_default()
        };
        let mut response = Response::new(Body::from(bytes));
        *response.status_mut() =
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response
    }

    fn dispatch(
        &self,
        method: &Method,
        path: &str,
        query: &HashMap<String, String>,
        content_type: &str,
        body: &[u8],
    ) -> (u16, Value) {
        let mut state = self.state();
        let route = route::parse(path);
        let answer = match (&route, method) {
            (Some(Route::CoreVersions), &Method::GET) => Ok(state.kinds.core_versions()),
            (Some(Route::Groups), &Method::GET) => Ok(state.kinds.groups()),
            (Some(Route::ResourceList { group, version }), &Method::GET) => state
                .kinds
                .resource_list(group, version)
                .ok_or_else(|| ApiError::not_found(format!("{group}/{version}"))),
            (Some(Route::Resource(target)), _) => {
                return state.resource(target, method, query, content_type, body);
            }
            _ => Err(ApiError::not_found(format!("{method} {path}"))),
        };
        match answer {
            Ok(v) => (200, v),
            Err(e) => (e.code, e.status()),
        }
    }
}

impl State {
    /// Answers a request on a resource and records it.
    fn resource(
        &mut self,
        target: &Target,
        method: &Method,
        query: &HashMap<String, String>,
        content_type: &str,
        body: &[u8],
    ) -> (u16, Value) {
        let watch = query.get("watch").is_some_and(|w| w == "true" || w == "1");
        let Some(verb) = Verb::of_request(method, target.name.is_some(), watch, content_type)
        else {
            let e = ApiError {
                code: 405,
                reason: "MethodNotAllowed",
                message: format!("{method} is not supported"),
            };
            return (e.code, e.status());
        };
        let result = self.serve(target, verb, query, content_type, body);
        let (code, value, created, changed) = match result {
            Ok((code, value, created, changed)) => (code, value, created, changed),
            Err(e) => (e.code, e.status(), false, false),
        };
        let name = target.name.clone().unwrap_or_else(|| {
            if verb == Verb::Create {
                value
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            } else {
                String::new()
            }
        });
        self.ops.push(Op {
            cycle: self.cycle,
            verb,
            resource: target.plural.clone(),
            subresource: target.subresource.clone(),
            namespace: target.namespace.clone(),
            name,
            created,
            changed,
            code,
        });
        (code, value)
    }

    fn serve(
        &mut self,
        target: &Target,
        verb: Verb,
        query: &HashMap<String, String>,
        content_type: &str,
        body: &[u8],
    ) -> Result<(u16, Value, bool, bool), ApiError> {
        let kind = self
            .kinds
            .by_plural(&target.group, &target.version, &target.plural)
            .cloned()
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "the server could not find the requested resource ({}/{} {})",
                    target.group, target.version, target.plural
                ))
            })?;
        let status_only = match target.subresource.as_deref() {
            None => false,
            Some("status") if kind.status => true,
            Some(other) => {
                return Err(ApiError::not_found(format!(
                    "{} {other} subresource",
                    kind.plural
                )));
            }
        };
        let namespace = target.namespace.as_deref().filter(|_| kind.namespaced);
        let name = target.name.as_deref().unwrap_or_default();
        let manager = query.get("fieldManager").map(String::as_str);
        let parse = |body: &[u8]| -> Result<Value, ApiError> {
            serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))
        };
        let written = |w: Written| {
            Ok((
                if w.created { 201 } else { 200 },
                w.object,
                w.created,
                w.changed,
            ))
        };
        match verb {
            Verb::Get => self
                .store
                .get(&kind, namespace, name)
                .cloned()
                .map(|o| (200, o, false, false))
                .ok_or_else(|| ApiError::not_found(format!("{} {name:?}", kind.plural))),
            Verb::Watch => Ok((200, Value::Null, false, false)),
            Verb::List => {
                let selector = |key: &str| {
                    Selector::parse(query.get(key).map_or("", String::as_str)).map_err(|t| {
                        ApiError::bad_request(format!("unable to parse requirement: {t}"))
                    })
                };
                let items = self.store.list(
                    &kind,
                    namespace,
                    &selector("labelSelector")?,
                    &selector("fieldSelector")?,
                );
                Ok((
                    200,
                    json!({
                        "apiVersion": kind.api_version(), "kind": format!("{}List", kind.kind),
                        "metadata": {"resourceVersion": self.store.version().to_string()},
                        "items": items,
                    }),
                    false,
                    false,
                ))
            }
            Verb::Create => {
                if status_only {
                    return Err(ApiError::bad_request("cannot create a status subresource"));
                }
                written(self.store.create(&kind, namespace, parse(body)?, manager)?)
            }
            Verb::Apply => {
                let manager = manager.ok_or_else(|| {
                    ApiError::bad_request("fieldManager is required for apply requests")
                })?;
                written(self.store.apply(
                    &kind,
                    namespace,
                    name,
                    parse(body)?,
                    manager,
                    status_only,
                )?)
            }
            Verb::Patch => {
                let how = if content_type.starts_with("application/json-patch") {
                    PatchKind::Json
                } else {
                    PatchKind::Merge
                };
                written(self.store.patch(
                    &kind,
                    namespace,
                    name,
                    &parse(body)?,
                    how,
                    status_only,
                )?)
            }
            Verb::Update => {
                written(
                    self.store
                        .update(&kind, namespace, name, parse(body)?, status_only)?,
                )
            }
            Verb::Delete => {
                let options: Value = if body.is_empty() {
                    Value::Null
                } else {
                    parse(body)?
                };
                let uid = options
                    .pointer("/preconditions/uid")
                    .and_then(Value::as_str);
                written(self.store.delete(&kind, namespace, name, uid)?)
            }
        }
    }
}

#[cfg(test)]
mod tests;
