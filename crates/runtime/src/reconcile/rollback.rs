//! Rollback (spec §12.7): after repeated failures, re-apply the templates rendered from the
//! CR's last successful spec, and hold there until the spec changes.
//!
//! - **Declared by** `rollBackOnError: true` or a `rollback:` block (either layout).
//! - **The last good spec** lives in the CR's annotation `orkestra.orkspace.io/last-good-spec`
//!   (the spec as JSON), written after a successful reconcile whose spec differs from it: one
//!   metadata write per successful spec change, none in a steady state. An annotation, not
//!   memory, so a restarted ork still knows it (and can still hold a rolled-back CR).
//! - **Trigger**: `rollback.trigger.consecutiveFailures` (default 3) failed reconciles of a CR
//!   in a row, all within `withinDuration` when set. Only failures the queue retries count
//!   (the API server refused or failed a write): a spec that validation denies or that does not
//!   render applied nothing, so there is nothing to roll back. The count is kept in memory (a
//!   restart starts it again) and reset by a success.
//! - **Rolling back** converges the CRD's own templates (`onCreate`, `onReconcile`; `once: true`
//!   resources are never re-applied once created) with `.spec` set to the last good spec, and
//!   also readable as `.previous.spec` (with `.previous.metadata`, the CR's). The CR's
//!   annotation `orkestra.orkspace.io/rollback-at-generation` records the generation rolled
//!   back from, and a Warning Event `RolledBack` says so.
//! - **While rolled back** (that annotation equals `metadata.generation`) every reconcile
//!   converges the last good spec again, writes `Ready=False` saying so, and does not retry.
//!   A spec change (a new generation) leaves the rollback; the next success records a new last
//!   good spec.
//! - **Health**: `rollbackTotal` (rollbacks since start) and `rollbackActive` (CRs held now)
//!   in `/katalog/<crd>`'s `metrics`, and as `orkestra_rollback_total` /
//!   `orkestra_rollback_active`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use katalog::Crd;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::{Map, Value, json};

use super::{Converged, Error, Reconciler};
use crate::events::EventType;

/// The annotation holding the spec of the CR's last successful reconcile (JSON).
pub const LAST_GOOD_SPEC: &str = "orkestra.orkspace.io/last-good-spec";
/// The annotation holding the generation a rollback left.
pub const ROLLED_BACK_AT: &str = "orkestra.orkspace.io/rollback-at-generation";

/// A CRD's rollback policy and the state it keeps.
#[derive(Debug)]
pub(super) struct Rollback {
    failures: u32,
    within: Option<Duration>,
    /// uid → times of the failures in a row, oldest first.
    history: Mutex<HashMap<String, Vec<Instant>>>,
    total: AtomicU64,
    active: Mutex<HashSet<String>>,
    metrics: Option<crate::metrics::CrdMetrics>,
}

impl Rollback {
    /// The policy `crd` declares, if any.
    pub(super) fn of(crd: &Crd, metrics: Option<crate::metrics::CrdMetrics>) -> Option<Self> {
        let ob = crd.operator_box();
        if ob.roll_back_on_error != Some(true) && ob.rollback.is_none() {
            return None;
        }
        let trigger = ob.rollback.as_ref().and_then(|r| r.value.trigger.as_ref());
        Some(Rollback {
            failures: trigger
                .and_then(|t| t.consecutive_failures)
                .filter(|n| *n > 0)
                .unwrap_or(katalog::model::DEFAULT_ROLLBACK_FAILURES),
            within: trigger
                .and_then(|t| t.within_duration.as_ref())
                .and_then(|d| katalog::condition::parse_duration(d.value.trim()))
                .and_then(|d| Duration::try_from(d).ok())
                .filter(|d| !d.is_zero()),
            history: Mutex::default(),
            total: AtomicU64::new(0),
            active: Mutex::default(),
            metrics,
        })
    }

    /// Records a failure of `uid` at `now`; whether the trigger is met.
    fn failed(&self, uid: &str, now: Instant) -> bool {
        let Ok(mut history) = self.history.lock() else {
            return false;
        };
        let times = history.entry(uid.to_owned()).or_default();
        times.push(now);
        let recent = match self.within {
            Some(window) => times
                .iter()
                .filter(|t| now.duration_since(**t) <= window)
                .count(),
            None => times.len(),
        };
        recent >= self.failures as usize
    }

    /// A success (or a rollback) of `uid`: the failures in a row start again.
    fn reset(&self, uid: &str) {
        if let Ok(mut history) = self.history.lock() {
            history.remove(uid);
        }
    }

    fn set_active(&self, uid: &str, active: bool) {
        if let Ok(mut set) = self.active.lock() {
            let changed = if active {
                set.insert(uid.to_owned())
            } else {
                set.remove(uid)
            };
            if changed && let Some(m) = &self.metrics {
                m.set_rollback_active(set.len());
            }
        }
    }

    /// Forgets a CR that is gone.
    pub(super) fn forget(&self, uid: &str) {
        self.reset(uid);
        self.set_active(uid, false);
    }

    /// (rollbacks since start, CRs held now).
    pub(super) fn counts(&self) -> (u64, usize) {
        let active = self.active.lock().map(|s| s.len()).unwrap_or_default();
        (self.total.load(Ordering::SeqCst), active)
    }
}

fn annotation<'a>(cr: &'a DynamicObject, key: &str) -> Option<&'a str> {
    cr.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

