//! `ork simulate --envtest`: the real local control plane (`testenv`: etcd and
//! kube-apiserver, no controller manager) as a simulation's API.
//!
//! The reconciler's client goes through a recorder that forwards every request to the API
//! server unchanged and records it as the same [`Op`] the memory API records: verb and
//! target from the request, `created` from a `201 Created` answer, `changed` from the
//! object's `resourceVersion` before and after the write (a write the server found to change
//! nothing keeps it). The run's own reads and writes (seeding CRs, installing CRDs, making
//! Deployments Available) use a second, unrecorded client.
//!
//! Kinds: the CRD documents of the run are installed as they are; a Katalog CRD (or a
//! `custom:` child kind) with no document is installed as a CRD that keeps any fields, with a
//! status subresource. No controller manager runs, so nothing but the run writes workload
//! status (Deployments are made Available by a status write, as in memory), and there is no
//! garbage collection within the run.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http::{Request, Response};
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::client::Body;
use serde_json::{Value, json};
use testenv::{Config, ControlPlane};

use crate::memory_api::route::{self, Route};
use crate::memory_api::{DEFAULT_NAMESPACE, Kind, Kinds, Op, Verb};

/// The ops recorded so far and the current cycle.
#[derive(Debug, Default)]
struct Log {
    ops: Vec<Op>,
    cycle: u32,
}

/// A control plane started for one simulation, stopped when dropped.
pub struct EnvtestApi {
    /// Kept for its lifetime: dropping it stops the processes.
    _plane: ControlPlane,
    direct: kube::Client,
    kinds: Mutex<Kinds>,
    log: Arc<Mutex<Log>>,
}

impl std::fmt::Debug for EnvtestApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvtestApi").finish_non_exhaustive()
    }
}

fn resource(kind: &Kind) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(&kind.group, &kind.version, &kind.kind),
        &kind.plural,
    )
}

/// The CRD ork installs for a kind no CRD document declares: any fields kept.
fn permissive_crd(kind: &Kind) -> Value {
    let subresources = if kind.status {
        json!({"status": {}})
    } else {
        json!({})
    };
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{}.{}", kind.plural, kind.group)},
        "spec": {
            "group": kind.group,
            "scope": if kind.namespaced { "Namespaced" } else { "Cluster" },
            "names": {"plural": kind.plural, "kind": kind.kind,
                      "singular": kind.kind.to_lowercase()},
            "versions": [{
                "name": kind.version, "served": true, "storage": true,
                "subresources": subresources,
                "schema": {"openAPIV3Schema": {
                    "type": "object", "x-kubernetes-preserve-unknown-fields": true,
                }},
            }],
        },
    })
}

fn string_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

impl EnvtestApi {
    /// Starts a control plane (etcd and kube-apiserver only) from the binaries `testenv`
    /// finds (`~/.cache/ork/control-plane/...`, built by `control-plane/build.sh`).
    ///
    /// # Errors
    /// The binaries are missing or the control plane did not start.
    pub async fn start() -> Result<Self, String> {
        let plane = ControlPlane::start(Config::new().controller_manager(false))
            .await
            .map_err(|e| format!("starting the local control plane: {e}"))?;
        let direct = plane
            .client()
            .await
            .map_err(|e| format!("a client of the local control plane: {e}"))?;
        Ok(Self {
            _plane: plane,
            direct,
            kinds: Mutex::new(Kinds::default()),
            log: Arc::default(),
        })
    }

    /// The kind named `kind` in `api_version`, if served.
    pub fn kind(&self, api_version: &str, kind: &str) -> Option<Kind> {
        self.kinds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_kind(api_version, kind)
            .cloned()
    }

    /// Serves `kind`: a kind already known is only registered; another is installed as a
    /// CRD that keeps any fields.
    ///
    /// # Errors
    /// The CRD could not be installed.
    pub async fn add_kind(&self, kind: Kind) -> Result<(), String> {
        if self.kind(&kind.api_version(), &kind.kind).is_none() {
            self.install_crd(permissive_crd(&kind)).await?;
        }
        self.register(kind);
        Ok(())
    }

    fn register(&self, kind: Kind) {
        self.kinds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .add(kind);
    }

