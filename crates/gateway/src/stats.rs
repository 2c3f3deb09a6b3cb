//! The per-CRD counters the gateway's `/katalog` serves (§14.2): validation totals, denials and
//! p95 latency, deletion-protection totals and blocks, conversion totals, failures, average and
//! p95 latency. [`Metrics`](crate::metrics::Metrics) records into them as it records its
//! Prometheus series; [`Stats::add_to`] writes them into a `/katalog` CRD entry.
//!
//! Counters are keyed by Kind, as the admission and conversion requests name it. They count
//! since the process started; each p95 is exact over the last [`WINDOW`] observations of that
//! Kind (older ones are forgotten, so a p95 reflects recent traffic).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};

/// Observations kept per Kind and kind of request for the p95.
pub const WINDOW: usize = 1000;

/// Counts and recent latencies of one kind of request for one Kind.
#[derive(Debug, Default)]
struct Counter {
    total: u64,
    refused: u64,
    seconds_sum: f64,
    recent: VecDeque<f64>,
}

impl Counter {
    fn record(&mut self, ok: bool, took: Duration) {
        let seconds = took.as_secs_f64();
        self.total += 1;
        self.refused += u64::from(!ok);
        self.seconds_sum += seconds;
        self.recent.push_back(seconds);
        if self.recent.len() > WINDOW {
            self.recent.pop_front();
        }
    }

    /// The 95th percentile of the recent latencies in milliseconds (nearest rank), 0 when
    /// none.
    fn p95_ms(&self) -> f64 {
        let mut sorted: Vec<f64> = self.recent.iter().copied().collect();
        if sorted.is_empty() {
            return 0.0;
        }
        sorted.sort_by(f64::total_cmp);
        let rank = ((sorted.len() as f64) * 0.95).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1] * 1000.0
    }

    fn average_ms(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.seconds_sum / self.total as f64 * 1000.0
        }
    }
}

#[derive(Debug, Default)]
struct KindStats {
    validation: Counter,
    deletion: Counter,
    conversion: Counter,
}

/// Every Kind's counters.
#[derive(Debug, Default)]
pub struct Stats {
    kinds: Mutex<BTreeMap<String, KindStats>>,
}

impl Stats {
    fn with(&self, kind: &str, update: impl FnOnce(&mut KindStats)) {
        let mut kinds = self.kinds.lock().unwrap_or_else(PoisonError::into_inner);
        update(kinds.entry(kind.to_owned()).or_default());
    }

    /// Records one admission answer of `webhook` (`validate`, `deletion-protection`, …) for
    /// `kind`; other webhooks than those two are not counted here.
    pub fn admission(&self, webhook: &str, kind: &str, allowed: bool, took: Duration) {
        match webhook {
            "validate" => self.with(kind, |s| s.validation.record(allowed, took)),
            "deletion-protection" => self.with(kind, |s| s.deletion.record(allowed, took)),
            _ => {}
        }
    }

    /// Records one converted object of `kind`.
    pub fn conversion(&self, kind: &str, ok: bool, took: Duration) {
        self.with(kind, |s| s.conversion.record(ok, took));
    }

    /// Adds `kind`'s counters to a `/katalog` CRD `entry`, under §14.2's names:
    /// `admission.validationTotal`, `.validationDenied`, `.valP95LatencyMs`;
    /// `deletionProtection.total`, `.blocked`; and, when the entry has a `conversion` object,
    /// `conversion.total`, `.success`, `.failures`, `.avgLatencyMs`, `.p95LatencyMs`. A Kind
    /// with no request yet shows zeros.
    pub fn add_to(&self, kind: &str, entry: &mut Value) {
        let kinds = self.kinds.lock().unwrap_or_else(PoisonError::into_inner);
        let empty = KindStats::default();
        let stats = kinds.get(kind).unwrap_or(&empty);
        let put = |object: Option<&mut Value>, fields: Value| {
            if let (Some(Value::Object(object)), Value::Object(fields)) = (object, fields) {
                object.extend(fields);
            }
        };
        let v = &stats.validation;
        put(
            entry.get_mut("admission"),
            json!({"validationTotal": v.total, "validationDenied": v.refused,
                   "valP95LatencyMs": v.p95_ms()}),
        );
        let d = &stats.deletion;
        put(
            entry.get_mut("deletionProtection"),
            json!({"total": d.total, "blocked": d.refused}),
        );
        let c = &stats.conversion;
        put(
            entry.get_mut("conversion"),
            json!({"total": c.total, "success": c.total - c.refused, "failures": c.refused,
                   "avgLatencyMs": c.average_ms(), "p95LatencyMs": c.p95_ms()}),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn entry() -> Value {
        json!({"admission": {"validation": true}, "deletionProtection": {"protectCRD": true},
               "conversion": {"storageVersion": "v2"}})
    }

    #[test]
    fn validations_denials_and_the_p95_are_counted_per_kind() {
        let stats = Stats::default();
        for i in 1..=100 {
            stats.admission("validate", "Website", i % 10 != 0, ms(i));
        }
        stats.admission("validate", "Other", false, ms(500));
        stats.admission("mutate", "Website", true, ms(900));
        let mut website = entry();
        stats.add_to("Website", &mut website);
        let admission = &website["admission"];
        assert_eq!(admission["validation"], true, "existing fields are kept");
        assert_eq!(admission["validationTotal"], 100);
        assert_eq!(admission["validationDenied"], 10);
        assert_eq!(admission["valP95LatencyMs"], 95.0);
    }

    #[test]
    fn deletion_blocks_and_conversions_are_counted() {
        let stats = Stats::default();
        stats.admission("deletion-protection", "Website", false, ms(1));
        stats.admission("deletion-protection", "Website", true, ms(1));
        stats.conversion("Website", true, ms(2));
        stats.conversion("Website", false, ms(4));
        let mut website = entry();
        stats.add_to("Website", &mut website);
        assert_eq!(website["deletionProtection"]["total"], 2);
        assert_eq!(website["deletionProtection"]["blocked"], 1);
        let conversion = &website["conversion"];
        assert_eq!(
            (
                &conversion["total"],
                &conversion["success"],
                &conversion["failures"]
            ),
            (&json!(2), &json!(1), &json!(1))
        );
        assert_eq!(conversion["avgLatencyMs"], 3.0);
        assert_eq!(conversion["p95LatencyMs"], 4.0);
    }

    #[test]
    fn the_p95_forgets_observations_beyond_the_window_and_no_conversion_block_gets_none() {
        let stats = Stats::default();
        for _ in 0..WINDOW {
            stats.admission("validate", "Website", true, ms(1000));
        }
        for _ in 0..WINDOW {
            stats.admission("validate", "Website", true, ms(1));
        }
        let mut website = json!({"admission": {}, "deletionProtection": {}, "conversion": null});
        stats.add_to("Website", &mut website);
        assert_eq!(website["admission"]["valP95LatencyMs"], 1.0);
        assert_eq!(website["admission"]["validationTotal"], 2 * WINDOW);
        assert_eq!(website["conversion"], Value::Null);
        let mut idle = entry();
        stats.add_to("Idle", &mut idle);
        assert_eq!(idle["admission"]["validationTotal"], 0);
    }
}
