//! Runtime notifications (spec §16.8): condition transitions of managed CRs, POSTed to the
//! gateway's `/notify`, which routes them to `notification.teams` and does the SMTP/Slack I/O.
//!
//! Decisions:
//! - **What is sent.** When a reconcile writes a status whose automatic conditions changed
//!   status (`Ready`, `ValidationFailed`, `ValidationWarning`), one notice per changed
//!   condition: `{crd, name, namespace, condition, status, reason, message}` with no `team`,
//!   so the gateway delivers it to every declared team. A `status.fields` condition with
//!   `notify:` sends to its own teams only (`teams`, see [`super::alerts`]). A condition appearing for the first
//!   time is sent only in a bad state (`Ready` not True, a validation condition True): a CR
//!   that works from its first reconcile sends nothing; one that fails at once does.
//! - **Where.** `<gateway endpoint>/notify`; the endpoint is `ork run --gateway-endpoint`
//!   (`ORK_GATEWAY_ENDPOINT`), else `gateway.endpoint`, else `security.gatewayEndpoint`. The
//!   token is `ORK_NOTIFY_TOKEN` (the gateway's own variable), sent as a bearer token. Without
//!   teams nothing is sent; with teams but no endpoint, one warning at start says so.
//! - **Never blocking.** Notices go into a bounded queue ([`QUEUE`]); when it is full the
//!   notice is dropped (counted). One task sends them in order, each retried
//!   ([`ATTEMPTS`] attempts, 1 s then 2 s apart) on no answer or a non-2xx answer.
//! - **Throttling** is the gateway's (`--notify-throttle`, per team, CR, condition and
//!   status), so a flapping condition does not flood the teams.
//! - **Metrics:** `orkestra_external_call_total{crd,name="notify",result}` with `sent`,
//!   `failed` (after the retries) or `dropped`.

use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use super::client;
use crate::metrics::Metrics;

/// Notices waiting to be sent before new ones are dropped.
pub const QUEUE: usize = 256;

/// Tries per notice.
pub const ATTEMPTS: u32 = 3;

/// Time allowed for one POST.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The metrics' `name` label of notifications.
pub const METRIC_NAME: &str = "notify";

/// One condition transition, as the gateway's `/notify` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// CRD entry name.
    pub crd: String,
    /// CR name.
    pub name: String,
    /// CR namespace (empty when cluster-scoped).
    pub namespace: String,
    /// Condition type.
    pub condition: String,
    /// New status.
    pub status: String,
    /// Condition reason.
    pub reason: String,
    /// Condition message.
    pub message: String,
    /// The teams to tell; empty: every team (the automatic conditions' transitions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
}

/// Sends notices to the gateway without blocking its callers. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Notifier {
    queue: mpsc::Sender<Notice>,
    metrics: Metrics,
}

impl Notifier {
    /// A notifier for `katalog` when it declares teams and a gateway endpoint is known
    /// (`flag_endpoint` first, see the module docs); spawns its sending task.
    pub fn for_katalog(
        katalog: &katalog::Katalog,
        flag_endpoint: &str,
        metrics: &Metrics,
    ) -> Option<Notifier> {
        let doc = &katalog.document;
        let teams = doc
            .notification
            .as_ref()
            .is_some_and(|n| !n.value.teams.0.is_empty());
        if !teams {
            return None;
        }
        let endpoint = Some(flag_endpoint.to_owned())
            .filter(|e| !e.is_empty())
            .or_else(|| doc.gateway.as_ref().and_then(|g| g.endpoint.clone()))
            .or_else(|| {
                doc.security
                    .as_ref()
                    .and_then(|s| s.gateway_endpoint.clone())
            })
            .filter(|e| !e.is_empty());
        let Some(endpoint) = endpoint else {
            tracing::warn!(
                "notification.teams is declared but no gateway endpoint is known \
                 (--gateway-endpoint, ORK_GATEWAY_ENDPOINT, gateway.endpoint): condition \
                 transitions are not sent"
            );
            return None;
        };
        let token = std::env::var("ORK_NOTIFY_TOKEN")
            .ok()
            .filter(|t| !t.is_empty());
        Some(Notifier::start(&endpoint, token, metrics.clone()))
    }

