//! What `/katalog/{crd}/health` reports for one OperatorBox (Orkestra's `CRDHealth`).
//!
//! [`Health`] is updated by every worker of the box after each reconcile and read by the HTTP
//! API through [`Health::snapshot`]. A box goes `pending → started → healthy`, becomes
//! `degraded` once `consecutiveFails` reaches the failure threshold, and is `healthy` again
//! after its next success. The last error is kept after recovery, as an audit.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use super::workers::{Outcome, Report, ReportSink};
use crate::go_format::{format_go_duration, format_time};

/// The state of a box as `/katalog` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Not started: its dependencies are not ready, its CRD is missing, or this replica is not
    /// the leader.
    Pending,
    /// Started, no reconcile finished yet.
    Started,
    /// Started, and fewer consecutive failures than the threshold.
    Healthy,
    /// As many consecutive failures as the threshold, or more.
    Degraded,
    /// Held by a reconcile gate.
    Gated,
}

/// The health record of one box. Cloning gives another handle to the same record.
///
/// `healthy` (and HTTP 200) means started, not gated, and fewer consecutive failures than the
/// threshold; a started box without any object to reconcile is healthy.
#[derive(Clone, Debug)]
pub struct Health {
    failure_threshold: u32,
    record: Arc<Mutex<Record>>,
}

#[derive(Debug, Default)]
struct Record {
    started_at: Option<OffsetDateTime>,
    gated: bool,
    total: u64,
    failed: u64,
    consecutive_fails: u32,
    last_error: String,
    last_reconcile: Option<OffsetDateTime>,
    /// Why the box's watch cannot reach the API server right now.
    /// Per failing watch (its name), why it cannot reach the API server right now.
    watch_errors: std::collections::BTreeMap<String, String>,
    last_success: Option<OffsetDateTime>,
    /// The dependencies the box waits for, when that is why it is pending.
    waiting_on: Vec<String>,
    /// How long the most recent reconciles took, oldest first (at most [`RECENT`]).
    recent: std::collections::VecDeque<Duration>,
}

/// How many reconcile durations [`Health::latency_ms`] looks at.
const RECENT: usize = 256;

impl Default for Health {
    /// A record with Orkestra's default failure threshold of 5.
    fn default() -> Self {
        Self::new(5)
    }
}

