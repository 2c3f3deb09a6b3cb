//! Leader election on a `coordination.k8s.io/v1` Lease (the "konductor" of §13.2).
//!
//! Every replica runs an [`Elector`]. The one holding the Lease leads: its OperatorBoxes run
//! their workers. The others follow: they keep their watches warm and serve the HTTP API, but
//! never reconcile. [`Elector::subscribe`] gives a `watch` channel that tells, at every moment,
//! whether this process leads.
//!
//! The protocol is a state enum ([`Role`]) driven by one `step` function, as kube's watcher is:
//! a follower reads the Lease every retry period and takes it when it is free or expired; a
//! leader renews it every retry period. Followers also watch the Lease: the watch tells them
//! the moment each renewal (or a release) happens, so they need not wait for a poll.
//!
//! # Guarantees
//! - **No split brain.** A leader that cannot renew within the renew deadline (measured from
//!   the moment it *sent* its last successful renewal) stops leading at once, even while a
//!   request hangs. Another replica only takes the Lease after it has seen it unchanged for a
//!   whole lease duration, which is longer than the renew deadline. Every write carries the
//!   resourceVersion it read, so two replicas never both win the same Lease.
//! - **Fast hand-over.** [`Elector::shutdown`] stops leading and then releases the Lease (empty
//!   holder). Followers also watch the Lease, so one takes over as soon as it sees the release
//!   (typically well under 100 ms), not at its next poll; if the watch is unavailable (no
//!   `watch` permission on leases, API server trouble) the next poll, within one retry period,
//!   still does.
//! - **Crash take-over.** After a leader dies without releasing (SIGKILL, node loss), a follower
//!   takes over one lease duration after it saw the last renewal: the watch delivers each
//!   renewal as it is written and the follower sleeps exactly until it is provably expired. So
//!   the take-over comes between lease duration − retry period and lease duration after the
//!   kill (plus watch latency). Without the watch, polls bound it by lease duration + two
//!   retry periods.
//!
//! # Safe lower bounds of the three durations
//! [`LeaderConfig::check`] enforces retry period < renew deadline < lease duration. Beyond
//! that:
//! - **lease duration − renew deadline** is the safety margin: it must exceed the longest a
//!   write sent by the old leader before its deadline can take to land, plus how late its
//!   deadline timer may fire (a starved process). At least 1–2 s; the defaults leave 5 s.
//! - **renew deadline** should cover two or three retry periods plus a slow renewal, so that one
//!   slow or failed request does not drop leadership: at least 2 × retry period + 1 s.
//! - **retry period** costs one read (follower) or write (leader) per period per replica;
//!   below ~500 ms the Lease traffic grows with no gain once followers watch the Lease.
//! - e.g. lease 5 s, renew deadline 3 s, retry 1 s: a crash take-over within 4–5 s.
//!
//! Expiry is judged on the follower's own monotonic clock (when it last saw the Lease
//! change), never by comparing `renewTime` with its wall clock, so clock skew between nodes
//! cannot make two leaders.
//!
//! # Events
//! Best effort, on the Lease (core/v1 Events, which the runtime ClusterRole of §19.1 allows):
//! `KonductorElected` (Normal, `<id> became konductor`), `KonductorLost` (Warning,
//! `<id> lost konducting`), and `NewKonductorElected` (Normal, from a follower that sees a new
//! holder).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The Lease name Orkestra uses.
pub const DEFAULT_LEASE_NAME: &str = "orkestra-konductor";
/// The namespace of the Lease when none is configured.
pub const DEFAULT_NAMESPACE: &str = "orkestra-system";

