//! The raw command line: what was typed, as clap structs. Each command module turns
//! its arguments into a library configuration. The developer commands' arguments sit with
//! those commands, in `commands::dev_tools` (feature `dev-tools`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use runtime::leader::{DEFAULT_LEASE_NAME, DEFAULT_NAMESPACE};

/// Declarative Kubernetes operators: one Katalog, one runtime.
#[derive(Debug, Parser)]
#[command(name = "ork", version, about, propagate_version = true)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: Global,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct Global {
    /// Log filter, in `RUST_LOG` syntax (e.g. `info`, `ork=debug`).
    #[arg(long, global = true, env = "ORK_LOG", default_value = "info")]
    pub log: String,
    /// Print logs as JSON lines instead of human-readable text.
    #[arg(long, global = true, env = "ORK_LOG_JSON")]
    pub log_json: bool,
}

/// Every `ork` command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the operators of a Katalog: one OperatorBox per CRD, until SIGTERM or Ctrl-C.
    Run(Box<RunArgs>),
    /// The developer commands (feature `dev-tools`, on by default).
    #[cfg(feature = "dev-tools")]
    #[command(flatten)]
    DevTools(crate::commands::dev_tools::DevTool),
    /// Serve the Katalog's admission, conversion and protection webhooks (HTTPS) and
    /// `/notify`; removes every webhook configuration it registered when it stops.
    Gateway(Box<GatewayArgs>),
    /// Serve the Control Center: a read-only web UI over runtimes' and gateways' `/katalog`.
    #[command(alias = "controlcenter")]
    Control(ControlArgs),
    /// Print version information.
    Version,
}

/// What `ork run` and `ork gateway` serve, and where: the Katalog (positional or `-f`) and
/// kubectl's `--kubeconfig` and `--context`.
#[derive(Debug, Args)]
pub struct Target {
    /// The Katalog or Komposer (default: $KATALOG_PATH, then katalog.yaml, then komposer.yaml
    /// in the current directory).
    pub katalog: Option<PathBuf>,
    /// The Katalog or Komposer, as a flag (same as the positional argument).
    #[arg(short = 'f', long = "file", conflicts_with = "katalog")]
    pub file: Option<PathBuf>,
    /// The kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster
    /// ServiceAccount), as kubectl.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long)]
    pub context: Option<String>,
}

/// Arguments of `ork run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Which Katalog, on which cluster.
    #[command(flatten)]
    pub target: Target,
    /// Skip the local-mode setup (setup manifests, crdFile, crFiles) even outside a cluster.
    #[arg(long)]
    pub no_setup: bool,
    /// How long to wait for each applied CRD to be Established (Go duration, e.g. 60s).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub establish_timeout: Duration,
    /// How long running reconciles get to finish on shutdown, per OperatorBox.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub stop_timeout: Duration,
    /// Leader election, HTTP API and defaults (each also an environment variable).
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

