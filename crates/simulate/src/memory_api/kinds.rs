//! The kinds the memory API serves and its discovery answers (`/api`, `/apis`, and the
//! resource list of each group version).
//!
//! It serves every built-in kind a Katalog can declare, Events, and whatever is
//! [`Kinds::add`]ed: the Katalog's own CRDs and the `custom:` kinds its children use.

use katalog::resources::Kind as BuiltIn;
use serde_json::{Value, json};

/// One served kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kind {
    /// API group (empty for the core group).
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Plural resource name.
    pub plural: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Whether it has a `status` subresource (writes to the main resource then keep the
    /// stored status, and `/status` writes only change the status).
    pub status: bool,
}

impl Kind {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Built-in kinds served with a status subresource.
const WITH_STATUS: &[&str] = &[
    "namespaces",
    "resourcequotas",
    "persistentvolumes",
    "persistentvolumeclaims",
    "deployments",
    "statefulsets",
    "replicasets",
    "pods",
    "jobs",
    "cronjobs",
    "services",
    "ingresses",
    "horizontalpodautoscalers",
    "poddisruptionbudgets",
];

/// The served kinds.
#[derive(Debug, Clone)]
pub struct Kinds {
    kinds: Vec<Kind>,
}

impl Default for Kinds {
    /// Every built-in kind a Katalog can declare, and `events.k8s.io/v1` Events.
    fn default() -> Self {
        let mut kinds: Vec<Kind> = BuiltIn::ALL
            .iter()
            .filter_map(|k| {
                let api_version = k.api_version()?;
                let (group, version) = split_api_version(api_version);
                let plural = k.plural()?;
                Some(Kind {
                    group: group.to_owned(),
                    version: version.to_owned(),
                    kind: k.kube_kind()?.to_owned(),
                    plural: plural.to_owned(),
                    namespaced: !k.is_cluster_scoped(),
                    status: WITH_STATUS.contains(&plural),
                })
            })
            .collect();
        kinds.push(Kind {
            group: "events.k8s.io".into(),
            version: "v1".into(),
            kind: "Event".into(),
            plural: "events".into(),
            namespaced: true,
            status: false,
        });
        Kinds { kinds }
    }
}

/// The kinds a CustomResourceDefinition document serves (every served version).
pub fn kinds_of_crd_document(doc: &Value) -> Vec<Kind> {
    if doc.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
        return Vec::new();
    }
    let spec = &doc["spec"];
    let (Some(group), Some(kind), Some(plural)) = (
        spec["group"].as_str(),
        spec.pointer("/names/kind").and_then(Value::as_str),
        spec.pointer("/names/plural").and_then(Value::as_str),
    ) else {
        return Vec::new();
    };
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            Some(Kind {
                group: group.to_owned(),
                version: v["name"].as_str()?.to_owned(),
                kind: kind.to_owned(),
                plural: plural.to_owned(),
                namespaced,
                status: v.pointer("/subresources/status").is_some(),
            })
        })
        .collect()
}

/// `(group, version)` of an apiVersion (`v1` is the core group).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

impl Kinds {
    /// Serves `kind` too; a kind already served under the same group, version and kind is
    /// replaced.
    pub fn add(&mut self, kind: Kind) {
        self.kinds.retain(|k| {
            !(k.group == kind.group && k.version == kind.version && k.kind == kind.kind)
        });
        self.kinds.push(kind);
    }

    /// The kind served as `plural` in `group`/`version`.
    pub fn by_plural(&self, group: &str, version: &str, plural: &str) -> Option<&Kind> {
        self.kinds
            .iter()
            .find(|k| k.group == group && k.version == version && k.plural == plural)
    }

    /// The kind named `kind` in `api_version`.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&Kind> {
        let (group, version) = split_api_version(api_version);
        self.kinds
            .iter()
            .find(|k| k.group == group && k.version == version && k.kind == kind)
    }

    /// Every served kind.
    pub fn iter(&self) -> impl Iterator<Item = &Kind> {
        self.kinds.iter()
    }

    /// `/api`: the core versions.
    pub fn core_versions(&self) -> Value {
        json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
    }

    /// `/apis`: every group with its versions.
    pub fn groups(&self) -> Value {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for k in self.kinds.iter().filter(|k| !k.group.is_empty()) {
            match groups.iter_mut().find(|(g, _)| *g == k.group) {
                Some((_, versions)) if !versions.contains(&k.version) => {
                    versions.push(k.version.clone());
                }
                Some(_) => {}
                None => groups.push((k.group.clone(), vec![k.version.clone()])),
            }
        }
        let groups: Vec<Value> = groups
            .into_iter()
            .map(|(name, versions)| {
                let versions: Vec<Value> = versions
                    .iter()
                    .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
                    .collect();
                json!({"name": name, "versions": versions, "preferredVersion": versions[0]})
            })
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// The APIResourceList of `group`/`version`; `None` when nothing is served there.
    pub fn resource_list(&self, group: &str, version: &str) -> Option<Value> {
        let mut resources = Vec::new();
        for k in self
            .kinds
            .iter()
            .filter(|k| k.group == group && k.version == version)
        {
            let verbs = [
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ];
            resources.push(json!({
                "name": k.plural, "singularName": k.kind.to_lowercase(),
                "namespaced": k.namespaced, "kind": k.kind, "verbs": verbs,
            }));
            if k.status {
                resources.push(json!({
                    "name": format!("{}/status", k.plural), "singularName": "",
                    "namespaced": k.namespaced, "kind": k.kind, "verbs": ["get", "patch", "update"],
                }));
            }
        }
        if resources.is_empty() {
            return None;
        }
        let group_version = if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        };
        Some(json!({
            "kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": group_version, "resources": resources,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_kinds_are_served_with_their_scope_and_status() {
        let kinds = Kinds::default();
        let d = kinds.by_plural("apps", "v1", "deployments").unwrap();
        assert!(d.namespaced && d.status);
        let cm = kinds.by_kind("v1", "ConfigMap").unwrap();
        assert!(!cm.status);
        assert!(!kinds.by_kind("v1", "Namespace").unwrap().namespaced);
        let list = kinds.resource_list("apps", "v1").unwrap();
        let names: Vec<&str> = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"deployments/status"));
        assert!(kinds.resource_list("nope.io", "v1").is_none());
    }
}
