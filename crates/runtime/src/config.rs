//! [`Config`]: how one runtime process runs (cluster, setup, shutdown grace, leader election,
//! HTTP API, per-CRD defaults), every value with a documented default.
//!
//! The `ork run` flags and environment variables are the raw layer (a clap struct in the `ork`
//! crate) and convert into this plain value; [`run`](crate::run()) takes it. Its methods give
//! the checked library configurations ([`LeaderConfig`], the HTTP address, …). Values a Katalog
//! sets for a CRD (`workers`, `resync`, `failureThreshold`) win over the defaults set here, as in
//! Orkestra ("Katalog YAML > env > defaults").
//!
//! | Field | Default |
//! |---|---|
//! | `connect` | as kubectl: `KUBECONFIG`, `~/.kube/config`, the in-cluster ServiceAccount |
//! | `setup` | `true`: outside a pod, apply setup manifests, CRD files and CR files |
//! | `establish_timeout` | 60 s |
//! | `stop_timeout` | 30 s |
//! | `default_workers` | the Katalog's default (3) |
//! | `default_resync` | the Katalog's default (30 s) |
//! | `failure_threshold` | the Katalog's default (5) |
//! | `leader_elect` | `None`: `true` in a pod, `false` elsewhere |
//! | `lease_name` | `orkestra-konductor` |
//! | `namespace` | `orkestra-system` (empty: `default`) |
//! | `identity` | hostname + random suffix |
//! | `lease_duration` | 15 s |
//! | `renew_deadline` | 10 s |
//! | `retry_period` | 2 s |
//! | `http` | `true`: the HTTP API is served |
//! | `http_addr` | `0.0.0.0:8080` in a pod, `127.0.0.1:8080` elsewhere |
//! | `port` | 8080 (the port of the default address) |
//! | `gateway_endpoint` | empty |

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::cluster::ConnectOptions;
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

/// How one runtime process runs; [`Default`] gives the documented defaults (the table in the
/// [module docs](self)), which are those of `ork run` without flags or environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// How to reach the cluster.
    pub connect: ConnectOptions,
    /// Outside a pod, apply each CRD's setup manifests, `crdFile` and `crFiles` before the
    /// boxes start.
    pub setup: bool,
    /// Per applied CRD, how long to wait for `Established`.
    pub establish_timeout: Duration,
    /// Per box, how long running reconciles get to finish on shutdown.
    pub stop_timeout: Duration,
    /// Workers per CRD when the Katalog sets none.
    pub default_workers: Option<u32>,
    /// Resync period when the Katalog sets none.
    pub default_resync: Option<Duration>,
    /// Consecutive failures that degrade a CRD when the Katalog sets none.
    pub failure_threshold: Option<u32>,
    /// Elect a leader through a Lease; `None`: in a pod, not elsewhere (where one process
    /// usually runs alone).
    pub leader_elect: Option<bool>,
    /// Name of the Lease.
    pub lease_name: String,
    /// Namespace of the Lease (must exist); empty means `default`.
    pub namespace: String,
    /// This replica's identity in the Lease; `None` (or empty): hostname plus a random suffix.
    pub identity: Option<String>,
    /// How long a Lease stays valid after its last renewal.
    pub lease_duration: Duration,
    /// How long a leader keeps leading without a successful renewal.
    pub renew_deadline: Duration,
    /// How often followers poll the Lease and the leader renews it.
    pub retry_period: Duration,
    /// Serve the HTTP API (probes, metrics, `/katalog`).
    pub http: bool,
    /// Address of the HTTP API; `None`: 0.0.0.0 in a pod, 127.0.0.1 elsewhere, on [`port`].
    ///
    /// [`port`]: Config::port
    pub http_addr: Option<SocketAddr>,
    /// Port of the HTTP API when [`http_addr`](Config::http_addr) is `None`.
    pub port: u16,
    /// Gateway URL advertised in `/katalog`.
    pub gateway_endpoint: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            connect: ConnectOptions::default(),
            setup: true,
            establish_timeout: Duration::from_secs(60),
            stop_timeout: Duration::from_secs(30),
            default_workers: None,
            default_resync: None,
            failure_threshold: None,
            leader_elect: None,
            lease_name: DEFAULT_LEASE_NAME.to_owned(),
            namespace: DEFAULT_NAMESPACE.to_owned(),
            identity: None,
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            http: true,
            http_addr: None,
            port: 8080,
            gateway_endpoint: String::new(),
        }
    }
}

