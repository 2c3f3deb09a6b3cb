//! The `controller_*` metrics of every OperatorBox, labelled by CRD, in OpenMetrics text.
//!
//! | family                                        | type      | labels          |
//! |-----------------------------------------------|-----------|-----------------|
//! | `controller_reconcile_total`                  | counter   | `crd`, `result` |
//! | `controller_reconcile_duration_seconds`       | histogram | `crd`           |
//! | `controller_queue_depth`                      | gauge     | `crd`           |
//! | `controller_workers_active`                   | gauge     | `crd`           |
//! | `controller_resource_count`                   | gauge     | `crd`           |
//! | `controller_crd_activation_latency_seconds`   | histogram | `crd`           |
//! | `controller_crd_activation_total`             | counter   | `crd`, `result` |
//! | `orkestra_external_call_total`                | counter   | `crd`, `name`, `result` |
//! | `orkestra_external_call_duration_seconds`     | histogram | `crd`, `name`   |
//! | `controller_api_retries_total`                | counter   | `code`          |
//! | `controller_queue_dropped_total`              | counter   | `crd`, `rule`   |
//! | `orkestra_orphan_cleanup_total`               | counter   | `crd`, `result` |
//! | `orkestra_rollback_total`                     | counter   | `crd`           |
//! | `orkestra_rollback_active`                    | gauge     | `crd`           |
//! | `orkestra_autoscale_overrides_total`          | counter   | `crd`           |
//! | `orkestra_autoscale_restores_total`           | counter   | `crd`           |
//!
//! `orkestra_rollback_total` counts the CRs rolled back to their last successful spec;
//! `orkestra_rollback_active` is how many are held there now (see `reconcile::rollback`).
//!
//! `controller_api_retries_total` counts the API requests retried after a 429, 503 or 504
//! answer (`code`; `0` for a failure without an answer), see [`crate::api_retry`].
//!
//! `controller_queue_dropped_total` counts new items `queue.behaviour` dropped, by the rule
//! that dropped them (`rule`: `onThreshold` or `onLimit`); the next resync queues them again.
//!
//! `orkestra_orphan_cleanup_total` counts the children of gone CRs the box dealt with itself
//! (see `operator_box::cleanup`): `result` is `deleted`, `gone` (gone already, recreated or
//! re-owned), `shared` (another owner: left to the garbage collector) or `error`.
//!
//! `result` is `success` or `error` (for external calls also `skipped`: `when:` did not hold; and `stubbed` under `ork simulate --skip-external`). The value of `crd` is **the CRD name as declared in the
//! Katalog** (the key of `/katalog/{crd}`), not Orkestra's GVK string: it is stable across
//! version bumps, needs no escaping, and lets a dashboard join metrics with the HTTP API.
//! Histograms use Prometheus' default buckets (5 ms to 10 s).
//!
//! There is no global registry: a [`Metrics`] owns its own. Gauges of live state (queue depth,
//! active workers, resource count) are set by their owner, typically sampled right before
//! [`Metrics::encode`].

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::work::{Outcome, Report, ReportSink};

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus' default histogram buckets, in seconds.
const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CrdLabels {
    crd: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    crd: String,
    result: ResultLabel,
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum ResultLabel {
    Success,
    Error,
}

impl ResultLabel {
    fn of(success: bool) -> Self {
        if success { Self::Success } else { Self::Error }
    }
}

impl EncodeLabelValue for ResultLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        let text = match self {
            Self::Success => "success",
            Self::Error => "error",
        };
        EncodeLabelValue::encode(&text, encoder)
    }
}

type Histograms = Family<CrdLabels, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    crd: String,
    name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallResultLabels {
    crd: String,
    name: String,
    result: String,
}

type CallHistograms = Family<CallLabels, Histogram, fn() -> Histogram>;

