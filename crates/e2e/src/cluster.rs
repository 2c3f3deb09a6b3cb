//! The cluster a test runs on: ork's own local control plane (`provider: kind`; testenv with
//! simulated workloads, so Deployments become Available and Jobs complete, no kind or Docker
//! needed), or an existing one (`provider: existing`, `--use-current`, or a kubeconfig given
//! by the caller).

use std::path::{Path, PathBuf};

use testenv::{Binaries, Config, ControlPlane};

/// Where tests run, as chosen on the command line.
#[derive(Debug, Clone, Default)]
pub enum Target {
    /// What each file's `cluster.provider` says (`kind` → a local control plane).
    #[default]
    FromFile,
    /// The current kubeconfig context, whatever the files say.
    Current,
    /// The cluster of this kubeconfig, whatever the files say (a shared test cluster).
    Kubeconfig(PathBuf),
}

/// A cluster in use.
pub struct Cluster {
    kubeconfig: PathBuf,
    kubectl: PathBuf,
    local: Option<ControlPlane>,
    /// True when ork e2e owns it (and objects need no cleanup: the cluster goes away).
    pub throwaway: bool,
    /// How it was obtained, for the report.
    pub description: String,
}

impl Cluster {
    /// Starts a local control plane with simulated workloads (building the binaries first
    /// if they are missing).
    ///
    /// # Errors
    /// When the binaries cannot be found or built, or a process does not start.
    pub async fn local() -> Result<Self, String> {
        let binaries = tokio::task::spawn_blocking(|| Binaries::locate_or_build(true))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("control-plane binaries: {e}"))?;
        let config = Config::new().binaries_dir(binaries.dir()).workloads(true);
        let cp = ControlPlane::start(config)
            .await
            .map_err(|e| format!("starting the local control plane: {e}"))?;
        Ok(Self {
            kubeconfig: cp.kubeconfig_path().to_path_buf(),
            kubectl: cp.binaries().path("kubectl"),
            description: format!(
                "local control plane {} at {} (simulated workloads)",
                testenv::KUBERNETES_VERSION,
                cp.server()
            ),
            local: Some(cp),
            throwaway: true,
        })
    }

    /// The cluster of `kubeconfig` (or of `$KUBECONFIG`, `~/.kube/config` when `None`).
    ///
    /// # Errors
    /// When no kubeconfig is found.
    pub fn existing(kubeconfig: Option<&Path>) -> Result<Self, String> {
        let path = match kubeconfig {
            Some(p) => p.to_path_buf(),
            None => current_kubeconfig()?,
        };
        if !path.is_file() {
            return Err(format!("kubeconfig {} does not exist", path.display()));
        }
        Ok(Self {
            description: format!("existing cluster of {}", path.display()),
            kubeconfig: path,
            kubectl: kubectl(),
            local: None,
            throwaway: false,
        })
    }

    /// Its kubeconfig.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The kubectl to use with it.
    pub fn kubectl(&self) -> &Path {
        &self.kubectl
    }

    /// Stops a local control plane, or leaves it running (`keep`) and says how to reach and
    /// stop it. An existing cluster is left as it is.
    pub fn finish(mut self, keep: bool) -> Option<String> {
        let mut cp = self.local.take()?;
        if keep {
            let message = format!(
                "cluster kept: export KUBECONFIG={}  (stop it with: kill {})",
                self.kubeconfig.display(),
                cp.pids()
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            // Keep its processes and data: no stop, no removal of its directory.
            std::mem::forget(cp);
            return Some(message);
        }
        cp.stop(std::time::Duration::from_secs(2));
        None
    }
}

/// `$KUBECONFIG` (its first entry), else `~/.kube/config`.
fn current_kubeconfig() -> Result<PathBuf, String> {
    if let Some(value) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let first = std::env::split_paths(&value).next();
        return first.ok_or_else(|| "KUBECONFIG is empty".to_owned());
    }
    let home = std::env::var_os("HOME").ok_or("neither KUBECONFIG nor HOME is set")?;
    Ok(PathBuf::from(home).join(".kube/config"))
}

/// The kubectl built with the control plane when there is one, else the one on PATH.
fn kubectl() -> PathBuf {
    Binaries::locate()
        .map(|b| b.path("kubectl"))
        .ok()
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("kubectl"))
}