impl Config {
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

    /// Applies [`default_workers`], [`default_resync`] and [`failure_threshold`] to the CRDs
    /// of `katalog` that do not set their own.
    ///
    /// A worker count is known to be a default (`workersSource`); a resync or failure
    /// threshold is taken for one when it equals the Katalog default (30 s, 5), so a Katalog
    /// that spells out exactly the default value is overridden too.
    ///
    /// [`default_workers`]: Config::default_workers
    /// [`default_resync`]: Config::default_resync
    /// [`failure_threshold`]: Config::failure_threshold
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
        if !self.http {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_the_documented_leader_election() {
        let config = Config::default();
        let leader = config
            .leader(true)
            .unwrap()
            .expect("on by default in a pod");
        assert_eq!(
            config.leader(false).unwrap(),
            None,
            "off by default elsewhere"
        );
        assert_eq!(leader.lease_name_str(), "orkestra-konductor");
        assert_eq!(leader.namespace_str(), "orkestra-system");
        assert_eq!(config.lease_duration, Duration::from_secs(15));
        assert_eq!(config.renew_deadline, Duration::from_secs(10));
        assert_eq!(config.retry_period, Duration::from_secs(2));
        assert_eq!(config.default_workers, None);
        assert_eq!(
            (config.setup, config.establish_timeout, config.stop_timeout),
            (true, Duration::from_secs(60), Duration::from_secs(30))
        );
    }

    #[test]
    fn the_lease_and_identity_are_taken_as_set() {
        let config = Config {
            leader_elect: Some(true),
            lease_name: "mine".to_owned(),
            namespace: String::new(),
            identity: Some("pod-1".to_owned()),
            lease_duration: Duration::from_secs(60),
            renew_deadline: Duration::from_secs(40),
            retry_period: Duration::from_secs(10),
            ..Config::default()
        };
        let leader = config.leader(false).unwrap().unwrap();
        assert_eq!(leader.lease_name_str(), "mine");
        assert_eq!(leader.namespace_str(), "default");
        assert_eq!(leader.identity_str(), "pod-1");
    }

    #[test]
    fn inconsistent_durations_are_refused() {
        let config = Config {
            renew_deadline: Duration::from_secs(20),
            ..Config::default()
        };
        assert!(matches!(config.leader(true), Err(Error::LeaderInvalid(_))));
    }

    #[test]
    fn leader_election_can_be_turned_off_and_on() {
        let off = Config {
            leader_elect: Some(false),
            ..Config::default()
        };
        assert_eq!(off.leader(true).unwrap(), None);
        let on = Config {
            leader_elect: Some(true),
            ..Config::default()
        };
        assert!(on.leader(false).unwrap().is_some());
    }

    #[test]
    fn the_http_address_is_loopback_locally_and_open_in_a_pod() {
        let config = Config {
            port: 9090,
            ..Config::default()
        };
        assert_eq!(
            config.http_addr(false).unwrap().to_string(),
            "127.0.0.1:9090"
        );
        assert_eq!(config.http_addr(true).unwrap().to_string(), "0.0.0.0:9090");
        let config = Config {
            http_addr: Some("10.0.0.1:80".parse().unwrap()),
            ..Config::default()
        };
        assert_eq!(config.http_addr(true).unwrap().to_string(), "10.0.0.1:80");
        let config = Config {
            http: false,
            ..Config::default()
        };
        assert_eq!(config.http_addr(true), None);
    }

    #[test]
    fn defaults_replace_only_what_the_katalog_left_unset() {
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
        let config = Config {
            default_workers: Some(2),
            default_resync: Some(Duration::from_secs(15)),
            failure_threshold: Some(10),
            ..Config::default()
        };
        config.apply_defaults(&mut katalog);
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
}