    /// Installs a CustomResourceDefinition document as it is, waits until it is
    /// Established, and serves its kinds.
    ///
    /// # Errors
    /// The server refused it, or it was not Established within 30 s.
    pub async fn install_crd(&self, mut document: Value) -> Result<(), String> {
        let name = string_at(&document, "/metadata/name")
            .unwrap_or_default()
            .to_owned();
        if let Some(meta) = document.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in [
                "resourceVersion",
                "uid",
                "creationTimestamp",
                "managedFields",
            ] {
                meta.remove(key);
            }
        }
        if let Some(doc) = document.as_object_mut() {
            doc.remove("status");
        }
        let crds = Api::<DynamicObject>::all_with(
            self.direct.clone(),
            &ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
                "customresourcedefinitions",
            ),
        );
        let object: DynamicObject = serde_json::from_value(document.clone())
            .map_err(|e| format!("CRD {name:?} does not read as an object: {e}"))?;
        crds.patch(
            &name,
            &PatchParams::apply("ork-simulate").force(),
            &Patch::Apply(&object),
        )
        .await
        .map_err(|e| format!("installing CRD {name:?}: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let established = crds.get(&name).await.ok().is_some_and(|c| {
                c.data
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c["type"] == "Established" && c["status"] == "True")
                    })
            });
            if established {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("CRD {name:?} was not Established within 30 s"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for kind in crate::memory_api::kinds::kinds_of_crd_document(&document) {
            self.register(kind);
        }
        Ok(())
    }

    fn api(&self, kind: &Kind, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace.filter(|_| kind.namespaced) {
            Some(ns) => Api::namespaced_with(self.direct.clone(), ns, &resource(kind)),
            None if kind.namespaced => {
                Api::namespaced_with(self.direct.clone(), DEFAULT_NAMESPACE, &resource(kind))
            }
            None => Api::all_with(self.direct.clone(), &resource(kind)),
        }
    }

    async fn ensure_namespace(&self, namespace: &str) -> Result<(), String> {
        let namespaces: Api<DynamicObject> = Api::all_with(
            self.direct.clone(),
            &ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("", "v1", "Namespace"),
                "namespaces",
            ),
        );
        if namespaces.get_opt(namespace).await.ok().flatten().is_some() {
            return Ok(());
        }
        let object: DynamicObject = serde_json::from_value(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
        )
        .map_err(|e| e.to_string())?;
        match namespaces.create(&PostParams::default(), &object).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
            Err(e) => Err(format!("creating namespace {namespace:?}: {e}")),
        }
    }

    /// Creates an object without recording an op (its namespace too, when missing).
    ///
    /// # Errors
    /// As the server refused it.
    pub async fn seed(&self, kind: &Kind, object: Value) -> Result<Value, String> {
        let namespace = string_at(&object, "/metadata/namespace").map(str::to_owned);
        if kind.namespaced {
            self.ensure_namespace(namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE))
                .await?;
        }
        let object: DynamicObject =
            serde_json::from_value(object).map_err(|e| format!("not an object: {e}"))?;
        let created = self
            .api(kind, namespace.as_deref())
            .create(&PostParams::default(), &object)
            .await
            .map_err(|e| e.to_string())?;
        serde_json::to_value(created).map_err(|e| e.to_string())
    }

    /// The object of `kind` named `name`, if any.
    pub async fn get(&self, kind: &Kind, namespace: Option<&str>, name: &str) -> Option<Value> {
        let object = self.api(kind, namespace).get_opt(name).await.ok()??;
        serde_json::to_value(object).ok()
    }

    /// Every object of `kind`, in every namespace.
    pub async fn list(&self, kind: &Kind) -> Vec<Value> {
        let all = Api::<DynamicObject>::all_with(self.direct.clone(), &resource(kind));
        all.list(&Default::default())
            .await
            .map(|l| {
                l.items
                    .into_iter()
                    .filter_map(|o| serde_json::to_value(o).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Replaces an object's status without recording an op, as a controller would; returns
    /// whether the server stored a change.
    pub async fn set_status(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
        status: Value,
    ) -> bool {
        let api = self.api(kind, namespace);
        let Ok(Some(mut object)) = api.get_opt(name).await else {
            return false;
        };
        let before = object.metadata.resource_version.clone();
        object.data["status"] = status;
        match api
            .replace_status(name, &PostParams::default(), &object)
            .await
        {
            Ok(o) => o.metadata.resource_version != before,
            Err(e) => {
                tracing::warn!(kind = %kind.kind, name, error = %e, "the status write of a stand-in controller was refused");
                false
            }
        }
    }

    /// Ops from now on are tagged with `cycle`.
    pub fn set_cycle(&self, cycle: u32) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .cycle = cycle;
    }

    /// Every op so far, in order.
    pub fn ops(&self) -> Vec<Op> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ops
            .clone()
    }

    /// A client whose every request goes to the control plane and is recorded.
    pub fn client(&self) -> kube::Client {
        let direct = self.direct.clone();
        let log = self.log.clone();
        let service = tower::service_fn(move |request: Request<Body>| {
            let direct = direct.clone();
            let log = log.clone();
            async move { record(&direct, &log, request).await }
        });
        kube::Client::new(service, DEFAULT_NAMESPACE)
    }
}

/// The `resourceVersion` of the object at `path` (a status path reads the whole object).
async fn resource_version(direct: &kube::Client, path: &str) -> Option<String> {
    let request = Request::get(path).body(Body::empty()).ok()?;
    let response = direct.send(request).await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let bytes = response.into_body().collect_bytes().await.ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    string_at(&value, "/metadata/resourceVersion").map(str::to_owned)
}

/// Forwards one request and records it as an [`Op`].
async fn record(
    direct: &kube::Client,
    log: &Mutex<Log>,
    request: Request<Body>,
) -> Result<Response<Body>, kube::Error> {
    let Some(Route::Resource(target)) = route::parse(request.uri().path()) else {
        return direct.send(request).await;
    };
    let query = route::query(request.uri().query());
    let watch = query.get("watch").is_some_and(|w| w == "true" || w == "1");
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let Some(verb) = Verb::of_request(
        request.method(),
        target.name.is_some(),
        watch,
        &content_type,
    ) else {
        return direct.send(request).await;
    };
    let before = if verb.is_write() && verb != Verb::Create && target.name.is_some() {
        resource_version(direct, request.uri().path()).await
    } else {
        None
    };
    let response = direct.send(request).await?;
    let code = response.status().as_u16();
    let (parts, body, value) = if verb == Verb::Watch {
        let (parts, body) = response.into_parts();
        (parts, body, Value::Null)
    } else {
        let (parts, body) = response.into_parts();
        let bytes = body.collect_bytes().await?;
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (parts, Body::from(bytes.to_vec()), value)
    };
    let created = verb.is_write() && code == 201;
    let after = string_at(&value, "/metadata/resourceVersion");
    let changed = code < 300
        && match verb {
            Verb::Create | Verb::Delete => true,
            Verb::Apply | Verb::Patch | Verb::Update => created || before.as_deref() != after,
            _ => false,
        };
    let name = target.name.clone().unwrap_or_else(|| {
        if verb == Verb::Create {
            string_at(&value, "/metadata/name")
                .unwrap_or_default()
                .to_owned()
        } else {
            String::new()
        }
    });
    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
    let cycle = log.cycle;
    log.ops.push(Op {
        cycle,
        verb,
        resource: target.plural,
        subresource: target.subresource,
        namespace: target.namespace,
        name,
        created,
        changed,
        code,
    });
    Ok(Response::from_parts(parts, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_without_a_document_gets_a_crd_keeping_any_fields() {
        let kind = Kind {
            group: "example.com".into(),
            version: "v1".into(),
            kind: "Widget".into(),
            plural: "widgets".into(),
            namespaced: false,
            status: true,
        };
        let crd = permissive_crd(&kind);
        assert_eq!(crd["metadata"]["name"], "widgets.example.com");
        assert_eq!(crd["spec"]["scope"], "Cluster");
        assert!(
            crd.pointer("/spec/versions/0/subresources/status")
                .is_some()
        );
        assert_eq!(
            crate::memory_api::kinds::kinds_of_crd_document(&crd),
            vec![kind]
        );
    }
}
