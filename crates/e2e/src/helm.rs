//! `setup.helm`: installing charts with a real Helm (the `helm.sh/helm/v4` module, built by
//! `helm/build.sh` into `~/.cache/ork/helm/<version>/bin`) against the test's cluster, and
//! uninstalling them at teardown.
//!
//! A chart is a local path (relative to the E2E file) or a chart of a repository (`repo:`).
//! A repository that cannot be reached, or a `repo/chart` reference with no `repo:` (a
//! repository configured on the author's machine), blocks the test: the step is a SKIP
//! "blocked: needs network", not a failure of ork. Helm keeps its cache, configuration and
//! data in the test's temporary directory, never in the user's.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::format::HelmRelease;
use crate::kubectl::Shell;

/// The Helm version `helm/build.sh` builds (its go.mod pins it).
pub const HELM_VERSION: &str = "v4.3.2";

/// Where `helm/build.sh` puts the binary: `ORK_HELM_DIR`, else
/// `${XDG_CACHE_HOME:-~/.cache}/ork/helm/<version>/bin`.
pub fn dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ORK_HELM_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("ork/helm").join(HELM_VERSION).join("bin")
}

/// The helm binary, if built.
///
/// # Errors
/// It is missing: the message says how to build it.
pub fn locate() -> Result<PathBuf, String> {
    let helm = dir().join("helm");
    if helm.is_file() {
        Ok(helm)
    } else {
        Err(format!(
            "helm {HELM_VERSION} is not built: expected {} (run helm/build.sh)",
            helm.display()
        ))
    }
}

/// How an install ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// Installed as this release in this namespace.
    Release {
        /// Release name.
        name: String,
        /// Its namespace.
        namespace: String,
    },
    /// The chart's repository cannot be reached from here: why.
    NeedsNetwork(String),
}

/// Whether Helm's error says a repository could not be reached.
fn is_unreachable(text: &str) -> bool {
    [
        "no such host",
        "dial tcp",
        "connection refused",
        "i/o timeout",
        "cannot be reached",
        "network is unreachable",
        "TLS handshake timeout",
        "Client.Timeout",
        "temporary failure in name resolution",
    ]
    .iter()
    .any(|m| text.to_lowercase().contains(&m.to_lowercase()))
}

/// The release name of an entry: `release:`, else the chart's last path segment.
pub fn release_name(entry: &HelmRelease) -> String {
    entry.release.clone().unwrap_or_else(|| {
        entry
            .chart
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(&entry.chart)
            .to_owned()
    })
}

/// Helm on the test's cluster.
#[derive(Debug, Clone)]
pub struct Helm {
    binary: PathBuf,
    shell: Shell,
    home: PathBuf,
}

impl Helm {
    /// Helm at `binary`, run in `shell`'s directory against its kubeconfig, keeping its
    /// state below `home`.
    pub fn new(binary: PathBuf, shell: Shell, home: &Path) -> Self {
        Self {
            binary,
            shell,
            home: home.to_path_buf(),
        }
    }

    async fn helm(&self, args: &[String]) -> crate::kubectl::Output {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .arg("--kubeconfig")
            .arg(self.shell.kubeconfig())
            .env("HELM_CACHE_HOME", self.home.join("cache"))
            .env("HELM_CONFIG_HOME", self.home.join("config"))
            .env("HELM_DATA_HOME", self.home.join("data"));
        self.shell.run_command(command).await
    }

    /// Installs `entry` (values written to a file below the Helm home).
    ///
    /// # Errors
    /// Helm failed for another reason than an unreachable repository: its output.
    pub async fn install(&self, entry: &HelmRelease) -> Result<Installed, String> {
        let local = self.shell.dir().join(&entry.chart);
        if entry.repo.is_none() && !local.exists() {
            if entry.chart.contains('/') && !entry.chart.starts_with('.') {
                return Ok(Installed::NeedsNetwork(format!(
                    "chart {} names a chart repository configured elsewhere (no repo: given)",
                    entry.chart
                )));
            }
            return Err(format!(
                "chart {}: no such local chart ({})",
                entry.chart,
                local.display()
            ));
        }
        let name = release_name(entry);
        let namespace = entry
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let mut args: Vec<String> = vec![
            "install".into(),
            name.clone(),
            entry.chart.clone(),
            "--namespace".into(),
            namespace.clone(),
        ];
        if let Some(repo) = &entry.repo {
            args.extend(["--repo".into(), repo.clone()]);
        }
        if let Some(version) = &entry.version {
            args.extend(["--version".into(), version.clone()]);
        }
        if entry.create_namespace {
            args.push("--create-namespace".into());
        }
        if let Some(values) = &entry.values {
            std::fs::create_dir_all(&self.home).map_err(|e| e.to_string())?;
            let file = self.home.join(format!("{name}-values.json"));
            std::fs::write(&file, values.to_string())
                .map_err(|e| format!("writing the values of {name}: {e}"))?;
            args.extend(["--values".into(), file.display().to_string()]);
        }
        let out = self.helm(&args).await;
        if out.ok() {
            return Ok(Installed::Release { name, namespace });
        }
        if entry.repo.is_some() && is_unreachable(&out.text) {
            return Ok(Installed::NeedsNetwork(format!(
                "repository {} cannot be reached: {}",
                entry.repo.as_deref().unwrap_or_default(),
                out.text.lines().last().unwrap_or_default().trim()
            )));
        }
        Err(format!("helm {}: {}", args.join(" "), out.text.trim()))
    }

    /// Uninstalls a release and waits for its objects to be deleted.
    ///
    /// # Errors
    /// Helm's output.
    pub async fn uninstall(&self, name: &str, namespace: &str) -> Result<(), String> {
        let args: Vec<String> = vec![
            "uninstall".into(),
            name.into(),
            "--namespace".into(),
            namespace.into(),
            "--wait".into(),
        ];
        let out = self.helm(&args).await;
        if out.ok() {
            Ok(())
        } else {
            Err(format!("helm {}: {}", args.join(" "), out.text.trim()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_errors_are_told_apart_from_chart_errors() {
        assert!(is_unreachable(
            "Error: looks like \"https://charts.jetstack.io\" is not a valid chart repository or cannot be reached: Get \"https://charts.jetstack.io/index.yaml\": dial tcp: lookup charts.jetstack.io: no such host"
        ));
        assert!(!is_unreachable(
            "Error: INSTALLATION FAILED: template: x/templates/cm.yaml:4: function \"nope\" not defined"
        ));
    }

    #[test]
    fn a_release_is_named_after_the_chart_unless_named() {
        let entry: HelmRelease =
            serde_json::from_value(serde_json::json!({"chart": "./charts/demo/"})).unwrap();
        assert_eq!(release_name(&entry), "demo");
        let entry: HelmRelease = serde_json::from_value(
            serde_json::json!({"chart": "jetstack/cert-manager", "release": "cm"}),
        )
        .unwrap();
        assert_eq!(release_name(&entry), "cm");
    }
}
