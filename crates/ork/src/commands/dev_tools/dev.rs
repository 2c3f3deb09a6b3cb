//! `ork dev`: a persistent local control plane in the foreground, optionally running a Katalog.
//!
//! The first start builds the control-plane binaries if they are missing (with progress), then
//! starts etcd, kube-apiserver and kube-controller-manager with their data in the state
//! directory, so the next start finds the same cluster. Unless `--no-workloads` is given,
//! workloads are simulated too (testenv's workloads mode): kube-scheduler and kwok's fake Nodes
//! make Pods "run" without any container, so Deployments become Available and Jobs complete.
//! Once the API server is ready it prints exactly one line on stdout,
//! `export KUBECONFIG=<path>`; everything else goes to stderr. With a Katalog it also serves
//! the runtime's HTTP API on 127.0.0.1:8080 (or a free port) and the Control Center over it on
//! `--ui-port` (8081, or a free port when that is taken), and prints both URLs; `--no-ui` runs
//! neither. When the Katalog declares webhooks (admission, conversion, protection) it also
//! runs the gateway in-process, as `ork e2e` does (`e2e::webhooks`): webhooks on
//! https://127.0.0.1:9443 and its HTTP API on 127.0.0.1:8082 (each, or a free port when taken:
//! in a cluster runtime and gateway both use 8080 in their own pods, and `ork gateway`'s local
//! HTTP default is the Control Center's 8081), registered on the local control plane and
//! removed from it when `ork dev` stops; the Control Center reads it too; `--no-gateway` runs
//! none. Ctrl-C or SIGTERM stops every process within 10 seconds.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use testenv::{Binaries, Config, ControlPlane};
use tokio::signal::unix::{SignalKind, signal};

use super::DevArgs;

/// How long each control-plane process gets to exit after SIGTERM when ork dev stops. The API
/// server's clients stop together, then the API server, then etcd: at most three graces in a
/// row, so the whole stop stays well under 10 s even on a loaded machine (a stop usually takes
/// about 2.5 s; a process past its grace is killed, which etcd survives as it keeps fsync here).
const STOP_GRACE: Duration = Duration::from_secs(2);

/// The runtime's HTTP API port when free (its default everywhere, spec §1.2).
const RUNTIME_PORT: u16 = 8080;
/// The gateway's webhook port when free (`ork gateway`'s default).
const GATEWAY_HTTPS_PORT: u16 = 9443;
/// The gateway's HTTP API port when free: next to the runtime's 8080 and the Control Center's
/// 8081, which both keep their defaults.
const GATEWAY_HTTP_PORT: u16 = 8082;
/// How long the gateway waits for the runtime to install a CRD whose conversion it registers.
const CRD_WAIT: Duration = Duration::from_secs(120);

/// Runs `ork dev`.
pub fn run(args: DevArgs) -> anyhow::Result<ExitCode> {
    let state_dir = args.state_dir.clone().unwrap_or_else(default_state_dir);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(serve(args, state_dir))
}

/// `${XDG_STATE_HOME:-~/.local/state}/ork/dev`.
pub fn default_state_dir() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".local/state")
        });
    base.join("ork").join("dev")
}

