//! What an OperatorBox observes and gates on: `external`, `cross`, `watch`, `events`,
//! `preReconcile` (spec §11).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Condition, Labels, RetryBackoff};
use crate::de::Spanned;

/// One `external:` call.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct External {
    /// camelCase identifier; results under `.external.<name>`.
    pub name: Option<Spanned<String>>,
    /// URL (templated).
    pub url: Option<String>,
    /// HTTP method (default GET).
    pub method: Option<String>,
    /// Body (templated).
    pub body: Option<String>,
    /// Bearer token (template, then `$VAR` expansion).
    pub token: Option<String>,
    /// Extra headers.
    pub headers: Option<BTreeMap<String, String>>,
    /// Per-call timeout.
    pub timeout: Option<Spanned<String>>,
    /// Expected status (0 = any 2xx).
    pub expected_status: Option<i64>,
    /// Keep reconciling when the call fails.
    pub continue_on_error: Option<bool>,
    /// All must hold for the call to run.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// One must hold.
    #[serde(default)]
    pub or: Vec<Condition>,
    /// Delay before the call.
    pub sleep: Option<Spanned<String>>,
    /// `{reconcile: false}` = admission only.
    pub fires: Option<Fires>,
    /// Per-call retry.
    pub retry_backoff: Option<Spanned<RetryBackoff>>,
    /// `http` (default), `prometheus`, `redis`, `postgres`, `mongo`, `kafka`.
    pub protocol: Option<String>,
    /// Protocol-specific query (prometheus, databases).
    pub query: Option<String>,
    /// Authentication (kept as written).
    pub auth: Option<serde_json::Value>,
}

/// `fires:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fires {
    /// Also run at reconcile time (default true).
    pub reconcile: Option<bool>,
}

/// One `cross:` declaration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cross {
    /// A CRD entry name (XOR labelSelector).
    pub crd: Option<Spanned<String>>,
    /// Select a CRD by its labels (XOR crd).
    pub label_selector: Option<Labels>,
    /// Which CR to read.
    pub selector: Option<CrossSelector>,
    /// Name under `.cross` (default: crd).
    #[serde(rename = "as")]
    pub alias: Option<String>,
    /// Remote source (cross-binary / cross-cluster).
    pub source: Option<CrossSource>,
    /// `first` (default) or `all`.
    pub strategy: Option<String>,
}

/// `cross[].selector`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CrossSelector {
    /// CR name (templated).
    pub name: Option<String>,
    /// Namespace (default: the CR's).
    pub namespace: Option<String>,
    /// Label match (overrides name/namespace).
    pub match_labels: Option<Labels>,
}

/// `cross[].source`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CrossSource {
    /// Remote runtime base URL.
    pub host: Option<String>,
    /// `cr`, `health`, `metrics`, `info` or `events`.
    pub protocol: Option<String>,
    /// Full URL override (templated).
    pub endpoint: Option<String>,
    /// Remote namespace.
    pub namespace: Option<String>,
    /// Cache lifetime.
    pub cache_for: Option<Spanned<String>>,
    /// `{token}` or `{secretRef}`.
    pub auth: Option<Spanned<CrossAuth>>,
}

/// `cross[].source.auth`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CrossAuth {
    /// Env reference.
    pub token: Option<String>,
    /// Secret reference.
    pub secret_ref: Option<serde_json::Value>,
}

/// One `watch:` entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Watch {
    /// apiVersion of the watched kind.
    pub api_version: Option<String>,
    /// Kind.
    pub kind: Option<String>,
    /// A single object.
    pub name: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
    /// `create`, `update`, `delete` (default all).
    #[serde(default)]
    pub on: Vec<Spanned<String>>,
    /// How to find the primary CR.
    pub key_from: Option<Spanned<KeyFrom>>,
    /// Per-watch gate.
    pub enqueue_gate: Option<Gate>,
}

/// `keyFrom:` (exactly one of label | name).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFrom {
    /// Label holding `ns/name` or `name`.
    pub label: Option<String>,
    /// Fixed name.
    pub name: Option<String>,
    /// Fixed namespace.
    pub namespace: Option<String>,
}

/// `observe:` (both layouts).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observe {
    /// Cross reads (newest layout).
    #[serde(default)]
    pub cross: Vec<Spanned<Cross>>,
    /// Secondary watches.
    #[serde(default)]
    pub watch: Vec<Spanned<Watch>>,
    /// Event matchers (experimental), name → matcher.
    pub events: Option<Spanned<BTreeMap<String, Spanned<EventMatcher>>>>,
}

/// One `observe.events` matcher on `events.k8s.io/v1` Events (spec §11.4): every field
/// written must match.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EventMatcher {
    /// The Event's `reason`.
    pub reason: Option<String>,
    /// The Event's `action`.
    pub action: Option<String>,
    /// The Event's `type` (`Normal`, `Warning`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The Event's `reportingController`.
    pub reporting_controller: Option<String>,
    /// The Event's `reportingInstance`.
    pub reporting_instance: Option<String>,
    /// The Event's namespace.
    pub namespace: Option<String>,
    /// `create`, `update`, `delete` (default all).
    #[serde(default)]
    pub on: Vec<Spanned<String>>,
    /// The object the Event is about.
    pub regarding: Option<EventObject>,
    /// The secondary object of the Event.
    pub related: Option<EventObject>,
    /// How to find the primary CR (default: `regarding`, else every CR).
    pub key_from: Option<Spanned<KeyFrom>>,
    /// Gate before the queue; sees the Event as `.events.<name>`.
    pub enqueue_gate: Option<Gate>,
}

/// `regarding` / `related` of an [`EventMatcher`]: the fields written must match.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EventObject {
    /// apiVersion.
    pub api_version: Option<String>,
    /// Kind.
    pub kind: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
}

impl EventMatcher {
    /// Whether no field that matches anything is written.
    pub fn is_empty(&self) -> bool {
        let obj = |o: &Option<EventObject>| {
            o.as_ref().is_none_or(|o| {
                o.api_version.is_none()
                    && o.kind.is_none()
                    && o.name.is_none()
                    && o.namespace.is_none()
            })
        };
        self.reason.is_none()
            && self.action.is_none()
            && self.kind.is_none()
            && self.reporting_controller.is_none()
            && self.reporting_instance.is_none()
            && self.namespace.is_none()
            && obj(&self.regarding)
            && obj(&self.related)
    }
}

/// `preReconcile:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PreReconcile {
    /// Shared calls, run first.
    #[serde(default)]
    pub external: Vec<External>,
    /// Declared sentinels.
    #[serde(default)]
    pub sentinels: Vec<Spanned<String>>,
    /// Gate before the queue.
    pub enqueue_gate: Option<Gate>,
    /// Gate after dequeue.
    pub reconcile_gate: Option<Gate>,
}

/// A gate.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Gate {
    /// Calls for this gate.
    #[serde(default)]
    pub external: Vec<External>,
    /// Passes if any listed sentinel is true.
    #[serde(default)]
    pub sentinels: Vec<Spanned<String>>,
    /// All must hold.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// One must hold.
    #[serde(default)]
    pub or: Vec<Condition>,
    /// `open` (default) or `closed`.
    pub fail_policy: Option<Spanned<String>>,
    /// Each event gets its own queue item (reconcile gate only).
    pub event_aware: Option<Spanned<bool>>,
}
