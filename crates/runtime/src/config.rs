//! Every runtime setting, as a flag and an environment variable with a documented default.
//!
//! [`RuntimeArgs`] is the raw layer (a clap `Args` that `ork run` flattens); its methods give
//! the checked library configurations ([`LeaderConfig`], the HTTP address, …). Precedence is
//! flag > environment > default; values a Katalog sets for a CRD (`workers`, `resync`,
//! `failureThreshold`) win over all three, as in Orkestra ("Katalog YAML > env > defaults").
//!
//! Durations accept whole seconds (`15`, Orkestra's env format) or a Go-style duration
//! (`15s`, `500ms`, `2m`, `1h30m`).
//!
//! | Flag | Env | Default |
//! |---|---|---|
//! | `--default-workers` | `DEFAULT_WORKERS` | the Katalog's default (3) |
//! | `--default-resync` | `DEFAULT_RESYNC` | the Katalog's default (30 s) |
//! | `--failure-threshold` | `FAILURE_THRESHOLD` | the Katalog's default (5) |
//! | `--leader-elect` | `ORK_LEADER_ELECT` | `true` in a pod, `false` elsewhere |
//! | `--lease-name` | `ORK_LEASE_NAME` | `orkestra-konductor` |
//! | `--namespace` | `ORK_NAMESPACE` | `orkestra-system` (empty: `default`) |
//! | `--identity` | `ORK_IDENTITY` | hostname + random suffix |
//! | `--lease-duration` | `LEASE_DURATION` | 15 s |
//! | `--renew-deadline` | `RENEW_DEADLINE` | 10 s |
//! | `--retry-period` | `RETRY_PERIOD` | 2 s |
//! | `--no-http` | `ORK_NO_HTTP` | off: the HTTP API is served |
//! | `--http-addr` | `ORK_HTTP_ADDR` | `0.0.0.0:8080` in a pod, `127.0.0.1:8080` elsewhere |
//! | `--port` | `ORK_PORT` | 8080 (the port of the default address) |
//! | `--gateway-endpoint` | `ORK_GATEWAY_ENDPOINT` | empty |

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::Args;

use crate::leader::{DEFAULT_LEASE_NAME, DEFAULT_NAMESPACE, LeaderConfig};

