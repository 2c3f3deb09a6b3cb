//! Whether the CRD serves a `status` subresource: a fact of the CRD, read from discovery and
//! followed when the CRD changes — never inferred from one failed request.
//!
//! A status patch answering 404 means one of two things: the CR is gone (deleted while its
//! reconcile ran, an everyday event) or the CRD has no status subresource. Only discovery can
//! tell them apart, so the answer is asked of discovery: before the first status write, again
//! once it is older than [`REFRESH`] (a CRD that gains or loses its subresource is followed
//! within that time), and at most every [`RECHECK_AFTER_404`] when a patch answered 404.
//! While discovery cannot be asked, the last answer stands (the first one defaults to
//! "present", so a status write is tried and its error reported).

use std::sync::Mutex;
use std::time::Duration;

use kube::api::GroupVersionKind;
use tokio::time::Instant;

/// How long an answer of discovery is trusted.
pub const REFRESH: Duration = Duration::from_secs(30);
/// The shortest time between two questions caused by 404 answers.
pub const RECHECK_AFTER_404: Duration = Duration::from_secs(5);

/// What discovery said, and when.
#[derive(Debug, Clone, Copy)]
struct Answer {
    present: bool,
    asked: Instant,
}

/// The `status` subresource of one CRD version, as discovery reports it. Shared by the
/// Reconciler's workers.
#[derive(Debug)]
pub struct StatusSubresource {
    gvk: GroupVersionKind,
    plural: String,
    refresh: Duration,
    answer: Mutex<Option<Answer>>,
}

impl StatusSubresource {
    /// The subresource of `plural` in `gvk`'s group and version, refreshed every `refresh`.
    pub fn new(gvk: GroupVersionKind, plural: impl Into<String>, refresh: Duration) -> Self {
        Self {
            gvk,
            plural: plural.into(),
            refresh,
            answer: Mutex::new(None),
        }
    }

    fn answer(&self) -> Option<Answer> {
        *self
            .answer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the CRD serves `/status`, asking discovery when the last answer is older than
    /// the refresh period (or there is none).
    pub async fn present(&self, client: &kube::Client) -> bool {
        match self.answer() {
            Some(a) if a.asked.elapsed() < self.refresh => a.present,
            last => self.ask(client, last).await,
        }
    }

    /// A status patch answered 404: asks discovery again (at most every
    /// [`RECHECK_AFTER_404`]) and returns whether the subresource is still there — if so, the
    /// 404 meant the CR is gone.
    pub async fn after_not_found(&self, client: &kube::Client) -> bool {
        match self.answer() {
            Some(a) if a.asked.elapsed() < RECHECK_AFTER_404.min(self.refresh) => a.present,
            last => self.ask(client, last).await,
        }
    }

    async fn ask(&self, client: &kube::Client, last: Option<Answer>) -> bool {
        let present = match kube::discovery::pinned_kind(client, &self.gvk).await {
            Ok((_, capabilities)) => has_status(&capabilities),
            Err(error) => {
                let keep = last.is_none_or(|a| a.present);
                tracing::debug!(kind = %self.gvk.kind, %error, keep,
                    "discovery not answering; the last answer about /status stands");
                return keep;
            }
        };
        let previous = last.map(|a| a.present);
        if previous != Some(present) && !(previous.is_none() && present) {
            if present {
                tracing::info!(kind = %self.gvk.kind, plural = %self.plural,
                    "the CRD now serves a status subresource; status is written again");
            } else {
                tracing::warn!(kind = %self.gvk.kind, plural = %self.plural,
                    "the CRD serves no status subresource; status is not written until it does");
            }
        }
        *self
            .answer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Answer {
            present,
            asked: Instant::now(),
        });
        present
    }
}

/// Whether discovery lists a `status` subresource among `capabilities`.
fn has_status(capabilities: &kube::discovery::ApiCapabilities) -> bool {
    capabilities
        .subresources
        .iter()
        .any(|(resource, _)| resource.plural == "status")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ApiResource;
    use kube::discovery::{ApiCapabilities, Scope};

    fn caps(subresources: &[&str]) -> ApiCapabilities {
        let gvk = GroupVersionKind::gvk("x.io", "v1", "X");
        ApiCapabilities {
            scope: Scope::Namespaced,
            subresources: subresources
                .iter()
                .map(|s| {
                    let mut r = ApiResource::from_gvk_with_plural(&gvk, "xs");
                    r.plural = (*s).to_owned();
                    (
                        r,
                        ApiCapabilities {
                            scope: Scope::Namespaced,
                            subresources: vec![],
                            operations: vec![],
                        },
                    )
                })
                .collect(),
            operations: vec![],
        }
    }

    #[test]
    fn only_a_listed_status_subresource_counts() {
        assert!(has_status(&caps(&["status"])));
        assert!(has_status(&caps(&["scale", "status"])));
        assert!(!has_status(&caps(&["scale"])));
        assert!(!has_status(&caps(&[])));
    }
}
