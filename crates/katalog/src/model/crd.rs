//! One CRD entry (`spec.crds.<name>`, spec §4), as written, in either layout.

use serde::Deserialize;

use super::{
    Admission, Conversion, CrdProtection, DependsOn, Labels, MotifImport, Mutation, Normalize,
    OperatorBox, Setup, Validation, Webhooks,
};
use crate::de::Spanned;

/// A CRD entry as written. Both the v0.7.17 layout and the newest layout (CRD-level
/// `admission:`, five-section `operatorBox`) decode into this type; [`super::Crd`] is the
/// resolved form the runtime uses.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CrdEntry {
    /// false = the CRD is skipped entirely.
    pub enabled: Option<bool>,
    /// Shown in `/katalog`.
    pub description: Option<String>,
    /// `typed` or `dynamic` (auto when absent).
    pub mode: Option<Spanned<String>>,
    /// Group, version, kind, plural, ….
    pub api_types: Option<Spanned<ApiTypes>>,
    /// CRD manifest that fills `apiTypes` (relative to the Katalog).
    pub crd_file: Option<Spanned<String>>,
    /// CRs applied in dev mode.
    #[serde(default)]
    pub cr_files: Vec<Spanned<String>>,
    /// Prerequisite manifests (dev mode).
    pub setup: Option<Spanned<Setup>>,
    /// Scope (default true).
    pub namespaced: Option<bool>,
    /// Informer namespace restriction.
    pub namespace: Option<String>,
    /// Startup dependencies.
    #[serde(default)]
    pub depends_on: DependsOn,
    /// Secondary data embedded in `.children` (names or `{target: {when}}` items).
    #[serde(default)]
    pub enrich: Vec<Spanned<serde_json::Value>>,
    /// Enrich every supported type.
    pub enrich_all: Option<bool>,
    /// Labels written onto the CR.
    pub labels: Option<Labels>,
    /// Informer label filter.
    pub label_selector: Option<Labels>,
    /// Informer field filter.
    pub field_selector: Option<Labels>,
    /// The OperatorBox.
    pub operator_box: Option<OperatorBox>,
    /// Per-CRD HTTP visibility.
    pub endpoints: Option<Endpoints>,
    /// Namespaces this CRD's CRs may not live in.
    pub restricted_namespaces: Option<Spanned<Vec<String>>>,
    /// The only namespaces this CRD's CRs may live in.
    pub allowed_namespaces: Option<Spanned<Vec<String>>>,
    /// Conversion between versions (§16.5).
    pub conversion: Option<Spanned<Conversion>>,
    /// Validation rules.
    pub validation: Option<Validation>,
    /// Mutation rules.
    pub mutation: Option<Mutation>,
    /// Per-CRD admission webhook settings.
    pub webhooks: Option<Webhooks>,
    /// Newest layout: validation/mutation/conversion/webhooks in one block.
    pub admission: Option<Admission>,
    /// Spec canonicalisation.
    pub normalize: Option<Normalize>,
    /// Motif imports.
    #[serde(default)]
    pub imports: Vec<MotifImport>,
    /// Gateway API exposure (§16.10, kept as written).
    pub serve: Option<Spanned<serde_json::Value>>,
    /// SSA force for children (default true).
    pub force_conflict: Option<bool>,
    /// Other Katalogs may read this CRD via `cross:`.
    pub cross_access: Option<bool>,
    /// Per-CRD deletion protection override (§16.6).
    pub deletion_protection: Option<Spanned<CrdProtection>>,
    /// Skip the status patch.
    pub ignore_status_patch: Option<bool>,
    /// Ignore observedGeneration.
    pub ignore_observed_generation: Option<bool>,
    /// Testing: strip finalizers.
    pub remove_finalizers: Option<bool>,
    /// Workers (CRD-level shorthand for `operatorBox.reconciler.workers`).
    pub workers: Option<Spanned<i64>>,
    /// Resync (CRD-level shorthand for `operatorBox.reconciler.resync`).
    pub resync: Option<Spanned<String>>,
    /// Provenance, set by the Komposer merge.
    pub katalog_name: Option<String>,
    /// Provenance, set by the Komposer merge.
    pub katalog_namespace: Option<String>,
    /// Provenance, set by the Komposer merge.
    pub katalog_description: Option<String>,
    /// Provenance, set by the Komposer merge.
    pub katalog_version: Option<String>,
}

/// `apiTypes:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiTypes {
    /// API group (empty for the core group).
    pub group: Option<String>,
    /// Served version.
    pub version: Option<String>,
    /// Kind.
    pub kind: Option<String>,
    /// Plural resource name.
    pub plural: Option<String>,
    /// `/apis` (default) or `/api` for core.
    pub api_path: Option<String>,
    /// Typed mode: object type name.
    pub object: Option<String>,
    /// Typed mode: list type name.
    pub list: Option<String>,
    /// Typed mode: import alias.
    pub alias: Option<String>,
    /// Typed mode: Go import path.
    pub location: Option<String>,
    /// Scope from the CRD file (`Namespaced` or `Cluster`).
    pub scope: Option<String>,
}

/// `endpoints:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    /// `/katalog/<crd>` at all.
    pub enabled: Option<bool>,
    /// Health endpoint.
    pub health: Option<bool>,
    /// Info endpoint.
    pub info: Option<bool>,
}

/// The enrich targets ork knows, in their canonical spelling (a Katalog may
/// write any case, as upstream reads them: loading rewrites it to this one).
pub const ENRICH_TARGETS: &[&str] = &[
    "pods",
    "events",
    "warnings",
    "endpoints",
    "pv",
    "pvc",
    "pvcs",
    "owner",
    "replicaSets",
    "cronjob",
    "jobs",
    "activeJobs",
    "lastJob",
    "storageClass",
    "backingPods",
    "ingress",
    "loadBalancer",
    "loadBalancerIPs",
    "tls",
    "tlsSecrets",
    "node",
    "hpa",
    "metrics",
    "currentMetrics",
    "scaleTarget",
];
