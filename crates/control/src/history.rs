//! The small time series the CRD page plots: reconcile rate, error rate and p99 latency, computed
//! between consecutive samples of the leader's counters (`controller_reconcile_total`,
//! `controller_reconcile_duration_seconds_bucket`), read through `/api/v1/query`. No Prometheus
//! needed; the series start when the Control Center does and keep the last [`KEEP`] points.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;
use serde_json::Value;

/// Samples kept per CRD.
pub const KEEP: usize = 60;

/// The counters of one CRD at one time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    /// Unix time, seconds.
    pub time: f64,
    /// Reconciles that succeeded.
    pub success: f64,
    /// Reconciles that failed.
    pub errors: f64,
    /// Cumulative histogram buckets: upper bound (seconds) and count, ascending.
    pub buckets: Vec<(f64, f64)>,
}

/// What the CRD page plots, one value per interval between samples.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    /// End of each interval, Unix seconds.
    pub time: Vec<f64>,
    /// Reconciles per second.
    pub rate: Vec<f64>,
    /// Failed over all reconciles in the interval (0 when none ran).
    pub error_rate: Vec<f64>,
    /// p99 reconcile latency in milliseconds, `null` when none ran.
    pub p99_ms: Vec<Option<f64>>,
}

/// Samples per Katalog and CRD.
#[derive(Debug, Default)]
pub struct History {
    samples: BTreeMap<(String, String), VecDeque<Sample>>,
}

impl History {
    /// Adds `sample` for `crd` of `katalog`, forgetting the oldest beyond [`KEEP`] + 1.
    pub fn record(&mut self, katalog: &str, crd: &str, sample: Sample) {
        let samples = self
            .samples
            .entry((katalog.to_owned(), crd.to_owned()))
            .or_default();
        samples.push_back(sample);
        while samples.len() > KEEP + 1 {
            samples.pop_front();
        }
    }

    /// The series of `crd` of `katalog`, or `None` before two samples exist.
    pub fn series(&self, katalog: &str, crd: &str) -> Option<Series> {
        let samples = self.samples.get(&(katalog.to_owned(), crd.to_owned()))?;
        if samples.len() < 2 {
            return None;
        }
        let mut series = Series::default();
        for (before, after) in samples.iter().zip(samples.iter().skip(1)) {
            let seconds = after.time - before.time;
            let success = after.success - before.success;
            let errors = after.errors - before.errors;
            if seconds <= 0.0 || success < 0.0 || errors < 0.0 {
                continue; // a restarted runtime reset its counters
            }
            let total = success + errors;
            series.time.push(after.time);
            series.rate.push(total / seconds);
            series
                .error_rate
                .push(if total > 0.0 { errors / total } else { 0.0 });
            series
                .p99_ms
                .push(quantile(0.99, &before.buckets, &after.buckets).map(|s| s * 1000.0));
        }
        Some(series)
    }
}

/// The `q` quantile of the observations between two cumulative histograms, interpolated
/// linearly within a bucket as Prometheus' `histogram_quantile` does.
pub fn quantile(q: f64, before: &[(f64, f64)], after: &[(f64, f64)]) -> Option<f64> {
    let counted = |le: f64| {
        before
            .iter()
            .find(|(b, _)| *b == le)
            .map_or(0.0, |(_, c)| *c)
    };
    let deltas: Vec<(f64, f64)> = after
        .iter()
        .map(|&(le, count)| (le, count - counted(le)))
        .collect();
    let total = deltas.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower = (0.0, 0.0);
    for &(le, count) in &deltas {
        if count >= rank {
            if le.is_infinite() {
                return Some(lower.0);
            }
            let within = count - lower.1;
            let fraction = if within > 0.0 {
                (rank - lower.1) / within
            } else {
                1.0
            };
            return Some(lower.0 + (le - lower.0) * fraction);
        }
        lower = (le, count);
    }
    None
}

