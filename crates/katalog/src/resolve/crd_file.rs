//! Filling `apiTypes` from a `crdFile` manifest or from the table of built-in kinds.

use crate::model::ApiTypes;
use crate::yaml::{Node, NodeKind};

/// What a CustomResourceDefinition manifest says about its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrdManifest {
    /// `spec.group`.
    pub group: String,
    /// The storage version (else the first served, else the first).
    pub version: String,
    /// Every version name.
    pub versions: Vec<String>,
    /// `spec.names.kind`.
    pub kind: String,
    /// `spec.names.plural`.
    pub plural: String,
    /// `spec.scope` is `Namespaced`.
    pub namespaced: bool,
}

/// Finds the CustomResourceDefinition among the documents of a file.
pub fn read_manifest(documents: &[Node]) -> Result<CrdManifest, String> {
    let crd = documents
        .iter()
        .find(|d| d.get("kind").and_then(Node::as_str) == Some("CustomResourceDefinition"))
        .ok_or("no CustomResourceDefinition document in the file")?;
    let spec = crd.get("spec").ok_or("the CRD has no `spec`")?;
    let text = |node: Option<&Node>, what: &str| -> Result<String, String> {
        node.and_then(Node::as_str)
            .map(str::to_string)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("the CRD has no `{what}`"))
    };
    let group = text(spec.get("group"), "spec.group")?;
    let names = spec.get("names");
    let kind = text(names.and_then(|n| n.get("kind")), "spec.names.kind")?;
    let plural = text(names.and_then(|n| n.get("plural")), "spec.names.plural")?;
    let namespaced = spec.get("scope").and_then(Node::as_str) != Some("Cluster");
    let mut versions = Vec::new();
    let mut storage = None;
    let mut served = None;
    if let Some(NodeKind::Seq(items)) = spec.get("versions").map(|v| &v.kind) {
        for item in items {
            let Some(name) = item.get("name").and_then(Node::as_str) else {
                continue;
            };
            versions.push(name.to_string());
            if item.get("storage").and_then(Node::as_str) == Some("true") {
                storage.get_or_insert(name.to_string());
            }
            if item.get("served").and_then(Node::as_str) != Some("false") {
                served.get_or_insert(name.to_string());
            }
        }
    }
    if let Some(v) = spec.get("version").and_then(Node::as_str)
        && versions.is_empty()
    {
        versions.push(v.to_string());
    }
    let version = storage
        .or(served)
        .or_else(|| versions.first().cloned())
        .ok_or("the CRD declares no version")?;
    Ok(CrdManifest {
        group,
        version,
        versions,
        kind,
        plural,
        namespaced,
    })
}

/// A built-in Kubernetes kind: (kind, group, version, plural, namespaced).
pub type BuiltIn = (&'static str, &'static str, &'static str, &'static str, bool);

/// Built-in kinds a CRD entry may name with just `apiTypes.kind`.
pub const BUILT_INS: &[BuiltIn] = &[
    ("Pod", "", "v1", "pods", true),
    ("Service", "", "v1", "services", true),
    ("ConfigMap", "", "v1", "configmaps", true),
    ("Secret", "", "v1", "secrets", true),
    ("ServiceAccount", "", "v1", "serviceaccounts", true),
    (
        "PersistentVolumeClaim",
        "",
        "v1",
        "persistentvolumeclaims",
        true,
    ),
    ("PersistentVolume", "", "v1", "persistentvolumes", false),
    ("Namespace", "", "v1", "namespaces", false),
    ("Node", "", "v1", "nodes", false),
    ("Endpoints", "", "v1", "endpoints", true),
    ("Event", "", "v1", "events", true),
    ("ResourceQuota", "", "v1", "resourcequotas", true),
    ("LimitRange", "", "v1", "limitranges", true),
    ("Deployment", "apps", "v1", "deployments", true),
    ("StatefulSet", "apps", "v1", "statefulsets", true),
    ("DaemonSet", "apps", "v1", "daemonsets", true),
    ("ReplicaSet", "apps", "v1", "replicasets", true),
    ("Job", "batch", "v1", "jobs", true),
    ("CronJob", "batch", "v1", "cronjobs", true),
    ("Ingress", "networking.k8s.io", "v1", "ingresses", true),
    (
        "NetworkPolicy",
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        true,
    ),
    ("Role", "rbac.authorization.k8s.io", "v1", "roles", true),
    (
        "RoleBinding",
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        true,
    ),
    (
        "ClusterRole",
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        false,
    ),
    (
        "ClusterRoleBinding",
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        false,
    ),
    (
        "HorizontalPodAutoscaler",
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        true,
    ),
    (
        "PodDisruptionBudget",
        "policy",
        "v1",
        "poddisruptionbudgets",
        true,
    ),
];