fn default_histogram() -> Histogram {
    Histogram::new(DEFAULT_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    crd: String,
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrphanLabels {
    crd: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

/// Every family; each is a shared handle, so clones write to the same series.
#[derive(Clone, Debug)]
struct Families {
    reconciles: Family<ResultLabels, Counter>,
    reconcile_duration: Histograms,
    queue_depth: Family<CrdLabels, Gauge>,
    workers_active: Family<CrdLabels, Gauge>,
    resource_count: Family<CrdLabels, Gauge>,
    activation_latency: Histograms,
    activations: Family<ResultLabels, Counter>,
    autoscale_overrides: Family<CrdLabels, Counter>,
    autoscale_restores: Family<CrdLabels, Counter>,
    rollbacks: Family<CrdLabels, Counter>,
    rollback_active: Family<CrdLabels, Gauge>,
    external_calls: Family<CallResultLabels, Counter>,
    external_duration: CallHistograms,
    api_retries: Family<CodeLabels, Counter>,
    queue_dropped: Family<RuleLabels, Counter>,
    orphans: Family<OrphanLabels, Counter>,
}

/// The metrics of one runtime process: a registry of the `controller_*` families.
///
/// Cloning gives another handle to the same metrics.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Arc<Registry>,
    families: Families,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry holding the `controller_*` and `orkestra_autoscale_*` families, with no
    /// series yet.
    pub fn new() -> Self {
        let histograms = || Histograms::new_with_constructor(default_histogram);
        let families = Families {
            reconciles: Family::default(),
            reconcile_duration: histograms(),
            queue_depth: Family::default(),
            workers_active: Family::default(),
            resource_count: Family::default(),
            activation_latency: histograms(),
            activations: Family::default(),
            autoscale_overrides: Family::default(),
            autoscale_restores: Family::default(),
            rollbacks: Family::default(),
            rollback_active: Family::default(),
            external_calls: Family::default(),
            external_duration: CallHistograms::new_with_constructor(default_histogram),
            api_retries: Family::default(),
            queue_dropped: Family::default(),
            orphans: Family::default(),
        };
        let mut registry = Registry::default();
        let counters = [
            (
                "controller_reconcile",
                "Reconciles finished, by CRD and result",
                &families.reconciles,
            ),
            (
                "controller_crd_activation",
                "CRD activations, by CRD and result",
                &families.activations,
            ),
        ];
        registry.register(
            "controller_api_retries",
            "API requests retried after a throttled or unavailable answer, by status code",
            families.api_retries.clone(),
        );
        for (name, help, family) in counters {
            registry.register(name, help, family.clone());
        }
        registry.register(
            "controller_queue_dropped",
            "New queue items dropped by queue.behaviour, by CRD and rule",
            families.queue_dropped.clone(),
        );
        let autoscale = [
            (
                "orkestra_autoscale_overrides",
                "Times the autoscaler raised a CRD above its baseline",
                &families.autoscale_overrides,
            ),
            (
                "orkestra_autoscale_restores",
                "Times the autoscaler returned a CRD to its baseline",
                &families.autoscale_restores,
            ),
        ];
        for (name, help, family) in autoscale {
            registry.register(name, help, family.clone());
        }
        registry.register(
            "orkestra_rollback",
            "Rollbacks to a CR's last successful spec, by CRD",
            families.rollbacks.clone(),
        );
        registry.register(
            "orkestra_rollback_active",
            "CRs held at their last successful spec, by CRD",
            families.rollback_active.clone(),
        );
        registry.register(
            "orkestra_orphan_cleanup",
            "Children of gone CRs ork dealt with itself, by CRD and result",
            families.orphans.clone(),
        );
        registry.register(
            "orkestra_external_call",
            "External calls, by CRD, call name and result",
            families.external_calls.clone(),
        );
        registry.register_with_unit(
            "orkestra_external_call_duration",
            "Time one external call took, retries included",
            Unit::Seconds,
            families.external_duration.clone(),
        );
        let gauges = [
            (
                "controller_queue_depth",
                "Keys waiting in the work queue",
                &families.queue_depth,
            ),
            (
                "controller_workers_active",
                "Workers inside a reconcile",
                &families.workers_active,
            ),
            (
                "controller_resource_count",
                "Objects of the CRD in the cache",
                &families.resource_count,
            ),
        ];
        for (name, help, family) in gauges {
            registry.register(name, help, family.clone());
        }
        let histograms = [
            (
                "controller_reconcile_duration",
                "Time one reconcile took",
                &families.reconcile_duration,
            ),
            (
                "controller_crd_activation_latency",
                "Time from start of activation to workers running",
                &families.activation_latency,
            ),
        ];
        for (name, help, family) in histograms {
            registry.register_with_unit(name, help, Unit::Seconds, family.clone());
        }
        Self {
            registry: Arc::new(registry),
            families,
        }
    }

    /// Counts one API request retried after an answer with status `code` (0: no answer).
    pub fn record_api_retry(&self, code: u16) {
        self.families
            .api_retries
            .get_or_create(&CodeLabels {
                code: code.to_string(),
            })
            .inc();
    }

    /// The metrics of CRD `crd` (its name as declared in the Katalog).
    ///
    /// Creates its series at zero, so a CRD shows up before its first reconcile.
    pub fn crd(&self, crd: &str) -> CrdMetrics {
        let metrics = CrdMetrics {
            crd: CrdLabels {
                crd: crd.to_owned(),
            },
            families: self.families.clone(),
        };
        let families = &metrics.families;
        for success in [true, false] {
            families
                .reconciles
                .get_or_create_owned(&metrics.result(success));
        }
        families
            .reconcile_duration
            .get_or_create_owned(&metrics.crd);
        for gauges in [
            &families.queue_depth,
            &families.workers_active,
            &families.resource_count,
        ] {
            gauges.get_or_create_owned(&metrics.crd);
        }
        metrics
    }

    /// Every series in OpenMetrics text, ending with `# EOF`.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// The series of one CRD; cheap to clone and to share between workers.
#[derive(Clone, Debug)]
pub struct CrdMetrics {
    crd: CrdLabels,
    families: Families,
}

impl CrdMetrics {
    fn result(&self, success: bool) -> ResultLabels {
        ResultLabels {
            crd: self.crd.crd.clone(),
            result: ResultLabel::of(success),
        }
    }

    /// The CRD name these series carry in their `crd` label.
    pub fn crd(&self) -> &str {
        &self.crd.crd
    }

    /// One reconcile finished after `duration`, successfully or not.
    pub fn record_reconcile(&self, duration: Duration, success: bool) {
        self.families
            .reconciles
            .get_or_create(&self.result(success))
            .inc();
        self.families
            .reconcile_duration
            .get_or_create(&self.crd)
            .observe(duration.as_secs_f64());
    }

    /// One activation of the CRD finished after `latency`, successfully or not.
    pub fn record_activation(&self, latency: Duration, success: bool) {
        self.families
            .activations
            .get_or_create(&self.result(success))
            .inc();
        self.families
            .activation_latency
            .get_or_create(&self.crd)
            .observe(latency.as_secs_f64());
    }

    /// The autoscaler raised the CRD above its baseline (`true`) or returned it (`false`).
    pub fn record_autoscale(&self, raised: bool) {
        let family = if raised {
            &self.families.autoscale_overrides
        } else {
            &self.families.autoscale_restores
        };
        family.get_or_create(&self.crd).inc();
    }

    /// One external call `name` finished with `result` (`success`, `error` or `skipped`)
    /// after `duration` (not observed for a skipped call).
    pub fn record_external(&self, name: &str, result: &str, duration: Option<Duration>) {
        self.families
            .external_calls
            .get_or_create(&CallResultLabels {
                crd: self.crd.crd.clone(),
                name: name.to_owned(),
                result: result.to_owned(),
            })
            .inc();
        if let Some(d) = duration {
            self.families
                .external_duration
                .get_or_create(&CallLabels {
                    crd: self.crd.crd.clone(),
                    name: name.to_owned(),
                })
                .observe(d.as_secs_f64());
        }
    }

    /// One new item was dropped by the `queue.behaviour` rule `rule` (`onThreshold` or
    /// `onLimit`).
    pub fn record_queue_drop(&self, rule: &str) {
        self.families
            .queue_dropped
            .get_or_create(&RuleLabels {
                crd: self.crd.crd.clone(),
                rule: rule.to_owned(),
            })
            .inc();
    }

    /// One child of a gone CR was dealt with: `result` is `deleted`, `gone`, `shared` or
    /// `error` (see `operator_box::cleanup`).
    pub fn record_orphan(&self, result: &str) {
        self.families
            .orphans
            .get_or_create(&OrphanLabels {
                crd: self.crd.crd.clone(),
                result: result.to_owned(),
            })
            .inc();
    }

    /// One CR was rolled back to its last successful spec.
    pub fn record_rollback(&self) {
        self.families.rollbacks.get_or_create(&self.crd).inc();
    }

    /// Sets the gauge of CRs held at their last successful spec.
    pub fn set_rollback_active(&self, active: usize) {
        set(&self.families.rollback_active, &self.crd, active);
    }

    /// (rollbacks since start, CRs held now), zero for a CRD that never rolled back (no
    /// series is created by asking).
    pub fn rollbacks(&self) -> (u64, i64) {
        let total = self.families.rollbacks.get(&self.crd).map(|c| c.get());
        let active = self
            .families
            .rollback_active
            .get(&self.crd)
            .map(|g| g.get());
        (total.unwrap_or_default(), active.unwrap_or_default())
    }

    /// Sets the queue depth gauge.
    pub fn set_queue_depth(&self, depth: usize) {
        set(&self.families.queue_depth, &self.crd, depth);
    }

    /// Sets the active workers gauge.
    pub fn set_workers_active(&self, active: usize) {
        set(&self.families.workers_active, &self.crd, active);
    }

    /// Sets the resource count gauge.
    pub fn set_resource_count(&self, count: usize) {
        set(&self.families.resource_count, &self.crd, count);
    }
}

fn set(family: &Family<CrdLabels, Gauge>, labels: &CrdLabels, value: usize) {
    family
        .get_or_create(labels)
        .set(i64::try_from(value).unwrap_or(i64::MAX));
}

impl<K> ReportSink<K> for CrdMetrics {
    fn finished(&self, _key: &K, report: &Report) {
        // A gated cycle ran no reconcile.
        if report.outcome != Outcome::Gated {
            self.record_reconcile(report.duration, report.is_success());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample line of `series` (name and labels as printed), without its value.
    fn value<'a>(text: &'a str, series: &str) -> Option<&'a str> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
    }

    #[test]
    fn a_known_sequence_shows_in_every_family() {
        let metrics = Metrics::new();
        let website = metrics.crd("website");
        website.record_reconcile(Duration::from_millis(20), true);
        website.record_reconcile(Duration::from_millis(40), true);
        website.record_reconcile(Duration::from_secs(3), false);
        website.set_queue_depth(7);
        website.set_workers_active(2);
        website.set_resource_count(12);
        website.record_activation(Duration::from_millis(300), true);
        metrics.crd("database");

        let text = metrics.encode();
        let web = r#"crd="website""#;
        let expectations = [
            (
                format!(r#"controller_reconcile_total{{{web},result="success"}}"#),
                "2",
            ),
            (
                format!(r#"controller_reconcile_total{{{web},result="error"}}"#),
                "1",
            ),
            (
                format!("controller_reconcile_duration_seconds_count{{{web}}}"),
                "3",
            ),
            (
                format!("controller_reconcile_duration_seconds_sum{{{web}}}"),
                "3.06",
            ),
            (format!("controller_queue_depth{{{web}}}"), "7"),
            (format!("controller_workers_active{{{web}}}"), "2"),
            (format!("controller_resource_count{{{web}}}"), "12"),
            (
                format!(r#"controller_crd_activation_total{{{web},result="success"}}"#),
                "1",
            ),
            (
                format!("controller_crd_activation_latency_seconds_count{{{web}}}"),
                "1",
            ),
            (
                r#"controller_reconcile_total{crd="database",result="error"}"#.into(),
                "0",
            ),
            (r#"controller_queue_depth{crd="database"}"#.into(), "0"),
        ];
        for (series, expected) in expectations {
            assert_eq!(value(&text, &series), Some(expected), "{series} in\n{text}");
        }
        assert!(text.contains("# TYPE controller_reconcile_duration_seconds histogram"));
        assert!(text.contains("# UNIT controller_reconcile_duration_seconds seconds"));
        assert!(text.trim_end().ends_with("# EOF"));
    }

    #[test]
    fn reconcile_durations_fall_into_the_default_buckets() {
        let metrics = Metrics::new();
        let crd = metrics.crd("website");
        crd.record_reconcile(Duration::from_millis(3), true);
        crd.record_reconcile(Duration::from_millis(200), true);
        let text = metrics.encode();
        let bucket = |le: &str| {
            let series = format!(
                r#"controller_reconcile_duration_seconds_bucket{{le="{le}",crd="website"}}"#
            );
            value(&text, &series).map(str::to_owned)
        };
        assert_eq!(bucket("0.005").as_deref(), Some("1"));
        assert_eq!(bucket("0.1").as_deref(), Some("1"));
        assert_eq!(bucket("0.25").as_deref(), Some("2"));
        assert_eq!(bucket("+Inf").as_deref(), Some("2"));
    }

    #[test]
    fn rollbacks_are_read_back_per_crd_without_creating_series() {
        let metrics = Metrics::new();
        let web = metrics.crd("web");
        assert_eq!(metrics.crd("db").rollbacks(), (0, 0));
        assert!(
            !metrics
                .encode()
                .contains("orkestra_rollback_total{crd=\"db\"}")
        );
        web.record_rollback();
        web.record_rollback();
        web.set_rollback_active(1);
        assert_eq!(metrics.crd("web").rollbacks(), (2, 1));
        let text = metrics.encode();
        assert!(
            text.contains("orkestra_rollback_total{crd=\"web\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("orkestra_rollback_active{crd=\"web\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn each_report_counts_as_its_outcome_and_a_gated_one_not_at_all() {
        let metrics = Metrics::new();
        let website = metrics.crd("website");
        let report = |outcome| Report {
            duration: Duration::from_millis(5),
            outcome,
        };
        let failed = Outcome::Failed {
            message: "boom".into(),
        };
        let panicked = Outcome::Panicked {
            message: "reconciler panic: boom".into(),
        };
        for outcome in [Outcome::Succeeded, failed, panicked, Outcome::Gated] {
            website.finished(&"default/site", &report(outcome));
        }
        let text = metrics.encode();
        let total = |result: &str| {
            let series =
                format!(r#"controller_reconcile_total{{crd="website",result="{result}"}}"#);
            value(&text, &series).map(str::to_owned)
        };
        assert_eq!(total("success").as_deref(), Some("1"));
        assert_eq!(total("error").as_deref(), Some("2"));
    }

    #[test]
    fn clones_of_a_crd_handle_write_to_the_same_series() {
        let metrics = Metrics::new();
        let (first, second) = (metrics.crd("a"), metrics.crd("a"));
        first.record_reconcile(Duration::ZERO, false);
        second.record_reconcile(Duration::ZERO, false);
        let text = metrics.clone().encode();
        assert_eq!(
            value(
                &text,
                r#"controller_reconcile_total{crd="a",result="error"}"#
            ),
            Some("2")
        );
    }
}
