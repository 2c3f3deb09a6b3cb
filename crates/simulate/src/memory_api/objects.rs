//! The stored objects and what each write does to them, as the API server does it:
//! resourceVersion bumped on every change (and only then), generation bumped when anything
//! outside metadata and status changes, the status subresource separate from the rest,
//! finalizers holding a deleted object with its deletionTimestamp set, and the dependents of
//! a deleted object deleted after it (background cascade through ownerReferences).
//!
//! Server-side apply merges the applied object into the stored one (maps merged key by key,
//! lists and scalars replaced) and records an `Apply` managedFields entry for the manager;
//! it does not track field ownership, so fields a manager stops applying stay.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::kinds::Kind;
use super::selector::Selector;

/// A refused request, as the API server's `Status` would say it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// The `Status` reason (`NotFound`, `AlreadyExists`, `Conflict`, `BadRequest`, …).
    pub reason: &'static str,
    /// What went wrong.
    pub message: String,
}

impl ApiError {
    /// 404 NotFound.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError {
            code: 404,
            reason: "NotFound",
            message: format!("{what} not found"),
        }
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            code: 400,
            reason: "BadRequest",
            message: message.into(),
        }
    }

    fn conflict(message: impl Into<String>) -> Self {
        ApiError {
            code: 409,
            reason: "Conflict",
            message: message.into(),
        }
    }

    /// The `Status` object of the answer.
    pub fn status(&self) -> Value {
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "code": self.code,
        })
    }
}

/// The outcome of a write.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The object as stored after the write (or as it was, when deleted).
    pub object: Value,
    /// The write made the object.
    pub created: bool,
    /// The write changed what is stored.
    pub changed: bool,
}

/// How a PATCH body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// RFC 7386 merge patch (a strategic merge patch is read the same way).
    Merge,
    /// RFC 6902 JSON patch.
    Json,
}

/// The current time as the API server writes timestamps (RFC 3339, seconds).
fn now() -> String {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&Rfc3339)
        .unwrap_or_default()
}

type ObjectKey = (String, String, String, String);

fn key(kind: &Kind, namespace: Option<&str>, name: &str) -> ObjectKey {
    let ns = if kind.namespaced {
        namespace.unwrap_or("default")
    } else {
        ""
    };
    (
        kind.group.clone(),
        kind.plural.clone(),
        ns.to_owned(),
        name.to_owned(),
    )
}

fn meta(object: &mut Value) -> &mut Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    object["metadata"]
        .as_object_mut()
        .expect("metadata was just made an object")
}

fn without(object: &Value, keys: &[&str]) -> Value {
    let mut o = object.clone();
    if let Some(map) = o.as_object_mut() {
        for k in keys {
            map.remove(*k);
        }
    }
    o
}

/// Maps merged key by key; anything else replaced. `null` values are kept (apply does not
/// delete by null).
fn deep_merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        deep_merge(existing, v)
                    }
                    _ => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (into, from) => *into = from.clone(),
    }
}

/// The objects of one memory API.
#[derive(Debug, Default)]
pub struct Store {
    objects: BTreeMap<ObjectKey, Value>,
    version: u64,
    uids: u64,
}

impl Store {
    /// The stored object, if any.
    pub fn get(&self, kind: &Kind, namespace: Option<&str>, name: &str) -> Option<&Value> {
        self.objects.get(&key(kind, namespace, name))
    }

