//! The `process_*` families of `/metrics` (Prometheus' standard process collector): CPU
//! seconds, resident and virtual memory, open and maximum file descriptors, threads and start
//! time, read from Linux `/proc/self` at scrape time. Elsewhere (no `/proc`) they are absent.
//!
//! CPU times in `/proc/self/stat` count clock ticks of `USER_HZ`, which the kernel fixes at 100
//! for user space on every Linux architecture ork builds for; reading it through `sysconf`
//! would need `unsafe` code, which the workspace forbids.

use std::fmt::Write as _;
use std::path::Path;

/// Clock ticks per second of `/proc` CPU and start times (`USER_HZ`).
const TICKS_PER_SECOND: f64 = 100.0;

/// One reading of the process's resources.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// User plus system CPU time, seconds.
    pub cpu_seconds: f64,
    /// Resident set size, bytes.
    pub resident_bytes: u64,
    /// Virtual memory size, bytes.
    pub virtual_bytes: u64,
    /// Open file descriptors.
    pub open_fds: u64,
    /// The soft limit of open file descriptors.
    pub max_fds: Option<u64>,
    /// Threads.
    pub threads: u64,
    /// Start time, seconds since the Unix epoch.
    pub start_time_seconds: f64,
}

impl Sample {
    /// Reads `/proc/self`; `None` where there is no `/proc` (not Linux).
    pub fn read() -> Option<Self> {
        Self::read_from(Path::new("/proc"), "self")
    }

    /// Reads process `pid` (or `self`) under the `/proc` mount at `proc`.
    fn read_from(proc: &Path, pid: &str) -> Option<Self> {
        let dir = proc.join(pid);
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        let status = std::fs::read_to_string(dir.join("status")).ok()?;
        let (cpu_ticks, start_ticks) = parse_stat(&stat)?;
        let boot_time = std::fs::read_to_string(proc.join("stat"))
            .ok()
            .and_then(|s| parse_boot_time(&s))
            .unwrap_or(0);
        let open_fds = std::fs::read_dir(dir.join("fd"))
            .map(|entries| entries.count() as u64)
            .unwrap_or(0);
        let max_fds = std::fs::read_to_string(dir.join("limits"))
            .ok()
            .and_then(|l| parse_max_fds(&l));
        Some(Sample {
            cpu_seconds: cpu_ticks as f64 / TICKS_PER_SECOND,
            resident_bytes: status_kib(&status, "VmRSS").unwrap_or(0) * 1024,
            virtual_bytes: status_kib(&status, "VmSize").unwrap_or(0) * 1024,
            open_fds,
            max_fds,
            threads: status_kib(&status, "Threads").unwrap_or(0),
            start_time_seconds: boot_time as f64 + start_ticks as f64 / TICKS_PER_SECOND,
        })
    }

    /// The families in OpenMetrics text (no `# EOF`).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, unit: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}.");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            if !unit.is_empty() {
                let _ = writeln!(out, "# UNIT {name} {unit}");
            }
            let sample = if kind == "counter" {
                format!("{name}_total")
            } else {
                name.to_owned()
            };
            let _ = writeln!(out, "{sample} {value}");
        };
        family(
            "process_cpu_seconds",
            "counter",
            "seconds",
            "Total user and system CPU time spent in seconds",
            self.cpu_seconds.to_string(),
        );
        family(
            "process_resident_memory_bytes",
            "gauge",
            "bytes",
            "Resident memory size in bytes",
            self.resident_bytes.to_string(),
        );
        family(
            "process_virtual_memory_bytes",
            "gauge",
            "bytes",
            "Virtual memory size in bytes",
            self.virtual_bytes.to_string(),
        );
        family(
            "process_open_fds",
            "gauge",
            "",
            "Number of open file descriptors",
            self.open_fds.to_string(),
        );
        if let Some(max) = self.max_fds {
            family(
                "process_max_fds",
                "gauge",
                "",
                "Maximum number of open file descriptors",
                max.to_string(),
            );
        }
        family(
            "process_threads",
            "gauge",
            "",
            "Number of OS threads in the process",
            self.threads.to_string(),
        );
        family(
            "process_start_time_seconds",
            "gauge",
            "seconds",
            "Start time of the process since the Unix epoch in seconds",
            self.start_time_seconds.to_string(),
        );
        out
    }
}

/// `metrics` (OpenMetrics text ending in `# EOF`) with the process families of `sample`
/// added before the end marker.
pub fn with_process(metrics: String, sample: Option<Sample>) -> String {
    let Some(sample) = sample else {
        return metrics;
    };
    let families = sample.encode();
    match metrics.rfind("# EOF") {
        Some(at) => {
            let mut out = metrics;
            out.insert_str(at, &families);
            out
        }
        None => metrics + &families,
    }
}

/// CPU ticks (user + system) and start time in ticks after boot from `/proc/<pid>/stat`.
/// The command name (field 2) may hold spaces and parentheses, so fields are counted from the
/// last `)`.
fn parse_stat(stat: &str) -> Option<(u64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 (state) is index 0; utime is field 14, stime 15, starttime 22.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some((field(14)? + field(15)?, field(22)?))
}

/// `btime` of `/proc/stat`: boot time, seconds since the Unix epoch.
fn parse_boot_time(stat: &str) -> Option<u64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// The number of a `Key:   123 kB` line of `/proc/<pid>/status` (the unit is dropped).
fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The soft `Max open files` limit of `/proc/<pid>/limits` (`None` when unlimited).
fn parse_max_fds(limits: &str) -> Option<u64> {
    limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 2000 0 0 0 \
                    250 50 0 0 20 0 9 0 123456 1000000 2500 18446744073709551615";
        assert_eq!(parse_stat(stat), Some((300, 123456)));
    }

    #[test]
    fn status_limits_and_boot_time_are_read_by_key() {
        let status = "Name:\tork\nVmSize:\t  20480 kB\nVmRSS:\t   1024 kB\nThreads:\t7\n";
        assert_eq!(status_kib(status, "VmRSS"), Some(1024));
        assert_eq!(status_kib(status, "VmSize"), Some(20480));
        assert_eq!(status_kib(status, "Threads"), Some(7));
        assert_eq!(status_kib(status, "VmSwap"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_fds(limits), Some(1024));
        assert_eq!(
            parse_boot_time("cpu 1 2 3\nbtime 1700000000\n"),
            Some(1_700_000_000)
        );
    }

    #[test]
    fn the_families_go_before_the_end_marker() {
        let sample = Sample {
            cpu_seconds: 1.5,
            resident_bytes: 4096,
            open_fds: 9,
            max_fds: Some(1024),
            ..Sample::default()
        };
        let text = with_process("# TYPE a gauge\na 1\n# EOF\n".into(), Some(sample));
        assert!(
            text.ends_with("process_start_time_seconds 0\n# EOF\n"),
            "{text}"
        );
        for line in [
            "# TYPE process_cpu_seconds counter",
            "process_cpu_seconds_total 1.5",
            "process_resident_memory_bytes 4096",
            "process_open_fds 9",
            "process_max_fds 1024",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert_eq!(with_process("a 1\n".into(), None), "a 1\n");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_reads_as_alive_on_linux() {
        let file = std::fs::File::open("/proc/self/stat").unwrap();
        let sample = Sample::read().expect("/proc is mounted");
        drop(file);
        assert!(sample.resident_bytes > 0);
        assert!(sample.open_fds >= 1, "the file opened above");
        assert!(sample.threads >= 1);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(sample.start_time_seconds > 0.0 && sample.start_time_seconds <= now + 1.0);
    }
}
