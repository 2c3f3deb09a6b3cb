//! The housekeeper: while a gateway runs, it re-asserts what the gateway registered (webhook
//! configurations, CRD conversion stanzas, the namespace label) and rotates a generated
//! certificate before it expires.
//!
//! As with `runtime`'s leader election, the state lives in one struct ([`Housekeeper`]) and one
//! `step` advances it by one tick. What a tick does is decided from the state and the clock
//! alone ([`Certificate::chore`], [`Certificate::successor`]); the cluster writes happen around
//! those decisions, so the decisions are unit-tested without a cluster.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::webhook_config::{self, Endpoint};
use crate::{Cluster, Error, HandlerContext, Material, Result, chain, tls};

/// What the gateway registers in the cluster: the webhook configurations, CRD conversion
/// stanzas and namespace label its plan needs, all pointing at `endpoint`.
pub(crate) struct Registration {
    context: Arc<HandlerContext>,
    cluster: Cluster,
    instance: String,
    /// CRDs whose `spec.conversion` points at the gateway (`updateCRD: true`).
    converted_crds: Vec<String>,
    endpoint: Endpoint,
}

impl Registration {
    /// What `context`'s plan needs registered under `instance`, reaching the gateway at
    /// `endpoint`.
    pub(crate) fn new(
        context: Arc<HandlerContext>,
        cluster: Cluster,
        instance: String,
        endpoint: Endpoint,
    ) -> Self {
        let converted_crds = context
            .plan
            .targets
            .iter()
            .filter(|t| t.conversion.as_ref().is_some_and(|c| c.update_crd))
            .map(|t| t.crd_name())
            .collect();
        Self {
            context,
            cluster,
            instance,
            converted_crds,
            endpoint,
        }
    }

    /// Removes what a previous instance left that the plan no longer needs, then asserts
    /// everything the plan needs.
    pub(crate) async fn adopt_and_assert(&self) -> Result<()> {
        let configs = webhook_config::desired(&self.context.plan, &self.instance, &self.endpoint);
        let names: BTreeSet<String> = configs.iter().map(|c| c.name.clone()).collect();
        let crds: BTreeSet<String> = self.converted_crds.iter().cloned().collect();
        let stale = self
            .cluster
            .delete_webhooks_except(&names)
            .await
            .map_err(Error::ClusterFailed)?;
        let restored = self
            .cluster
            .restore_conversions_except(&crds)
            .await
            .map_err(Error::ClusterFailed)?;
        if stale + restored > 0 {
            tracing::info!(stale, restored, "cleaned up what a previous instance left");
        }
        self.assert_all().await
    }

    /// Applies every webhook configuration, CRD conversion stanza and (with deletion
    /// protection) the namespace label, counting each in the housekeeping metric.
    async fn assert_all(&self) -> Result<()> {
        let metrics = &self.context.metrics;
        let configs = webhook_config::desired(&self.context.plan, &self.instance, &self.endpoint);
        let r = self.cluster.apply_webhooks(&configs).await;
        metrics.housekeeping("webhook-configurations", r.is_ok());
        r.map_err(Error::ClusterFailed)?;
        let conversion = webhook_config::crd_conversion(&self.endpoint);
        for crd in &self.converted_crds {
            let r = self.cluster.patch_conversion(crd, &conversion).await;
            metrics.housekeeping("conversion-crd-cabundle", r.is_ok());
            r.map_err(Error::ClusterFailed)?;
        }
        if self.context.plan.deletion_protection.is_some() {
            let r = self.cluster.label_namespace().await;
            metrics.housekeeping("namespace-labels", r.is_ok());
            r.map_err(Error::ClusterFailed)?;
        }
        Ok(())
    }
}

/// The TLS material being served and how a generated one is renewed.
#[derive(Debug, Clone)]
pub(crate) struct Certificate {
    /// What the servers present and the registrations trust.
    pub(crate) material: Material,
    /// Whether the gateway made it (only then does it rotate it).
    pub(crate) generated: bool,
    /// Lifetime of a new certificate.
    pub(crate) validity: Duration,
    /// Rotate when this close to expiry.
    pub(crate) rotate_before: Duration,
}

/// What one tick does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chore {
    /// Re-assert the registrations.
    Reassert,
    /// Rotate the certificate, then re-assert.
    Rotate,
}

impl Certificate {
    /// What a tick at `now` does: rotate a generated certificate once it is within
    /// `rotate_before` of its expiry; a user's certificate, or one whose expiry cannot be
    /// read, is never rotated.
    fn chore(&self, now: OffsetDateTime) -> Chore {
        let due = self.generated
            && tls::not_after(&self.material.cert)
                .is_ok_and(|expiry| tls::is_due(expiry, self.rotate_before, now));
        if due { Chore::Rotate } else { Chore::Reassert }
    }

    /// `fresh`, with a CA bundle that trusts its own CA and the current one while the API
    /// server catches up (the first certificate of each, so the bundle never grows).
    fn successor(&self, mut fresh: Material) -> Material {
        fresh.ca_bundle = format!(
            "{}\n{}\n",
            first_cert(&fresh.ca_bundle).trim(),
            first_cert(&self.material.ca_bundle).trim()
        );
        fresh
    }
}

/// How a rotation attempt ended.
enum Rotation {
    /// The tick goes on to re-assert: rotated, or no new certificate could be made.
    Continue,
    /// The new caBundles could not be registered or the new certificate not loaded; the next
    /// tick retries.
    Retry,
}

