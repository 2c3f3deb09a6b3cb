//! What a remote reconciler (spec §9.7) may return, as data: the kinds it may manage
//! ([`managed_kinds`]) and its `resources` answer turned into a block of declarations
//! ([`declarations_of`]) that the [`Builder`](super::Builder) builds exactly as it builds
//! template children (names, labels, owner label, namespace guard, SSA force).
//!
//! Decisions:
//! - **Intent form** `{type, fields}`: `type` names a template kind, singular or plural,
//!   any case (`deployment`, `Deployments`, `configMap`, `hpa`); `fields` is one declaration
//!   of that kind, with the same keys a Katalog uses. `custom` takes a `custom:` declaration.
//! - **Full form** (an object with `apiVersion` and `kind`) becomes a `custom:` declaration:
//!   `metadata.name`/`namespace`/`labels`/`annotations` are kept (other metadata, and
//!   `status`, are dropped: ork owns them), every other top-level key goes into the object.
//! - The answer is data, not templates: it is built with [`Literal`], so a `{{` in a value
//!   reaches the object as written.
//! - A kind is permitted when a `managedResources` entry names the same kind in the same API
//!   group (versions are not compared); built-in kinds may be named by `kind` alone.

use serde_json::{Map, Value, json};

use crate::model::{ManagedResource, Remote};
use crate::render::{Render, RenderFailure};
use crate::resolve::crd_file;
use crate::resources::{HookTemplates, Kind};

/// A kind a remote reconciler may manage, resolved from one `managedResources` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ManagedKind {
    /// API group (`""` for the core group).
    pub group: String,
    /// Version, when known (needed to watch and list it).
    pub version: Option<String>,
    /// Kubernetes kind.
    pub kind: String,
    /// Plural resource name (RBAC).
    pub plural: String,
}

impl ManagedKind {
    /// `group/version` (or `version` for the core group), when the version is known.
    pub fn api_version(&self) -> Option<String> {
        let v = self.version.as_deref()?;
        Some(if self.group.is_empty() {
            v.to_owned()
        } else {
            format!("{}/{v}", self.group)
        })
    }

    /// Whether an object of `api_version` and `kind` is this kind.
    pub fn matches(&self, api_version: &str, kind: &str) -> bool {
        self.kind == kind && self.group == group_of(api_version)
    }

    /// The kind one entry names; `None` without `kind`.
    pub fn of(m: &ManagedResource) -> Option<ManagedKind> {
        let kind = m.kind.clone().filter(|k| !k.is_empty())?;
        let declared_group = m
            .api_version
            .as_deref()
            .map(group_of)
            .or(m.group.as_deref());
        let declared_version = m
            .api_version
            .as_deref()
            .map(|a| a.rsplit('/').next().unwrap_or(a))
            .or(m.version.as_deref());
        let built_in = crd_file::built_in(&kind, declared_group);
        let group = declared_group
            .or(built_in.map(|b| b.1))
            .unwrap_or_default()
            .to_owned();
        let version = declared_version
            .or(built_in.map(|b| b.2))
            .map(str::to_owned);
        let plural = m
            .plural
            .clone()
            .or(built_in.map(|b| b.3.to_owned()))
            .unwrap_or_else(|| crate::rbac::plural_of(&kind));
        Some(ManagedKind {
            group,
            version,
            kind,
            plural,
        })
    }
}

/// The kinds `remote.managedResources` names (entries without `kind` are left out;
/// validation refuses them).
pub fn managed_kinds(remote: &Remote) -> Vec<ManagedKind> {
    remote
        .managed_resources
        .iter()
        .filter_map(ManagedKind::of)
        .collect()
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Where a remote reconciler's credential comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `secretRef`: a key of a Secret (namespace default: the CR's).
    Secret {
        /// Secret name.
        name: String,
        /// Data key.
        key: String,
        /// Namespace, when given.
        namespace: Option<String>,
    },
    /// `env`: an environment variable of the ork process.
    Env(String),
}

/// `remote.auth`: the credential, sent as `<header>: Bearer <value>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteAuth {
    /// Header name (default `Authorization`).
    pub header: String,
    /// Where the value comes from.
    pub credential: Credential,
}