async fn serve(args: DevArgs, state_dir: PathBuf) -> anyhow::Result<ExitCode> {
    if args.reset {
        reset(&state_dir)?;
    }
    let workloads = !args.no_workloads;
    let binaries = tokio::task::spawn_blocking(move || Binaries::locate_or_build(workloads))
        .await
        .context("building the control-plane binaries")??;
    eprintln!(
        "ork dev: starting a local Kubernetes {} control plane (state in {})",
        testenv::KUBERNETES_VERSION,
        state_dir.display()
    );
    let config = Config::new()
        .state_dir(&state_dir)
        .api_port(args.port)
        .binaries_dir(binaries.dir())
        .workloads(workloads);
    let mut cp = ControlPlane::start(config).await?;
    let kubeconfig = std::fs::canonicalize(cp.kubeconfig_path())
        .unwrap_or_else(|_| cp.kubeconfig_path().to_path_buf());
    eprintln!("ork dev: API server ready at {}", cp.server());
    if workloads {
        eprintln!(
            "ork dev: workloads are simulated: {} kwok Nodes ({}); Pods are scheduled and reported \
             Running, Job Pods Succeeded, but no container runs (--no-workloads turns this off)",
            testenv::workloads::NODE_COUNT,
            testenv::workloads::node_names().join(", ")
        );
    } else {
        eprintln!("ork dev: no workloads (--no-workloads): Pods stay Pending, nothing runs them");
    }
    eprintln!(
        "ork dev: kubectl is {} (add {} to PATH)",
        cp.binaries().path("kubectl").display(),
        cp.binaries().dir().display()
    );
    eprintln!("ork dev: logs in {}", cp.dir().join("logs").display());
    println!("export KUBECONFIG={}", kubeconfig.display());

    let mut webhooks = None;
    if let Some(katalog) = &args.katalog {
        let api = if args.no_ui {
            None
        } else {
            Some(free_local_addr(RUNTIME_PORT)?)
        };
        run_katalog(katalog, &cp, api)?;
        if !args.no_gateway {
            webhooks = start_gateway(katalog, &cp).await?;
        }
        if let Some(api) = api {
            eprintln!("ork dev: runtime HTTP API at http://{api}");
            let gateway = webhooks.as_ref().map(e2e::webhooks::Webhooks::http_addr);
            start_control_center(api, gateway, args.ui_port).await?;
        }
    }
    eprintln!("ork dev: running; press Ctrl-C to stop");

    let code = wait_for_stop(&mut cp).await?;
    eprintln!("ork dev: stopping");
    if let Some(webhooks) = webhooks {
        // Before the API server goes: its webhook configurations and conversion stanzas leave
        // with it, so the next start (or any client) never calls a gateway that is gone.
        match webhooks.stop().await {
            Ok(()) => eprintln!("ork dev: gateway stopped; its webhooks are unregistered"),
            Err(e) => eprintln!("ork dev: {e}"),
        }
    }
    tokio::task::spawn_blocking(move || cp.stop(STOP_GRACE))
        .await
        .context("stopping the control plane")?;
    eprintln!(
        "ork dev: stopped; the cluster's data stays in {}",
        state_dir.display()
    );
    Ok(code)
}

/// Runs a Katalog against the local control plane in the background of `ork dev`, as
/// `ork run --kubeconfig <the control plane's>` would; it stops with `ork dev`.
///
/// The Katalog is loaded first: an invalid one fails `ork dev` before anything is applied.
fn run_katalog(katalog: &Path, cp: &ControlPlane, api: Option<SocketAddr>) -> anyhow::Result<()> {
    let loaded = crate::commands::run::load(&katalog.to_path_buf())
        .ok_or_else(|| anyhow::anyhow!("{} is not a valid Katalog", katalog.display()))?;
    // ork dev's own process: no leader election; the HTTP API only for the Control Center.
    let config = runtime::Config {
        connect: runtime::cluster::ConnectOptions {
            kubeconfig: Some(cp.kubeconfig_path().to_path_buf()),
            context: None,
        },
        leader_elect: Some(false),
        http: api.is_some(),
        http_addr: api,
        ..runtime::Config::default()
    };
    eprintln!("ork dev: running {}", katalog.display());
    // The same SIGTERM/SIGINT that stops `ork dev` stops the boxes first: they have nothing
    // in flight to wait for by the time the API server goes away.
    let shutdown = async {
        if runtime::supervisor::shutdown_signal().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::spawn(async move {
        if let Err(error) = runtime::run(loaded, config, shutdown).await {
            let error = anyhow::Error::new(error);
            eprintln!("ork dev: the Katalog stopped running: {error:#}");
        }
    });
    Ok(())
}

/// Waits for Ctrl-C or SIGTERM (exit 0), or for a control-plane process to die (exit 1).
/// 127.0.0.1:`preferred` when it is free, else a free port the system picks.
fn free_local_addr(preferred: u16) -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", preferred))
        .or_else(|_| std::net::TcpListener::bind(("127.0.0.1", 0)))
        .context("finding a free local port for the runtime's HTTP API")?;
    Ok(listener.local_addr()?)
}

/// Starts the gateway when the Katalog declares webhooks, once the runtime has installed the
/// CRDs whose conversion it registers, and prints where it serves.
async fn start_gateway(
    katalog: &Path,
    cp: &ControlPlane,
) -> anyhow::Result<Option<e2e::webhooks::Webhooks>> {
    let options = e2e::webhooks::Options {
        https_addr: free_local_addr(GATEWAY_HTTPS_PORT)?,
        http_addr: free_local_addr(GATEWAY_HTTP_PORT)?,
        crd_wait: CRD_WAIT,
    };
    let webhooks = e2e::webhooks::Webhooks::start_with(katalog, cp.kubeconfig_path(), options)
        .await
        .map_err(|e| anyhow::anyhow!("{e} (--no-gateway runs the Katalog without it)"))?;
    if let Some(webhooks) = &webhooks {
        eprintln!("ork dev: gateway {}", webhooks.describe());
        eprintln!(
            "ork dev: gateway HTTP API at http://{}",
            webhooks.http_addr()
        );
    }
    Ok(webhooks)
}

