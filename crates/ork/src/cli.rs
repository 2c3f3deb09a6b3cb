//! The raw command line: what was typed, as clap structs. Each command module turns
//! its arguments into a library configuration.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// Start a local Kubernetes control plane (and optionally run a Katalog on it).
    Dev(DevArgs),
    /// Serve the Katalog's admission, conversion and protection webhooks (HTTPS) and
    /// `/notify`; removes every webhook configuration it registered when it stops.
    Gateway(Box<GatewayArgs>),
    /// Print the objects a CR produces, as multi-document YAML, without a cluster.
    Template(TemplateArgs),
    /// Check a Katalog or Komposer offline: strict parsing, every reference, every rule.
    Validate(ValidateArgs),
    /// Print version information.
    Version,
}

/// Output format of `ork validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable, like compiler errors.
    Text,
    /// One JSON document.
    Json,
}

/// Arguments of `ork validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The Katalog or Komposer (default: katalog.yaml, then komposer.yaml in the current directory).
    pub katalog: Option<PathBuf>,
    /// The Katalog or Komposer, as a flag (same as the positional argument).
    #[arg(short = 'f', long = "file", conflicts_with = "katalog")]
    pub file: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Also print each CRD's resolved settings and the dependency order.
    #[arg(long)]
    pub full: bool,
}

/// Arguments of `ork dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// A Katalog (or Komposer) to run against the local control plane once it is ready.
    pub katalog: Option<PathBuf>,
    /// Where the control plane keeps its data between runs.
    #[arg(long, env = "ORK_DEV_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Delete the state directory and exit (the next start begins from an empty cluster).
    #[arg(long)]
    pub reset: bool,
    /// Port for the API server on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Do not simulate workloads: no kube-scheduler, no kwok Nodes, so Pods stay Pending.
    #[arg(long)]
    pub no_workloads: bool,
}

/// Arguments of `ork template`.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// The Katalog (or Komposer) declaring the CRD.
    pub katalog: PathBuf,
    /// A YAML file with the CR (several documents render one after another).
    #[arg(long)]
    pub cr: PathBuf,
    /// The CRD entry to render with, when the CR's kind does not pick exactly one.
    #[arg(long)]
    pub crd: Option<String>,
}

/// Arguments of `ork gateway`.
#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// The Katalog or Komposer (default: katalog.yaml in the current directory).
    pub katalog: Option<PathBuf>,
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
    fn template_takes_a_katalog_a_cr_and_an_optional_crd() {
        let cli = Cli::try_parse_from([
            "ork", "template", "k.yaml", "--cr", "cr.yaml", "--crd", "web",
        ])
        .unwrap();
        match cli.command {
            Command::Template(args) => {
                assert_eq!(args.katalog, PathBuf::from("k.yaml"));
                assert_eq!(args.cr, PathBuf::from("cr.yaml"));
                assert_eq!(args.crd.as_deref(), Some("web"));
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["ork", "template", "k.yaml"]).is_err());
    }

    #[test]
    fn validate_accepts_a_path_output_format_and_full() {
        let cli =
            Cli::try_parse_from(["ork", "validate", "k.yaml", "-o", "json", "--full"]).unwrap();
        match cli.command {
            Command::Validate(args) => {
                assert_eq!(args.katalog, Some(PathBuf::from("k.yaml")));
                assert_eq!(args.output, OutputFormat::Json);
                assert!(args.full);
            }
            other => panic!("parsed as {other:?}"),
        }
        let cli = Cli::try_parse_from(["ork", "validate"]).unwrap();
        match cli.command {
            Command::Validate(args) => {
                assert_eq!(args.katalog, None);
                assert_eq!(args.output, OutputFormat::Text);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn gateway_takes_ports_mode_and_durations() {
        let cli = Cli::try_parse_from([
            "ork",
            "gateway",
            "k.yaml",
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
        ])
        .unwrap();
        match cli.command {
            Command::Gateway(args) => {
                assert_eq!(args.port, 0);
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

    #[test]
    fn dev_accepts_a_katalog_and_reset() {
        let cli = Cli::try_parse_from(["ork", "dev", "k.yaml", "--reset"]).unwrap();
        match cli.command {
            Command::Dev(args) => {
                assert_eq!(args.katalog, Some(PathBuf::from("k.yaml")));
                assert!(args.reset);
            }
            other => panic!("parsed as {other:?}"),
        }
    }
}
