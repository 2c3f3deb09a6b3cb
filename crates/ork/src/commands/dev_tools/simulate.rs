//! `ork simulate [PATH...] [-f FILE] [--cr CR] [--crd NAME] [--cycles N]`: the real reconcile
//! of each CRD, cycle by cycle, against an in-memory API (or, with `--envtest`, a local
//! control plane started for each run; see the `simulate` crate), and `ork simulate init`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use simulate::api::Backend;
use simulate::suite::{self, Job, Report, Settings};

use super::{SimulateArgs, SimulateCommand, SimulateInitArgs};

/// What one path on the command line stands for.
enum Target {
    /// A Simulate file (or aggregator).
    SimulateFile(PathBuf),
    /// A Katalog run with a CR file, no expectations.
    Katalog(PathBuf),
    /// Every simulate.yaml below a directory.
    Below(PathBuf),
}

/// The `kind:` of a YAML file's first document, if it reads.
fn kind_of(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).ok()?;
    docs.first()?.get("kind")?.as_str().map(str::to_owned)
}

fn classify(path: &Path) -> anyhow::Result<Target> {
    let text = path.to_string_lossy();
    if let Some(root) = text.strip_suffix("...") {
        let root = if root.is_empty() { "." } else { root };
        return Ok(Target::Below(PathBuf::from(root)));
    }
    if path.is_dir() {
        let file = path.join("simulate.yaml");
        if !file.is_file() {
            bail!("{} has no simulate.yaml", path.display());
        }
        return Ok(Target::SimulateFile(file));
    }
    match kind_of(path).as_deref() {
        Some("Simulate") => Ok(Target::SimulateFile(path.to_path_buf())),
        Some("E2E") => bail!(
            "{} is an E2E file: use `ork e2e` for cluster tests, or `ork simulate init` to write a simulate.yaml",
            path.display()
        ),
        _ if path.is_file() => Ok(Target::Katalog(path.to_path_buf())),
        _ => bail!("cannot read {}", path.display()),
    }
}

/// Whether a discovered file sits below a directory `--skip` names.
fn skipped(file: &Path, root: &Path, skip: &[String]) -> bool {
    let below = file.strip_prefix(root).unwrap_or(file);
    below.parent().is_some_and(|dir| {
        dir.components()
            .any(|c| skip.iter().any(|s| c.as_os_str() == s.as_str()))
    })
}

fn default_target() -> anyhow::Result<Target> {
    if Path::new("simulate.yaml").is_file() {
        return Ok(Target::SimulateFile("simulate.yaml".into()));
    }
    for k in simulate::init::KATALOG_FILES {
        if Path::new(k).is_file() {
            return Ok(Target::Katalog(k.into()));
        }
    }
    bail!("no simulate.yaml, katalog.yaml or komposer.yaml in the current directory")
}

/// Refuses `--target` (not implemented), a `--k8s-version` other than the control plane ork
/// builds, and flags that need another one.
fn refuse_unsupported(args: &SimulateArgs) -> anyhow::Result<()> {
    if let (Some(port), false) = (args.dev_server_port, args.dev_server) {
        bail!("--dev-server-port {port} needs --dev-server");
    }
    if let Some(target) = &args.target {
        bail!(
            "--target {target} is not supported: ork simulate runs a CRD's operatorBox, not \
             a serve target's"
        );
    }
    if let Some(version) = &args.k8s_version {
        if !args.envtest {
            bail!("--k8s-version {version} needs --envtest: the in-memory API has no version");
        }
        let built = testenv::KUBERNETES_VERSION;
        let wanted = version.trim_start_matches('v');
        let built_bare = built.trim_start_matches('v');
        let minor = built_bare.rsplit_once('.').map_or(built_bare, |(m, _)| m);
        if wanted != built_bare && wanted != minor {
            bail!(
                "--k8s-version {version} is not available: ork's local control plane is \
                 Kubernetes {built} (the one version control-plane/build.sh builds)"
            );
        }
    }
    Ok(())
}

/// Runs `ork simulate`.
pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    refuse_unsupported(&args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    if args.dev_server {
        let port = args
            .dev_server_port
            .unwrap_or(simulate::dev_server::DEFAULT_PORT);
        let addr = runtime
            .block_on(simulate::dev_server::start(port))
            .with_context(|| format!("--dev-server: cannot listen on 127.0.0.1:{port}"))?;
        eprintln!("dev server on http://{addr}");
    }
    if let Some(SimulateCommand::Init(init)) = args.command {
        return runtime.block_on(init_file(init));
    }
    let mut targets = Vec::new();
    if let Some(f) = &args.file {
        targets.push(classify(f)?);
    }
    for p in &args.paths {
        targets.push(classify(p)?);
    }
    if targets.is_empty() {
        targets.push(default_target()?);
    }
    let settings = Settings {
        cycles: args.cycles,
        skip_external: args.skip_external,
        crd: args.crd.clone(),
        debug_ops: args.debug_ops,
        backend: if args.envtest {
            Backend::Envtest
        } else {
            Backend::Memory
        },
    };
    let reports = runtime.block_on(async {
        let mut seen = HashSet::new();
        let mut reports: Vec<Report> = Vec::new();
        for target in targets {
            match target {
                Target::SimulateFile(f) => {
                    reports.extend(suite::run_file(&f, &settings, &mut seen).await);
                }
                Target::Below(root) => {
                    for f in suite::discover(&root)
                        .into_iter()
                        .filter(|f| !skipped(f, &root, &args.skip))
                    {
                        reports.extend(suite::run_file(&f, &settings, &mut seen).await);
                    }
                }
                Target::Katalog(k) => {
                    let cr = args
                        .cr
                        .clone()
                        .unwrap_or_else(|| k.parent().unwrap_or(Path::new(".")).join("cr.yaml"));
                    let job = Job {
                        path: k.clone(),
                        katalog: k,
                        cr,
                        crd_files: Vec::new(),
                        cycles: suite::DEFAULT_CYCLES,
                        skip_external: false,
                        expect: None,
                    };
                    reports.push(suite::run_job(&job, &settings).await);
                }
            }
        }
        reports
    });
    if reports.is_empty() {
        bail!("no simulate.yaml found");
    }
    for r in &reports {
        print!("{}", r.text);
    }
    let failed: Vec<&Report> = reports.iter().filter(|r| !r.verdict.ok()).collect();
    if reports.len() > 1 {
        println!(
            "{} of {} simulation files passed",
            reports.len() - failed.len(),
            reports.len()
        );
    }
    for r in &failed {
        eprintln!("✗ {}: {}", r.path.display(), r.verdict.summary());
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn init_file(args: SimulateInitArgs) -> anyhow::Result<ExitCode> {
    let text = match simulate::init::generate(&args.dir).await {
        Ok(t) => t,
        Err(e) => bail!("{e}"),
    };
    if args.dry_run {
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let out = args.dir.join("simulate.yaml");
    if out.exists() && !args.force {
        bail!(
            "{} exists: pass --force to replace it, or --dry-run to print",
            out.display()
        );
    }
    std::fs::write(&out, text).with_context(|| format!("cannot write {}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}