    /// The current resourceVersion (of the whole store, as lists report it).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The objects of `kind` (in `namespace`, or all) that `labels` and `fields` select.
    pub fn list(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        labels: &Selector,
        fields: &Selector,
    ) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|((g, p, ns, _), _)| {
                *g == kind.group
                    && *p == kind.plural
                    && (!kind.namespaced || namespace.is_none_or(|n| n == ns))
            })
            .map(|(_, o)| o)
            .filter(|o| labels.matches_labels(o) && fields.matches_fields(o))
            .cloned()
            .collect()
    }

    /// POST: stores a new object named by its `metadata.name` (or `generateName` plus a
    /// suffix).
    ///
    /// # Errors
    /// 409 AlreadyExists, 400 when the object has no name.
    pub fn create(
        &mut self,
        kind: &Kind,
        namespace: Option<&str>,
        mut object: Value,
        manager: Option<&str>,
    ) -> Result<Written, ApiError> {
        let name = match object.pointer("/metadata/name").and_then(Value::as_str) {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => match object
                .pointer("/metadata/generateName")
                .and_then(Value::as_str)
            {
                Some(prefix) => format!("{prefix}{:05x}", self.uids + 1),
                None => return Err(ApiError::bad_request("metadata.name is required")),
            },
        };
        let k = key(kind, namespace, &name);
        if self.objects.contains_key(&k) {
            return Err(ApiError {
                code: 409,
                reason: "AlreadyExists",
                message: format!("{} {name:?} already exists", kind.plural),
            });
        }
        meta(&mut object).remove("managedFields");
        if let Some(manager) = manager {
            meta(&mut object).insert(
                "managedFields".into(),
                json!([{"manager": manager, "operation": "Update",
                    "apiVersion": kind.api_version(), "fieldsType": "FieldsV1", "fieldsV1": {}}]),
            );
        }
        let stored = self.insert_new(kind, namespace, &name, object);
        Ok(Written {
            object: stored,
            created: true,
            changed: true,
        })
    }

    fn insert_new(
        &mut self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
        mut object: Value,
    ) -> Value {
        self.uids += 1;
        self.version += 1;
        let uid = format!("00000000-0000-4000-8000-{:012x}", self.uids);
        let now = now();
        object["apiVersion"] = kind.api_version().into();
        object["kind"] = kind.kind.clone().into();
        let m = meta(&mut object);
        m.insert("name".into(), name.into());
        if kind.namespaced {
            m.insert("namespace".into(), namespace.unwrap_or("default").into());
        } else {
            m.remove("namespace");
        }
        m.insert("uid".into(), uid.into());
        m.insert("creationTimestamp".into(), now.into());
        m.insert("generation".into(), 1.into());
        m.insert("resourceVersion".into(), self.version.to_string().into());
        m.remove("deletionTimestamp");
        self.objects
            .insert(key(kind, namespace, name), object.clone());
        object
    }

    /// Stores `new` in place of `old`, keeping what clients cannot change (uid, creation
    /// time, deletion time, and the status or everything but the status, depending on
    /// `status_only`). No change, no new resourceVersion. An object being deleted whose
    /// last finalizer went is removed.
    fn replace(&mut self, kind: &Kind, old: &Value, mut new: Value, status_only: bool) -> Written {
        if status_only {
            let status = new.get("status").cloned();
            new = old.clone();
            match status {
                Some(s) => new["status"] = s,
                None => {
                    new.as_object_mut().map(|o| o.remove("status"));
                }
            }
        } else if kind.status {
            match old.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    new.as_object_mut().map(|o| o.remove("status"));
                }
            }
        }
        new["apiVersion"] = kind.api_version().into();
        new["kind"] = kind.kind.clone().into();
        let old_meta = old["metadata"].as_object().cloned().unwrap_or_default();
        let m = meta(&mut new);
        for kept in [
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
            "resourceVersion",
        ] {
            match old_meta.get(kept) {
                Some(v) => m.insert(kept.into(), v.clone()),
                None => m.remove(kept),
            };
        }
        if new == *old {
            return Written {
                object: new,
                created: false,
                changed: false,
            };
        }
        if without(&new, &["metadata", "status"]) != without(old, &["metadata", "status"]) {
            let generation = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta(&mut new).insert("generation".into(), (generation + 1).into());
        }
        self.version += 1;
        meta(&mut new).insert("resourceVersion".into(), self.version.to_string().into());
        let name = new["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let namespace = new["metadata"]["namespace"].as_str().map(str::to_owned);
        let deleting = new.pointer("/metadata/deletionTimestamp").is_some();
        let finalizers = new
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if deleting && !finalizers {
            self.remove(kind, namespace.as_deref(), &name);
        } else {
            self.objects
                .insert(key(kind, namespace.as_deref(), &name), new.clone());
        }
        Written {
            object: new,
            created: false,
            changed: true,
        }
    }

    fn existing(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        self.get(kind, namespace, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("{} {name:?}", kind.plural)))
    }

    /// Server-side apply (a PATCH with `application/apply-patch+yaml`): creates the object
    /// when absent, else merges the applied object into it, and records the manager's
    /// `Apply` entry in managedFields.
    ///
    /// # Errors
    /// 400 when the body's name is not the path's.
    pub fn apply(
        &mut self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
        mut applied: Value,
        manager: &str,
        status_only: bool,
    ) -> Result<Written, ApiError> {
        if applied
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .is_some_and(|n| n != name)
        {
            return Err(ApiError::bad_request(
                "the name of the object does not match the name in the URL",
            ));
        }
        let m = meta(&mut applied);
        m.remove("managedFields");
        m.remove("resourceVersion");
        let entry = json!({"manager": manager, "operation": "Apply",
            "apiVersion": kind.api_version(), "fieldsType": "FieldsV1", "fieldsV1": {},
            "subresource": if status_only { "status" } else { "" }});
        let Some(old) = self.get(kind, namespace, name).cloned() else {
            if status_only {
                return Err(ApiError::not_found(format!("{} {name:?}", kind.plural)));
            }
            meta(&mut applied).insert("managedFields".into(), json!([entry]));
            let object = self.insert_new(kind, namespace, name, applied);
            return Ok(Written {
                object,
                created: true,
                changed: true,
            });
        };
        let mut new = old.clone();
        deep_merge(&mut new, &applied);
        let mut fields: Vec<Value> = old
            .pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        fields.retain(|f| {
            !(f["manager"] == entry["manager"]
                && f["operation"] == "Apply"
                && f.get("subresource").unwrap_or(&json!("")) == &entry["subresource"])
        });
        fields.push(entry);
        meta(&mut new).insert("managedFields".into(), Value::Array(fields));
        Ok(self.replace(kind, &old, new, status_only))
    }

    /// PATCH with a merge or JSON patch.
    ///
    /// # Errors
    /// 404 when absent, 409 when the patch names another resourceVersion, 422 when a JSON
    /// patch does not apply.
    pub fn patch(
        &mut self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
        patch: &Value,
        how: PatchKind,
        status_only: bool,
    ) -> Result<Written, ApiError> {
        let old = self.existing(kind, namespace, name)?;
        let mut new = old.clone();
        match how {
            PatchKind::Merge => {
                if let Some(rv) = patch.pointer("/metadata/resourceVersion")
                    && Some(rv) != old.pointer("/metadata/resourceVersion")
                {
                    return Err(ApiError::conflict(format!(
                        "the object {name:?} has been modified; please apply your changes to the latest version and try again"
                    )));
                }
                json_patch::merge(&mut new, patch);
            }
            PatchKind::Json => {
                let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                    .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
                json_patch::patch(&mut new, &ops).map_err(|e| ApiError {
                    code: 422,
                    reason: "Invalid",
                    message: e.to_string(),
                })?;
            }
        }
        Ok(self.replace(kind, &old, new, status_only))
    }

    /// PUT.
    ///
    /// # Errors
    /// 404 when absent, 409 when the body names another resourceVersion.
    pub fn update(
        &mut self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
        object: Value,
        status_only: bool,
    ) -> Result<Written, ApiError> {
        let old = self.existing(kind, namespace, name)?;
        if let Some(rv) = object.pointer("/metadata/resourceVersion")
            && Some(rv) != old.pointer("/metadata/resourceVersion")
        {
            return Err(ApiError::conflict(format!(
                "the object {name:?} has been modified"
            )));
        }
        Ok(self.replace(kind, &old, object, status_only))
    }

    /// DELETE: with finalizers the object stays, marked with a deletionTimestamp; without,
    /// it goes, and its dependents after it.
    ///
    /// # Errors
    /// 404 when absent, 409 when `uid` (a precondition) is not the object's.
    pub fn delete(
        &mut self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
        uid: Option<&str>,
    ) -> Result<Written, ApiError> {
        let old = self.existing(kind, namespace, name)?;
        if let Some(uid) = uid
            && old.pointer("/metadata/uid").and_then(Value::as_str) != Some(uid)
        {
            return Err(ApiError::conflict(format!(
                "precondition failed: UID in precondition: {uid}"
            )));
        }
        let has_finalizers = old
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if has_finalizers {
            if old.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok(Written {
                    object: old,
                    created: false,
                    changed: false,
                });
            }
            let mut new = old.clone();
            meta(&mut new).insert("deletionTimestamp".into(), now().into());
            self.version += 1;
            meta(&mut new).insert("resourceVersion".into(), self.version.to_string().into());
            self.objects.insert(key(kind, namespace, name), new.clone());
            return Ok(Written {
                object: new,
                created: false,
                changed: true,
            });
        }
        self.remove(kind, namespace, name);
        Ok(Written {
            object: old,
            created: false,
            changed: true,
        })
    }

    /// Removes an object and, after it, every object whose ownerReferences name it (those
    /// with finalizers are only marked for deletion).
    fn remove(&mut self, kind: &Kind, namespace: Option<&str>, name: &str) {
        let Some(gone) = self.objects.remove(&key(kind, namespace, name)) else {
            return;
        };
        self.version += 1;
        let Some(uid) = gone.pointer("/metadata/uid").and_then(Value::as_str) else {
            return;
        };
        let dependents: Vec<ObjectKey> = self
            .objects
            .iter()
            .filter(|(_, o)| {
                o.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in dependents {
            let Some(o) = self.objects.get_mut(&k) else {
                continue;
            };
            let held = o
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|f| !f.is_empty());
            if held {
                meta(o).insert("deletionTimestamp".into(), now().into());
            } else {
                let dependent = Kind {
                    group: k.0.clone(),
                    plural: k.1.clone(),
                    namespaced: !k.2.is_empty(),
                    version: String::new(),
                    kind: String::new(),
                    status: false,
                };
                let ns = (!k.2.is_empty()).then_some(k.2.as_str());
                self.remove(&dependent, ns, &k.3);
            }
        }
    }

    /// Sets an object's status as a controller would (no request, no op); returns whether
    /// it changed.
    pub fn set_status(
        &mut self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
        status: Value,
    ) -> bool {
        let Some(old) = self.get(kind, namespace, name).cloned() else {
            return false;
        };
        let mut new = old.clone();
        new["status"] = status;
        self.replace(kind, &old, new, true).changed
    }
}
