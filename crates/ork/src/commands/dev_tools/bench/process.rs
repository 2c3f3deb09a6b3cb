//! A real `ork run` child process (this binary), what /proc says about it, and its HTTP API.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::Signal;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// How to start an `ork run` process.
pub struct Spawn<'a> {
    /// The Katalog.
    pub katalog: &'a Path,
    /// The kubeconfig it authenticates with.
    pub kubeconfig: &'a Path,
    /// Where its log (`<name>.log`) goes.
    pub dir: &'a Path,
    /// The log's name, and the Lease identity when `leader` is set.
    pub name: &'a str,
    /// Leader election on a Lease in this namespace, with the default durations.
    pub leader: Option<&'a str>,
}

/// A running `ork run` process; SIGKILLed when dropped unless it was stopped.
pub struct Ork {
    child: Child,
    /// The loopback port of its HTTP API.
    pub port: u16,
    /// Its log file.
    pub log: PathBuf,
}

/// Resident set sizes, in KiB, as /proc/<pid>/status prints them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    /// `VmRSS`: resident now.
    pub now: u64,
    /// `VmHWM`: the most it was ever resident.
    pub peak: u64,
}

impl Ork {
    /// Starts `ork run` with its HTTP API on a free loopback port.
    pub fn start(spawn: &Spawn<'_>) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log = spawn.dir.join(format!("{}.log", spawn.name));
        let mut command = Command::new(std::env::current_exe()?);
        command
            .arg("run")
            .arg(spawn.katalog)
            .arg("--kubeconfig")
            .arg(spawn.kubeconfig)
            .arg("--http-addr")
            .arg(format!("127.0.0.1:{port}"))
            .env("ORK_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?);
        if let Some(namespace) = spawn.leader {
            command.args([
                "--leader-elect",
                "true",
                "--namespace",
                namespace,
                "--identity",
            ]);
            command.arg(spawn.name);
        }
        let child = command.spawn().context("starting ork run")?;
        Ok(Self { child, port, log })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident set size now and at its peak (zero once it has exited).
    pub fn memory(&self) -> Memory {
        memory_of(self.pid())
    }

    /// The CPU time it has used so far, user plus system (`utime + stime` of /proc/<pid>/stat).
    pub fn cpu_time(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        Duration::from_secs_f64(cpu_ticks(&stat) as f64 / clock_ticks_per_second())
    }

    /// Sends `signal`.
    pub fn signal(&self, signal: Signal) -> anyhow::Result<()> {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.pid())?);
        nix::sys::signal::kill(pid, signal)?;
        Ok(())
    }

    /// Whether it has exited (reaping it if so).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        self.signal(Signal::SIGTERM)?;
        let status = self.child.wait()?;
        anyhow::ensure!(status.success(), "ork run exited with {status}");
        Ok(())
    }

    /// Waits for it to exit, however it exits.
    pub fn reap(&mut self) {
        let _ = self.child.wait();
    }

    /// `isKonductor` of `/katalog/{crd}/health`; `None` while the API does not answer.
    pub async fn is_konductor(&self, crd: &str) -> Option<bool> {
        let body = http_get(self.port, &format!("/katalog/{crd}/health")).await?;
        let health: serde_json::Value = serde_json::from_str(&body).ok()?;
        health["isKonductor"].as_bool()
    }

    /// How many CRs of `crd` its watch cache holds (`/katalog/{crd}/cr`); `None` while the
    /// API does not list them.
    pub async fn cached(&self, crd: &str) -> Option<usize> {
        let body = http_get(self.port, &format!("/katalog/{crd}/cr")).await?;
        let list: serde_json::Value = serde_json::from_str(&body).ok()?;
        list["items"].as_array().map(Vec::len)
    }

    /// The sum of every `controller_reconcile_total` series of its `/metrics`.
    pub async fn reconciles(&self) -> Option<u64> {
        let text = http_get(self.port, "/metrics").await?;
        Some(
            text.lines()
                .filter(|l| l.starts_with("controller_reconcile_total{"))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>() as u64,
        )
    }
}

impl Drop for Ork {
    fn drop(&mut self) {
        if !self.has_exited() {
            let _ = self.signal(Signal::SIGKILL);
            self.reap();
        }
    }
}

/// The resident set sizes of process `pid` (zero once it has exited).
pub fn memory_of(pid: u32) -> Memory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    Memory {
        now: kib(&status, "VmRSS:"),
        peak: kib(&status, "VmHWM:"),
    }
}

/// Any other engine process of a benchmark (a Go peer): its output goes to a log file, and
/// it is SIGKILLed when dropped unless it was stopped.
pub struct Engine {
    child: Child,
}

impl Engine {
    /// Starts `program` with `args`, `KUBECONFIG` set to `kubeconfig`, logging to `log`.
    pub fn start(
        program: &Path,
        args: &[String],
        kubeconfig: &Path,
        log: &Path,
    ) -> anyhow::Result<Self> {
        let out = std::fs::File::create(log)?;
        let child = Command::new(program)
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        Ok(Self { child })
    }

    /// Its resident set size now and at its peak.
    pub fn memory(&self) -> Memory {
        memory_of(self.child.id())
    }

    /// Whether it has exited (reaping it if so).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    pub async fn stop(&mut self, grace: Duration) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, Signal::SIGTERM);
        let deadline = std::time::Instant::now() + grace;
        while !self.has_exited() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if !self.has_exited() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if !self.has_exited() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The value in KiB of `field` (`VmRSS:`) in a /proc/<pid>/status text; 0 when absent.
fn kib(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// `utime + stime` (clock ticks) of a /proc/<pid>/stat text; 0 when unreadable.
fn cpu_ticks(stat: &str) -> u64 {
    // The command name (field 2) is in parentheses and may hold spaces and ')': count from
    // the last ')'. Field 3 (state) comes first, so utime (14) and stime (15) are at 11, 12.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum()
}

/// Clock ticks per second, the unit of /proc/<pid>/stat's times.
fn clock_ticks_per_second() -> f64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map_or(100.0, |ticks| ticks as f64)
}

/// A free loopback port (bound and released).
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The body of `GET path` on `127.0.0.1:port` (any status), or `None` when nothing answers
/// within a second.
async fn http_get(port: u16, path: &str) -> Option<String> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.ok()?;
        reply
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
    };
    tokio::time::timeout(Duration::from_secs(1), exchange)
        .await
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_add_user_and_system_time_past_a_command_name_with_spaces() {
        let stat = "4242 (ork (run) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 37 5 0 0 20 0 9 0 100 2000 500";
        assert_eq!(cpu_ticks(stat), 42);
        assert_eq!(cpu_ticks(""), 0);
    }

    #[test]
    fn kib_reads_a_status_field_and_zero_when_absent() {
        let status = "Name:\tork\nVmHWM:\t   48512 kB\nVmRSS:\t   47104 kB\n";
        assert_eq!(kib(status, "VmRSS:"), 47104);
        assert_eq!(kib(status, "VmHWM:"), 48512);
        assert_eq!(kib(status, "VmSwap:"), 0);
    }

    #[test]
    fn this_process_has_a_resident_size_and_cpu_time_in_proc() {
        let pid = std::process::id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        assert!(kib(&status, "VmRSS:") > 0);
        let busy = std::time::Instant::now();
        while busy.elapsed() < Duration::from_millis(50) {
            std::hint::black_box(busy.elapsed());
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        assert!(cpu_ticks(&stat) > 0);
    }
}
