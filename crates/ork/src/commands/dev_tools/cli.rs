//! The raw command line of the developer commands: what was typed, as clap structs.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::cli::parse_duration;

/// The developer commands, listed among `ork`'s commands.
#[derive(Debug, Subcommand)]
pub enum DevTool {
    /// Start a local Kubernetes control plane (and optionally run a Katalog on it).
    Dev(DevArgs),
    /// Benchmark `ork run` on a throwaway local control plane: convergence against a raw
    /// server-side-apply floor (throughput), an idle leader and follower (idle), failover.
    Bench(BenchArgs),
    /// Generate deployment files from a Katalog.
    Generate(GenerateArgs),
    /// Print the objects a CR produces, as multi-document YAML, without a cluster.
    Template(TemplateArgs),
    /// Check a Katalog or Komposer offline: strict parsing, every reference, every rule.
    Validate(ValidateArgs),
    /// Evaluate a Katalog's admission rules (mutation, then validation) offline against CRs.
    Gate(GateArgs),
    /// Browse the template functions: every built-in with an example, and a Katalog's notes.
    Notes(NotesArgs),
    /// Start a project: a hello-website Katalog, or an example pack (beginner, intermediate,
    /// advanced) embedded in the binary.
    Init(InitArgs),
    /// Show what applying a CR's children would change in the live cluster (server-side
    /// apply, dry run); exit 1 when something would change.
    Diff(DiffArgs),
    /// Compare the local Katalog with the deployed one (a bundle file or the live ConfigMap):
    /// CRDs added, removed and modified, field by field; exit 1 when something changes.
    Plan(PlanArgs),
    /// Print a shell completion script: `source <(ork completions bash)`.
    Completions(CompletionsArgs),
    /// Run the real reconcile of each CRD for N cycles against an in-memory API (no
    /// cluster): the writes of every cycle, the steady state, and a simulate.yaml's `expect:`.
    Simulate(SimulateArgs),
    /// Run an E2E file (e2e.yaml): CRD, setup, the operator in-process, CR, expectations, on
    /// ork's own local control plane (no kind, no Docker) or the current cluster.
    E2e(E2eArgs),
}

/// Arguments of `ork completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `ork plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The local Katalog or Komposer.
    #[arg(short = 'f', long = "file", default_value = "katalog.yaml")]
    pub file: PathBuf,
    /// The deployed bundle (`ork generate bundle` output) holding the Katalog ConfigMap.
    #[arg(short = 'b', long, conflicts_with = "cm")]
    pub bundle: Option<PathBuf>,
    /// The deployed Katalog ConfigMap in the cluster.
    #[arg(long)]
    pub cm: Option<String>,
    /// Namespace of the ConfigMap.
    #[arg(
        short = 'n',
        long,
        env = "ORK_NAMESPACE",
        default_value = "orkestra-system"
    )]
    pub namespace: String,
    /// The kubeconfig file (default: $KUBECONFIG, then ~/.kube/config), as kubectl.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long)]
    pub context: Option<String>,
}

/// Arguments of `ork diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The Katalog (or Komposer) declaring the CRD.
    pub katalog: PathBuf,
    /// A YAML file with the CR as it would be applied (several documents: one after another).
    #[arg(long)]
    pub cr: PathBuf,
    /// The CRD entry to render with, when the CR's kind does not pick exactly one.
    #[arg(long)]
    pub crd: Option<String>,
    /// The kubeconfig file (default: $KUBECONFIG, then ~/.kube/config), as kubectl.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long)]
    pub context: Option<String>,
}

/// Arguments of `ork init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write (default: the current directory).
    pub dir: Option<PathBuf>,
    /// A pack (`beginner`, `intermediate`, `advanced`) or one example of it
    /// (`beginner/01-hello-website`).
    #[arg(short = 'p', long)]
    pub pack: Option<String>,
    /// List the packs and their examples.
    #[arg(short = 'l', long, alias = "list-packs")]
    pub list: bool,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `ork notes`.
#[derive(Debug, Args)]
pub struct NotesArgs {
    /// What to show (default: every function, by family).
    #[command(subcommand)]
    pub command: Option<NotesCommand>,
    /// Also list the notes (`notes.functions`) of this Katalog or Komposer.
    #[arg(short = 'f', long = "file", global = true)]
    pub file: Option<PathBuf>,
}

/// The `ork notes` subcommands.
#[derive(Debug, Subcommand)]
pub enum NotesCommand {
    /// Functions whose name, description or family contains TERM.
    Search {
        /// Text to look for (case-insensitive).
        term: String,
    },
    /// One function: signature, description, example and its output.
    Show {
        /// The function's name.
        name: String,
    },
    /// The families and how many functions each has.
    Domains,
    /// The object examples render over (`.` in every example).
    Sample,
}

