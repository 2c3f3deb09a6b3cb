//! `external:` calls at admission (spec §16.3, §16.4): before a CRD's rules are evaluated, the
//! gateway makes its `validation.external` and `mutation.external` calls with the runtime's
//! code and the process's one outbound client, and the rules and templates read the results
//! as `.external.<name>`.
//!
//! Decisions:
//! - `/validate` makes the validation and the mutation calls (it applies mutation in memory
//!   before validating); `/mutate` makes the mutation calls only. Calls with
//!   `fires.reconcile: false` are made here (and only here).
//! - Every wait of every call (timeout, `sleep`, retry delay) ends within [`BUDGET`], one
//!   second less than the webhooks' `timeoutSeconds`, so the gateway answers before the API
//!   server gives up on it.
//! - A failed call without `continueOnError` denies the request with the call's error (at
//!   reconcile it halts the reconcile); with `continueOnError` the rules see its `error`.
//! - Results are counted in the gateway's `orkestra_external_call_total{crd,name,result}` and
//!   `orkestra_external_call_duration_seconds{crd,name}`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use katalog::build::EngineRender;
use katalog::model::external::Place;
use runtime::outbound::{Calls, Halted, Occasion, key_of};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::{Request, object_value};
use crate::metrics::Metrics;
use crate::plan::Plan;
use crate::webhook_config::TIMEOUT_SECONDS;

/// How long all the calls of one admission request may take.
pub const BUDGET: Duration = Duration::from_secs(TIMEOUT_SECONDS - 1);

/// The calls `/validate` makes (it applies mutation in memory before validating).
pub const VALIDATE_PLACES: &[Place] = &[Place::Validation, Place::Mutation];

/// The calls `/mutate` makes.
pub const MUTATE_PLACES: &[Place] = &[Place::Mutation];

/// The calls of every CRD of `plan` that declares validation or mutation calls.
pub fn calls(
    plan: &Plan,
    render: &Arc<EngineRender>,
    client: &kube::Client,
    metrics: &Metrics,
) -> BTreeMap<String, Arc<Calls>> {
    plan.targets
        .iter()
        .filter_map(|t| {
            let calls = Calls::of(&t.crd, render.clone(), client.clone(), None)?;
            calls.any_in(VALIDATE_PLACES).then(|| {
                let record = Arc::new(metrics.external_calls(&t.crd.name));
                (t.crd.name.clone(), Arc::new(calls.recording(record)))
            })
        })
        .collect()
}

/// Makes the calls of `places` for the object of `req`; returns `.external` (results by call
/// name).
///
/// # Errors
/// The first failed call without `continueOnError`.
pub async fn run(calls: &Calls, req: &Request, places: &[Place]) -> Result<Value, Halted> {
    let mut data = req.object.as_ref().map(object_value).unwrap_or_default();
    let key = key_of(&data);
    let deadline = Instant::now() + BUDGET;
    calls
        .run_at(
            Occasion::Admission { deadline },
            places,
            &mut data,
            &key,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(data
        .get("external")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new())))
}