/// The last good spec recorded on `cr`.
fn last_good(cr: &DynamicObject) -> Option<Value> {
    serde_json::from_str(annotation(cr, LAST_GOOD_SPEC)?).ok()
}

impl Reconciler {
    /// The last good spec when `cr` is held in a rollback (its rollback annotation names its
    /// generation); updates the count of CRs held.
    pub(super) fn rolled_back_spec(&self, cr: &DynamicObject) -> Option<Value> {
        let policy = self.rollback.as_ref()?;
        let uid = cr.metadata.uid.as_deref().unwrap_or_default();
        let held = cr
            .metadata
            .generation
            .is_some_and(|g| annotation(cr, ROLLED_BACK_AT).is_some_and(|a| a == g.to_string()));
        let spec = last_good(cr).filter(|_| held);
        policy.set_active(uid, spec.is_some());
        spec
    }

    /// The message of `Ready=False` while held.
    pub(super) fn rollback_message(&self, cr: &DynamicObject) -> String {
        format!(
            "rolled back to the last successful spec after repeated failures of generation {}; change the spec to leave the rollback",
            cr.metadata.generation.unwrap_or_default()
        )
    }

    /// Converges the CRD's templates with `.spec` (and `.previous.spec`) the last good spec.
    pub(super) async fn converge_previous(
        &self,
        cr: &DynamicObject,
        data: &Value,
        extra: &Map<String, Value>,
        spec: &Value,
    ) -> Result<Converged, Error> {
        let mut previous = data.clone();
        if let Some(p) = previous.as_object_mut() {
            p.insert("spec".into(), spec.clone());
            p.insert(
                "previous".into(),
                json!({"spec": spec, "metadata": data.get("metadata")}),
            );
        }
        self.converge(cr, &previous, extra).await
    }

    /// After a successful reconcile (not held): records the spec as the last good one when it
    /// differs from the recorded one, and resets the failure count.
    pub(super) async fn record_good(&self, cr: &DynamicObject) {
        let Some(policy) = &self.rollback else {
            return;
        };
        let uid = cr.metadata.uid.as_deref().unwrap_or_default();
        policy.reset(uid);
        let spec = cr.data.get("spec").cloned().unwrap_or(Value::Null);
        if last_good(cr).as_ref() == Some(&spec) {
            return;
        }
        let text = serde_json::to_string(&spec).unwrap_or_default();
        self.annotate(cr, LAST_GOOD_SPEC, &text).await;
    }

    /// After a failed reconcile: counts it and, when the trigger is met and a last good spec
    /// differing from the current one is known, rolls back.
    pub(super) async fn count_failure(
        &self,
        cr: &DynamicObject,
        data: &Value,
        extra: &Map<String, Value>,
    ) {
        let Some(policy) = &self.rollback else {
            return;
        };
        let uid = cr.metadata.uid.as_deref().unwrap_or_default();
        if !policy.failed(uid, Instant::now()) {
            return;
        }
        let Some(spec) = last_good(cr) else {
            tracing::debug!("rollback triggered, but no successful spec is known");
            return;
        };
        if cr.data.get("spec") == Some(&spec) {
            return;
        }
        policy.reset(uid);
        let generation = cr.metadata.generation.unwrap_or_default();
        if let Err(e) = self.converge_previous(cr, data, extra, &spec).await {
            tracing::warn!(error = %e.message(), "rollback could not apply the last good spec");
            return;
        }
        self.annotate(cr, ROLLED_BACK_AT, &generation.to_string())
            .await;
        policy.total.fetch_add(1, Ordering::SeqCst);
        policy.set_active(uid, true);
        if let Some(m) = &policy.metrics {
            m.record_rollback();
        }
        self.event(
            cr,
            EventType::Warning,
            "RolledBack",
            &format!("generation {generation} failed {} times in a row; re-applied the last successful spec", policy.failures),
        )
        .await;
    }

    /// (rollbacks since start, CRs held now); `None` without a rollback policy.
    pub fn rollback_counts(&self) -> Option<(u64, usize)> {
        self.rollback.as_ref().map(Rollback::counts)
    }

    async fn annotate(&self, cr: &DynamicObject, key: &str, value: &str) {
        let api = self.api(cr.metadata.namespace.as_deref());
        let patch = json!({"metadata": {"annotations": {key: value}}});
        let name = cr.metadata.name.as_deref().unwrap_or_default();
        let params = PatchParams::default();
        if let Err(e) = api.patch(name, &params, &Patch::Merge(&patch)).await {
            tracing::warn!(error = %e, key, "rollback annotation not written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(failures: u32, within: Option<Duration>) -> Rollback {
        Rollback {
            failures,
            within,
            history: Mutex::default(),
            total: AtomicU64::new(0),
            active: Mutex::default(),
            metrics: None,
        }
    }

    #[test]
    fn the_nth_failure_in_a_row_triggers_and_a_success_starts_again() {
        let p = policy(3, None);
        let t = Instant::now();
        assert!(!p.failed("u", t));
        assert!(!p.failed("u", t));
        p.reset("u");
        assert!(!p.failed("u", t));
        assert!(!p.failed("u", t));
        assert!(p.failed("u", t));
    }

    #[test]
    fn a_window_counts_only_recent_failures() {
        let p = policy(2, Some(Duration::from_secs(60)));
        let t = Instant::now();
        assert!(!p.failed("u", t));
        assert!(!p.failed("u", t + Duration::from_secs(120)));
        assert!(p.failed("u", t + Duration::from_secs(150)));
    }
}