/// Errors of one election step. None of them ends the election: the step is retried.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The renew deadline is not shorter than the lease duration, or the retry period is not
    /// shorter than the renew deadline.
    #[error(
        "leader election needs retry period < renew deadline < lease duration (got {retry:?}, {renew:?}, {lease:?})"
    )]
    InvalidDurations {
        /// The lease duration.
        lease: Duration,
        /// The renew deadline.
        renew: Duration,
        /// The retry period.
        retry: Duration,
    },
    /// Reading the Lease failed.
    #[error("reading Lease {namespace}/{name}")]
    ReadFailed {
        /// The Lease namespace.
        namespace: String,
        /// The Lease name.
        name: String,
        /// The API failure.
        #[source]
        source: kube::Error,
    },
    /// Creating or updating the Lease failed (a conflict means another replica wrote first).
    #[error("writing Lease {namespace}/{name}")]
    WriteFailed {
        /// The Lease namespace.
        namespace: String,
        /// The Lease name.
        name: String,
        /// The API failure.
        #[source]
        source: kube::Error,
    },
    /// Another replica holds the Lease now.
    #[error("Lease is held by {holder}")]
    HeldByOther {
        /// Its holder.
        holder: String,
    },
    /// The request did not finish before the renew deadline.
    #[error("Lease request timed out")]
    TimedOut,
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Settings of one election.
///
/// Defaults: Lease `orkestra-konductor` in `orkestra-system`, 15 s lease duration, 10 s renew
/// deadline, 2 s retry period, identity = hostname plus a random suffix. The Lease's namespace
/// must exist; the Lease itself is created on first use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderConfig {
    lease_name: String,
    namespace: String,
    identity: String,
    lease_duration: Duration,
    renew_deadline: Duration,
    retry_period: Duration,
}

impl Default for LeaderConfig {
    fn default() -> Self {
        Self {
            lease_name: DEFAULT_LEASE_NAME.to_owned(),
            namespace: DEFAULT_NAMESPACE.to_owned(),
            identity: default_identity(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

impl LeaderConfig {
    /// The Lease name.
    #[must_use]
    pub fn lease_name(mut self, name: impl Into<String>) -> Self {
        self.lease_name = name.into();
        self
    }

    /// The Lease namespace; an empty one means `default`, as Orkestra falls back.
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        let namespace = namespace.into();
        self.namespace = if namespace.is_empty() {
            "default".to_owned()
        } else {
            namespace
        };
        self
    }

    /// This replica's identity, written as the Lease holder.
    #[must_use]
    pub fn identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = identity.into();
        self
    }

    /// How long a Lease stays valid after its last renewal, as followers see it.
    #[must_use]
    pub fn lease_duration(mut self, duration: Duration) -> Self {
        self.lease_duration = duration;
        self
    }

    /// How long a leader keeps leading without a successful renewal.
    #[must_use]
    pub fn renew_deadline(mut self, deadline: Duration) -> Self {
        self.renew_deadline = deadline;
        self
    }

    /// How often followers poll and leaders renew.
    #[must_use]
    pub fn retry_period(mut self, period: Duration) -> Self {
        self.retry_period = period;
        self
    }

    /// The identity this configuration writes as holder.
    pub fn identity_str(&self) -> &str {
        &self.identity
    }

    /// The Lease namespace.
    pub fn namespace_str(&self) -> &str {
        &self.namespace
    }

    /// The Lease name.
    pub fn lease_name_str(&self) -> &str {
        &self.lease_name
    }

    /// Checks `retry period < renew deadline < lease duration`.
    ///
    /// # Errors
    /// [`Error::InvalidDurations`] otherwise.
    pub fn check(&self) -> Result<()> {
        if self.retry_period < self.renew_deadline
            && self.renew_deadline < self.lease_duration
            && !self.retry_period.is_zero()
        {
            Ok(())
        } else {
            Err(Error::InvalidDurations {
                lease: self.lease_duration,
                renew: self.renew_deadline,
                retry: self.retry_period,
            })
        }
    }
}

/// `<hostname>-<8 random hex digits>`: unique even when two processes share a host (or a pod
/// restarts before its old Lease expired).
pub fn default_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "ork".to_owned());
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        bytes = std::process::id().to_be_bytes();
    }
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{host}-{suffix}")
}

/// Where this replica stands in the election.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Not holding the Lease.
    Following,
    /// Holding the Lease; `renewed_at` is when the last successful renewal was sent.
    Leading {
        /// When the last successful write of the Lease was sent.
        renewed_at: Instant,
    },
}