/// Arguments of `ork gate`.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// The Katalog or Komposer.
    #[arg(short = 'f', long = "file", default_value = "katalog.yaml")]
    pub file: PathBuf,
    /// YAML files with the CRs to admit (each may hold several documents).
    #[arg(long, required = true, num_args = 1..)]
    pub cr: Vec<PathBuf>,
    /// The CRD entry to admit with, when a CR's kind does not pick exactly one.
    #[arg(long)]
    pub crd: Option<String>,
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
    /// Also list the Katalog's notes (user template functions) and the built-ins they shadow.
    #[arg(long)]
    pub notes: bool,
    /// Also list the Katalog's user profiles (merged from its Motifs, includes and, for a
    /// Komposer, its imports), each with where it was declared and its definition.
    #[arg(long)]
    pub profiles: bool,
}

/// Arguments of `ork generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to generate.
    #[command(subcommand)]
    pub command: GenerateCommand,
}

/// The `ork generate` subcommands.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Namespace, ServiceAccounts, least-privilege ClusterRoles and Bindings, the Katalog
    /// ConfigMap and a Deployment per process, as one deterministic multi-document YAML.
    Bundle(BundleArgs),
}

/// Arguments of `ork generate bundle`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The Katalog or Komposer.
    #[arg(short = 'f', long = "file", default_value = "katalog.yaml")]
    pub file: PathBuf,
    /// Processes to deploy, comma-separated: runtime (run), gateway (gw), control (cc, the
    /// Control Center). The gateway is left out when the Katalog gives it nothing to do.
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
    /// Container image of every Deployment (the production build, see deploy/Containerfile).
    #[arg(long, default_value = concat!("ork:", env!("CARGO_PKG_VERSION")))]
    pub image: String,
}

/// Arguments of `ork bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The benchmarks to run: throughput, idle, failover, external, chaos, peers, latency, or all (space- or
    /// comma-separated).
    #[arg(value_enum, value_delimiter = ',', default_value = "throughput")]
    pub benchmarks: Vec<Benchmark>,
    /// throughput: the numbers of CRs to converge, one measurement each; latency: the
    /// largest is the number of steady CRs.
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    pub crs: Vec<usize>,
    /// latency: samples of each measurement.
    #[arg(long, default_value_t = 200)]
    pub samples: usize,
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
    /// chaos: rounds, each one fault during the convergence of `--chaos-crs` CRs.
    #[arg(long, default_value_t = 100)]
    pub rounds: usize,
    /// chaos: CRs converging in each round.
    #[arg(long, default_value_t = 1000)]
    pub chaos_crs: usize,
    /// chaos: the longest cut, 429 storm or latency (each lasts from 1 s to this).
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub max_fault: Duration,
    /// chaos: how long ork's writes are counted once a round has converged (zero expected).
    #[arg(long, default_value = "11s", value_parser = parse_duration)]
    pub steady: Duration,
    /// peers: the engines to compare (space- or comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "floor,ork,kro,controller-runtime"
    )]
    pub engines: Vec<PeerEngine>,
    /// peers: repetitions of each (engine, workers, N); the table gives medians.
    #[arg(long, default_value_t = 3)]
    pub repetitions: usize,
    /// peers: where `bench/peers/build.sh` built kro and stack-operator (default
    /// `$ORK_PEERS_DIR`, else `~/.cache/ork/peers`).
    #[arg(long)]
    pub peers_dir: Option<PathBuf>,
}

/// An engine of `ork bench peers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeerEngine {
    /// The two floors: children only, and children + one status patch per CR.
    Floor,
    /// `ork run`.
    Ork,
    /// kro, built by bench/peers/build.sh.
    Kro,
    /// bench/peers/stack-operator, a hand-written controller-runtime operator.
    ControllerRuntime,
}

/// A benchmark of `ork bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Benchmark {
    /// Convergence speed of one process against a floor, and its RSS with idle CRDs.
    Throughput,
    /// RSS and CPU of an idle leader and follower once every CR has converged.
    Idle,
    /// Failover time after SIGTERM and SIGKILL of the leader, default Lease durations.
    Failover,
    /// The cost of one `external:` call per reconcile (not part of `all`).
    External,
    /// Rounds of one fault (ork, API server or etcd killed, cut, 429 storm, latency) during
    /// convergence, on a control plane of its own; not part of `all`.
    Chaos,
    /// ork against two floors, kro and a controller-runtime operator (built by
    /// bench/peers/build.sh); not part of `all`.
    Peers,
    /// With the largest `--crs` steady CRs, spec change → child updated and deleted child →
    /// restored, p50/p99 of `--samples` each; not part of `all`.
    Latency,
    /// Throughput, idle and failover, in that order.
    All,
}

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