impl RemoteAuth {
    /// Reads `auth` as written.
    ///
    /// # Errors
    /// Not a map, an unknown key, neither or both of `secretRef` and `env`, or a `secretRef`
    /// without `name` and `key`.
    pub fn parse(auth: &Value) -> Result<RemoteAuth, String> {
        let o = auth.as_object().ok_or("`auth` must be a map")?;
        if let Some(k) = o
            .keys()
            .find(|k| !matches!(k.as_str(), "secretRef" | "env" | "header"))
        {
            return Err(format!("unknown key `{k}` in `auth`"));
        }
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let credential = match (o.get("secretRef"), o.get("env")) {
            (Some(r), None) => {
                let (Some(name), Some(key)) = (text(r.get("name")), text(r.get("key"))) else {
                    return Err("`auth.secretRef` needs `name` and `key`".into());
                };
                Credential::Secret {
                    name,
                    key,
                    namespace: text(r.get("namespace")).filter(|n| !n.is_empty()),
                }
            }
            (None, Some(e)) => Credential::Env(
                text(Some(e))
                    .filter(|e| !e.is_empty())
                    .ok_or("`auth.env` must name an environment variable")?,
            ),
            _ => return Err("`auth` needs exactly one of `secretRef` and `env`".into()),
        };
        Ok(RemoteAuth {
            header: text(o.get("header")).unwrap_or_else(|| "Authorization".into()),
            credential,
        })
    }
}

/// A renderer that renders nothing: every text is returned as written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Literal;

impl Render for Literal {
    fn render(&self, src: &str, _data: &Value) -> Result<String, RenderFailure> {
        Ok(src.to_owned())
    }
}

/// The template kind an intent `type` names.
pub fn kind_of_type(t: &str) -> Option<Kind> {
    let t = t.to_ascii_lowercase();
    Kind::ALL.into_iter().find(|k| {
        let key = k.key().to_ascii_lowercase();
        key == t
            || key.strip_suffix('s') == Some(t.as_str())
            || k.kube_kind().is_some_and(|kk| kk.eq_ignore_ascii_case(&t))
    })
}

/// The block of declarations a remote reconciler's `resources` answer stands for.
///
/// # Errors
/// The first entry that is neither form, names no known kind, or whose fields are not a
/// declaration of that kind, located as `resources[i]`.
pub fn declarations_of(resources: &[Value]) -> Result<HookTemplates, String> {
    let mut blocks: Map<String, Value> = Map::new();
    for (i, r) in resources.iter().enumerate() {
        let (key, declaration) = declaration_of(r).map_err(|e| format!("resources[{i}]: {e}"))?;
        let one = json!({ key.clone(): [declaration.clone()] });
        serde_json::from_value::<HookTemplates>(one)
            .map_err(|e| format!("resources[{i}]: not a `{key}` declaration: {e}"))?;
        if let Some(list) = blocks
            .entry(key)
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
        {
            list.push(declaration);
        }
    }
    serde_json::from_value(Value::Object(blocks)).map_err(|e| format!("resources: {e}"))
}