impl Health {
    /// A pending record that degrades after `failure_threshold` consecutive failures (at
    /// least 1).
    pub fn new(failure_threshold: u32) -> Self {
        Self {
            failure_threshold: failure_threshold.max(1),
            record: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Record> {
        // Nothing panics while holding this lock; a poisoned record is still whole.
        self.record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Consecutive failures that make the box degraded.
    pub fn failure_threshold(&self) -> u32 {
        self.failure_threshold
    }

    /// The box started its workers now.
    pub fn mark_started(&self) {
        self.mark_started_at(OffsetDateTime::now_utc());
    }

    /// The box started its workers at `at`.
    pub fn mark_started_at(&self, at: OffsetDateTime) {
        self.lock().started_at = Some(at);
    }

    /// The box stopped (deactivated or lost the lease): pending again. Counters stay.
    pub fn mark_stopped(&self) {
        self.lock().started_at = None;
    }

    /// A reconcile gate closed (`true`) or opened (`false`).
    pub fn set_gated(&self, gated: bool) {
        self.lock().gated = gated;
    }

    /// A reconcile succeeded now.
    pub fn record_success(&self) {
        let mut record = self.lock();
        record.total += 1;
        record.gated = false;
        record.consecutive_fails = 0;
        let now = OffsetDateTime::now_utc();
        record.last_reconcile = Some(now);
        record.last_success = Some(now);
    }

    /// True when a reconcile succeeded since the box last started and none failed after it:
    /// what a `dependsOn` condition `healthy` waits for.
    pub fn succeeded_since_start(&self) -> bool {
        let record = self.lock();
        record.consecutive_fails == 0
            && matches!((record.started_at, record.last_success), (Some(start), Some(ok)) if ok >= start)
    }

    /// The dependencies the box waits for before it may start (empty: none).
    pub fn set_waiting_on(&self, dependencies: Vec<String>) {
        self.lock().waiting_on = dependencies;
    }

    /// The dependencies the box waits for before it may start.
    pub fn waiting_on(&self) -> Vec<String> {
        self.lock().waiting_on.clone()
    }

    /// The reconcile counters now, without the formatting of a full [`Health::snapshot`].
    pub fn counts(&self) -> Counts {
        let record = self.lock();
        Counts {
            total: record.total,
            failed: record.failed,
            consecutive_fails: record.consecutive_fails,
        }
    }

    /// Mean and 99th-percentile duration of the recent reconciles, in milliseconds (0 when
    /// there were none).
    pub fn latency_ms(&self) -> (f64, f64) {
        let mut recent: Vec<Duration> = self.lock().recent.iter().copied().collect();
        if recent.is_empty() {
            return (0.0, 0.0);
        }
        recent.sort_unstable();
        let total: Duration = recent.iter().sum();
        // At most RECENT entries: exact in f64 and u32.
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        let mean = total.as_secs_f64() * 1000.0 / recent.len() as f64;
        let p99 = recent[(recent.len() * 99).div_ceil(100) - 1].as_secs_f64() * 1000.0;
        (mean, p99)
    }

    /// A reconcile failed now with `error`.
    pub fn record_failure(&self, error: &str) {
        let mut record = self.lock();
        record.total += 1;
        record.failed += 1;
        record.consecutive_fails = record.consecutive_fails.saturating_add(1);
        error.clone_into(&mut record.last_error);
        record.last_reconcile = Some(OffsetDateTime::now_utc());
    }

    /// The box's watch `watch` (primary, one child kind, one secondary watch…) failed with
    /// `error` (the API server is unreachable, the CRD is missing, access is denied) and
    /// retries with backoff: the box is degraded and `lastError` says why until that same
    /// watch recovers ([`Health::clear_watch_error`]). Each watch counts on its own, so one
    /// watch recovering never hides another that still fails.
    pub fn set_watch_error(&self, watch: &str, error: &str) {
        let mut record = self.lock();
        record
            .watch_errors
            .insert(watch.to_owned(), error.to_owned());
        format!("watch: {error}").clone_into(&mut record.last_error);
    }

    /// The box's watch `watch` works again.
    pub fn clear_watch_error(&self, watch: &str) {
        self.lock().watch_errors.remove(watch);
    }

    /// A tracker of one watch's answers that records its failures here (see
    /// [`WatchHealth`]).
    pub fn watch<'a>(&'a self, crd: &'a str, what: &'a str) -> WatchHealth<'a> {
        WatchHealth {
            health: self,
            crd,
            what,
            failing: false,
        }
    }

    /// Why a watch of the box fails now, if one does (the first by name when several do).
    pub fn watch_error(&self) -> Option<String> {
        self.lock().watch_errors.values().next().cloned()
    }

    /// The state now.
    pub fn state(&self) -> State {
        self.state_of(&self.lock())
    }

    /// True when the box is started, not gated, and below the failure threshold.
    pub fn is_healthy(&self) -> bool {
        matches!(self.state(), State::Started | State::Healthy)
    }

    fn state_of(&self, record: &Record) -> State {
        if record.gated {
            State::Gated
        } else if record.started_at.is_none() {
            State::Pending
        } else if record.consecutive_fails >= self.failure_threshold
            || !record.watch_errors.is_empty()
        {
            State::Degraded
        } else if record.total == 0 {
            State::Started
        } else {
            State::Healthy
        }
    }

    /// The `/katalog/{crd}/health` body of box `name`, now.
    ///
    /// Fields the record does not know (leadership, queue depth, resource count, dependency
    /// health) are left at zero or false for the caller to fill in.
    pub fn snapshot(&self, name: &str) -> HealthSnapshot {
        self.snapshot_at(name, OffsetDateTime::now_utc())
    }

    /// The `/katalog/{crd}/health` body of box `name` as of `now` (which sets the uptime).
    pub fn snapshot_at(&self, name: &str, now: OffsetDateTime) -> HealthSnapshot {
        let record = self.lock();
        let state = self.state_of(&record);
        let healthy = matches!(state, State::Started | State::Healthy);
        let uptime = record
            .started_at
            .map(|at| Duration::try_from(now - at).unwrap_or_default())
            .unwrap_or_default();
        let error_rate = Counts {
            total: record.total,
            failed: record.failed,
            consecutive_fails: record.consecutive_fails,
        }
        .error_rate();
        HealthSnapshot {
            name: name.to_owned(),
            state,
            status: if healthy { 200 } else { 503 },
            is_konductor: false,
            healthy,
            started: record.started_at.is_some(),
            pending: state == State::Pending,
            started_at: format_time(record.started_at),
            uptime: format_go_duration(uptime),
            queue_depth: 0,
            error_rate,
            consecutive_fails: record.consecutive_fails,
            failure_threshold: self.failure_threshold,
            total_reconciles: record.total,
            failed_reconciles: record.failed,
            resource_count: 0,
            last_error: record.last_error.clone(),
            last_reconcile: format_time(record.last_reconcile),
            has_unhealthy_dependencies: !record.waiting_on.is_empty(),
        }
    }
}

/// The reconcile counters of a box (see [`Health::counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Reconciles finished.
    pub total: u64,
    /// Of which failed.
    pub failed: u64,
    /// Failures since the last success.
    pub consecutive_fails: u32,
}

