//! Running kubectl and the file's shell commands against the test's cluster: the kubectl that
//! `control-plane/build.sh` builds first on `PATH`, `KUBECONFIG` set, the E2E file's directory
//! as working directory.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

/// What a command printed (stdout then stderr) and how it exited.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit code (-1 when killed by a signal or not started).
    pub code: i32,
    /// stdout followed by stderr.
    pub text: String,
}

impl Output {
    /// True on exit code 0.
    pub fn ok(&self) -> bool {
        self.code == 0
    }
}

/// The environment commands of one test run in.
#[derive(Debug, Clone)]
pub struct Shell {
    kubectl: PathBuf,
    kubeconfig: PathBuf,
    path: String,
    dir: PathBuf,
    cache_dir: Option<PathBuf>,
}

impl Shell {
    /// Commands with `kubectl` (a path to the binary) first on PATH and `kubeconfig` set.
    pub fn new(kubectl: &Path, kubeconfig: &Path) -> Self {
        let mut dirs: Vec<String> = kubectl
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(|d| d.display().to_string())
            .into_iter()
            .collect();
        if let Some(existing) = std::env::var_os("PATH") {
            dirs.push(existing.to_string_lossy().into_owned());
        }
        let path = dirs.join(":");
        Self {
            kubectl: kubectl.to_path_buf(),
            kubeconfig: kubeconfig.to_path_buf(),
            path,
            dir: PathBuf::from("."),
            cache_dir: None,
        }
    }

    /// The same environment, with kubectl's discovery cache in `dir` (`KUBECACHEDIR`) instead
    /// of the user's: a cache filled by an earlier test can map a kind to a CRD that test
    /// deleted since, and kubectl would then report the kind's objects as not found.
    pub fn with_cache_dir(&self, dir: &Path) -> Self {
        Self {
            cache_dir: Some(dir.to_path_buf()),
            ..self.clone()
        }
    }

    /// The same environment, working in `dir`.
    pub fn in_dir(&self, dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            ..self.clone()
        }
    }

    /// The kubeconfig commands use.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The working directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `kubectl args…`, with `stdin` piped in when given.
    pub async fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut command = Command::new(&self.kubectl);
        command.args(args);
        self.run(command, stdin).await
    }

    /// Runs `sh -c script`.
    pub async fn sh(&self, script: &str) -> Output {
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        self.run(command, None).await
    }

    /// Runs `command` (another tool, such as helm) in this environment.
    pub async fn run_command(&self, command: Command) -> Output {
        self.run(command, None).await
    }

    async fn run(&self, mut command: Command, stdin: Option<&str>) -> Output {
        command
            .current_dir(&self.dir)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("PATH", &self.path);
        if let Some(cache) = &self.cache_dir {
            command.env("KUBECACHEDIR", cache);
        }
        command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                return Output {
                    code: -1,
                    text: format!("cannot start {:?}: {e}", command.as_std().get_program()),
                };
            }
        };
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let _ = pipe.write_all(input.as_bytes()).await;
        }
        match child.wait_with_output().await {
            Ok(out) => {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                Output {
                    code: out.status.code().unwrap_or(-1),
                    text,
                }
            }
            Err(e) => Output {
                code: -1,
                text: e.to_string(),
            },
        }
    }
}