/// The runtime's settings as typed, each a flag and an environment variable; `ork run` turns
/// them into a [`runtime::Config`].
///
/// Precedence is flag > environment > default; values a Katalog sets for a CRD (`workers`,
/// `resync`, `failureThreshold`) win over all three, as in Orkestra ("Katalog YAML > env >
/// defaults"). Durations accept whole seconds (`15`, Orkestra's env format) or a Go-style
/// duration (`15s`, `500ms`, `2m`, `1h30m`).
///
/// | Flag | Env | Default |
/// |---|---|---|
/// | `--default-workers` | `DEFAULT_WORKERS` | the Katalog's default (3) |
/// | `--default-resync` | `DEFAULT_RESYNC` | the Katalog's default (30 s) |
/// | `--failure-threshold` | `FAILURE_THRESHOLD` | the Katalog's default (5) |
/// | `--leader-elect` | `ORK_LEADER_ELECT` | `true` in a pod, `false` elsewhere |
/// | `--lease-name` | `ORK_LEASE_NAME` | `orkestra-konductor` |
/// | `--namespace` | `ORK_NAMESPACE` | `orkestra-system` (empty: `default`) |
/// | `--identity` | `ORK_IDENTITY` | hostname + random suffix |
/// | `--lease-duration` | `LEASE_DURATION` | 15 s |
/// | `--renew-deadline` | `RENEW_DEADLINE` | 10 s |
/// | `--retry-period` | `RETRY_PERIOD` | 2 s |
/// | `--no-http` | `ORK_NO_HTTP` | off: the HTTP API is served |
/// | `--http-addr` | `ORK_HTTP_ADDR` | `0.0.0.0:8080` in a pod, `127.0.0.1:8080` elsewhere |
/// | `--port` | `ORK_PORT` | 8080 (the port of the default address) |
/// | `--gateway-endpoint` | `ORK_GATEWAY_ENDPOINT` | empty |
#[derive(Clone, Debug, Args, PartialEq, Eq)]
pub struct RuntimeArgs {
    /// Workers per CRD when the Katalog sets none.
    #[arg(long, env = "DEFAULT_WORKERS")]
    pub default_workers: Option<u32>,
    /// Resync period when the Katalog sets none (seconds or `30s`).
    #[arg(long, env = "DEFAULT_RESYNC", value_parser = parse_duration)]
    pub default_resync: Option<Duration>,
    /// Consecutive failures that degrade a CRD when the Katalog sets none.
    #[arg(long, env = "FAILURE_THRESHOLD")]
    pub failure_threshold: Option<u32>,
    /// Elect a leader through a Lease: `true` or `false` (default: true in a pod, false
    /// elsewhere, where one process usually runs alone).
    #[arg(long, env = "ORK_LEADER_ELECT", action = clap::ArgAction::Set)]
    pub leader_elect: Option<bool>,
    /// Name of the Lease.
    #[arg(long, env = "ORK_LEASE_NAME", default_value = DEFAULT_LEASE_NAME)]
    pub lease_name: String,
    /// Namespace of the Lease (must exist); empty means `default`.
    #[arg(long, env = "ORK_NAMESPACE", default_value = DEFAULT_NAMESPACE)]
    pub namespace: String,
    /// This replica's identity in the Lease (default: hostname plus a random suffix).
    #[arg(long, env = "ORK_IDENTITY")]
    pub identity: Option<String>,
    /// How long a Lease stays valid after its last renewal.
    #[arg(long, env = "LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,
    /// How long a leader keeps leading without a successful renewal.
    #[arg(long, env = "RENEW_DEADLINE", default_value = "10s", value_parser = parse_duration)]
    pub renew_deadline: Duration,
    /// How often followers poll the Lease and the leader renews it.
    #[arg(long, env = "RETRY_PERIOD", default_value = "2s", value_parser = parse_duration)]
    pub retry_period: Duration,
    /// Do not serve the HTTP API (probes, metrics, `/katalog`).
    #[arg(long, env = "ORK_NO_HTTP")]
    pub no_http: bool,
    /// Address of the HTTP API (default: 0.0.0.0 in a pod, 127.0.0.1 elsewhere, on `--port`).
    #[arg(long, env = "ORK_HTTP_ADDR")]
    pub http_addr: Option<SocketAddr>,
    /// Port of the HTTP API when `--http-addr` is not given.
    #[arg(long, env = "ORK_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Gateway URL advertised in `/katalog`.
    #[arg(long, env = "ORK_GATEWAY_ENDPOINT", default_value = "")]
    pub gateway_endpoint: String,
}

/// A Go duration (`500ms`, `30s`, `1m30s`) or whole seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    katalog::model::duration::parse(text).map_err(|error| error.to_string())
}