/// Errors checking the settings.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The leader-election durations cannot prevent split brain.
    #[error("invalid leader election settings")]
    LeaderInvalid(#[source] crate::leader::Error),
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The runtime's settings as typed (flags and environment variables).
#[derive(Clone, Debug, Args, PartialEq, Eq)]
pub struct RuntimeArgs {
    /// Workers per CRD when the Katalog sets none.
    #[arg(long, env = "DEFAULT_WORKERS")]
    pub default_workers: Option<u32>,
    /// Resync period when the Katalog sets none (seconds or `30s`).
    #[arg(long, env = "DEFAULT_RESYNC", value_parser = parse_duration)]
    pub default_resync: Option<Duration>,
    /// Consecutive failures that degrade a CRD when the Katalog sets none.
    #[arg(long, env = "FAILURE_THRESHOLD")]
    pub failure_threshold: Option<u32>,
    /// Elect a leader through a Lease: `true` or `false` (default: true in a pod, false
    /// elsewhere, where one process usually runs alone).
    #[arg(long, env = "ORK_LEADER_ELECT", action = clap::ArgAction::Set)]
    pub leader_elect: Option<bool>,
    /// Name of the Lease.
    #[arg(long, env = "ORK_LEASE_NAME", default_value = DEFAULT_LEASE_NAME)]
    pub lease_name: String,
    /// Namespace of the Lease (must exist); empty means `default`.
    #[arg(long, env = "ORK_NAMESPACE", default_value = DEFAULT_NAMESPACE)]
    pub namespace: String,
    /// This replica's identity in the Lease (default: hostname plus a random suffix).
    #[arg(long, env = "ORK_IDENTITY")]
    pub identity: Option<String>,
    /// How long a Lease stays valid after its last renewal.
    #[arg(long, env = "LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,
    /// How long a leader keeps leading without a successful renewal.
    #[arg(long, env = "RENEW_DEADLINE", default_value = "10s", value_parser = parse_duration)]
    pub renew_deadline: Duration,
    /// How often followers poll the Lease and the leader renews it.
    #[arg(long, env = "RETRY_PERIOD", default_value = "2s", value_parser = parse_duration)]
    pub retry_period: Duration,
    /// Do not serve the HTTP API (probes, metrics, `/katalog`).
    #[arg(long, env = "ORK_NO_HTTP")]
    pub no_http: bool,
    /// Address of the HTTP API (default: 0.0.0.0 in a pod, 127.0.0.1 elsewhere, on `--port`).
    #[arg(long, env = "ORK_HTTP_ADDR")]
    pub http_addr: Option<SocketAddr>,
    /// Port of the HTTP API when `--http-addr` is not given.
    #[arg(long, env = "ORK_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Gateway URL advertised in `/katalog`.
    #[arg(long, env = "ORK_GATEWAY_ENDPOINT", default_value = "")]
    pub gateway_endpoint: String,
}

impl Default for RuntimeArgs {
    /// The settings of a process embedded in a program or test: no HTTP API, no leader
    /// election, every other value at its documented default.
    fn default() -> Self {
        Self {
            default_workers: None,
            default_resync: None,
            failure_threshold: None,
            leader_elect: Some(false),
            lease_name: DEFAULT_LEASE_NAME.to_owned(),
            namespace: DEFAULT_NAMESPACE.to_owned(),
            identity: None,
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            no_http: true,
            http_addr: None,
            port: 8080,
            gateway_endpoint: String::new(),
        }
    }
}

impl RuntimeArgs {
    /// The leader election these settings ask for in a pod (`in_cluster`) or not, or `None`
    /// when it is turned off.
    ///
    /// # Errors
    /// [`Error::LeaderInvalid`] unless retry period < renew deadline < lease duration.
    pub fn leader(&self, in_cluster: bool) -> Result<Option<LeaderConfig>> {
        if !self.leader_elect.unwrap_or(in_cluster) {
            return Ok(None);
        }
        let mut config = LeaderConfig::default()
            .lease_name(&self.lease_name)
            .namespace(&self.namespace)
            .lease_duration(self.lease_duration)
            .renew_deadline(self.renew_deadline)
            .retry_period(self.retry_period);
        if let Some(identity) = self.identity.as_ref().filter(|i| !i.is_empty()) {
            config = config.identity(identity);
        }
        config.check().map_err(Error::LeaderInvalid)?;
        Ok(Some(config))
    }

    /// Applies `--default-workers`, `--default-resync` and `--failure-threshold` to the CRDs of
    /// `katalog` that do not set their own.
    ///
    /// A worker count is known to be a default (`workersSource`); a resync or failure
    /// threshold is taken for one when it equals the Katalog default (30 s, 5), so a Katalog
    /// that spells out exactly the default value is overridden too.
    pub fn apply_defaults(&self, katalog: &mut katalog::Katalog) {
        use katalog::model::{DEFAULT_FAILURE_THRESHOLD, DEFAULT_RESYNC};
        for crd in &mut katalog.crds {
            let settings = &mut crd.settings;
            if let Some(workers) = self.default_workers
                && settings.workers_source == katalog::model::Source::Default
            {
                settings.workers = workers;
            }
            if let Some(resync) = self.default_resync
                && settings.resync == DEFAULT_RESYNC
            {
                settings.resync = resync;
            }
            if let Some(threshold) = self.failure_threshold
                && settings.failure_threshold == DEFAULT_FAILURE_THRESHOLD
            {
                settings.failure_threshold = threshold;
            }
        }
    }

    /// The address of the HTTP API, in a pod (`in_cluster`) or not; `None` when turned off.
    pub fn http_addr(&self, in_cluster: bool) -> Option<SocketAddr> {
        if self.no_http {
            return None;
        }
        Some(self.http_addr.unwrap_or_else(|| {
            let ip = if in_cluster {
                Ipv4Addr::UNSPECIFIED
            } else {
                Ipv4Addr::LOCALHOST
            };
            SocketAddr::new(IpAddr::V4(ip), self.port)
        }))
    }
}

/// Parses whole seconds (`15`, Orkestra's env format) or a Go-style duration (`1m30s`).
///
/// # Errors
/// A message naming the bad input.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    katalog::model::duration::parse(text).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: RuntimeArgs,
    }

    fn parse(args: &[&str]) -> RuntimeArgs {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap().args
    }

    #[test]
    fn durations_are_seconds_or_go_durations() {
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5x").is_err());
    }

    #[test]
    fn defaults_give_the_documented_leader_election() {
        let args = parse(&[]);
        let leader = args.leader(true).unwrap().expect("on by default in a pod");
        assert_eq!(
            args.leader(false).unwrap(),
            None,
            "off by default elsewhere"
        );
        assert_eq!(leader.lease_name_str(), "orkestra-konductor");
        assert_eq!(leader.namespace_str(), "orkestra-system");
        assert_eq!(args.lease_duration, Duration::from_secs(15));
        assert_eq!(args.renew_deadline, Duration::from_secs(10));
        assert_eq!(args.retry_period, Duration::from_secs(2));
        assert_eq!(args.default_workers, None);
    }

    #[test]
    fn flags_set_the_lease_and_identity() {
        let args = parse(&[
            "--leader-elect",
            "true",
            "--lease-name",
            "mine",
            "--namespace",
            "",
            "--identity",
            "pod-1",
            "--lease-duration",
            "60",
            "--renew-deadline",
            "40s",
            "--retry-period",
            "10",
        ]);
        let leader = args.leader(false).unwrap().unwrap();
        assert_eq!(leader.lease_name_str(), "mine");
        assert_eq!(leader.namespace_str(), "default");
        assert_eq!(leader.identity_str(), "pod-1");
    }

    #[test]
    fn inconsistent_durations_are_refused() {
        let args = parse(&["--renew-deadline", "20s"]);
        assert!(matches!(args.leader(true), Err(Error::LeaderInvalid(_))));
    }

    #[test]
    fn leader_election_can_be_turned_off() {
        assert_eq!(
            parse(&["--leader-elect", "false"]).leader(true).unwrap(),
            None
        );
        assert!(
            parse(&["--leader-elect", "true"])
                .leader(false)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn the_http_address_is_loopback_locally_and_open_in_a_pod() {
        let args = parse(&["--port", "9090"]);
        assert_eq!(args.http_addr(false).unwrap().to_string(), "127.0.0.1:9090");
        assert_eq!(args.http_addr(true).unwrap().to_string(), "0.0.0.0:9090");
        let args = parse(&["--http-addr", "10.0.0.1:80"]);
        assert_eq!(args.http_addr(true).unwrap().to_string(), "10.0.0.1:80");
        assert_eq!(parse(&["--no-http"]).http_addr(true), None);
    }

    #[test]
    fn defaults_from_flags_replace_only_what_the_katalog_left_unset() {
        let mut katalog = katalog::load_text(
            "/nonexistent/katalog.yaml",
            "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: k}
spec:
  crds:
    plain:
      apiTypes: {group: example.com, version: v1, kind: Plain, plural: plains}
    tuned:
      apiTypes: {group: example.com, version: v1, kind: Tuned, plural: tuneds}
      operatorBox:
        reconciler: {workers: 7, resync: 45s, queue: {failureThreshold: 9}}
",
        )
        .unwrap_or_else(|d| panic!("{}", d.render()))
        .katalog;
        let args = parse(&[
            "--default-workers",
            "2",
            "--default-resync",
            "15",
            "--failure-threshold",
            "10",
        ]);
        args.apply_defaults(&mut katalog);
        let plain = &katalog.crd("plain").unwrap().settings;
        assert_eq!(
            (plain.workers, plain.resync, plain.failure_threshold),
            (2, Duration::from_secs(15), 10)
        );
        let tuned = &katalog.crd("tuned").unwrap().settings;
        assert_eq!(
            (tuned.workers, tuned.resync, tuned.failure_threshold),
            (7, Duration::from_secs(45), 9)
        );
    }

    #[test]
    fn the_embedded_default_serves_nothing_and_elects_nobody() {
        let args = RuntimeArgs::default();
        assert_eq!(args.http_addr(true), None);
        assert_eq!(args.leader(true).unwrap(), None);
    }
}
