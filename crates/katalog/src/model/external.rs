//! `external:` calls as the runtime makes them (spec §11.1): every place that declares calls,
//! in the order they run, and the calls of resource blocks (kept as JSON by the model) read
//! into the typed [`External`].

use serde::Deserialize;
use serde_json::Value;

use super::{Crd, External};

/// The protocols of `external[].protocol` ork makes calls with.
pub const SUPPORTED_PROTOCOLS: &[&str] = &["http", "prometheus", "redis", "postgres"];

/// The protocols that send a `query` to a store rather than an HTTP request: the HTTP fields
/// (`method`, `body`, `headers`, `expectedStatus`, `auth.header`) do not apply to them.
pub const STORE_PROTOCOLS: &[&str] = &["redis", "postgres"];

/// The protocols Orkestra names that ork refuses (no client for them).
pub const UNSUPPORTED_PROTOCOLS: &[&str] = &["mongo", "kafka"];

/// Where a list of calls is declared; names the list in diagnostics and log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// `preReconcile.external`: shared by both gates, run first.
    PreReconcile,
    /// `preReconcile.enqueueGate.external`.
    EnqueueGate,
    /// `preReconcile.reconcileGate.external`.
    ReconcileGate,
    /// `validation.external`.
    Validation,
    /// `mutation.external`.
    Mutation,
    /// `reconciler.hooks.external` and `reconciler.constructor.external`.
    Hooks,
    /// `onCreate.external`.
    OnCreate,
    /// `onReconcile.external`.
    OnReconcile,
    /// `onDelete.external`.
    OnDelete,
}

impl Place {
    /// The Katalog path of the list, below `spec.crds.<crd>`.
    pub fn path(self) -> &'static str {
        match self {
            Place::PreReconcile => "operatorBox.preReconcile.external",
            Place::EnqueueGate => "operatorBox.preReconcile.enqueueGate.external",
            Place::ReconcileGate => "operatorBox.preReconcile.reconcileGate.external",
            Place::Validation => "validation.external",
            Place::Mutation => "mutation.external",
            Place::Hooks => "operatorBox.reconciler.hooks.external",
            Place::OnCreate => "operatorBox.onCreate.external",
            Place::OnReconcile => "operatorBox.onReconcile.external",
            Place::OnDelete => "operatorBox.onDelete.external",
        }
    }
}

impl External {
    /// Reads one call of a resource block, which the model keeps as JSON. Fields that carry a
    /// place in a typed block get none here.
    ///
    /// # Errors
    /// The serde message when the call has an unknown key or a value of the wrong type.
    pub fn from_json(value: &Value) -> Result<External, String> {
        let mut value = value.clone();
        if let Some(map) = value.as_object_mut() {
            // `Spanned` fields read `$value` when no place is known.
            for key in ["name", "timeout", "sleep", "retryBackoff"] {
                if let Some(v) = map.remove(key) {
                    map.insert(key.into(), serde_json::json!({ "$value": v }));
                }
            }
        }
        External::deserialize(value).map_err(|e| e.to_string())
    }

    /// The call's protocol, `http` when unset.
    pub fn protocol_name(&self) -> &str {
        self.protocol.as_deref().map_or("http", str::trim)
    }

    /// Whether the call also runs at reconcile time (`fires.reconcile`, default true).
    pub fn fires_at_reconcile(&self) -> bool {
        self.fires
            .as_ref()
            .and_then(|f| f.reconcile)
            .unwrap_or(true)
    }
}

/// Every list of calls a CRD declares, with its place, in the order a reconcile runs them:
/// preReconcile, the gates, validation, mutation, hooks (and constructor), onCreate,
/// onReconcile, onDelete. Calls of
/// resource blocks that do not read are returned as errors in their place (validation reports
/// them; the runtime refuses to start).
pub fn calls_of(crd: &Crd) -> Vec<(Place, Vec<Result<External, String>>)> {
    let typed = |list: &[External]| list.iter().cloned().map(Ok).collect::<Vec<_>>();
    let untyped = |list: &[Value]| list.iter().map(External::from_json).collect::<Vec<_>>();
    let b = crd.operator_box();
    let mut out = Vec::new();
    if let Some(p) = &b.pre_reconcile {
        out.push((Place::PreReconcile, typed(&p.external)));
        if let Some(g) = &p.enqueue_gate {
            out.push((Place::EnqueueGate, typed(&g.external)));
        }
        if let Some(g) = &p.reconcile_gate {
            out.push((Place::ReconcileGate, typed(&g.external)));
        }
    }
    if let Some(v) = &crd.entry.validation {
        out.push((Place::Validation, typed(&v.external)));
    }
    if let Some(m) = &crd.entry.mutation {
        out.push((Place::Mutation, typed(&m.external)));
    }
    if let Some(r) = &b.reconciler {
        let hooks: Vec<External> = [&r.hooks, &r.constructor]
            .into_iter()
            .flatten()
            .flat_map(|h| h.value.external.iter().cloned())
            .collect();
        out.push((Place::Hooks, typed(&hooks)));
    }
    for (place, block) in [
        (Place::OnCreate, &b.on_create),
        (Place::OnReconcile, &b.on_reconcile),
        (Place::OnDelete, &b.on_delete),
    ] {
        if let Some(block) = block {
            out.push((place, untyped(&block.external)));
        }
    }
    out.retain(|(_, list)| !list.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_resource_block_call_reads_into_the_typed_call() {
        let call = External::from_json(&json!({
            "name": "check", "url": "http://x/{{ .metadata.name }}", "timeout": "2s",
            "retryBackoff": {"initial": "1s", "maxAttempts": 3}, "continueOnError": true,
            "when": [{"field": "spec.on", "equals": "yes"}]
        }))
        .expect("reads");
        assert_eq!(call.name.as_ref().map(|n| n.value.as_str()), Some("check"));
        assert_eq!(call.timeout.as_ref().map(|t| t.value.as_str()), Some("2s"));
        assert_eq!(
            call.retry_backoff
                .as_ref()
                .and_then(|r| r.value.max_attempts),
            Some(3)
        );
        assert_eq!(call.continue_on_error, Some(true));
        assert_eq!(call.when.len(), 1);
        assert_eq!(call.protocol_name(), "http");
        assert!(call.fires_at_reconcile());
    }

    #[test]
    fn an_unknown_key_in_a_resource_block_call_is_an_error() {
        let e = External::from_json(&json!({"name": "x", "url": "u", "retries": 3}))
            .expect_err("unknown key");
        assert!(e.contains("retries"), "{e}");
    }
}
