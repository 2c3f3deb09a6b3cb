//! The gateway's Prometheus metrics (spec §15.2 names): admission and conversion counters
//! and latency histograms, protection decisions, notifications, housekeeping.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

const BUCKETS: [f64; 9] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// Labels of admission metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AdmissionLabels {
    /// Route (`validate`, `mutate`, `deletion-protection`, …).
    pub webhook: String,
    /// The object's kind.
    pub kind: String,
    /// `allowed` or `denied`.
    pub result: String,
}

/// Labels of admission latency.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// Route.
    pub webhook: String,
}

/// Labels of conversion metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConversionLabels {
    /// Kind.
    pub kind: String,
    /// Source version.
    pub from_version: String,
    /// Target version.
    pub to_version: String,
}

/// Labels of conversion results.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConversionResultLabels {
    /// Kind.
    pub kind: String,
    /// Source version.
    pub from_version: String,
    /// Target version.
    pub to_version: String,
    /// `success` or `failure`.
    pub result: String,
}

/// Labels of one-word outcomes (`channel`/`item` and `result`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// Channel, infra item or route.
    pub item: String,
    /// Outcome.
    pub result: String,
}

/// Labels of `orkestra_external_call_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallResultLabels {
    /// The CRD declaring the call.
    pub crd: String,
    /// The call's name.
    pub name: String,
    /// `success`, `error` or `skipped`.
    pub result: String,
}

/// Labels of `orkestra_external_call_duration_seconds`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// The CRD declaring the call.
    pub crd: String,
    /// The call's name.
    pub name: String,
}

/// Every metric of one gateway.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    admission: Family<AdmissionLabels, Counter>,
    admission_duration: Family<RouteLabels, Histogram>,
    conversion: Family<ConversionResultLabels, Counter>,
    conversion_duration: Family<ConversionLabels, Histogram>,
    conversion_active: Gauge,
    notifications: Family<OutcomeLabels, Counter>,
    housekeeping: Family<OutcomeLabels, Counter>,
    /// The per-CRD counters of `/katalog`, recorded alongside.
    stats: crate::stats::Stats,
    external_calls: Family<CallResultLabels, Counter>,
    external_duration: Family<CallLabels, Histogram>,
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

impl Default for Metrics {
    fn default() -> Self {
        let mut r = Registry::default();
        let admission = Family::default();
        let admission_duration =
            Family::<RouteLabels, Histogram>::new_with_constructor(histogram as fn() -> Histogram);
        let conversion = Family::default();
        let conversion_duration = Family::<ConversionLabels, Histogram>::new_with_constructor(
            histogram as fn() -> Histogram,
        );
        let conversion_active = Gauge::default();
        let notifications = Family::default();
        let housekeeping = Family::default();
        let external_calls = Family::default();
        let external_duration = Family::<CallLabels, Histogram>::new_with_constructor(
            call_histogram as fn() -> Histogram,
        );
        r.register(
            "orkestra_external_call",
            "External calls made at admission by CRD, call and result",
            external_calls.clone(),
        );
        r.register(
            "orkestra_external_call_duration_seconds",
            "External call latency at admission (retries included)",
            external_duration.clone(),
        );
        r.register(
            "orkestra_admission_requests",
            "Admission requests by webhook, kind and result",
            admission.clone(),
        );
        r.register(
            "orkestra_admission_duration_seconds",
            "Admission request latency",
            admission_duration.clone(),
        );
        r.register(
            "orkestra_conversion_requests",
            "Converted objects by kind, versions and result",
            conversion.clone(),
        );
        r.register(
            "orkestra_conversion_duration_seconds",
            "Conversion latency per object",
            conversion_duration.clone(),
        );
        r.register(
            "orkestra_conversion_active_requests",
            "Conversion reviews in flight",
            conversion_active.clone(),
        );
        r.register(
            "orkestra_notifications",
            "Notifications by channel and result",
            notifications.clone(),
        );
        r.register(
            "orkestra_webhook_reconciliation",
            "Housekeeper re-assertions by item and result",
            housekeeping.clone(),
        );
        Metrics {
            registry: Mutex::new(r),
            admission: admission as Family<AdmissionLabels, Counter>,
            admission_duration,
            conversion: conversion as Family<ConversionResultLabels, Counter>,
            conversion_duration,
            conversion_active,
            notifications: notifications as Family<OutcomeLabels, Counter>,
            housekeeping: housekeeping as Family<OutcomeLabels, Counter>,
            stats: crate::stats::Stats::default(),
            external_calls: external_calls as Family<CallResultLabels, Counter>,
            external_duration,
        }
    }
}