/// A running election. Dropping it without [`Elector::shutdown`] abandons the Lease as a
/// crash would (the task is aborted, nothing is released).
#[derive(Debug)]
pub struct Elector {
    identity: String,
    leading: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Elector {
    /// Starts electing with `client` under `config`.
    ///
    /// # Errors
    /// [`Error::InvalidDurations`] when the durations cannot prevent split brain.
    pub fn spawn(client: kube::Client, config: LeaderConfig) -> Result<Self> {
        config.check()?;
        let (leading_tx, leading) = watch::channel(false);
        let (stop, stop_rx) = watch::channel(false);
        let identity = config.identity.clone();
        let machine = Machine::new(client, config, leading_tx);
        let task = tokio::spawn(machine.run(stop_rx));
        Ok(Self {
            identity,
            leading,
            stop,
            task: Some(task),
        })
    }

    /// This replica's identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Whether this replica leads now.
    pub fn is_leader(&self) -> bool {
        *self.leading.borrow()
    }

    /// A channel that holds `true` while this replica leads.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.leading.clone()
    }

    /// Stops electing: stops leading (the channel turns `false` first), then releases the
    /// Lease if this replica held it, so a follower takes over at its next poll.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Elector {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Reports every version of the Lease it sees (through `seen`, with the moment it arrived)
/// and wakes the follower (through `released`) whenever the Lease is seen without a holder or
/// deleted, until aborted. Errors (e.g. no `watch` permission) are retried with backoff
/// quietly: polling still works without this.
async fn watch_lease(
    api: Api<Lease>,
    name: String,
    seen: watch::Sender<Option<Observed>>,
    released: Arc<Notify>,
) {
    use futures::StreamExt;
    use kube::runtime::WatchStreamExt;
    use kube::runtime::watcher::{self, Event as WatchEvent};
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut events = std::pin::pin!(watcher::watcher(api, config).default_backoff());
    while let Some(event) = events.next().await {
        match event {
            Ok(WatchEvent::Apply(lease) | WatchEvent::InitApply(lease)) => {
                let holder = holder_of(&lease);
                let free = holder.is_empty();
                seen.send_replace(Some(Observed {
                    resource_version: lease.metadata.resource_version.unwrap_or_default(),
                    holder,
                    at: Instant::now(),
                }));
                if free {
                    released.notify_one();
                }
            }
            Ok(WatchEvent::Delete(_)) => released.notify_one(),
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "watching the Lease failed; polling only"),
        }
    }
}

/// What a follower last saw of the Lease, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Observed {
    resource_version: String,
    holder: String,
    at: Instant,
}

/// The election's moving parts; [`Machine::step`] advances [`Role`] by one attempt.
struct Machine {
    api: Api<Lease>,
    events: Api<Event>,
    config: LeaderConfig,
    leading: watch::Sender<bool>,
    observed: Option<Observed>,
    last_error: Option<String>,
}