impl Counts {
    /// Failed / total; 0 before any reconcile.
    pub fn error_rate(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        // Counts stay far below 2^52, where f64 is exact.
        #[allow(clippy::cast_precision_loss)]
        let rate = self.failed as f64 / self.total as f64;
        rate
    }
}

impl<K> ReportSink<K> for Health {
    fn finished(&self, _key: &K, report: &Report) {
        if report.outcome == Outcome::Gated {
            // Idle, not degraded, until the next successful reconcile.
            self.set_gated(true);
            return;
        }
        match report.error() {
            None => self.record_success(),
            Some(error) => self.record_failure(error),
        }
        let mut record = self.lock();
        if record.recent.len() == RECENT {
            record.recent.pop_front();
        }
        record.recent.push_back(report.duration);
    }
}

/// The JSON body of `GET /katalog/{crd}/health` (§14.2 of the Orkestra spec, field names as
/// there), plus `failedReconciles` and `failureThreshold`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthSnapshot {
    /// The CRD name as declared in the Katalog.
    pub name: String,
    /// The state.
    pub state: State,
    /// The HTTP status to answer with: 200 when healthy, 503 otherwise.
    pub status: u16,
    /// Whether this replica holds the lease (filled in by the caller).
    pub is_konductor: bool,
    /// Started, not gated, below the failure threshold.
    pub healthy: bool,
    /// Whether the box's workers run.
    pub started: bool,
    /// Whether the state is `pending`.
    pub pending: bool,
    /// When the box started, RFC 3339 in UTC to the second; empty when pending.
    pub started_at: String,
    /// Time since start in Go's duration format (`11m47s`); `0s` when pending.
    pub uptime: String,
    /// Keys waiting in the queue (filled in by the caller).
    pub queue_depth: usize,
    /// Failed reconciles over all reconciles, 0 when there were none.
    pub error_rate: f64,
    /// Failures since the last success.
    pub consecutive_fails: u32,
    /// Consecutive failures that make the box degraded.
    pub failure_threshold: u32,
    /// Reconciles finished since the process started.
    pub total_reconciles: u64,
    /// Of those, the failed ones.
    pub failed_reconciles: u64,
    /// Objects of this CRD in the cache (filled in by the caller).
    pub resource_count: usize,
    /// The last error, kept after recovery; empty when none happened.
    pub last_error: String,
    /// When the last reconcile finished, RFC 3339; empty when none did.
    pub last_reconcile: String,
    /// Whether a `dependsOn` dependency is unhealthy (filled in by the caller).
    pub has_unhealthy_dependencies: bool,
}

