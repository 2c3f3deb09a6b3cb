//! The remote reconciler's declaration (spec §9.7) read for use: the kinds it may manage
//! ([`managed_kinds`]) and its credential ([`RemoteAuth`]). What it answers is built by
//! [`crate::build::remote`].
//!
//! A kind is permitted when a `managedResources` entry names the same kind in the same API
//! group (versions are not compared); built-in kinds may be named by `kind` alone.

use serde_json::Value;

use crate::model::{ManagedResource, Remote};
use crate::resolve::crd_file;

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
            .unwrap_or_else(|| crate::resources::plural_of(&kind));
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
