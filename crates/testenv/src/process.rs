//! Child processes of the control plane: started with their output in a log file, each in its
//! own process group (so a terminal's Ctrl-C reaches ork, which then stops them in order), and
//! stopped by pid.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Errors starting a process.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The log file could not be created.
    #[error("creating log file {0}")]
    LogNotCreated(PathBuf, #[source] std::io::Error),
    /// The program could not be executed.
    #[error("starting {0}")]
    SpawnFailed(String, #[source] std::io::Error),
}

/// A running control-plane process. Dropping it stops it.
#[derive(Debug)]
pub struct Process {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `program` with `args`, stdout and stderr appended to `log`.
    pub fn spawn(name: &str, program: &Path, args: &[String], log: PathBuf) -> Result<Self, Error> {
        let child = start(name, program, args, &log)?;
        Ok(Self {
            name: name.to_string(),
            program: program.to_path_buf(),
            args: args.to_vec(),
            child,
            log,
        })
    }

    /// SIGKILLs the process (no grace, as a crash would) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the same program with the same arguments and log file again; the process must
    /// have exited (see [`Process::kill`]).
    pub fn respawn(&mut self) -> Result<(), Error> {
        self.child = start(&self.name, &self.program, &self.args, &self.log)?;
        Ok(())
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The short name (`etcd`, `kube-apiserver`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last `n` lines of the process's log.
    pub fn log_tail(&self, n: usize) -> String {
        tail(&self.log, n)
    }

    /// Sends SIGTERM without waiting (see [`Process::stop`] for the wait).
    pub fn terminate(&self) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
    }

    /// Sends SIGTERM, waits up to `grace` for the process to exit, then SIGKILLs it. Reaps it,
    /// so no zombie is left.
    pub fn stop(&mut self, grace: Duration) {
        if self.exited().is_some() {
            return;
        }
        self.terminate();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// Starts `program` in its own process group, stdout and stderr appended to `log`.
fn start(name: &str, program: &Path, args: &[String], log: &Path) -> Result<Child, Error> {
    use std::os::unix::process::CommandExt;
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::LogNotCreated(log.to_path_buf(), e))?;
    let err = out
        .try_clone()
        .map_err(|e| Error::LogNotCreated(log.to_path_buf(), e))?;
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| Error::SpawnFailed(format!("{name} ({})", program.display()), e))
}

/// Whether a process with this pid exists (and is not a zombie).
pub fn is_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The last `n` lines of a file (reads at most its last 64 KiB).
pub fn tail(path: &Path, n: usize) -> String {
    let Ok(mut file) = File::open(path) else {
        return format!("(no log at {})", path.display());
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A watchdog that outlives its owner: when the owning process dies without cleaning up (a
/// SIGKILLed test binary, a panic in a static), it kills the given pids and removes `dir`.
/// Stopping the janitor (drop) disarms it.
#[derive(Debug)]
pub struct Janitor(Child);

impl Janitor {
    /// Arms a janitor for `pids`, removing `dir` too when given.
    pub fn arm(pids: &[u32], dir: Option<&Path>) -> std::io::Result<Self> {
        use std::os::unix::process::CommandExt;
        const SCRIPT: &str = r#"owner=$1; dir=$2; shift 2
trap '' INT TERM HUP
while kill -0 "$owner" 2>/dev/null; do sleep 0.5; done
kill -TERM "$@" 2>/dev/null; sleep 2; kill -KILL "$@" 2>/dev/null
[ -n "$dir" ] && rm -rf "$dir"
exit 0"#;
        let mut args = vec![
            "-c".to_string(),
            SCRIPT.to_string(),
            "ork-testenv-janitor".to_string(),
            std::process::id().to_string(),
            dir.map(|d| d.display().to_string()).unwrap_or_default(),
        ];
        args.extend(pids.iter().map(u32::to_string));
        let child = Command::new("sh")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        Ok(Self(child))
    }

    /// The janitor's pid.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Janitor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reaps_the_process_and_it_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Process::spawn(
            "sleeper",
            Path::new("sleep"),
            &["30".into()],
            dir.path().join("s.log"),
        )
        .unwrap();
        let pid = p.pid();
        assert!(is_alive(pid));
        p.stop(Duration::from_secs(2));
        assert!(!is_alive(pid));
    }

    #[test]
    fn tail_returns_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        fs::write(&path, text).unwrap();
        assert_eq!(tail(&path, 2), "line 99\nline 100");
    }

    #[test]
    fn a_missing_program_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Process::spawn(
            "ghost",
            Path::new("/nonexistent/ghost"),
            &[],
            dir.path().join("g.log"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("ghost"), "{err}");
    }
}
