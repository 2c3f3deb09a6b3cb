//! `/notify` (spec §16.8): the runtime posts condition transitions here; the gateway routes
//! them to the declared teams' channels (Slack-style webhook POST, SMTP email), throttled.
//!
//! The `notification:` block is read leniently, since Orkestra keeps it free-form:
//! `teams` is a list of `{name, email|emails, slack|slackWebhook}` or a map from team name to
//! the same; `email` is an address or a list; `slack` is a URL, `{webhookUrl|url}`, or
//! `true` for the gateway-wide `--slack-url`. A notification names its team (`team` or
//! `teams`); without one it goes to every team.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::NotifyConfig;
use crate::metrics::Metrics;

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The webhook URL is not a valid URI.
    #[error("invalid webhook URL {0:?}")]
    InvalidUrl(String),
    /// The webhook POST failed.
    #[error("posting to the webhook failed")]
    PostFailed(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The webhook answered with a non-2xx status.
    #[error("the webhook answered {0}")]
    PostRejected(u16),
    /// The SMTP conversation failed on the network.
    #[error("talking to the SMTP server failed")]
    SmtpIo(#[source] std::io::Error),
    /// The SMTP server refused a step.
    #[error("the SMTP server refused {step}: {reply}")]
    SmtpRefused {
        /// The command refused.
        step: &'static str,
        /// The server's reply.
        reply: String,
    },
    /// No SMTP server is configured.
    #[error("no SMTP server is configured (--smtp)")]
    NoSmtp,
    /// The message cannot be encoded safely (an invalid address).
    #[error("encoding the email")]
    Mail(#[from] crate::mail::Error),
}

/// One notification from the runtime.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Notification {
    /// Target team.
    pub team: Option<String>,
    /// Target teams.
    pub teams: Vec<String>,
    /// CRD entry name.
    pub crd: String,
    /// CR name.
    pub name: String,
    /// CR namespace.
    pub namespace: String,
    /// Condition type.
    pub condition: String,
    /// Condition status.
    pub status: String,
    /// Condition reason.
    pub reason: String,
    /// Human message.
    pub message: String,
}

impl Notification {
    fn subject(&self) -> String {
        format!(
            "[ork] {} {}/{}: {}={}",
            self.crd, self.namespace, self.name, self.condition, self.status
        )
    }

    fn text(&self) -> String {
        let mut s = self.subject();
        if !self.reason.is_empty() {
            s.push_str(&format!(" ({})", self.reason));
        }
        if !self.message.is_empty() {
            s.push_str(&format!(": {}", self.message));
        }
        s
    }

    fn throttle_key(&self, team: &str) -> String {
        format!(
            "{team}|{}|{}|{}|{}|{}",
            self.crd, self.namespace, self.name, self.condition, self.status
        )
    }
}

/// A team's channels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Team {
    /// Name.
    pub name: String,
    /// Email recipients.
    pub emails: Vec<String>,
    /// Slack-style webhook URL.
    pub slack: Option<String>,
}

/// The teams of a `notification:` block, with `slack: true` resolved to `default_slack`.
pub fn teams(
    block: Option<&katalog::model::Notification>,
    default_slack: Option<&str>,
) -> Vec<Team> {
    block.map_or_else(Vec::new, |b| {
        b.teams
            .0
            .iter()
            .map(|t| Team {
                name: t.name.clone(),
                emails: t.emails.clone(),
                slack: t
                    .slack
                    .as_ref()
                    .and_then(|s| s.url(default_slack))
                    .map(str::to_owned),
            })
            .collect()
    })
}

/// Routes, throttles and delivers notifications.
#[derive(Debug)]
pub struct Notifier {
    teams: Vec<Team>,
    config: NotifyConfig,
    last: Mutex<HashMap<String, Instant>>,
}

/// What happened to one notification.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Outcome {
    /// `channel:target` of each successful delivery.
    pub delivered: Vec<String>,
    /// Teams skipped by throttling.
    pub throttled: Vec<String>,
    /// Failures, with their cause.
    pub failed: Vec<String>,
}