impl Machine {
    fn new(client: kube::Client, config: LeaderConfig, leading: watch::Sender<bool>) -> Self {
        Self {
            api: Api::namespaced(client.clone(), &config.namespace),
            events: Api::namespaced(client, &config.namespace),
            config,
            leading,
            observed: None,
            last_error: None,
        }
    }

    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let released = Arc::new(Notify::new());
        let (seen_tx, mut seen) = watch::channel(None);
        let releases = tokio::spawn(watch_lease(
            self.api.clone(),
            self.config.lease_name.clone(),
            seen_tx,
            Arc::clone(&released),
        ));
        let mut role = Role::Following;
        loop {
            if let Some(observed) = seen.borrow_and_update().clone() {
                self.observe(observed);
            }
            let (next, mut wait) = self.step(role).await;
            self.set_leading(role, next);
            role = next;
            let following = matches!(role, Role::Following);
            if following {
                if let Some(observed) = seen.borrow_and_update().clone() {
                    self.observe(observed);
                }
                wait = wait.min(self.until_expiry().unwrap_or(wait));
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = released.notified(), if following => {
                    tracing::debug!("the Lease was released: trying to take it now");
                }
                _ = stop.changed() => break,
            }
        }
        releases.abort();
        if let Role::Leading { .. } = role {
            self.leading.send_replace(false);
            let id = &self.config.identity;
            tracing::info!(identity = %id, "stopped konducting: shutting down");
            if let Err(error) = self.release().await {
                tracing::warn!(error = %crate::error_chain(&error), "releasing the Lease failed");
            }
            self.publish("Warning", "KonductorLost", format!("{id} lost konducting"))
                .await;
        }
    }

    fn set_leading(&self, before: Role, after: Role) {
        let id = &self.config.identity;
        match (before, after) {
            (Role::Following, Role::Leading { .. }) => {
                tracing::info!(identity = %id, "became konductor");
                self.leading.send_replace(true);
                self.emit(
                    "Normal",
                    "KonductorElected",
                    format!("{id} became konductor"),
                );
            }
            (Role::Leading { .. }, Role::Following) => {
                tracing::warn!(identity = %id, "lost konducting");
                self.leading.send_replace(false);
                self.emit("Warning", "KonductorLost", format!("{id} lost konducting"));
            }
            _ => {}
        }
    }

    /// One attempt: returns the next role and how long to wait before the next step.
    async fn step(&mut self, role: Role) -> (Role, Duration) {
        let now = Instant::now();
        let retry = self.config.retry_period;
        match role {
            Role::Following => match self.try_acquire(now).await {
                Ok(true) => {
                    self.last_error = None;
                    (Role::Leading { renewed_at: now }, retry)
                }
                Ok(false) => {
                    self.last_error = None;
                    (Role::Following, retry)
                }
                Err(error) => {
                    self.report(&error);
                    (Role::Following, retry)
                }
            },
            Role::Leading { renewed_at } => {
                let deadline = renewed_at + self.config.renew_deadline;
                let Some(left) = deadline
                    .checked_duration_since(now)
                    .filter(|d| !d.is_zero())
                else {
                    return (Role::Following, retry);
                };
                match tokio::time::timeout(left, self.renew()).await {
                    Ok(Ok(())) => (Role::Leading { renewed_at: now }, retry),
                    Ok(Err(error @ Error::HeldByOther { .. })) => {
                        tracing::warn!(error = %crate::error_chain(&error), "Lease taken");
                        (Role::Following, retry)
                    }
                    Ok(Err(error)) => {
                        tracing::warn!(error = %crate::error_chain(&error), "renewing the Lease failed");
                        let left = deadline.saturating_duration_since(Instant::now());
                        (role, retry.min(left))
                    }
                    Err(_) => (Role::Following, retry),
                }
            }
        }
    }

    /// Records a version of the Lease seen by a poll or the watch. A new version restarts the
    /// expiry clock; the same version seen earlier (the watch usually sees a renewal before the
    /// next poll) moves it back to that earlier moment, which still follows the renewal.
    fn observe(&mut self, seen: Observed) {
        match &mut self.observed {
            Some(known) if known.resource_version == seen.resource_version => {
                known.at = known.at.min(seen.at);
            }
            known => {
                let previous = known.as_ref().map(|o| o.holder.clone());
                let holder = &seen.holder;
                if !holder.is_empty()
                    && *holder != self.config.identity
                    && previous.is_some_and(|p| p != *holder)
                {
                    self.emit(
                        "Normal",
                        "NewKonductorElected",
                        format!("{holder} is the new konductor"),
                    );
                }
                self.observed = Some(seen);
            }
        }
    }

    /// How long until the Lease observed last is provably expired (a whole lease duration
    /// after that version was first seen); `None` when that moment has passed or nothing was
    /// seen.
    fn until_expiry(&self) -> Option<Duration> {
        let observed = self.observed.as_ref()?;
        (observed.at + self.config.lease_duration)
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// Reads the Lease and takes it when absent, released, expired or already ours.
    async fn try_acquire(&mut self, now: Instant) -> Result<bool> {
        let read = tokio::time::timeout(
            self.config.retry_period,
            self.api.get_opt(&self.config.lease_name),
        );
        let current = read
            .await
            .map_err(|_| Error::TimedOut)?
            .map_err(|source| self.read_failed(source))?;
        let Some(mut lease) = current else {
            let lease = self.fresh_lease();
            let params = PostParams::default();
            let create = self.api.create(&params, &lease);
            tokio::time::timeout(self.config.retry_period, create)
                .await
                .map_err(|_| Error::TimedOut)?
                .map_err(|source| self.write_failed(source))?;
            return Ok(true);
        };
        let holder = holder_of(&lease);
        self.observe(Observed {
            resource_version: lease.metadata.resource_version.clone().unwrap_or_default(),
            holder: holder.clone(),
            at: now,
        });
        let free = holder.is_empty() || holder == self.config.identity;
        let expired = self
            .observed
            .as_ref()
            .is_some_and(|o| now.duration_since(o.at) >= self.config.lease_duration);
        if !free && !expired {
            return Ok(false);
        }
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let stamp = MicroTime(Timestamp::now());
        if holder != self.config.identity {
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            spec.acquire_time = Some(stamp.clone());
        }
        spec.holder_identity = Some(self.config.identity.clone());
        spec.lease_duration_seconds = Some(whole_seconds(self.config.lease_duration));
        spec.renew_time = Some(stamp);
        let params = PostParams::default();
        let replace = self.api.replace(&self.config.lease_name, &params, &lease);
        tokio::time::timeout(self.config.retry_period, replace)
            .await
            .map_err(|_| Error::TimedOut)?
            .map_err(|source| self.write_failed(source))?;
        Ok(true)
    }

    /// Writes a new renewTime, provided this replica still holds the Lease.
    async fn renew(&self) -> Result<()> {
        let mut lease = self
            .api
            .get(&self.config.lease_name)
            .await
            .map_err(|source| self.read_failed(source))?;
        let holder = holder_of(&lease);
        if holder != self.config.identity {
            return Err(Error::HeldByOther { holder });
        }
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        spec.lease_duration_seconds = Some(whole_seconds(self.config.lease_duration));
        self.api
            .replace(&self.config.lease_name, &PostParams::default(), &lease)
            .await
            .map_err(|source| self.write_failed(source))?;
        Ok(())
    }

    /// Empties the holder so a follower takes the Lease at once (client-go's ReleaseOnCancel).
    async fn release(&self) -> Result<()> {
        let release = async {
            let mut lease = self
                .api
                .get(&self.config.lease_name)
                .await
                .map_err(|source| self.read_failed(source))?;
            if holder_of(&lease) != self.config.identity {
                return Ok(());
            }
            let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
            spec.holder_identity = None;
            spec.lease_duration_seconds = Some(1);
            spec.renew_time = Some(MicroTime(Timestamp::now()));
            self.api
                .replace(&self.config.lease_name, &PostParams::default(), &lease)
                .await
                .map_err(|source| self.write_failed(source))?;
            Ok(())
        };
        tokio::time::timeout(self.config.renew_deadline, release)
            .await
            .map_err(|_| Error::TimedOut)?
    }

    fn fresh_lease(&self) -> Lease {
        let stamp = MicroTime(Timestamp::now());
        Lease {
            metadata: ObjectMeta {
                name: Some(self.config.lease_name.clone()),
                namespace: Some(self.config.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.config.identity.clone()),
                lease_duration_seconds: Some(whole_seconds(self.config.lease_duration)),
                acquire_time: Some(stamp.clone()),
                renew_time: Some(stamp),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        }
    }

    /// Publishes an Event on the Lease in the background; failures are only logged.
    fn emit(&self, type_: &str, reason: &str, message: String) {
        tokio::spawn(self.publish(type_, reason, message));
    }

    /// Publishes an Event on the Lease within the renew deadline; failures are only logged.
    fn publish(
        &self,
        type_: &str,
        reason: &str,
        message: String,
    ) -> impl Future<Output = ()> + Send + 'static {
        let events = self.events.clone();
        let event = lease_event(&self.config, type_, reason, message);
        let timeout = self.config.renew_deadline;
        async move {
            let params = PostParams::default();
            let create = events.create(&params, &event);
            match tokio::time::timeout(timeout, create).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::debug!(%error, "Lease Event not recorded"),
                Err(_) => tracing::debug!("Lease Event not recorded in time"),
            }
        }
    }

    /// Logs a failed attempt to take the Lease: a warning when the error is new (a Forbidden
    /// one names the resource), at debug level while it repeats.
    fn report(&mut self, error: &Error) {
        let text = crate::error_chain(error);
        if self.last_error.as_deref() == Some(text.as_str()) {
            tracing::debug!(error = %text, "Lease not acquired");
        } else {
            tracing::warn!(error = %text, "cannot take part in leader election");
            self.last_error = Some(text);
        }
    }

    fn read_failed(&self, source: kube::Error) -> Error {
        Error::ReadFailed {
            namespace: self.config.namespace.clone(),
            name: self.config.lease_name.clone(),
            source,
        }
    }

    fn write_failed(&self, source: kube::Error) -> Error {
        Error::WriteFailed {
            namespace: self.config.namespace.clone(),
            name: self.config.lease_name.clone(),
            source,
        }
    }
}

