//! The raw command line: what was typed, as clap structs. Each command module turns
//! its arguments into a library configuration.

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
    /// Start a local Kubernetes control plane (and optionally run a Katalog on it).
    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
    Dev(DevArgs),
    /// Run the operators of a Katalog: one OperatorBox per CRD, until SIGTERM or Ctrl-C.
    Run(Box<RunArgs>),
    /// Benchmark `ork run` on a throwaway local control plane: convergence against a raw
    /// server-side-apply floor (throughput), an idle leader and follower (idle), failover.
    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
    Bench(BenchArgs),
    /// Generate deployment files from a Katalog.
    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
    Generate(GenerateArgs),
    /// Serve the Katalog's admission, conversion and protection webhooks (HTTPS) and
    /// `/notify`; removes every webhook configuration it registered when it stops.
    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
    Gateway(Box<GatewayArgs>),
    /// Print the objects a CR produces, as multi-document YAML, without a cluster.
    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
    Template(TemplateArgs),
    /// Check a Katalog or Komposer offline: strict parsing, every reference, every rule.
    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
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

/// Arguments of `ork generate`.
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to generate.
    #[command(subcommand)]
    pub command: GenerateCommand,
}

/// The `ork generate` subcommands.
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Namespace, ServiceAccounts, least-privilege ClusterRoles and Bindings, the Katalog
    /// ConfigMap and a Deployment per process, as one deterministic multi-document YAML.
    Bundle(BundleArgs),
}

/// Arguments of `ork generate bundle`.
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The Katalog or Komposer.
    #[arg(short = 'f', long = "file", default_value = "katalog.yaml")]
    pub file: PathBuf,
    /// Processes to deploy, comma-separated: runtime (run), gateway (gw). The gateway is
    /// left out when the Katalog gives it nothing to do.
    #[arg(long = "for", value_delimiter = ',', default_value = "runtime,gateway")]
    pub for_: Vec<String>,
    /// Namespace of the processes, their ServiceAccounts, ConfigMap and Lease.
    #[arg(
        short = 'n',
        long,
        env = "ORK_NAMESPACE",
        default_value = "orkestra-system"
    )]
    pub namespace: String,
    /// Write the bundle to this file instead of standard output.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Container image of the Deployments (a runtime-only build, see deploy/Containerfile).
    #[arg(long, default_value = concat!("ork-runtime:", env!("CARGO_PKG_VERSION")))]
    pub image: String,
}

/// Arguments of `ork run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The Katalog or Komposer (default: katalog.yaml, then komposer.yaml in the current directory).
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

/// Arguments of `ork bench`.
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The benchmarks to run: throughput, idle, failover, or all (space- or comma-separated).
    #[arg(value_enum, value_delimiter = ',', default_value = "throughput")]
    pub benchmarks: Vec<Benchmark>,
    /// throughput: the numbers of CRs to converge, one measurement each.
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    pub crs: Vec<usize>,
    /// Requests in flight for the floor, CR creates in flight, and ork's workers.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// idle, failover: CRDs in the Katalog of the two `ork run` processes.
    #[arg(long, default_value_t = 15)]
    pub fleet_crds: usize,
    /// idle, failover: CRs spread over those CRDs (one ConfigMap child each).
    #[arg(long, default_value_t = 1000)]
    pub fleet_crs: usize,
    /// idle: how long to sample RSS and CPU once every CR has converged.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub window: Duration,
    /// failover: SIGTERM rounds (graceful hand-over).
    #[arg(long, default_value_t = 20)]
    pub sigterm: usize,
    /// failover: SIGKILL rounds (crash take-over), alternating with the SIGTERM rounds.
    #[arg(long, default_value_t = 20)]
    pub sigkill: usize,
}

/// A benchmark of `ork bench`.
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Benchmark {
    /// Convergence speed of one process against a floor, and its RSS with idle CRDs.
    Throughput,
    /// RSS and CPU of an idle leader and follower once every CR has converged.
    Idle,
    /// Failover time after SIGTERM and SIGKILL of the leader, default Lease durations.
    Failover,
    /// All three, in that order.
    All,
}

#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
impl Benchmark {
    /// The benchmarks `chosen` names, `all` expanded, without repeats.
    pub fn expand(chosen: &[Self]) -> Vec<Self> {
        let mut benchmarks = Vec::new();
        for &benchmark in chosen {
            let each: &[Self] = if benchmark == Self::All {
                &[Self::Throughput, Self::Idle, Self::Failover]
            } else {
                &[benchmark]
            };
            for &one in each {
                if !benchmarks.contains(&one) {
                    benchmarks.push(one);
                }
            }
        }
        benchmarks
    }
}

/// A Go duration (`500ms`, `30s`, `1m30s`) or whole seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    katalog::model::duration::parse(text).map_err(|error| error.to_string())
}

/// Arguments of `ork dev`.
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
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
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
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
#[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
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

    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
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

    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
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
                assert_eq!(args.katalog, Some(PathBuf::from("k.yaml")));
                assert_eq!(args.kubeconfig, Some(PathBuf::from("/tmp/kc")));
                assert_eq!(args.context.as_deref(), Some("dev"));
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

    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
    #[test]
    fn bench_takes_a_list_of_sizes() {
        let cli =
            Cli::try_parse_from(["ork", "bench", "--crs", "10,20", "--concurrency", "4"]).unwrap();
        match cli.command {
            Command::Bench(args) => {
                assert_eq!(args.crs, [10, 20]);
                assert_eq!(args.concurrency, 4);
                assert_eq!(args.benchmarks, [Benchmark::Throughput]);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
    #[test]
    fn bench_names_its_benchmarks_and_all_expands_once() {
        let cli = Cli::try_parse_from([
            "ork",
            "bench",
            "idle,failover",
            "all",
            "--window",
            "30s",
            "--sigkill",
            "5",
        ])
        .unwrap();
        match cli.command {
            Command::Bench(args) => {
                assert_eq!(
                    Benchmark::expand(&args.benchmarks),
                    [Benchmark::Idle, Benchmark::Failover, Benchmark::Throughput]
                );
                assert_eq!(args.window, Duration::from_secs(30));
                assert_eq!((args.sigterm, args.sigkill), (20, 5));
                assert_eq!((args.fleet_crds, args.fleet_crs), (15, 1000));
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["ork", "bench", "speed"]).is_err());
    }

    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
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

    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
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

    #[cfg(all(feature = "dev-tools", not(feature = "runtime-only")))]
    #[test]
    fn generate_bundle_accepts_for_namespace_output_and_image() {
        let cli = Cli::try_parse_from([
            "ork", "generate", "bundle", "-f", "k.yaml", "--for", "run,gw", "-n", "ops", "-o",
            "b.yaml", "--image", "img:1",
        ])
        .unwrap();
        let Command::Generate(GenerateArgs {
            command: GenerateCommand::Bundle(args),
        }) = cli.command
        else {
            panic!("parsed as {:?}", cli.command);
        };
        assert_eq!(args.file, PathBuf::from("k.yaml"));
        assert_eq!(args.for_, ["run", "gw"]);
        assert_eq!(args.namespace, "ops");
        assert_eq!(args.output, Some(PathBuf::from("b.yaml")));
        assert_eq!(args.image, "img:1");
    }
}