/// The housekeeper's state between ticks: what it registers and the certificate it serves.
pub(crate) struct Housekeeper {
    registration: Registration,
    certificate: Certificate,
    /// The servers' certificate, swapped on rotation.
    resolver: Arc<tls::Resolver>,
    /// The material [`crate::Gateway::material`] reports.
    served: Arc<Mutex<Material>>,
}

impl Housekeeper {
    /// A housekeeper of `registration` serving `certificate` through `resolver`, reporting it
    /// in `served`.
    pub(crate) fn new(
        registration: Registration,
        certificate: Certificate,
        resolver: Arc<tls::Resolver>,
        served: Arc<Mutex<Material>>,
    ) -> Self {
        Self {
            registration,
            certificate,
            resolver,
            served,
        }
    }

    /// Runs a tick every `every` until `stop` turns `true`.
    pub(crate) async fn run(mut self, every: Duration, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                () = tokio::time::sleep(every) => {}
            }
            self.step(OffsetDateTime::now_utc()).await;
        }
    }

    /// One tick at `now`: rotate when due, then re-assert the registrations.
    async fn step(&mut self, now: OffsetDateTime) {
        if self.certificate.chore(now) == Chore::Rotate
            && let Rotation::Retry = self.rotate().await
        {
            return;
        }
        if let Err(e) = self.registration.assert_all().await {
            tracing::warn!(error = %chain(&e), "re-asserting webhook configurations failed");
        }
    }

    /// Makes a new certificate, registers its caBundle (trusting the old CA too), serves it
    /// and stores it.
    async fn rotate(&mut self) -> Rotation {
        let hosts = tls::hosts_for(&self.registration.endpoint.mode);
        let fresh = match tls::generate(&hosts, self.certificate.validity) {
            Ok(fresh) => self.certificate.successor(fresh),
            Err(e) => {
                tracing::warn!(error = %chain(&e), "generating a new certificate failed");
                return Rotation::Continue;
            }
        };
        self.registration.endpoint.ca_bundle = fresh.ca_bundle.clone();
        if let Err(e) = self.registration.assert_all().await {
            tracing::warn!(error = %chain(&e), "re-patching caBundles failed; rotation retried");
            return Rotation::Retry;
        }
        if let Err(e) = self.resolver.swap(&fresh) {
            tracing::warn!(error = %chain(&e), "new certificate unusable");
            return Rotation::Retry;
        }
        if let Err(e) = self.registration.cluster.store_tls(&fresh).await {
            tracing::warn!(error = %chain(&e), "storing the rotated certificate failed");
        }
        if let Ok(mut served) = self.served.lock() {
            *served = fresh.clone();
        }
        self.certificate.material = fresh;
        tracing::info!("certificate rotated; caBundles re-patched");
        Rotation::Continue
    }
}

/// The first PEM certificate of a bundle.
fn first_cert(bundle: &str) -> &str {
    const END: &str = "-----END CERTIFICATE-----";
    match bundle.find(END) {
        Some(i) => &bundle[..i + END.len()],
        None => bundle,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn generated(validity: Duration, rotate_before: Duration) -> Certificate {
        let hosts = ["127.0.0.1".to_owned()];
        Certificate {
            material: tls::generate(&hosts, validity).unwrap(),
            generated: true,
            validity,
            rotate_before,
        }
    }

    fn pem(body: &str) -> String {
        format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
    }

    #[test]
    fn a_generated_certificate_is_rotated_once_within_rotate_before_of_its_expiry() {
        let cert = generated(10 * MINUTE, MINUTE);
        let now = OffsetDateTime::now_utc();
        assert_eq!(cert.chore(now), Chore::Reassert);
        assert_eq!(cert.chore(now + 8 * MINUTE), Chore::Reassert);
        assert_eq!(cert.chore(now + 9 * MINUTE), Chore::Rotate);
        assert_eq!(cert.chore(now + 11 * MINUTE), Chore::Rotate);
    }

    #[test]
    fn a_user_certificate_is_never_rotated() {
        let cert = Certificate {
            generated: false,
            ..generated(10 * MINUTE, MINUTE)
        };
        let expired = OffsetDateTime::now_utc() + 11 * MINUTE;
        assert_eq!(cert.chore(expired), Chore::Reassert);
    }

    #[test]
    fn a_certificate_whose_expiry_cannot_be_read_is_not_rotated() {
        let mut cert = generated(10 * MINUTE, MINUTE);
        cert.material.cert = "junk".into();
        let expired = OffsetDateTime::now_utc() + 11 * MINUTE;
        assert_eq!(cert.chore(expired), Chore::Reassert);
    }

    #[test]
    fn the_successor_trusts_its_own_ca_first_and_the_current_one_second() {
        let mut cert = generated(10 * MINUTE, MINUTE);
        // The current bundle already carries the CA before it (a previous rotation).
        cert.material.ca_bundle = format!("{}{}", pem("B"), pem("A"));
        let fresh = Material {
            ca_bundle: pem("C"),
            ..cert.material.clone()
        };
        let next = cert.successor(fresh);
        assert_eq!(next.ca_bundle, format!("{}{}", pem("C"), pem("B")));
        assert_eq!(next.cert, cert.material.cert, "only the bundle changes");
    }

    #[test]
    fn the_first_certificate_of_a_bundle_is_cut_out() {
        let b = "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n";
        assert_eq!(
            first_cert(b),
            "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----"
        );
    }
}