/// Arguments of `ork gateway`.
#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// Which Katalog, on which cluster.
    #[command(flatten)]
    pub target: Target,
    /// Address the HTTPS and HTTP servers bind.
    #[arg(long, env = "ORK_GATEWAY_BIND", default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// HTTPS port of the webhooks (0 picks a free one).
    #[arg(long, env = "ORK_GATEWAY_PORT", default_value_t = 9443)]
    pub port: u16,
    /// Plain HTTP port of /health, /ready, /metrics, /katalog and /notify (0 picks a free one).
    #[arg(long, env = "ORK_GATEWAY_HTTP_PORT", default_value_t = 8081)]
    pub http_port: u16,
    /// Out of cluster: the host the API server dials (`clientConfig.url`).
    #[arg(long, default_value = "127.0.0.1", conflicts_with = "service")]
    pub url_host: String,
    /// In cluster: the Service in front of the gateway (`clientConfig.service`); needs --namespace.
    #[arg(long, env = "ORK_SERVICE_NAME", requires = "namespace")]
    pub service: Option<String>,
    /// The Service port forwarding to --port (service mode).
    #[arg(long, default_value_t = 443)]
    pub service_port: u16,
    /// Namespace holding the TLS Secret and receiving the protection label.
    #[arg(long, env = "POD_NAMESPACE")]
    pub namespace: Option<String>,
    /// Names and labels everything this gateway creates (default: ork-<katalog name>).
    #[arg(long)]
    pub instance: Option<String>,
    /// Leave webhook configurations, CRD conversion, labels and the Secret on exit.
    #[arg(long)]
    pub keep_on_exit: bool,
    /// Serving certificate (PEM) to use instead of generating one.
    #[arg(long, env = "TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, env = "TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The CA bundle of --tls-cert (default: the certificate itself).
    #[arg(long, env = "TLS_CA", requires = "tls_cert")]
    pub tls_ca: Option<PathBuf>,
    /// Lifetime of generated certificates, e.g. `8760h` (default: certManager.validFor or 1 year).
    #[arg(long)]
    pub cert_validity: Option<String>,
    /// Rotate this long before expiry (default: certManager.rotationThreshold or 30 days).
    #[arg(long)]
    pub rotate_before: Option<String>,
    /// How often webhook configurations are re-asserted and expiry is checked.
    #[arg(long, default_value = "10s")]
    pub reassert_every: String,
    /// SMTP relay `host:port` for email notifications.
    #[arg(long, env = "ORK_SMTP")]
    pub smtp: Option<String>,
    /// Sender address of email notifications.
    #[arg(long, default_value = "ork-gateway@localhost")]
    pub mail_from: String,
    /// Default Slack-style webhook URL for teams that ask for Slack without a URL.
    #[arg(long, env = "SLACK_WEBHOOK_URL")]
    pub slack_url: Option<String>,
    /// At most one notification per team, CR and condition state within this window.
    #[arg(long, default_value = "5m")]
    pub notify_throttle: String,
    /// Bearer token `POST /notify` must carry (`Authorization: Bearer <token>`). Without it,
    /// /notify is served only when --bind is a loopback address. Prefer the environment
    /// variable: a flag's value is visible in the process list.
    #[arg(long, env = "ORK_NOTIFY_TOKEN", hide_env_values = true)]
    pub notify_token: Option<String>,
}

/// Arguments of `ork control`.
#[derive(Debug, Args)]
pub struct ControlArgs {
    /// Port of the UI.
    #[arg(short, long, env = "ORK_CONTROL_PORT", default_value_t = control::DEFAULT_PORT)]
    pub port: u16,
    /// Address the UI binds (0.0.0.0 in a pod).
    #[arg(long, env = "ORK_CONTROL_BIND", default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Base URLs of the runtimes and gateways to show, comma-separated.
    #[arg(
        short,
        long,
        env = "ORK_CONTROL_URLS",
        value_delimiter = ',',
        default_value = "http://localhost:8080"
    )]
    pub urls: Vec<String>,
    /// How often to poll them (the UI refreshes at the same pace).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub refresh: Duration,
    /// How long one request to an endpoint may take.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// Parses the process arguments, exiting with a usage message on error.