/// One watch's answers as the box's health and logs see them: each error is logged and
/// recorded under the watch's name ([`Health::set_watch_error`]); the first answer after errors
/// clears it and logs the recovery.
pub struct WatchHealth<'a> {
    health: &'a Health,
    crd: &'a str,
    what: &'a str,
    failing: bool,
}

impl WatchHealth<'_> {
    /// The item when the watch answered; `None`, with the error recorded, when it failed
    /// (the watcher retries with its backoff).
    pub fn check<T, E: std::fmt::Display>(&mut self, item: Result<T, E>) -> Option<T> {
        match item {
            Ok(item) => {
                if std::mem::take(&mut self.failing) {
                    tracing::info!(crd = %self.crd, watch = %self.what, "watch recovered");
                    self.health.clear_watch_error(self.what);
                }
                Some(item)
            }
            Err(error) => {
                let message = format!("{}: {error}", self.what);
                tracing::warn!(crd = %self.crd, error = %message, "watch failed; retrying with backoff");
                self.health.set_watch_error(self.what, &message);
                self.failing = true;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_watch_failure_is_recorded_until_the_watch_answers_again() {
        let health = Health::default();
        let mut answers = health.watch("web", "ConfigMap watch");
        assert_eq!(answers.check::<u8, &str>(Ok(1)), Some(1));
        assert_eq!(answers.check::<u8, _>(Err("connection refused")), None);
        assert_eq!(
            health.watch_error().as_deref(),
            Some("ConfigMap watch: connection refused")
        );
        assert_eq!(answers.check::<u8, &str>(Ok(2)), Some(2));
        assert_eq!(health.watch_error(), None);
    }

    #[test]
    fn a_new_record_is_pending_and_a_started_one_healthy() {
        let health = Health::default();
        assert_eq!(health.state(), State::Pending);
        assert!(!health.is_healthy());
        health.mark_started();
        assert_eq!(health.state(), State::Started);
        assert!(
            health.is_healthy(),
            "a box with nothing to reconcile is healthy"
        );
        health.record_success();
        assert_eq!(health.state(), State::Healthy);
        health.mark_stopped();
        assert_eq!(health.state(), State::Pending);
    }

    #[test]
    fn health_degrades_at_the_threshold_and_recovers_on_success() {
        let health = Health::new(3);
        health.mark_started();
        health.record_failure("first");
        health.record_failure("second");
        assert_eq!(health.state(), State::Healthy, "below the threshold");
        health.record_failure("apply failed");
        assert_eq!(health.state(), State::Degraded);
        assert!(!health.is_healthy());
        health.record_success();
        assert_eq!(health.state(), State::Healthy);
        let snapshot = health.snapshot("website");
        assert_eq!(snapshot.consecutive_fails, 0);
        assert_eq!(snapshot.total_reconciles, 4);
        assert_eq!(snapshot.failed_reconciles, 3);
        assert_eq!(snapshot.last_error, "apply failed", "kept as audit");
        assert!((snapshot.error_rate - 0.75).abs() < f64::EPSILON);
    }

    #[test]
    fn a_failing_watch_degrades_the_box_until_it_recovers() {
        let health = Health::default();
        health.mark_started();
        health.record_success();
        health.set_watch_error("primary", "connection refused");
        assert_eq!(health.state(), State::Degraded);
        assert_eq!(
            health.snapshot("web").last_error,
            "watch: connection refused"
        );
        assert_eq!(health.watch_error().as_deref(), Some("connection refused"));
        health.clear_watch_error("primary");
        assert_eq!(health.state(), State::Healthy);
        assert_eq!(health.watch_error(), None);
    }

    #[test]
    fn one_watch_recovering_does_not_hide_another_that_still_fails() {
        let health = Health::default();
        health.mark_started();
        health.record_success();
        health.set_watch_error("primary", "connection refused");
        health.set_watch_error("ConfigMap.v1 children", "forbidden");
        health.clear_watch_error("primary");
        assert_eq!(health.state(), State::Degraded);
        assert_eq!(health.watch_error().as_deref(), Some("forbidden"));
        health.clear_watch_error("ConfigMap.v1 children");
        assert_eq!(health.state(), State::Healthy);
    }

    #[test]
    fn reports_count_failures_and_panics_and_a_gated_one_idles() {
        let health = Health::new(2);
        health.mark_started();
        let report = |outcome| Report {
            duration: Duration::from_millis(5),
            outcome,
        };
        let panicked = Outcome::Panicked {
            message: "reconciler panic: boom".into(),
        };
        for outcome in [
            Outcome::Succeeded,
            Outcome::Failed {
                message: "x".into(),
            },
            panicked,
        ] {
            ReportSink::<u32>::finished(&health, &0, &report(outcome));
        }
        assert_eq!(health.state(), State::Degraded, "two failures in a row");
        let snapshot = health.snapshot("website");
        assert_eq!(
            (snapshot.total_reconciles, snapshot.failed_reconciles),
            (3, 2)
        );
        assert_eq!(snapshot.last_error, "reconciler panic: boom");
        ReportSink::<u32>::finished(&health, &0, &report(Outcome::Gated));
        assert_eq!(health.counts().total, 3, "a gated cycle ran no reconcile");
        assert_eq!(health.state(), State::Gated);
    }

    #[test]
    fn a_gate_overrides_every_other_state() {
        let health = Health::new(1);
        health.mark_started();
        health.record_failure("x");
        health.set_gated(true);
        assert_eq!(health.state(), State::Gated);
        assert_eq!(health.snapshot("a").status, 503);
        health.set_gated(false);
        assert_eq!(health.state(), State::Degraded);
    }

    #[test]
    fn the_snapshot_serialises_to_the_orkestra_field_names() {
        let health = Health::new(5);
        health.mark_started_at(datetime!(2026-07-02 05:53:38.250 UTC));
        health.record_failure("boom");
        let mut snapshot = health.snapshot_at("website", datetime!(2026-07-02 06:05:25.9 UTC));
        snapshot.is_konductor = true;
        snapshot.queue_depth = 2;
        snapshot.resource_count = 1;
        let json = serde_json::to_value(&snapshot).unwrap();
        let last_reconcile = json["lastReconcile"].as_str().unwrap().to_owned();
        assert!(last_reconcile.ends_with('Z') && !last_reconcile.contains('.'));
        assert_eq!(
            json,
            serde_json::json!({
                "name": "website", "state": "healthy", "status": 200, "isKonductor": true,
                "healthy": true, "started": true, "pending": false,
                "startedAt": "2026-07-02T05:53:38Z", "uptime": "11m47s", "queueDepth": 2,
                "errorRate": 1.0, "consecutiveFails": 1, "failureThreshold": 5,
                "totalReconciles": 1, "failedReconciles": 1, "resourceCount": 1,
                "lastError": "boom", "lastReconcile": last_reconcile,
                "hasUnhealthyDependencies": false
            })
        );
    }

    #[test]
    fn a_pending_snapshot_has_empty_times_and_status_503() {
        let json = serde_json::to_value(Health::default().snapshot("db")).unwrap();
        assert_eq!(json["state"], "pending");
        assert_eq!(json["status"], 503);
        assert_eq!(json["pending"], true);
        assert_eq!(json["startedAt"], "");
        assert_eq!(json["uptime"], "0s");
        assert_eq!(json["lastReconcile"], "");
    }
}