/// The HookTemplates key and the declaration of one entry.
fn declaration_of(r: &Value) -> Result<(String, Value), String> {
    let o = r.as_object().ok_or("an entry must be an object")?;
    if let Some(t) = o.get("type") {
        let t = t.as_str().ok_or("`type` must be a string")?;
        let kind = kind_of_type(t).ok_or_else(|| format!("unknown resource type `{t}`"))?;
        let fields = o.get("fields").cloned().unwrap_or(json!({}));
        if !fields.is_object() {
            return Err("`fields` must be an object".into());
        }
        return Ok((kind.key().to_owned(), fields));
    }
    let (Some(api_version), Some(kind)) = (o.get("apiVersion"), o.get("kind")) else {
        return Err("an entry needs `type` and `fields`, or `apiVersion` and `kind`".into());
    };
    let mut decl = Map::new();
    decl.insert("apiVersion".into(), api_version.clone());
    decl.insert("kind".into(), kind.clone());
    let mut metadata = Map::new();
    if let Some(m) = o.get("metadata").and_then(Value::as_object) {
        for key in ["name", "namespace", "labels", "annotations"] {
            if let Some(v) = m.get(key) {
                metadata.insert(key.into(), v.clone());
            }
        }
    }
    decl.insert("metadata".into(), Value::Object(metadata));
    for (k, v) in o {
        if !matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status") {
            decl.insert(k.clone(), v.clone());
        }
    }
    Ok((Kind::Custom.key().to_owned(), Value::Object(decl)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_types_name_template_kinds_in_any_form() {
        for (t, k) in [
            ("deployment", Kind::Deployment),
            ("Deployments", Kind::Deployment),
            ("configMap", Kind::ConfigMap),
            ("service", Kind::Service),
            ("hpa", Kind::HorizontalPodAutoscaler),
            ("HorizontalPodAutoscaler", Kind::HorizontalPodAutoscaler),
        ] {
            assert_eq!(kind_of_type(t), Some(k), "{t}");
        }
        assert_eq!(kind_of_type("gadget"), None);
    }

    #[test]
    fn both_forms_become_declarations_and_bad_entries_are_located() {
        let block = declarations_of(&[
            json!({"type": "deployment", "fields": {"name": "web", "image": "nginx", "replicas": 2}}),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "web", "uid": "x", "labels": {"a": "b"}},
                   "spec": {"ports": [{"port": 80}]}, "status": {"x": 1}}),
        ])
        .unwrap();
        assert_eq!(block.deployments.len(), 1);
        assert_eq!(block.custom.len(), 1);
        let c = &block.custom[0];
        assert_eq!(c.metadata.name.as_ref().unwrap().as_str(), "web");
        assert!(c.status.is_none(), "status is ork's");

        let e = declarations_of(&[
            json!({"type": "deployment", "fields": {}}),
            json!({"type": "gadget"}),
        ])
        .unwrap_err();
        assert_eq!(e, "resources[1]: unknown resource type `gadget`");
        let e =
            declarations_of(&[json!({"type": "deployment", "fields": {"bogus": 1}})]).unwrap_err();
        assert!(
            e.starts_with("resources[0]: not a `deployments` declaration"),
            "{e}"
        );
        let e = declarations_of(&[json!({"metadata": {}})]).unwrap_err();
        assert!(e.contains("needs `type`"), "{e}");
    }

    #[test]
    fn auth_takes_exactly_one_credential() {
        let a = RemoteAuth::parse(&json!({"secretRef": {"name": "s", "key": "k"}})).unwrap();
        assert_eq!(a.header, "Authorization");
        assert_eq!(
            a.credential,
            Credential::Secret {
                name: "s".into(),
                key: "k".into(),
                namespace: None
            }
        );
        let a = RemoteAuth::parse(&json!({"env": "TOKEN", "header": "X-Key"})).unwrap();
        assert_eq!(
            (a.header.as_str(), a.credential),
            ("X-Key", Credential::Env("TOKEN".into()))
        );
        for bad in [
            json!({}),
            json!({"env": "A", "secretRef": {"name": "s", "key": "k"}}),
            json!({"token": "x"}),
            json!({"secretRef": {"name": "s"}}),
        ] {
            assert!(RemoteAuth::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn managed_kinds_resolve_built_ins_from_the_kind_alone() {
        let m = |v: Value| ManagedKind::of(&serde_json::from_value(v).unwrap()).unwrap();
        let d = m(json!({"kind": "Deployment"}));
        assert_eq!(
            (d.group.as_str(), d.plural.as_str()),
            ("apps", "deployments")
        );
        assert_eq!(d.api_version().as_deref(), Some("apps/v1"));
        assert!(d.matches("apps/v1", "Deployment"));
        assert!(!d.matches("v1", "Deployment"));
        let s = m(json!({"kind": "Service"}));
        assert!(s.matches("v1", "Service"));
        let c = m(json!({"apiVersion": "example.com/v2", "kind": "Gadget"}));
        assert_eq!(c.plural, "gadgets");
        assert!(c.matches("example.com/v1", "Gadget"));
    }
}