pub fn parse() -> Cli {
    Cli::parse()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_accepts_kubeconfig_context_and_durations() {
        let cli = Cli::try_parse_from([
            "ork",
            "run",
            "k.yaml",
            "--kubeconfig",
            "/tmp/kc",
            "--context",
            "dev",
            "--establish-timeout",
            "1m30s",
        ])
        .unwrap();
        match cli.command {
            Command::Run(args) => {
                assert_eq!(args.target.katalog, Some(PathBuf::from("k.yaml")));
                assert_eq!(args.target.kubeconfig, Some(PathBuf::from("/tmp/kc")));
                assert_eq!(args.target.context.as_deref(), Some("dev"));
                assert_eq!(args.establish_timeout, Duration::from_secs(90));
                assert_eq!(args.stop_timeout, Duration::from_secs(30));
                assert!(!args.no_setup);
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["ork", "run", "--stop-timeout", "soon"]).is_err());
    }

    /// The runtime settings of `ork run` with `args`.
    fn runtime_args(args: &[&str]) -> RuntimeArgs {
        let argv = ["ork", "run"].iter().chain(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Run(args) => args.runtime,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn durations_are_seconds_or_go_durations() {
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5x").is_err());
    }

    #[test]
    fn runtime_flags_default_to_the_documented_values() {
        let args = runtime_args(&[]);
        assert_eq!(args.leader_elect, None);
        assert_eq!(args.lease_name, "orkestra-konductor");
        assert_eq!(args.namespace, "orkestra-system");
        assert_eq!(args.lease_duration, Duration::from_secs(15));
        assert_eq!(args.renew_deadline, Duration::from_secs(10));
        assert_eq!(args.retry_period, Duration::from_secs(2));
        assert_eq!(
            (args.no_http, args.http_addr, args.port),
            (false, None, 8080)
        );
        assert_eq!(args.default_workers, None);
    }

    #[test]
    fn runtime_flags_set_the_lease_identity_and_http_api() {
        let args = runtime_args(&[
            "--leader-elect",
            "true",
            "--lease-name",
            "mine",
            "--namespace",
            "",
            "--identity",
            "pod-1",
            "--lease-duration",
            "60",
            "--renew-deadline",
            "40s",
            "--retry-period",
            "10",
            "--http-addr",
            "10.0.0.1:80",
            "--no-http",
        ]);
        assert_eq!(args.leader_elect, Some(true));
        assert_eq!(args.lease_name, "mine");
        assert_eq!(args.namespace, "");
        assert_eq!(args.identity.as_deref(), Some("pod-1"));
        assert_eq!(
            (args.lease_duration, args.renew_deadline, args.retry_period),
            (
                Duration::from_secs(60),
                Duration::from_secs(40),
                Duration::from_secs(10)
            )
        );
        assert_eq!(args.http_addr, Some("10.0.0.1:80".parse().unwrap()));
        assert!(args.no_http);
        assert_eq!(
            runtime_args(&["--leader-elect", "false"]).leader_elect,
            Some(false)
        );
        assert!(Cli::try_parse_from(["ork", "run", "--leader-elect"]).is_err());
    }

    #[test]
    fn gateway_takes_ports_mode_and_durations() {
        let cli = Cli::try_parse_from([
            "ork",
            "gateway",
            "k.yaml",
            "--kubeconfig",
            "/tmp/kc",
            "--port",
            "0",
            "--http-port",
            "0",
            "--instance",
            "t",
            "--keep-on-exit",
            "--cert-validity",
            "90s",
            "--reassert-every",
            "1s",
            "--notify-token",
            "tok",
        ])
        .unwrap();
        match cli.command {
            Command::Gateway(args) => {
                assert_eq!(args.port, 0);
                assert_eq!(args.target.kubeconfig, Some(PathBuf::from("/tmp/kc")));
                assert_eq!(args.notify_token.as_deref(), Some("tok"));
                assert_eq!(args.instance.as_deref(), Some("t"));
                assert!(args.keep_on_exit);
                assert_eq!(args.cert_validity.as_deref(), Some("90s"));
                assert_eq!(args.service, None);
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["ork", "gateway", "--service", "gw"]).is_err());
        assert!(Cli::try_parse_from(["ork", "gateway", "--tls-cert", "c.pem"]).is_err());
    }
}