impl Notifier {
    /// A notifier for these teams.
    pub fn new(teams: Vec<Team>, config: NotifyConfig) -> Self {
        Notifier {
            teams,
            config,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` was sent within the throttle window (and records it if not).
    fn is_throttled(&self, key: String) -> bool {
        let Ok(mut last) = self.last.lock() else {
            return false;
        };
        let now = Instant::now();
        match last.get(&key) {
            Some(at) if now.duration_since(*at) < self.config.throttle => true,
            _ => {
                last.insert(key, now);
                false
            }
        }
    }

    /// Delivers `n` to its teams.
    pub async fn notify(&self, n: &Notification, metrics: &Metrics) -> Outcome {
        let mut wanted: Vec<&str> = n.teams.iter().map(String::as_str).collect();
        wanted.extend(n.team.as_deref());
        let mut out = Outcome::default();
        for team in &self.teams {
            if !wanted.is_empty() && !wanted.contains(&team.name.as_str()) {
                continue;
            }
            if self.is_throttled(n.throttle_key(&team.name)) {
                out.throttled.push(team.name.clone());
                metrics.notification("any", "throttled");
                continue;
            }
            if let Some(url) = &team.slack {
                match post_json(url, &json!({"text": n.text()})).await {
                    Ok(()) => {
                        metrics.notification("slack", "sent");
                        out.delivered.push(format!("slack:{}", team.name));
                    }
                    Err(e) => {
                        metrics.notification("slack", "failed");
                        out.failed
                            .push(format!("slack:{}: {}", team.name, crate::chain(&e)));
                    }
                }
            }
            if !team.emails.is_empty() {
                let sent = match &self.config.smtp {
                    Some(server) => {
                        send_mail(
                            server,
                            &self.config.from,
                            &team.emails,
                            &n.subject(),
                            &n.text(),
                        )
                        .await
                    }
                    None => Err(Error::NoSmtp),
                };
                match sent {
                    Ok(()) => {
                        metrics.notification("email", "sent");
                        out.delivered.push(format!("email:{}", team.name));
                    }
                    Err(e) => {
                        metrics.notification("email", "failed");
                        out.failed
                            .push(format!("email:{}: {}", team.name, crate::chain(&e)));
                    }
                }
            }
        }
        out
    }
}

/// POSTs `body` as JSON to `url` (http or https), expecting 2xx.
///
/// # Errors
/// An invalid URL, a transport failure, or a non-2xx answer.
pub async fn post_json(url: &str, body: &Value) -> Result<(), Error> {
    let uri: hyper::Uri = url.parse().map_err(|_| Error::InvalidUrl(url.to_owned()))?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| Error::PostFailed(Box::new(e)))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https);
    let req = hyper::Request::post(uri)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| Error::PostFailed(Box::new(e)))?;
    let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
        .await
        .map_err(|e| Error::PostFailed(Box::new(e)))?
        .map_err(|e| Error::PostFailed(Box::new(e)))?;
    let status = resp.status();
    let _ = resp.into_body().collect().await;
    if status.is_success() {
        Ok(())
    } else {
        Err(Error::PostRejected(status.as_u16()))
    }
}

/// Reads one (possibly multi-line) SMTP reply and checks its code starts with `want`.
async fn reply(
    r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    step: &'static str,
    want: char,
) -> Result<(), Error> {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).await.map_err(Error::SmtpIo)?;
        if n == 0 {
            return Err(Error::SmtpRefused {
                step,
                reply: format!("connection closed after {all:?}"),
            });
        }
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            break;
        }
    }
    if all.starts_with(want) {
        Ok(())
    } else {
        Err(Error::SmtpRefused {
            step,
            reply: all.trim_end().to_owned(),
        })
    }
}

/// Sends one plain-text email over SMTP (no TLS, no auth: a relay on a trusted network),
/// encoded by [`crate::mail::encode`] so that no field can inject a header or a command.
///
/// # Errors
/// An invalid address (before connecting), network failures or a refused step.
pub async fn send_mail(
    server: &str,
    from: &str,
    to: &[String],
    subject: &str,
    body: &str,
) -> Result<(), Error> {
    let message = crate::mail::encode(from, to, subject, body)?;
    let stream = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(server))
        .await
        .map_err(|e| Error::SmtpIo(e.into()))?
        .map_err(Error::SmtpIo)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    reply(&mut read, "the connection", '2').await?;
    let mut send = async |line: String, step: &'static str, want: char| -> Result<(), Error> {
        write
            .write_all(line.as_bytes())
            .await
            .map_err(Error::SmtpIo)?;
        reply(&mut read, step, want).await
    };
    send("EHLO ork-gateway\r\n".into(), "EHLO", '2').await?;
    send(
        format!("MAIL FROM:<{}>\r\n", message.from),
        "MAIL FROM",
        '2',
    )
    .await?;
    for rcpt in &message.to {
        send(format!("RCPT TO:<{rcpt}>\r\n"), "RCPT TO", '2').await?;
    }
    send("DATA\r\n".into(), "DATA", '3').await?;
    send(message.data, "the message", '2').await?;
    send("QUIT\r\n".into(), "QUIT", '2').await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teams_read_from_a_list_or_a_map() {
        let read = |v| serde_json::from_value::<katalog::model::Notification>(v).unwrap();
        let list = read(json!({"teams": [
            {"name": "ops", "email": "ops@x", "slack": {"webhookUrl": "http://h/1"}},
            {"name": "dev", "emails": ["a@x", "b@x"], "slack": true},
        ]}));
        let t = teams(Some(&list), Some("http://default"));
        assert_eq!(t[0].emails, ["ops@x"]);
        assert_eq!(t[0].slack.as_deref(), Some("http://h/1"));
        assert_eq!(t[1].slack.as_deref(), Some("http://default"));
        let map = read(json!({"teams": {"ops": {"slackWebhook": "http://h/2"}}}));
        assert_eq!(teams(Some(&map), None)[0].name, "ops");
        assert!(teams(None, None).is_empty());
    }

    #[test]
    fn the_same_transition_is_throttled_within_the_window() {
        let n = Notifier::new(
            Vec::new(),
            NotifyConfig {
                throttle: Duration::from_secs(3600),
                ..NotifyConfig::default()
            },
        );
        let a = Notification {
            crd: "app".into(),
            name: "x".into(),
            condition: "Ready".into(),
            status: "False".into(),
            ..Notification::default()
        };
        assert!(!n.is_throttled(a.throttle_key("ops")));
        assert!(n.is_throttled(a.throttle_key("ops")));
        assert!(!n.is_throttled(a.throttle_key("dev")));
        let b = Notification {
            status: "True".into(),
            ..a
        };
        assert!(!n.is_throttled(b.throttle_key("ops")));
    }
}