/// Arguments of `ork dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// A Katalog (or Komposer) to run against the local control plane once it is ready.
    pub katalog: Option<PathBuf>,
    /// Where the control plane keeps its data between runs.
    #[arg(long, env = "ORK_DEV_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Delete the state directory first, so this start begins from an empty cluster.
    #[arg(long)]
    pub reset: bool,
    /// Port for the API server on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Do not simulate workloads: no kube-scheduler, no kwok Nodes, so Pods stay Pending.
    #[arg(long)]
    pub no_workloads: bool,
    /// With a Katalog: do not start the Control Center (nor the runtime's HTTP API it reads).
    #[arg(long)]
    pub no_ui: bool,
    /// With a Katalog: port of the Control Center on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = control::DEFAULT_PORT)]
    pub ui_port: u16,
    /// With a Katalog that declares webhooks (admission, conversion, protection): do not start
    /// the gateway, so the API server calls no webhook.
    #[arg(long)]
    pub no_gateway: bool,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser as _;

    #[test]
    fn template_takes_a_katalog_a_cr_and_an_optional_crd() {
        let cli = Cli::try_parse_from([
            "ork", "template", "k.yaml", "--cr", "cr.yaml", "--crd", "web",
        ])
        .unwrap();
        match cli.command {
            Command::DevTools(DevTool::Template(args)) => {
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
            Command::DevTools(DevTool::Validate(args)) => {
                assert_eq!(args.katalog, Some(PathBuf::from("k.yaml")));
                assert_eq!(args.output, OutputFormat::Json);
                assert!(args.full);
            }
            other => panic!("parsed as {other:?}"),
        }
        let cli = Cli::try_parse_from(["ork", "validate"]).unwrap();
        match cli.command {
            Command::DevTools(DevTool::Validate(args)) => {
                assert_eq!(args.katalog, None);
                assert_eq!(args.output, OutputFormat::Text);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn bench_takes_a_list_of_sizes() {
        let cli =
            Cli::try_parse_from(["ork", "bench", "--crs", "10,20", "--concurrency", "4"]).unwrap();
        match cli.command {
            Command::DevTools(DevTool::Bench(args)) => {
                assert_eq!(args.crs, [10, 20]);
                assert_eq!(args.concurrency, 4);
                assert_eq!(args.benchmarks, [Benchmark::Throughput]);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn bench_peers_takes_engines_repetitions_and_a_peers_dir() {
        let cli = Cli::try_parse_from([
            "ork",
            "bench",
            "peers",
            "--engines",
            "ork,controller-runtime",
            "--repetitions",
            "2",
            "--peers-dir",
            "/p",
        ])
        .unwrap();
        match cli.command {
            Command::DevTools(DevTool::Bench(args)) => {
                assert_eq!(args.benchmarks, [Benchmark::Peers]);
                assert_eq!(
                    args.engines,
                    [PeerEngine::Ork, PeerEngine::ControllerRuntime]
                );
                assert_eq!(args.repetitions, 2);
                assert_eq!(args.peers_dir, Some(PathBuf::from("/p")));
                assert_eq!(args.crs, [100, 1000]);
            }
            other => panic!("parsed as {other:?}"),
        }
        let cli = Cli::try_parse_from(["ork", "bench", "peers"]).unwrap();
        match cli.command {
            Command::DevTools(DevTool::Bench(args)) => {
                assert_eq!(args.engines.len(), 4);
                assert_eq!(args.repetitions, 3);
                assert!(!Benchmark::expand(&[Benchmark::All]).contains(&Benchmark::Peers));
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["ork", "bench", "peers", "--engines", "helm"]).is_err());
    }

    #[test]
    fn bench_latency_takes_its_steady_crs_and_samples() {
        let cli =
            Cli::try_parse_from(["ork", "bench", "latency", "--crs", "200", "--samples", "50"])
                .unwrap();
        match cli.command {
            Command::DevTools(DevTool::Bench(args)) => {
                assert_eq!(args.benchmarks, [Benchmark::Latency]);
                assert_eq!((args.crs, args.samples), (vec![200], 50));
                assert!(!Benchmark::expand(&[Benchmark::All]).contains(&Benchmark::Latency));
            }
            other => panic!("parsed as {other:?}"),
        }
        let cli = Cli::try_parse_from(["ork", "bench", "latency"]).unwrap();
        match cli.command {
            Command::DevTools(DevTool::Bench(args)) => assert_eq!(args.samples, 200),
            other => panic!("parsed as {other:?}"),
        }
    }

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
            Command::DevTools(DevTool::Bench(args)) => {
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

    #[test]
    fn dev_accepts_a_katalog_and_reset() {
        let cli = Cli::try_parse_from(["ork", "dev", "k.yaml", "--reset"]).unwrap();
        match cli.command {
            Command::DevTools(DevTool::Dev(args)) => {
                assert_eq!(args.katalog, Some(PathBuf::from("k.yaml")));
                assert!(args.reset);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn generate_bundle_accepts_for_namespace_output_and_image() {
        let cli = Cli::try_parse_from([
            "ork", "generate", "bundle", "-f", "k.yaml", "--for", "run,gw", "-n", "ops", "-o",
            "b.yaml", "--image", "img:1",
        ])
        .unwrap();
        let Command::DevTools(DevTool::Generate(GenerateArgs {
            command: GenerateCommand::Bundle(args),
        })) = cli.command
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

/// Arguments of `ork simulate`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimulateArgs {
    /// `init`: write a simulate.yaml from what cycle 1 creates.
    #[command(subcommand)]
    pub command: Option<SimulateCommand>,
    /// Simulate files, directories (their simulate.yaml), or `DIR/...` for every
    /// simulate.yaml below DIR (default: ./simulate.yaml, else katalog.yaml with cr.yaml).
    pub paths: Vec<PathBuf>,
    /// A simulate.yaml, or a Katalog/Komposer to run with --cr (no expectations).
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// The CR file (multi-document) when running a Katalog directly (default: cr.yaml).
    #[arg(long)]
    pub cr: Option<PathBuf>,
    /// Simulate only the CRD of this name.
    #[arg(long)]
    pub crd: Option<String>,
    /// Reconcile cycles (default: the file's spec.cycles, else 10).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub cycles: Option<u32>,
    /// Answer `external:` calls with an empty success (200, or the call's expectedStatus)
    /// instead of sending them.
    #[arg(long)]
    pub skip_external: bool,
    /// Also print every request of every cycle.
    #[arg(long)]
    pub debug_ops: bool,
    /// With `DIR/...`: leave out simulate.yaml files below a directory of this name
    /// (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Run on a local control plane (etcd and kube-apiserver, started for each run) instead
    /// of the in-memory API.
    #[arg(long)]
    pub envtest: bool,
    /// The Kubernetes version of the --envtest control plane: ork builds one,
    /// testenv::KUBERNETES_VERSION; any other version is refused.
    #[arg(long, value_name = "VERSION")]
    pub k8s_version: Option<String>,
    /// Start a local dev server with fixed answers for the external calls of Orkestra's
    /// example packs (health, config, sign, token, flags, SBOM, cosign, Vault, OPA, certs).
    #[arg(long)]
    pub dev_server: bool,
    /// The dev server's port (with --dev-server; default 9999).
    #[arg(long, value_name = "PORT")]
    pub dev_server_port: Option<u16>,
    /// Simulate a serve target's operatorBox (not supported: refused).
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,
}

/// The `ork simulate` subcommands.
#[derive(Debug, Subcommand)]
pub enum SimulateCommand {
    /// Write a simulate.yaml from cycle 1's creates of the Katalog and cr.yaml in DIR.
    Init(SimulateInitArgs),
}

/// Arguments of `ork simulate init`.
#[derive(Debug, Args)]
pub struct SimulateInitArgs {
    /// The directory with katalog.yaml (or komposer.yaml) and cr.yaml.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Replace an existing simulate.yaml.
    #[arg(long)]
    pub force: bool,
    /// Print the file instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `ork e2e`.
#[derive(Debug, Args)]
pub struct E2eArgs {
    /// The E2E file (default: e2e.yaml in the current directory).
    pub file: Option<PathBuf>,
    /// The E2E file, as a flag (same as the positional argument).
    #[arg(short = 'f', long = "file", conflicts_with = "file")]
    pub file_flag: Option<PathBuf>,
    /// Leave the local control plane running at the end and print its KUBECONFIG.
    #[arg(long)]
    pub keep_cluster: bool,
    /// Run on the current kubeconfig context instead of a local control plane.
    #[arg(long, conflicts_with = "cluster")]
    pub use_current: bool,
    /// Run on this context of the current kubeconfig instead of a local control plane.
    #[arg(long, value_name = "CONTEXT")]
    pub cluster: Option<String>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Run Orkestra's dev server (fixed answers for the external calls of the example packs)
    /// on 127.0.0.1, reachable by the operator both there and at its in-cluster address
    /// http://orkestra-dev-server.orkestra-system.svc:9999.
    #[arg(long)]
    pub dev_server: bool,
    /// The dev server's loopback port (with --dev-server; default 9999).
    #[arg(long, value_name = "PORT", requires = "dev_server")]
    pub dev_server_port: Option<u16>,
}