/// Serves the Control Center on 127.0.0.1:`port` over the runtime's HTTP API at `api` (and
/// the gateway's at `gateway`), in the background of `ork dev` (it stops with it), and prints
/// its URL.
async fn start_control_center(
    api: SocketAddr,
    gateway: Option<SocketAddr>,
    port: u16,
) -> anyhow::Result<()> {
    let urls = std::iter::once(api)
        .chain(gateway)
        .map(|a| format!("http://{a}"))
        .collect();
    let mut config = control::Config::new(urls);
    config.addr = SocketAddr::from(([127, 0, 0, 1], port));
    config.refresh = Duration::from_secs(2);
    let cc = match control::ControlCenter::bind(config.clone()).await {
        // The default port is taken (another ork dev, a gateway): any free one will do.
        Err(control::Error::BindFailed { .. }) if port == control::DEFAULT_PORT => {
            config.addr.set_port(0);
            control::ControlCenter::bind(config).await
        }
        other => other,
    }
    .context("starting the Control Center (--ui-port picks another port, --no-ui none)")?;
    eprintln!("ork dev: Control Center at http://{}", cc.local_addr());
    tokio::spawn(cc.serve(async {
        if runtime::supervisor::shutdown_signal().await.is_err() {
            std::future::pending::<()>().await;
        }
    }));
    Ok(())
}

async fn wait_for_stop(cp: &mut ControlPlane) -> anyhow::Result<ExitCode> {
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = term.recv() => return Ok(ExitCode::SUCCESS),
            _ = int.recv() => return Ok(ExitCode::SUCCESS),
            _ = tick.tick() => {
                if let Some((name, status)) = cp.first_exited() {
                    eprintln!(
                        "ork dev: {name} exited unexpectedly ({status}); see {}",
                        cp.dir().join("logs").join(format!("{name}.log")).display()
                    );
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }
}

/// Removes the state directory, refusing while an `ork dev` still uses it.
fn reset(state_dir: &Path) -> anyhow::Result<()> {
    if let Some(pid) = std::fs::read_to_string(state_dir.join("ork.pid"))
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
        && testenv::is_alive(pid)
    {
        anyhow::bail!(
            "{} is in use by process {pid}; stop that `ork dev` before resetting",
            state_dir.display()
        );
    }
    match std::fs::remove_dir_all(state_dir) {
        Ok(()) => eprintln!("ork dev: removed {}", state_dir.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("removing {}", state_dir.display())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::cli::{Cli, Command};
    use crate::commands::dev_tools::DevTool;

    fn dev_args(args: &[&str]) -> super::DevArgs {
        let argv = ["ork", "dev"].iter().chain(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::DevTools(DevTool::Dev(args)) => args,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn workloads_are_simulated_unless_no_workloads_is_given() {
        assert!(!dev_args(&[]).no_workloads);
        assert!(dev_args(&["--no-workloads"]).no_workloads);
    }

    #[test]
    fn the_control_center_is_on_unless_no_ui_is_given() {
        let args = dev_args(&["k.yaml"]);
        assert_eq!((args.no_ui, args.ui_port), (false, 8081));
        let args = dev_args(&["k.yaml", "--no-ui", "--ui-port", "0"]);
        assert_eq!((args.no_ui, args.ui_port), (true, 0));
    }

    #[test]
    fn the_gateway_is_on_unless_no_gateway_is_given() {
        assert!(!dev_args(&["k.yaml"]).no_gateway);
        assert!(dev_args(&["k.yaml", "--no-gateway"]).no_gateway);
    }

    #[test]
    fn runtime_control_center_and_gateway_default_to_distinct_ports() {
        let ports = [
            super::RUNTIME_PORT,
            control::DEFAULT_PORT,
            super::GATEWAY_HTTP_PORT,
            super::GATEWAY_HTTPS_PORT,
        ];
        let distinct: std::collections::BTreeSet<u16> = ports.into_iter().collect();
        assert_eq!(distinct.len(), ports.len(), "{ports:?}");
    }

    #[test]
    fn a_taken_port_gives_way_to_a_free_one() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let addr = super::free_local_addr(port).unwrap();
        assert_ne!(addr.port(), port);
        assert!(addr.ip().is_loopback());
    }
}
