//! Where the control-plane binaries live, and how they get there.
//!
//! The binaries are built from Go modules by `control-plane/build.sh` into a cache outside the
//! repository, keyed by Kubernetes version. Tests never build them (a missing binary is a
//! failing test with instructions); `ork dev` builds them on first use.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Kubernetes release the control plane is built from.
pub const KUBERNETES_VERSION: &str = "v1.37.2";

/// Environment variable that overrides where the binaries are read from and built into.
pub const DIR_ENV: &str = "ORK_CONTROL_PLANE_DIR";

/// The programs a full control plane needs.
pub const REQUIRED: &[&str] = &[
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
];

/// The extra programs the workloads mode needs ([`crate::Config::workloads`]): kwok, which plays
/// the kubelets of simulated Nodes.
pub const WORKLOADS_REQUIRED: &[&str] = &["kwok"];

/// Errors finding or building the binaries.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Some binaries are not in the cache directory.
    #[error(
        "control-plane binaries missing in {dir}: {missing}\n  build them once with `control-plane/build.sh` \
         (it builds only what is missing: kwok alone 2-5 min cold on 2 cores, everything 15-30 min; \
         needs Go >= 1.26), or point {DIR_ENV} at a directory that has them"
    )]
    Missing {
        /// The directory that was searched.
        dir: PathBuf,
        /// Comma-separated names of the missing programs.
        missing: String,
    },
    /// The build script could not be found next to this crate.
    #[error("build script not found at {0}; run ork from its source checkout or set {DIR_ENV}")]
    ScriptNotFound(PathBuf),
    /// The build script could not be started.
    #[error("could not start {0}")]
    BuildNotStarted(PathBuf, #[source] std::io::Error),
    /// The build script ran and failed.
    #[error("control-plane build failed (exit status {0}); its output above says why")]
    BuildFailed(std::process::ExitStatus),
}

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The directory holding the binaries: `$ORK_CONTROL_PLANE_DIR`, else
/// `${XDG_CACHE_HOME:-~/.cache}/ork/control-plane/<version>/bin` (the build script's default).
pub fn dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cache"));
    cache
        .join("ork")
        .join("control-plane")
        .join(KUBERNETES_VERSION)
        .join("bin")
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

/// The located binaries.
#[derive(Debug, Clone)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// Finds every required binary in [`dir()`], or says which are missing and how to build them.
    pub fn locate() -> Result<Self> {
        Self::locate_in(dir())
    }

    /// Finds every required binary in `dir`.
    pub fn locate_in(dir: PathBuf) -> Result<Self> {
        let found = Self { dir };
        found.require(REQUIRED)?;
        Ok(found)
    }

    /// Checks that `names` (for example [`WORKLOADS_REQUIRED`]) are in this directory too, or
    /// says which are missing and how to build them.
    pub fn require(&self, names: &[&str]) -> Result<()> {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|b| !is_executable(&self.dir.join(b)))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::Missing {
                dir: self.dir.clone(),
                missing: missing.join(", "),
            })
        }
    }

    /// Finds the binaries, building them first with the repository's script when any is missing
    /// (with `workloads`, kwok counts too). The script prints its own progress on stderr.
    pub fn locate_or_build(workloads: bool) -> Result<Self> {
        let extra = if workloads { WORKLOADS_REQUIRED } else { &[] };
        if let Ok(found) = Self::locate()
            && found.require(extra).is_ok()
        {
            return Ok(found);
        }
        let script = build_script();
        if !script.is_file() {
            return Err(Error::ScriptNotFound(script));
        }
        let status = Command::new("bash")
            .arg(&script)
            .status()
            .map_err(|e| Error::BuildNotStarted(script.clone(), e))?;
        if !status.success() {
            return Err(Error::BuildFailed(status));
        }
        let found = Self::locate()?;
        found.require(extra)?;
        Ok(found)
    }

    /// The directory the binaries are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of one program, e.g. `kubectl`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// The repository's `control-plane/build.sh`.
pub fn build_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../control-plane/build.sh")
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_are_named_with_instructions() {
        let empty = tempfile::tempdir().unwrap();
        let err = Binaries::locate_in(empty.path().to_path_buf()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("kube-apiserver"), "{text}");
        assert!(text.contains("etcd"), "{text}");
        assert!(text.contains("control-plane/build.sh"), "{text}");
    }

    #[test]
    fn a_missing_kwok_is_named_only_when_workloads_need_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for name in REQUIRED {
            let path = dir.path().join(name);
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let found = Binaries::locate_in(dir.path().to_path_buf()).unwrap();
        let text = found.require(WORKLOADS_REQUIRED).unwrap_err().to_string();
        assert!(text.contains("kwok"), "{text}");
        assert!(text.contains("control-plane/build.sh"), "{text}");
        assert!(!text.contains("etcd"), "{text}");
    }

    /// `with_progress` of `control-plane/progress.sh` (what build.sh wraps its long steps in)
    /// run on a fake command: it reports the units done while the command runs, passes other
    /// lines through, drops go's `# ` trace lines, and returns the command's status.
    #[test]
    fn the_build_reports_progress_while_a_long_step_runs() {
        let progress = build_script().with_file_name("progress.sh");
        let fake = "echo a/b >&2; echo '# get x' >&2; echo c/d >&2; sleep 2.5; \
                    echo 'main.go:1: broken' >&2; echo e/f >&2; exit 3";
        let output = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "set -euo pipefail; . {}; with_progress unit-test things '^[a-z/]+$' bash -c \"{fake}\"",
                progress.display()
            ))
            .env("ORK_PROGRESS_EVERY", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{stderr}");
        let reports: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("[control-plane]     unit-test: "))
            .collect();
        assert!(
            reports.iter().any(|l| l.ends_with(", 2 things")),
            "a report while the command runs: {stderr}"
        );
        assert!(reports.last().unwrap().ends_with(", 3 things"), "{stderr}");
        assert!(stderr.contains("main.go:1: broken"), "{stderr}");
        assert!(!stderr.contains("# get"), "{stderr}");
    }

    #[test]
    fn build_script_is_found_in_the_repository() {
        assert!(build_script().is_file(), "{}", build_script().display());
    }
}