/// Per CRD name, its sample from the answers of `/api/v1/query` for
/// `controller_reconcile_total` and `controller_reconcile_duration_seconds_bucket`.
pub fn samples_of(totals: &Value, buckets: &Value) -> BTreeMap<String, Sample> {
    let mut by_crd: BTreeMap<String, Sample> = BTreeMap::new();
    for (labels, time, value) in vector(totals) {
        let sample = by_crd.entry(label(labels, "crd")).or_default();
        sample.time = time;
        match labels["result"].as_str() {
            Some("success") => sample.success += value,
            _ => sample.errors += value,
        }
    }
    for (labels, _, value) in vector(buckets) {
        let le = match labels["le"].as_str() {
            Some("+Inf") => f64::INFINITY,
            Some(text) => match text.parse() {
                Ok(le) => le,
                Err(_) => continue,
            },
            None => continue,
        };
        if let Some(sample) = by_crd.get_mut(&label(labels, "crd")) {
            sample.buckets.push((le, value));
        }
    }
    for sample in by_crd.values_mut() {
        sample
            .buckets
            .sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    }
    by_crd
}

fn label(labels: &Value, name: &str) -> String {
    labels[name].as_str().unwrap_or_default().to_owned()
}

/// The `(labels, time, value)` of each element of an instant-query vector answer.
fn vector(answer: &Value) -> impl Iterator<Item = (&Value, f64, f64)> {
    answer["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|element| {
            let time = element["value"][0].as_f64()?;
            let value = element["value"][1].as_str()?.parse().ok()?;
            Some((&element["metric"], time, value))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample(time: f64, success: f64, errors: f64, buckets: &[(f64, f64)]) -> Sample {
        Sample {
            time,
            success,
            errors,
            buckets: buckets.to_vec(),
        }
    }

    #[test]
    fn rates_are_per_interval_and_a_counter_reset_is_skipped() {
        let mut history = History::default();
        history.record("k", "web", sample(100.0, 10.0, 0.0, &[]));
        assert_eq!(history.series("k", "web"), None);
        history.record("k", "web", sample(110.0, 28.0, 2.0, &[]));
        history.record("k", "web", sample(120.0, 1.0, 0.0, &[]));
        history.record("k", "web", sample(130.0, 1.0, 0.0, &[]));
        let series = history.series("k", "web").unwrap();
        assert_eq!(series.time, [110.0, 130.0]);
        assert_eq!(series.rate, [2.0, 0.0]);
        assert_eq!(series.error_rate, [0.1, 0.0]);
        assert_eq!(series.p99_ms, [None, None]);
    }

    #[test]
    fn only_the_last_samples_are_kept() {
        let mut history = History::default();
        for i in 0..(KEEP + 20) {
            history.record("k", "web", sample(i as f64, i as f64, 0.0, &[]));
        }
        assert_eq!(history.series("k", "web").unwrap().time.len(), KEEP);
    }

    #[test]
    fn the_quantile_interpolates_within_the_bucket_of_the_new_observations() {
        let before = [(0.1, 50.0), (1.0, 50.0), (f64::INFINITY, 50.0)];
        // 100 new observations: 90 under 100 ms, 10 between 100 ms and 1 s.
        let after = [(0.1, 140.0), (1.0, 150.0), (f64::INFINITY, 150.0)];
        let p99 = quantile(0.99, &before, &after).unwrap();
        assert!((p99 - 0.91).abs() < 1e-9, "{p99}");
        assert_eq!(quantile(0.99, &after, &after), None);
        let beyond = [(0.1, 0.0), (f64::INFINITY, 5.0)];
        assert_eq!(quantile(0.99, &[], &beyond), Some(0.1));
    }

    #[test]
    fn samples_are_read_from_instant_query_answers() {
        let totals = json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"__name__": "controller_reconcile_total", "crd": "web", "result": "success"}, "value": [5.0, "8"]},
            {"metric": {"__name__": "controller_reconcile_total", "crd": "web", "result": "error"}, "value": [5.0, "2"]},
        ]}});
        let buckets = json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"crd": "web", "le": "+Inf"}, "value": [5.0, "10"]},
            {"metric": {"crd": "web", "le": "0.5"}, "value": [5.0, "9"]},
            {"metric": {"crd": "other", "le": "0.5"}, "value": [5.0, "9"]},
        ]}});
        let samples = samples_of(&totals, &buckets);
        assert_eq!(
            samples["web"],
            sample(5.0, 8.0, 2.0, &[(0.5, 9.0), (f64::INFINITY, 10.0)])
        );
        assert_eq!(samples.len(), 1);
    }
}
