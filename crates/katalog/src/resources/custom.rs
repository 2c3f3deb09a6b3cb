//! `custom:` declarations: any apiVersion/kind, schema-agnostic.

use super::*;

/// The metadata block of a custom child.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomMetadata {
    /// Object name (templated; required after rendering).
    pub name: Option<Text>,
    /// Namespace (templated); the CR's when absent for namespaced kinds.
    pub namespace: Option<Text>,
    /// Explicit scope; absent means namespaced unless discovery says otherwise.
    pub namespaced: Option<bool>,
    /// Labels (map or legacy list).
    pub labels: Labels,
    /// Annotations (map or legacy list).
    pub annotations: Labels,
}

/// One arbitrary child (`custom:`). Top-level keys other than the known ones are carried
/// into the object as they are (templated), for kinds that keep settings outside `spec`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CustomDecl {
    /// `group/version` of the child (required).
    pub api_version: Option<Text>,
    /// Kind of the child (required).
    pub kind: Option<Text>,
    /// Name, namespace, scope, labels and annotations.
    pub metadata: CustomMetadata,
    /// Spec, templated recursively.
    pub spec: Option<serde_json::Value>,
    /// Initial status, written only when `hasStatus` resolves true.
    pub status: Option<serde_json::Value>,
    /// Status subresource hint: absent = auto-detect.
    pub has_status: Option<bool>,
    /// On an `onCreate` entry: also converge it every cycle.
    pub reconcile: bool,
    /// All must pass.
    pub when: Vec<Condition>,
    /// At least one must pass (when non-empty).
    pub or: Vec<Condition>,
    /// Expand over a list or map field.
    pub for_each: Option<ForEach>,
    /// Artificial delay before applying.
    pub sleep: Option<Text>,
    /// Server-side apply force for this object.
    pub force_conflict: Option<bool>,
    /// Other top-level fields of the object (e.g. `data`, `rules`).
    #[serde(flatten)]
    pub other: std::collections::BTreeMap<String, serde_json::Value>,
}

impl Declaration for CustomDecl {
    fn common(&self) -> Common<'_> {
        Common {
            name: self.metadata.name.as_ref(),
            namespace: self.metadata.namespace.as_ref(),
            labels: &self.metadata.labels,
            annotations: &self.metadata.annotations,
            reconcile: self.reconcile,
            when: &self.when,
            or: &self.or,
            for_each: self.for_each.as_ref(),
            sleep: self.sleep.as_ref(),
            force_conflict: self.force_conflict,
        }
    }
}
