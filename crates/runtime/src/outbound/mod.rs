//! Outbound calls: the process's one HTTP client ([`client`]) and the `external:` calls of
//! a CRD ([`call`], [`Calls`]), made in declaration order so later calls and templates see
//! the results of earlier ones under `.external.<name>`.

pub mod call;
pub mod client;

use std::sync::Arc;

use katalog::Crd;
use katalog::build::EngineRender;
use katalog::model::External;
use katalog::model::external::{Place, calls_of};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::metrics::CrdMetrics;

/// A call that failed with `continueOnError: false`: the reconcile stops there.
#[derive(Debug, Clone, thiserror::Error)]
#[error("external call `{name}` failed: {message}")]
pub struct Halted {
    /// The call's name.
    pub name: String,
    /// Why it failed.
    pub message: String,
}

/// The `external:` calls of one CRD with what making them needs. Shared by its workers.
pub struct Calls {
    crd: String,
    lists: Vec<(Place, Vec<External>)>,
    render: Arc<EngineRender>,
    kube: kube::Client,
    metrics: Option<CrdMetrics>,
}

impl std::fmt::Debug for Calls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calls")
            .field("crd", &self.crd)
            .finish_non_exhaustive()
    }
}

impl Calls {
    /// The calls `crd` declares (none: `None`). Calls of resource blocks that do not read
    /// were refused by validation and are left out here.
    pub fn of(
        crd: &Crd,
        render: Arc<EngineRender>,
        kube: kube::Client,
        metrics: Option<CrdMetrics>,
    ) -> Option<Self> {
        let lists: Vec<(Place, Vec<External>)> = calls_of(crd)
            .into_iter()
            .map(|(place, list)| (place, list.into_iter().filter_map(Result::ok).collect()))
            .collect();
        (!lists.is_empty()).then(|| Calls {
            crd: crd.name.clone(),
            lists,
            render,
            kube,
            metrics,
        })
    }

    /// Whether any call is declared in one of `places`.
    pub fn any_in(&self, places: &[Place]) -> bool {
        self.lists
            .iter()
            .any(|(p, l)| places.contains(p) && !l.is_empty())
    }

    /// Makes the calls of `places` (in declaration order, `fires.reconcile: false` ones left
    /// out) for the CR `data` (keyed `key`), adding each result to `data.external` as it
    /// comes. Stops at the first failed call without `continueOnError`.
    ///
    /// # Errors
    /// [`Halted`] for that call; the results so far are in `data`.
    pub async fn run(
        &self,
        places: &[Place],
        data: &mut Value,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<(), Halted> {
        let namespace = data
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_string);
        let cx = call::Context {
            render: &*self.render,
            kube: &self.kube,
            namespace: namespace.as_deref(),
            now,
        };
        for (place, list) in self.lists.iter().filter(|(p, _)| places.contains(p)) {
            for external in list.iter().filter(|e| e.fires_at_reconcile()) {
                let name = external.name.as_ref().map_or("", |n| n.value.as_str());
                let outcome = call::run(external, data, &cx).await;
                tracing::debug!(
                    crd = %self.crd,
                    key,
                    call = name,
                    place = place.path(),
                    method = external.method.as_deref().unwrap_or("GET"),
                    status = outcome.result.get("status").and_then(serde_json::Value::as_str).unwrap_or(""),
                    result = outcome.label,
                    error = outcome.error.as_deref().unwrap_or(""),
                    elapsed_ms = outcome.took.map_or(0.0, |d| d.as_secs_f64() * 1000.0),
                    "external call"
                );
                if let Some(m) = &self.metrics {
                    m.record_external(name, outcome.label, outcome.took);
                }
                insert(data, name, outcome.result);
                if let Some(message) = outcome.error
                    && external.continue_on_error != Some(true)
                {
                    return Err(Halted {
                        name: name.to_string(),
                        message,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Sets `data.external.<name>` (creating `external`).
fn insert(data: &mut Value, name: &str, result: Value) {
    if let Some(map) = data.as_object_mut() {
        let external = map
            .entry("external")
            .or_insert_with(|| Value::Object(Map::new()));
        if !external.is_object() {
            *external = Value::Object(Map::new());
        }
        if let Some(e) = external.as_object_mut() {
            e.insert(name.to_string(), result);
        }
    }
}

/// `namespace/name` (or `name`) of a CR as JSON, for log lines.
pub fn key_of(cr: &Value) -> String {
    let text = |p: &str| cr.pointer(p).and_then(Value::as_str).unwrap_or_default();
    match text("/metadata/namespace") {
        "" => text("/metadata/name").to_string(),
        ns => format!("{ns}/{}", text("/metadata/name")),
    }
}