/// The built-in kind named `kind`, when `group` (if given) matches it.
pub fn built_in(kind: &str, group: Option<&str>) -> Option<&'static BuiltIn> {
    BUILT_INS
        .iter()
        .find(|b| b.0 == kind && group.is_none_or(|g| g == b.1))
}

/// Fills the identity fields of `api_types` from a manifest (the manifest wins; typed-mode
/// fields are kept).
pub fn apply_manifest(api_types: &mut ApiTypes, manifest: &CrdManifest) {
    api_types.group = Some(manifest.group.clone());
    api_types.version = Some(manifest.version.clone());
    api_types.kind = Some(manifest.kind.clone());
    api_types.plural = Some(manifest.plural.clone());
    api_types.scope = Some(
        if manifest.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        }
        .to_string(),
    );
}

/// Fills missing identity fields of `api_types` from the built-in table. Returns whether the
/// kind is built in.
pub fn enrich_built_in(api_types: &mut ApiTypes) -> bool {
    let Some(kind) = api_types.kind.clone() else {
        return false;
    };
    let group = api_types
        .group
        .as_deref()
        .filter(|g| !g.is_empty() && *g != "core");
    let Some(b) = built_in(&kind, group) else {
        return false;
    };
    api_types.group = Some(b.1.to_string());
    api_types.version.get_or_insert_with(|| b.2.to_string());
    api_types.plural.get_or_insert_with(|| b.3.to_string());
    api_types
        .scope
        .get_or_insert_with(|| if b.4 { "Namespaced" } else { "Cluster" }.to_string());
    if b.1.is_empty() {
        api_types.api_path.get_or_insert_with(|| "/api".to_string());
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    #[test]
    fn manifest_gives_group_storage_version_kind_plural_and_scope() {
        let text = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: demo.io\n  scope: Cluster\n  names: {kind: Web, plural: webs}\n  versions:\n    - {name: v1alpha1, served: true, storage: false}\n    - {name: v1, served: true, storage: true}\n";
        let docs = parse_documents(text, 0).unwrap();
        let m = read_manifest(&docs).unwrap();
        assert_eq!(m.group, "demo.io");
        assert_eq!(m.version, "v1");
        assert_eq!(m.kind, "Web");
        assert_eq!(m.plural, "webs");
        assert!(!m.namespaced);
    }

    #[test]
    fn a_file_without_a_crd_is_rejected() {
        let docs = parse_documents("kind: ConfigMap\n", 0).unwrap();
        assert!(read_manifest(&docs).is_err());
    }

    #[test]
    fn built_in_kinds_are_enriched_from_kind_alone() {
        let mut t = ApiTypes {
            kind: Some("ConfigMap".into()),
            ..ApiTypes::default()
        };
        assert!(enrich_built_in(&mut t));
        assert_eq!(t.group.as_deref(), Some(""));
        assert_eq!(t.plural.as_deref(), Some("configmaps"));
        let mut custom = ApiTypes {
            kind: Some("Deployment".into()),
            group: Some("example.io".into()),
            ..ApiTypes::default()
        };
        assert!(!enrich_built_in(&mut custom));
    }
}