fn holder_of(lease: &Lease) -> String {
    lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.clone())
        .unwrap_or_default()
}

fn whole_seconds(duration: Duration) -> i32 {
    i32::try_from(duration.as_secs().max(1)).unwrap_or(i32::MAX)
}

/// A core/v1 Event about the Lease of `config`.
fn lease_event(config: &LeaderConfig, type_: &str, reason: &str, message: String) -> Event {
    let now = Timestamp::now();
    Event {
        metadata: ObjectMeta {
            name: Some(format!(
                "{}.{:x}",
                config.lease_name,
                now.as_nanosecond().unsigned_abs()
            )),
            namespace: Some(config.namespace.clone()),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            api_version: Some("coordination.k8s.io/v1".to_owned()),
            kind: Some("Lease".to_owned()),
            name: Some(config.lease_name.clone()),
            namespace: Some(config.namespace.clone()),
            ..ObjectReference::default()
        },
        type_: Some(type_.to_owned()),
        reason: Some(reason.to_owned()),
        message: Some(message),
        source: Some(EventSource {
            component: Some("ork".to_owned()),
            host: None,
        }),
        reporting_component: Some("ork".to_owned()),
        reporting_instance: Some(config.identity.clone()),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        count: Some(1),
        ..Event::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_orkestra_names_with_test_durations() {
        let config = LeaderConfig::default();
        assert_eq!(config.lease_name_str(), "orkestra-konductor");
        assert_eq!(config.namespace_str(), "orkestra-system");
        assert_eq!(config.lease_duration, Duration::from_secs(15));
        assert_eq!(config.renew_deadline, Duration::from_secs(10));
        assert_eq!(config.retry_period, Duration::from_secs(2));
        config.check().unwrap();
    }

    #[test]
    fn an_empty_namespace_falls_back_to_default() {
        assert_eq!(
            LeaderConfig::default().namespace("").namespace_str(),
            "default"
        );
    }

    #[test]
    fn a_renew_deadline_as_long_as_the_lease_is_refused() {
        let config = LeaderConfig::default()
            .lease_duration(Duration::from_secs(10))
            .renew_deadline(Duration::from_secs(10));
        assert!(matches!(
            config.check(),
            Err(Error::InvalidDurations { .. })
        ));
        let config = LeaderConfig::default().retry_period(Duration::from_secs(10));
        assert!(config.check().is_err());
    }

    #[test]
    fn identities_differ_between_two_electors_on_one_host() {
        let a = default_identity();
        let b = default_identity();
        assert_ne!(a, b);
        let (host, suffix) = a.rsplit_once('-').unwrap();
        assert!(!host.is_empty());
        assert_eq!(suffix.len(), 8);
    }

    #[test]
    fn lease_events_name_the_lease_and_the_identity() {
        let config = LeaderConfig::default().identity("pod-a").namespace("ns");
        let event = lease_event(
            &config,
            "Normal",
            "KonductorElected",
            "pod-a became konductor".into(),
        );
        assert_eq!(event.involved_object.kind.as_deref(), Some("Lease"));
        assert_eq!(
            event.involved_object.name.as_deref(),
            Some("orkestra-konductor")
        );
        assert_eq!(event.metadata.namespace.as_deref(), Some("ns"));
        assert_eq!(event.reporting_instance.as_deref(), Some("pod-a"));
        assert!(
            event
                .metadata
                .name
                .unwrap()
                .starts_with("orkestra-konductor.")
        );
    }
}
