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
    /// This context of the current kubeconfig, whatever the files say (`--cluster <ctx>`).
    Context(String),
}

/// A cluster in use.
pub struct Cluster {
    kubeconfig: PathBuf,
    kubectl: PathBuf,
    local: Option<ControlPlane>,
    /// The kubeconfig written for a chosen context (removed with the cluster).
    _written: Option<tempfile::TempDir>,
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
            _written: None,
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
            _written: None,
            throwaway: false,
        })
    }

    /// The cluster of `context` in the current kubeconfig: a copy of that kubeconfig
    /// (flattened) with `context` as its current context, so the operator, the gateway, kubectl
    /// and the file's own commands all use it.
    ///
    /// # Errors
    /// When no kubeconfig is found, or it has no such context.
    pub async fn context(context: &str) -> Result<Self, String> {
        let source = current_kubeconfig()?;
        let kubectl = kubectl();
        let dir = tempfile::tempdir().map_err(|e| format!("a temp dir: {e}"))?;
        let written = dir.path().join("kubeconfig");
        let shell = crate::kubectl::Shell::new(&kubectl, &source);
        let view = shell
            .kubectl(&["config", "view", "--raw", "--flatten"], None)
            .await;
        if !view.ok() {
            return Err(format!(
                "reading {}: {}",
                source.display(),
                view.text.trim()
            ));
        }
        std::fs::write(&written, &view.text)
            .map_err(|e| format!("writing {}: {e}", written.display()))?;
        let shell = crate::kubectl::Shell::new(&kubectl, &written);
        let used = shell
            .kubectl(&["config", "use-context", context], None)
            .await;
        if !used.ok() {
            return Err(format!(
                "context {context:?} of {}: {}",
                source.display(),
                used.text.trim()
            ));
        }
        Ok(Self {
            description: format!("context {context} of {}", source.display()),
            kubeconfig: written,
            kubectl,
            local: None,
            _written: Some(dir),
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