/// Decrements the active-conversions gauge when dropped.
#[derive(Debug)]
pub struct Active(Gauge);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Counts the external calls of one CRD made at admission.
#[derive(Debug, Clone)]
pub struct ExternalCalls {
    crd: String,
    calls: Family<CallResultLabels, Counter>,
    duration: Family<CallLabels, Histogram>,
}

impl runtime::outbound::Record for ExternalCalls {
    fn record(&self, name: &str, result: &'static str, took: Option<Duration>) {
        self.calls
            .get_or_create(&CallResultLabels {
                crd: self.crd.clone(),
                name: name.to_owned(),
                result: result.to_owned(),
            })
            .inc();
        if let Some(took) = took {
            self.duration
                .get_or_create(&CallLabels {
                    crd: self.crd.clone(),
                    name: name.to_owned(),
                })
                .observe(took.as_secs_f64());
        }
    }
}

/// Buckets of external call latency (up to the webhook timeout).
fn call_histogram() -> Histogram {
    Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])
}

impl Metrics {
    /// Where the external calls of `crd` are counted.
    pub fn external_calls(&self, crd: &str) -> ExternalCalls {
        ExternalCalls {
            crd: crd.to_owned(),
            calls: self.external_calls.clone(),
            duration: self.external_duration.clone(),
        }
    }

    /// Records one admission answer.
    pub fn admission_done(&self, webhook: &str, kind: &str, allowed: bool, took: Duration) {
        self.stats.admission(webhook, kind, allowed, took);
        self.admission
            .get_or_create(&AdmissionLabels {
                webhook: webhook.to_owned(),
                kind: kind.to_owned(),
                result: if allowed { "allowed" } else { "denied" }.to_owned(),
            })
            .inc();
        self.admission_duration
            .get_or_create(&RouteLabels {
                webhook: webhook.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// The per-CRD counters `/katalog` serves.
    pub fn stats(&self) -> &crate::stats::Stats {
        &self.stats
    }

    /// Marks a conversion review in flight until the guard drops.
    pub fn conversion_active(&self) -> Active {
        self.conversion_active.inc();
        Active(self.conversion_active.clone())
    }

    /// Records one converted object.
    pub fn conversion_done(&self, kind: &str, from: &str, to: &str, ok: bool, took: Duration) {
        self.stats.conversion(kind, ok, took);
        self.conversion
            .get_or_create(&ConversionResultLabels {
                kind: kind.to_owned(),
                from_version: from.to_owned(),
                to_version: to.to_owned(),
                result: if ok { "success" } else { "failure" }.to_owned(),
            })
            .inc();
        self.conversion_duration
            .get_or_create(&ConversionLabels {
                kind: kind.to_owned(),
                from_version: from.to_owned(),
                to_version: to.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// Records one notification delivery.
    pub fn notification(&self, channel: &str, result: &str) {
        self.notifications
            .get_or_create(&OutcomeLabels {
                item: channel.to_owned(),
                result: result.to_owned(),
            })
            .inc();
    }

    /// Records one housekeeper re-assertion.
    pub fn housekeeping(&self, item: &str, ok: bool) {
        self.housekeeping
            .get_or_create(&OutcomeLabels {
                item: item.to_owned(),
                result: if ok { "success" } else { "failure" }.to_owned(),
            })
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Ok(r) = self.registry.lock() {
            let _ = prometheus_client::encoding::text::encode(&mut out, &r);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_requests_appear_in_the_exposition() {
        let m = Metrics::default();
        m.admission_done("validate", "App", false, Duration::from_millis(2));
        {
            let _a = m.conversion_active();
            m.conversion_done("App", "v1alpha1", "v1", true, Duration::from_micros(50));
        }
        let text = m.encode();
        assert!(text.contains(r#"orkestra_admission_requests_total{webhook="validate",kind="App",result="denied"} 1"#), "{text}");
        assert!(text.contains(r#"orkestra_conversion_requests_total{kind="App",from_version="v1alpha1",to_version="v1",result="success"} 1"#), "{text}");
        assert!(
            text.contains("orkestra_conversion_active_requests 0"),
            "{text}"
        );
        assert!(
            text.contains("orkestra_conversion_duration_seconds_bucket"),
            "{text}"
        );
    }
}
