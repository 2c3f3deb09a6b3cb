//! [`Config`]: how one gateway runs (addresses, client-config mode, TLS, lifecycle).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How the API server reaches the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMode {
    /// Out of cluster: `clientConfig.url = https://<host>:<https port><path>`.
    Url {
        /// Host name or IP the API server dials (e.g. `127.0.0.1`).
        host: String,
    },
    /// In cluster: `clientConfig.service = {namespace, name, port, path}`.
    Service {
        /// The Service's namespace.
        namespace: String,
        /// The Service's name.
        name: String,
        /// The Service port that forwards to the HTTPS port.
        port: u16,
    },
}

/// User-provided serving certificate (PEM files); the gateway then generates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTls {
    /// Certificate chain.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
    /// CA that signed the certificate (the caBundle); the chain itself when absent.
    pub ca: Option<PathBuf>,
}

/// Where notifications go (spec §16.8). Unset channels are not used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyConfig {
    /// SMTP server `host:port` (plain SMTP; `SMTP_HOST`/`SMTP_PORT`).
    pub smtp: Option<String>,
    /// Sender address of emails.
    pub from: String,
    /// Slack-style incoming-webhook URL used when a team has no own URL.
    pub slack_url: Option<String>,
    /// At most one notification per (team, CR, condition) within this window.
    pub throttle: Duration,
    /// Bearer token `POST /notify` must carry; without one `/notify` is open on a loopback
    /// HTTP address and refused on any other (see [`crate::notify_access`]).
    pub token: Option<crate::notify_access::Token>,
}

/// Everything one gateway needs besides the Katalog and a client.
#[derive(Debug, Clone)]
pub struct Config {
    /// HTTPS address of the webhook server (port 0 picks a free one).
    pub https_addr: SocketAddr,
    /// Plain HTTP address of health, metrics, `/katalog` and `/notify`.
    pub http_addr: SocketAddr,
    /// How webhook configurations reach the gateway.
    pub client_mode: ClientMode,
    /// Namespace where the TLS Secret is kept and which gets the protection labels; `None`
    /// keeps TLS material in memory only and labels nothing.
    pub namespace: Option<String>,
    /// Names and labels every object the gateway creates (default: the Katalog's name).
    pub instance: Option<String>,
    /// Leave webhook configurations, CRD conversion stanzas, labels and the Secret in place
    /// on exit (Orkestra's `cleanupOnShutdown: false`).
    pub keep_on_exit: bool,
    /// A serving certificate to use instead of generating one.
    pub user_tls: Option<UserTls>,
    /// Lifetime of generated certificates (`security.certManager.validFor` when declared).
    pub cert_validity: Option<Duration>,
    /// Rotate when this close to expiry (`security.certManager.rotationThreshold`).
    pub rotate_before: Option<Duration>,
    /// How often the housekeeper re-asserts webhook configurations, CRD conversion and
    /// labels, and checks certificate expiry.
    pub reassert_every: Duration,
    /// Notification channels.
    pub notify: NotifyConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            https_addr: SocketAddr::from(([127, 0, 0, 1], 9443)),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8081)),
            client_mode: ClientMode::Url {
                host: "127.0.0.1".into(),
            },
            namespace: None,
            instance: None,
            keep_on_exit: false,
            user_tls: None,
            cert_validity: None,
            rotate_before: None,
            reassert_every: Duration::from_secs(10),
            notify: NotifyConfig {
                throttle: Duration::from_secs(300),
                from: "ork-gateway@localhost".into(),
                ..NotifyConfig::default()
            },
        }
    }
}

impl Config {
    /// The defaults: url mode on 127.0.0.1:9443, HTTP on 127.0.0.1:8081.
    pub fn new() -> Self {
        Config::default()
    }

    /// HTTPS address.
    #[must_use]
    pub fn https_addr(mut self, addr: SocketAddr) -> Self {
        self.https_addr = addr;
        self
    }

    /// Plain HTTP address.
    #[must_use]
    pub fn http_addr(mut self, addr: SocketAddr) -> Self {
        self.http_addr = addr;
        self
    }

    /// Client-config mode.
    #[must_use]
    pub fn client_mode(mut self, mode: ClientMode) -> Self {
        self.client_mode = mode;
        self
    }

    /// Namespace of the TLS Secret and protection labels.
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Instance name.
    #[must_use]
    pub fn instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// Keep everything on exit.
    #[must_use]
    pub fn keep_on_exit(mut self, keep: bool) -> Self {
        self.keep_on_exit = keep;
        self
    }

    /// Generated certificate lifetime and rotation threshold.
    #[must_use]
    pub fn cert_lifetime(mut self, validity: Duration, rotate_before: Duration) -> Self {
        self.cert_validity = Some(validity);
        self.rotate_before = Some(rotate_before);
        self
    }

    /// Housekeeper period.
    #[must_use]
    pub fn reassert_every(mut self, every: Duration) -> Self {
        self.reassert_every = every;
        self
    }

    /// Notification channels.
    #[must_use]
    pub fn notify(mut self, notify: NotifyConfig) -> Self {
        self.notify = notify;
        self
    }
}
