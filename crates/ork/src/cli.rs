//! The raw command line: what was typed, as clap structs. Each command module turns
//! its arguments into a library configuration.

use std::path::PathBuf;
use std::time::Duration;

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
    /// Run the operators of a Katalog: one OperatorBox per CRD, until SIGTERM or Ctrl-C.
    Run(RunArgs),
    /// Measure how fast `ork run` converges CRs against a raw server-side-apply floor, on a
    /// throwaway local control plane.
    Bench(BenchArgs),
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
}

/// Arguments of `ork bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The numbers of CRs to converge, one measurement each.
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    pub crs: Vec<usize>,
    /// Requests in flight for the floor, CR creates in flight, and ork's workers.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

/// A Go duration (`500ms`, `30s`, `1m30s`) or whole seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    katalog::model::duration::parse(text).map_err(|error| error.to_string())
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

    #[test]
    fn bench_takes_a_list_of_sizes() {
        let cli =
            Cli::try_parse_from(["ork", "bench", "--crs", "10,20", "--concurrency", "4"]).unwrap();
        match cli.command {
            Command::Bench(args) => {
                assert_eq!(args.crs, [10, 20]);
                assert_eq!(args.concurrency, 4);
            }
            other => panic!("parsed as {other:?}"),
        }
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
