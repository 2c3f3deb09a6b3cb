//! `operatorBox.reconciler` (v0.7.17) / `operatorBox.reconcile` (newest): identity and tuning.

use serde::Deserialize;

use super::{Condition, External, HookTemplates, RetryBackoff};
use crate::de::Spanned;

/// Reconciler identity and tuning, as written (both layouts).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Reconciler {
    /// false = custom constructor or remote reconciler; templates ignored.
    pub default: Option<bool>,
    /// File with a top-level `reconciler:` merged under this one (inline wins).
    pub include: Option<Spanned<String>>,
    /// Named tuning preset.
    pub profile: Option<Spanned<String>>,
    /// Worker count (1..50).
    pub workers: Option<Spanned<i64>>,
    /// Informer resync interval.
    pub resync: Option<Spanned<String>>,
    /// Queue settings.
    pub queue: Option<Queue>,
    /// Requeue after success.
    pub requeue: Option<Requeue>,
    /// Typed Go hooks.
    pub hooks: Option<Spanned<Hooks>>,
    /// Custom constructor.
    pub constructor: Option<Spanned<Hooks>>,
    /// Remote reconciler (§9.7).
    pub remote: Option<Spanned<Remote>>,
    /// Newest layout: resource templates live here.
    pub on_create: Option<HookTemplates>,
    /// Newest layout.
    pub on_reconcile: Option<HookTemplates>,
    /// Newest layout.
    pub on_delete: Option<HookTemplates>,
}

/// `queue:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Queue {
    /// Use the shared default queue.
    pub shared: Option<bool>,
    /// Older name of `shared`.
    pub default: Option<bool>,
    /// 0 = unlimited.
    pub max_depth: Option<Spanned<i64>>,
    /// Consecutive failures before degraded.
    pub failure_threshold: Option<Spanned<i64>>,
    /// Older name of `failureThreshold`.
    pub degrade_threshold: Option<Spanned<i64>>,
    /// What to drop when the queue fills (only with maxDepth > 0).
    pub behaviour: Option<Spanned<Behaviour>>,
    /// Backoff for failed reconciles.
    pub retry_backoff: Option<Spanned<RetryBackoff>>,
}

/// `queue.behaviour`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Behaviour {
    /// Drop above a percentage of maxDepth.
    pub on_threshold: Option<Spanned<QueueRule>>,
    /// Drop at maxDepth.
    pub on_limit: Option<Spanned<QueueRule>>,
}

/// One queue behaviour rule.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueRule {
    /// Percentage of maxDepth (onThreshold only).
    pub value: Option<i64>,
    /// Drop items.
    pub drop: Option<bool>,
    /// All must hold.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// One must hold.
    #[serde(default)]
    pub or: Vec<Condition>,
}

/// `requeue:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requeue {
    /// Duration or template.
    pub after: Option<Spanned<String>>,
    /// All must hold.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// One must hold.
    #[serde(default)]
    pub or: Vec<Condition>,
}

/// `hooks:` and `constructor:` (typed Go extension points, accepted and validated).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Hooks {
    /// Go import path.
    pub location: Option<String>,
    /// Function name.
    pub function: Option<String>,
    /// Import alias.
    pub alias: Option<String>,
    /// Module version.
    pub version: Option<String>,
    /// Fetch the module.
    pub fetch: Option<bool>,
    /// Kinds the hook manages (RBAC + implicit watch).
    #[serde(default)]
    pub managed_resources: Vec<ManagedResource>,
    /// Run hooks before templates.
    pub run_hooks_first: Option<bool>,
    /// Arguments (templated values).
    pub args: Option<serde_json::Value>,
    /// Calls made before the hook.
    #[serde(default)]
    pub external: Vec<External>,
}

/// One managed resource of a hook, constructor or remote reconciler.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ManagedResource {
    /// Kind (required for non built-in resources).
    pub kind: Option<String>,
    /// API group.
    pub group: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// Plural.
    pub plural: Option<String>,
    /// apiVersion form.
    pub api_version: Option<String>,
}

/// `remote:` (newest layout, §9.7).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Remote {
    /// URL (templated).
    pub endpoint: Option<String>,
    /// Call timeout.
    pub timeout: Option<Spanned<String>>,
    /// Kinds it manages.
    #[serde(default)]
    pub managed_resources: Vec<ManagedResource>,
    /// Authentication (kept as written).
    pub auth: Option<serde_json::Value>,
    /// `http` (`grpc` reserved).
    pub protocol: Option<String>,
    /// Arguments.
    pub args: Option<serde_json::Value>,
    /// Payload shaping (kept as written).
    pub payload: Option<serde_json::Value>,
}