    /// A notifier posting to `<endpoint>/notify` with `token`; spawns its sending task
    /// (it ends when every clone of the notifier is dropped).
    pub fn start(endpoint: &str, token: Option<String>, metrics: Metrics) -> Notifier {
        let (queue, mut notices) = mpsc::channel::<Notice>(QUEUE);
        let url = format!("{}/notify", endpoint.trim_end_matches('/'));
        let sender_metrics = metrics.clone();
        tokio::spawn(async move {
            while let Some(notice) = notices.recv().await {
                let result = deliver(&url, token.as_deref(), &notice).await;
                let label = match &result {
                    Ok(()) => "sent",
                    Err(error) => {
                        tracing::warn!(crd = %notice.crd, name = %notice.name, condition = %notice.condition, %error, "notification not delivered to the gateway");
                        "failed"
                    }
                };
                sender_metrics
                    .crd(&notice.crd)
                    .record_external(METRIC_NAME, label, None);
            }
        });
        Notifier { queue, metrics }
    }

    /// Queues `notice`; drops it (counted) when the queue is full. Never waits.
    pub fn send(&self, notice: Notice) {
        if let Err(e) = self.queue.try_send(notice) {
            let notice = match e {
                mpsc::error::TrySendError::Full(n) | mpsc::error::TrySendError::Closed(n) => n,
            };
            tracing::debug!(crd = %notice.crd, name = %notice.name, "notification dropped: the queue is full");
            self.metrics
                .crd(&notice.crd)
                .record_external(METRIC_NAME, "dropped", None);
        }
    }
}

/// POSTs one notice, retrying.
async fn deliver(url: &str, token: Option<&str>, notice: &Notice) -> Result<(), String> {
    let body = serde_json::to_vec(notice).map_err(|e| e.to_string())?;
    let http = client::shared().map_err(|e| e.to_string())?;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let mut request = http::Request::builder()
            .method(http::Method::POST)
            .uri(url)
            .header("content-type", "application/json");
        if let Some(t) = token {
            request = request.header("authorization", format!("Bearer {t}"));
        }
        let request = request
            .body(Full::new(Bytes::from(body.clone())))
            .map_err(|e| format!("invalid request: {e}"))?;
        match http.send(request, TIMEOUT, 4096).await {
            Ok(a) if (200..300).contains(&a.status) => return Ok(()),
            Ok(a) => last = format!("the gateway answered HTTP {}", a.status),
            Err(e) => last = e.to_string(),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
        }
    }
    Err(last)
}

/// The conditions of `next` whose status changed from `previous`, or that appear in a bad
/// state (`Ready` not True, another condition True): `(type, status, reason, message)`.
pub fn transitions(
    previous: Option<&Value>,
    next: &[Value],
) -> Vec<(String, String, String, String)> {
    let before = previous.and_then(Value::as_array);
    let text = |c: &Value, k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    next.iter()
        .filter(|c| {
            let status = c.get("status").and_then(Value::as_str).unwrap_or_default();
            match before.and_then(|l| l.iter().find(|p| p.get("type") == c.get("type"))) {
                Some(p) => p.get("status").and_then(Value::as_str) != Some(status),
                // `Ready` is good when True, the validation conditions when False.
                None => {
                    (c.get("type").and_then(Value::as_str) == Some("Ready")) != (status == "True")
                }
            }
        })
        .map(|c| {
            (
                text(c, "type"),
                text(c, "status"),
                text(c, "reason"),
                text(c, "message"),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_changed_conditions_and_failing_new_ones_are_transitions() {
        let ready = |s: &str| json!({"type": "Ready", "status": s, "reason": "R", "message": "m"});
        let failed = json!({"type": "ValidationFailed", "status": "False"});
        assert!(transitions(None, &[ready("True"), failed.clone()]).is_empty());
        let denied = json!({"type": "ValidationFailed", "status": "True"});
        assert_eq!(transitions(None, &[denied])[0].0, "ValidationFailed");
        assert_eq!(transitions(None, &[ready("False")])[0].1, "False");
        let before = json!([ready("True"), failed.clone()]);
        assert!(transitions(Some(&before), &[ready("True"), failed.clone()]).is_empty());
        let t = transitions(Some(&before), &[ready("False"), failed]);
        assert_eq!(
            t,
            vec![("Ready".into(), "False".into(), "R".into(), "m".into())]
        );
    }
}
