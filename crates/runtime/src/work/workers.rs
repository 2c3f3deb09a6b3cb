//! The worker pool of one OperatorBox: bounded concurrency, one reconcile per key, panics
//! caught.
//!
//! [`Workers::spawn`] starts N tasks that take keys from a [`Queue`] and run a reconcile
//! function on each. The queue already guarantees that a key is processed by one worker at a
//! time; the pool decides what happens after a reconcile:
//!
//! | reconcile returned         | the pool then                                     |
//! |----------------------------|---------------------------------------------------|
//! | `Ok(Action::Done)`         | forgets the key's backoff                         |
//! | `Ok(Action::RequeueAfter)` | forgets the backoff, queues the key after delay   |
//! | `Ok(Action::Gated)`        | forgets the key; reported as [`Outcome::Gated`]   |
//! | `Err(_)`                   | queues the key with backoff (`add_rate_limited`)  |
//! | `Err(_)`, not retryable    | forgets the key until it is added again           |
//! | a panic                    | logs it with the key, then as `Err`               |
//!
//! and in every case ends the key's claim. A [`ReportSink`] sees each reconcile start and finish,
//! which is how health and metrics are kept.

use std::fmt::{self, Debug, Display};
use std::future::Future;
use std::hash::Hash;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument;

use super::queue::Queue;

/// Errors of stopping a worker pool.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Some reconciles were still running when the stop timeout ran out; they were aborted.
    #[error("{aborted} reconciles still running after {waited:?} were aborted")]
    StopTimedOut {
        /// How many workers were aborted mid-reconcile.
        aborted: usize,
        /// The stop timeout that ran out.
        waited: Duration,
    },
}

/// `Result` of this module, with its [`Error`] as default.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a successful reconcile asks for next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing until the object changes again.
    Done,
    /// Reconcile the key again after this delay (the Katalog's `requeue.after`).
    RequeueAfter(Duration),
    /// A reconcile gate held the key: nothing ran, nothing is retried.
    Gated,
}

/// How one reconcile ended, as given to [`ReportSink::finished`].
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// How long the reconcile ran (on tokio's clock).
    pub duration: Duration,
    /// How it ended.
    pub outcome: Outcome,
}

impl Report {
    /// True when the reconcile returned `Ok`.
    pub fn is_success(&self) -> bool {
        matches!(self.outcome, Outcome::Succeeded)
    }

    /// The error or panic message of a failed reconcile.
    pub fn error(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Succeeded | Outcome::Gated => None,
            Outcome::Failed { message } | Outcome::Panicked { message } => Some(message),
        }
    }
}

/// How a reconcile ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returned `Ok`.
    Succeeded,
    /// It returned `Err`; `message` is the error's `Display`.
    Failed {
        /// The error's text.
        message: String,
    },
    /// It panicked; `message` reads `reconciler panic: <payload>`, as in Orkestra.
    Panicked {
        /// The panic text.
        message: String,
    },
    /// A reconcile gate held it: nothing ran.
    Gated,
}

/// Sees every reconcile of a pool: what health and metrics are built from.
///
/// Implemented by `Health` and `CrdMetrics`, by `()` (sees nothing), by a pair of sinks
/// (both see everything) and by any `Fn(&K, &Report)`. Calls come from the worker tasks,
/// so they should be quick and must not panic.
pub trait ReportSink<K>: Send + Sync + 'static {
    /// A worker took `key` and is about to reconcile it.
    fn started(&self, key: &K) {
        let _ = key;
    }

    /// The reconcile of `key` ended as `report` says; its requeue is already decided.
    fn finished(&self, key: &K, report: &Report);
}

impl<K> ReportSink<K> for () {
    fn finished(&self, _key: &K, _report: &Report) {}
}

impl<K, A: ReportSink<K>, B: ReportSink<K>> ReportSink<K> for (A, B) {
    fn started(&self, key: &K) {
        self.0.started(key);
        self.1.started(key);
    }

    fn finished(&self, key: &K, report: &Report) {
        self.0.finished(key, report);
        self.1.finished(key, report);
    }
}

impl<K, F> ReportSink<K> for F
where
    F: Fn(&K, &Report) + Send + Sync + 'static,
{
    fn finished(&self, key: &K, report: &Report) {
        self(key, report);
    }
}

/// Size and stop bound of a worker pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkersConfig {
    count: usize,
    pub(crate) stop_timeout: Duration,
}

impl Default for WorkersConfig {
    /// Three workers (Orkestra's documented default) and 30 s to finish on stop.
    fn default() -> Self {
        Self {
            count: 3,
            stop_timeout: Duration::from_secs(30),
        }
    }
}

impl WorkersConfig {
    /// How many reconciles may run at once; at least one worker is always started.
    #[must_use]
    pub fn count(mut self, count: usize) -> Self {
        self.count = count;
        self
    }

    /// The number of workers a pool of this configuration starts (at least one).
    pub fn count_of(&self) -> usize {
        self.count.max(1)
    }

    /// How long [`Workers::stop`] lets running reconciles finish before aborting them.
    #[must_use]
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }
}

/// How many workers of a pool are inside a reconcile right now; a cheap clonable handle for
/// metrics and the `/katalog` API.
#[derive(Clone, Debug, Default)]
pub struct ActiveWorkers(Arc<AtomicUsize>);

impl ActiveWorkers {
    /// The number of reconciles running now.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    fn enter(&self) -> ActiveGuard {
        self.0.fetch_add(1, Ordering::Relaxed);
        ActiveGuard(self.clone())
    }
}

/// Counts one running reconcile until dropped, also when its task is aborted.
struct ActiveGuard(ActiveWorkers);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        (self.0).0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A running pool of workers over one [`Queue`].
///
/// Dropping it aborts the workers at once; [`Workers::stop`] is the graceful way.
pub struct Workers<K> {
    queue: Queue<K>,
    tasks: JoinSet<()>,
    sizing: Arc<Sizing>,
    /// Makes the future of one more worker.
    worker: Box<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>,
    active: ActiveWorkers,
    config: WorkersConfig,
}

impl<K> Debug for Workers<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (count, running) = {
            let size = self.sizing.lock();
            (size.target, size.running)
        };
        f.debug_struct("Workers")
            .field("count", &count)
            .field("running", &running)
            .field("active", &self.active.get())
            .field("config", &self.config)
            .finish()
    }
}

impl<K> Workers<K>
where
    K: Clone + Eq + Hash + Send + Sync + Debug + 'static,
{
    /// Starts `config.count` workers that reconcile keys from `queue` with `reconcile` and tell
    /// `sink` about each one.
    ///
    /// # Guarantees
    ///
    /// - A key is reconciled by one worker at a time, and its claim always ends, also when the
    ///   reconcile panics: the panic is caught, logged with the key, reported as
    ///   [`Outcome::Panicked`] and the key is queued again with backoff. The worker goes on.
    /// - Each reconcile runs inside a `reconcile` tracing span that records the key.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn spawn<F, Fut, E, O>(
        queue: Queue<K>,
        config: WorkersConfig,
        reconcile: F,
        sink: O,
    ) -> Self
    where
        F: Fn(K) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Action, E>> + Send + 'static,
        E: Display + Send + 'static,
        O: ReportSink<K>,
    {
        Self::spawn_with_retry(queue, config, reconcile, sink, |_: &E| true)
    }

    /// Like [`Workers::spawn`], with `retry` deciding which errors are queued again with
    /// backoff. An error for which it returns false (an invalid object that only a change can
    /// fix) is reported as a failure and its key forgotten; the next change of the object
    /// queues it again.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn spawn_with_retry<F, Fut, E, O, R>(
        queue: Queue<K>,
        config: WorkersConfig,
        reconcile: F,
        sink: O,
        retry: R,
    ) -> Self
    where
        F: Fn(K) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Action, E>> + Send + 'static,
        E: Display + Send + 'static,
        O: ReportSink<K>,
        R: Fn(&E) -> bool + Send + Sync + 'static,
    {
        Self::spawn_counted(
            queue,
            config,
            reconcile,
            (sink, retry),
            ActiveWorkers::default(),
        )
    }

    /// Like [`Workers::spawn_with_retry`] (`sink` and `retry` as a pair), counting running
    /// reconciles in `active`: a box that starts a new pool on each activation keeps one
    /// handle for its gauges.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn spawn_counted<F, Fut, E, O, R>(
        queue: Queue<K>,
        config: WorkersConfig,
        reconcile: F,
        (sink, retry): (O, R),
        active: ActiveWorkers,
    ) -> Self
    where
        F: Fn(K) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Action, E>> + Send + 'static,
        E: Display + Send + 'static,
        O: ReportSink<K>,
        R: Fn(&E) -> bool + Send + Sync + 'static,
    {
        let sizing = Arc::new(Sizing::default());
        let worker = Arc::new(Worker {
            queue: queue.clone(),
            reconcile,
            retry,
            sink,
            active: active.clone(),
            sizing: Arc::clone(&sizing),
        });
        let mut workers = Self {
            queue,
            tasks: JoinSet::new(),
            sizing,
            worker: Box::new(move || Arc::clone(&worker).run().boxed()),
            active,
            config,
        };
        workers.resize(workers.config.count);
        workers
    }

    /// A handle on the number of reconciles running now.
    pub fn active(&self) -> ActiveWorkers {
        self.active.clone()
    }

    /// How many workers the pool is meant to have.
    pub fn count(&self) -> usize {
        self.sizing.lock().target
    }

    /// How many workers run now; differs from [`Workers::count`] while a shrink waits for
    /// reconciles to finish.
    pub fn running(&self) -> usize {
        self.sizing.lock().running
    }

    /// Grows or shrinks the pool to `count` workers (at least one), as the autoscaler does.
    ///
    /// Growing starts workers at once. Shrinking lets idle workers leave at once and busy ones
    /// after their reconcile; no reconcile is interrupted.
    pub fn resize(&mut self, count: usize) {
        while let Some(joined) = self.tasks.try_join_next() {
            log_worker_end(joined);
        }
        for _ in 0..self.sizing.resize(count.max(1)) {
            self.tasks.spawn((self.worker)());
        }
    }

    /// Stops gracefully: shuts the queue down, lets running reconciles finish within the
    /// stop timeout, then returns. Keys still queued are left unprocessed (a restart lists
    /// every object again).
    ///
    /// # Errors
    ///
    /// [`Error::StopTimedOut`] when some reconciles outlived the timeout; they were aborted and
    /// their claims ended.
    pub async fn stop(self) -> Result<()> {
        let waited = self.config.stop_timeout;
        self.stop_within(waited).await
    }

    /// Like [`Workers::stop`] with `waited` instead of the configured stop timeout; zero
    /// aborts running reconciles at once (a replica that lost its Lease must not write on).
    ///
    /// # Errors
    ///
    /// [`Error::StopTimedOut`] when some reconciles outlived `waited` and were aborted.
    pub async fn stop_within(mut self, waited: Duration) -> Result<()> {
        self.queue.shutdown();
        self.sizing.resize(0);
        if waited.is_zero() {
            let aborted = self.active.get();
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
            return if aborted == 0 {
                Ok(())
            } else {
                Err(Error::StopTimedOut { aborted, waited })
            };
        }
        let finished = tokio::time::timeout(waited, async {
            while let Some(joined) = self.tasks.join_next().await {
                log_worker_end(joined);
            }
        })
        .await;
        if finished.is_ok() {
            return Ok(());
        }
        let aborted = self.tasks.len();
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        Err(Error::StopTimedOut { aborted, waited })
    }
}

fn log_worker_end(joined: Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined
        && error.is_panic()
    {
        let panic = panic_message(&*error.into_panic());
        tracing::error!(%panic, "worker panicked outside a reconcile");
    }
}

/// The size a pool is meant to have and the workers it has; a worker leaves while there are
/// more than meant.
#[derive(Default)]
struct Sizing {
    size: Mutex<Size>,
    /// Wakes idle workers when the target changes.
    resized: watch::Sender<()>,
}

#[derive(Default)]
struct Size {
    target: usize,
    running: usize,
}

impl Sizing {
    fn lock(&self) -> MutexGuard<'_, Size> {
        // Nothing panics while holding this lock.
        self.size
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets the target and returns how many workers to start to reach it (they are counted
    /// as running from now).
    fn resize(&self, target: usize) -> usize {
        let missing = {
            let mut size = self.lock();
            size.target = target;
            let missing = target.saturating_sub(size.running);
            size.running += missing;
            missing
        };
        self.resized.send_replace(());
        missing
    }

    /// True, and counted out, when the calling worker is one too many.
    fn leave_if_surplus(&self) -> bool {
        let mut size = self.lock();
        let surplus = size.running > size.target;
        if surplus {
            size.running -= 1;
        }
        surplus
    }

    fn leave(&self) {
        let mut size = self.lock();
        size.running = size.running.saturating_sub(1);
    }
}

/// What every worker of a pool shares.
struct Worker<K, F, O, R> {
    queue: Queue<K>,
    reconcile: F,
    retry: R,
    sink: O,
    active: ActiveWorkers,
    sizing: Arc<Sizing>,
}

impl<K, F, Fut, E, O, R> Worker<K, F, O, R>
where
    K: Clone + Eq + Hash + Send + Sync + Debug + 'static,
    F: Fn(K) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
    E: Display + Send + 'static,
    O: ReportSink<K>,
    R: Fn(&E) -> bool + Send + Sync + 'static,
{
    async fn run(self: Arc<Self>) {
        let mut resized = self.sizing.resized.subscribe();
        while !self.sizing.leave_if_surplus() {
            let claim = tokio::select! {
                biased;
                changed = resized.changed() => match changed {
                    Ok(()) => continue,
                    Err(_) => {
                        self.sizing.leave();
                        break;
                    }
                },
                claim = self.queue.next() => match claim {
                    Some(claim) => claim,
                    None => {
                        self.sizing.leave();
                        break;
                    }
                },
            };
            let key = claim.key().clone();
            let _active = self.active.enter();
            self.sink.started(&key);
            let span = tracing::info_span!("reconcile", key = ?key);
            let report = self.reconcile_one(key.clone()).instrument(span).await;
            self.sink.finished(&key, &report);
            claim.done();
        }
    }

    async fn reconcile_one(&self, key: K) -> Report {
        let started = Instant::now();
        // Building the future may panic too, so it happens inside the caught block.
        let caught = AssertUnwindSafe(async { (self.reconcile)(key.clone()).await })
            .catch_unwind()
            .await;
        let duration = started.elapsed();
        let outcome = match caught {
            Ok(Ok(action)) => {
                self.queue.forget(&key);
                match action {
                    Action::Done => Outcome::Succeeded,
                    Action::RequeueAfter(delay) => {
                        self.queue.add_after(key, delay);
                        Outcome::Succeeded
                    }
                    Action::Gated => Outcome::Gated,
                }
            }
            Ok(Err(error)) if !(self.retry)(&error) => {
                let message = error.to_string();
                self.queue.forget(&key);
                tracing::warn!(?key, error = %message, "reconcile failed; waiting for a change");
                Outcome::Failed { message }
            }
            Ok(Err(error)) if self.queue.exhausted(&key) => {
                let message = error.to_string();
                let attempts = self.queue.failures(&key).saturating_add(1);
                self.queue.forget(&key);
                tracing::warn!(?key, error = %message, attempts, "reconcile failed; maxAttempts reached, waiting for a change");
                Outcome::Failed { message }
            }
            Ok(Err(error)) => {
                let message = error.to_string();
                let retry_in = self.queue.add_rate_limited(key.clone());
                tracing::warn!(?key, error = %message, ?retry_in, "reconcile failed");
                Outcome::Failed { message }
            }
            Err(payload) => {
                let message = format!("reconciler panic: {}", panic_message(&*payload));
                let retry_in = self.queue.add_rate_limited(key.clone());
                tracing::error!(?key, error = %message, ?retry_in, "reconcile panicked");
                Outcome::Panicked { message }
            }
        };
        Report { duration, outcome }
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "non-text panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::queue::QueueConfig;
    use std::collections::{HashMap, HashSet};
    use std::sync::atomic::AtomicBool;
    use tokio::sync::{Notify, mpsc};

    type Reports = mpsc::UnboundedReceiver<(u32, Report)>;

    /// A sink that sends every report to the returned receiver.
    fn recorder() -> (Reports, impl ReportSink<u32>) {
        let (sender, reports) = mpsc::unbounded_channel();
        let sink = move |key: &u32, report: &Report| {
            let _ = sender.send((*key, report.clone()));
        };
        (reports, sink)
    }

    /// Waits for the next `count` reports.
    async fn receive(reports: &mut Reports, count: usize) -> Vec<(u32, Report)> {
        let mut received = Vec::with_capacity(count);
        while received.len() < count {
            received.push(reports.recv().await.expect("workers are running"));
        }
        received
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicking_reconcile_is_caught_counted_and_retried_with_backoff() {
        let queue = Queue::new(QueueConfig::default());
        let (mut reports, sink) = recorder();
        let calls: Arc<Mutex<HashMap<u32, Vec<Instant>>>> = Arc::default();
        let reconcile = {
            let calls = Arc::clone(&calls);
            move |key: u32| {
                let calls = Arc::clone(&calls);
                async move {
                    let attempt = {
                        let mut calls = calls.lock().unwrap();
                        let at = calls.entry(key).or_default();
                        at.push(Instant::now());
                        at.len()
                    };
                    if key == 0 && attempt < 3 {
                        panic!("boom on attempt {attempt}");
                    }
                    Ok::<_, String>(Action::Done)
                }
            }
        };
        let start = Instant::now();
        queue.add(0);
        let workers = Workers::spawn(
            queue.clone(),
            WorkersConfig::default().count(2),
            reconcile,
            sink,
        );
        for key in 1..=5 {
            queue.add(key);
        }
        let log = receive(&mut reports, 8).await;
        let panics: Vec<_> = log
            .iter()
            .filter(|(_, report)| matches!(report.outcome, Outcome::Panicked { .. }))
            .collect();
        assert_eq!(panics.len(), 2);
        assert!(panics.iter().all(|(key, _)| *key == 0));
        assert_eq!(
            panics[0].1.error(),
            Some("reconciler panic: boom on attempt 1")
        );
        let successes: Vec<u32> = log
            .iter()
            .filter(|(_, report)| report.is_success())
            .map(|(key, _)| *key)
            .collect();
        assert_eq!(
            successes.len(),
            6,
            "every key succeeded once: {successes:?}"
        );
        let attempts = calls.lock().unwrap()[&0].clone();
        assert_eq!(attempts[1] - attempts[0], Duration::from_millis(5));
        assert_eq!(attempts[2] - attempts[1], Duration::from_millis(10));
        assert!(
            calls.lock().unwrap()[&5][0] - start < Duration::from_millis(5),
            "other keys did not wait for the panicking one"
        );
        assert_eq!(queue.failures(&0), 0, "success forgot the backoff");
        workers.stop().await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn both_sinks_of_a_pair_see_every_reconcile_including_panics() {
        let queue = Queue::new(QueueConfig::default());
        let failures: Arc<Mutex<Vec<String>>> = Arc::default();
        let (mut reports, recorder) = recorder();
        let reconcile = |key: u32| async move {
            assert!(key != 0, "key 0 always panics");
            Ok::<_, String>(Action::Done)
        };
        let failed = {
            let failures = Arc::clone(&failures);
            move |_: &u32, report: &Report| {
                failures
                    .lock()
                    .unwrap()
                    .extend(report.error().map(str::to_owned));
            }
        };
        let sink = (failed, recorder);
        let workers = Workers::spawn(queue.clone(), WorkersConfig::default(), reconcile, sink);
        queue.add(1);
        queue.add(0);
        let received = receive(&mut reports, 3).await;
        assert_eq!(received.iter().filter(|(_, r)| r.is_success()).count(), 1);
        let failures = failures.lock().unwrap().clone();
        assert_eq!(failures.len(), 2, "two panics of key 0");
        assert!(
            failures
                .iter()
                .all(|f| f.starts_with("reconciler panic: key 0 always panics"))
        );
        workers.stop().await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_is_retried_with_backoff_and_a_requeue_after_success_is_honoured() {
        let queue = Queue::new(QueueConfig::default());
        let (mut reports, sink) = recorder();
        let attempts = Arc::new(AtomicUsize::new(0));
        let reconcile = {
            let attempts = Arc::clone(&attempts);
            move |_key: u32| {
                let attempt = attempts.fetch_add(1, Ordering::SeqCst);
                async move {
                    match attempt {
                        0 => Err("not yet"),
                        1 => Ok(Action::RequeueAfter(Duration::from_secs(30))),
                        _ => Ok(Action::Done),
                    }
                }
            }
        };
        let start = Instant::now();
        queue.add(7);
        let workers = Workers::spawn(queue.clone(), WorkersConfig::default(), reconcile, sink);
        let log = receive(&mut reports, 3).await;
        assert_eq!(
            log[0].1.outcome,
            Outcome::Failed {
                message: "not yet".into()
            }
        );
        assert!(log[1].1.is_success() && log[2].1.is_success());
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(5) + Duration::from_secs(30)
        );
        workers.stop().await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn max_attempts_stops_the_retries_until_the_key_is_added_again() {
        let queue = Queue::new(QueueConfig::default().max_attempts(3));
        let (mut reports, sink) = recorder();
        let reconcile = |_key: u32| async { Err::<Action, _>("still broken") };
        queue.add(5);
        let workers = Workers::spawn(queue.clone(), WorkersConfig::default(), reconcile, sink);
        let log = receive(&mut reports, 3).await;
        assert!(log.iter().all(|(_, r)| r.error() == Some("still broken")));
        // Paused time: the hour passes at once, and a fourth retry would have come within it.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(reports.try_recv().is_err(), "retried past maxAttempts");
        assert_eq!(queue.failures(&5), 0, "the key's backoff was forgotten");
        queue.add(5);
        assert_eq!(receive(&mut reports, 1).await[0].0, 5);
        workers.stop().await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_that_is_not_retryable_waits_for_the_key_to_be_added_again() {
        let queue = Queue::new(QueueConfig::default());
        let (mut reports, sink) = recorder();
        let reconcile = |_key: u32| async { Err::<Action, _>("invalid spec") };
        queue.add(3);
        let workers = Workers::spawn_with_retry(
            queue.clone(),
            WorkersConfig::default(),
            reconcile,
            sink,
            |error: &&str| *error != "invalid spec",
        );
        let log = receive(&mut reports, 1).await;
        assert_eq!(log[0].1.error(), Some("invalid spec"));
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(reports.try_recv().is_err(), "retried without a change");
        assert_eq!(queue.failures(&3), 0);
        queue.add(3);
        assert_eq!(receive(&mut reports, 1).await[0].0, 3);
        workers.stop().await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn no_key_is_reconciled_by_two_workers_at_once() {
        let queue = Queue::new(QueueConfig::default());
        let (mut reports, sink) = recorder();
        let running: Arc<Mutex<HashMap<u32, usize>>> = Arc::default();
        let overlaps = Arc::new(AtomicUsize::new(0));
        let reconcile = {
            let (running, overlaps) = (Arc::clone(&running), Arc::clone(&overlaps));
            move |key: u32| {
                let (running, overlaps) = (Arc::clone(&running), Arc::clone(&overlaps));
                async move {
                    let now = {
                        let mut running = running.lock().unwrap();
                        let count = running.entry(key).or_default();
                        *count += 1;
                        *count
                    };
                    if now > 1 {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    *running.lock().unwrap().get_mut(&key).unwrap() -= 1;
                    Ok::<_, String>(Action::Done)
                }
            }
        };
        let workers = Workers::spawn(
            queue.clone(),
            WorkersConfig::default().count(4),
            reconcile,
            sink,
        );
        for round in 0..20 {
            queue.add(round % 2);
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        workers.stop().await.unwrap();
        assert_eq!(overlaps.load(Ordering::SeqCst), 0);
        let mut finished = 0;
        while reports.try_recv().is_ok() {
            finished += 1;
        }
        assert!(finished >= 4, "re-adds while running were processed");
    }

    /// A pool whose reconciles report each key they start on `entered`, then wait until
    /// `release` is notified.
    struct HeldPool {
        queue: Queue<u32>,
        workers: Workers<u32>,
        entered: mpsc::UnboundedReceiver<u32>,
        release: Arc<Notify>,
    }

    impl HeldPool {
        fn spawn(config: WorkersConfig, sink: impl ReportSink<u32>) -> Self {
            let queue = Queue::new(QueueConfig::default());
            let (entered_tx, entered) = mpsc::unbounded_channel();
            let release = Arc::new(Notify::new());
            let reconcile = {
                let release = Arc::clone(&release);
                move |key: u32| {
                    let (entered_tx, release) = (entered_tx.clone(), Arc::clone(&release));
                    async move {
                        // Registered before reporting, so a release right after is not missed.
                        let released = release.notified();
                        entered_tx.send(key).unwrap();
                        released.await;
                        Ok::<_, String>(Action::Done)
                    }
                }
            };
            let workers = Workers::spawn(queue.clone(), config, reconcile, sink);
            Self {
                queue,
                workers,
                entered,
                release,
            }
        }

        /// Queues `keys` and waits until `started` reconciles have begun.
        async fn start(&mut self, keys: std::ops::Range<u32>, started: usize) {
            for key in keys {
                self.queue.add(key);
            }
            for _ in 0..started {
                self.entered.recv().await.expect("workers are running");
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn under_real_concurrency_a_key_is_never_reconciled_twice_at_once() {
        const KEYS: u32 = 50;
        let queue = Queue::new(QueueConfig::default());
        let busy: Arc<Vec<AtomicBool>> =
            Arc::new((0..KEYS).map(|_| AtomicBool::new(false)).collect());
        let overlaps = Arc::new(AtomicUsize::new(0));
        let reconcile = {
            let (busy, overlaps) = (Arc::clone(&busy), Arc::clone(&overlaps));
            move |key: u32| {
                let (busy, overlaps) = (Arc::clone(&busy), Arc::clone(&overlaps));
                async move {
                    let flag = &busy[key as usize];
                    if flag.swap(true, Ordering::SeqCst) {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    tokio::task::yield_now().await;
                    flag.store(false, Ordering::SeqCst);
                    Ok::<_, String>(Action::Done)
                }
            }
        };
        let (mut reports, sink) = recorder();
        let workers = Workers::spawn(
            queue.clone(),
            WorkersConfig::default().count(8),
            reconcile,
            sink,
        );
        let producers: Vec<_> = (0..2)
            .map(|_| {
                let queue = queue.clone();
                tokio::spawn(async move {
                    for round in 0..2_000 {
                        queue.add(round % KEYS);
                        if round % 10 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for producer in producers {
            producer.await.unwrap();
        }
        let mut seen = HashSet::new();
        while seen.len() < KEYS as usize {
            seen.insert(reports.recv().await.unwrap().0);
        }
        workers.stop().await.unwrap();
        assert_eq!(overlaps.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn stop_lets_running_reconciles_finish_and_reports_the_active_count() {
        let (mut reports, sink) = recorder();
        let mut pool = HeldPool::spawn(WorkersConfig::default().count(2), sink);
        pool.start(0..5, 2).await;
        let active = pool.workers.active();
        assert_eq!(active.get(), 2);
        let stopping = tokio::spawn(pool.workers.stop());
        tokio::task::yield_now().await;
        assert!(!stopping.is_finished(), "stop waits for running reconciles");
        pool.release.notify_waiters();
        stopping.await.unwrap().unwrap();
        assert_eq!(active.get(), 0);
        assert_eq!(receive(&mut reports, 2).await.len(), 2);
        assert!(reports.try_recv().is_err(), "queued keys were not started");
        assert_eq!(pool.queue.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn growing_the_pool_starts_more_reconciles_at_once() {
        let mut pool = HeldPool::spawn(WorkersConfig::default().count(1), ());
        pool.start(0..3, 1).await;
        tokio::task::yield_now().await;
        assert_eq!(pool.workers.active().get(), 1);
        pool.workers.resize(3);
        pool.entered.recv().await;
        pool.entered.recv().await;
        let workers = &pool.workers;
        assert_eq!(
            (workers.count(), workers.running(), workers.active().get()),
            (3, 3, 3)
        );
        pool.release.notify_waiters();
        pool.workers.stop().await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn shrinking_the_pool_lets_running_reconciles_finish_first() {
        let config = WorkersConfig::default()
            .count(3)
            .stop_timeout(Duration::from_secs(1));
        let mut pool = HeldPool::spawn(config, ());
        let active = pool.workers.active();
        pool.start(0..3, 3).await;
        pool.workers.resize(1);
        tokio::task::yield_now().await;
        let workers = &pool.workers;
        assert_eq!(
            (workers.count(), workers.running(), active.get()),
            (1, 3, 3)
        );
        pool.release.notify_waiters();
        pool.start(3..6, 1).await;
        tokio::task::yield_now().await;
        assert_eq!(
            pool.workers.running(),
            1,
            "two workers left after their reconcile"
        );
        assert_eq!(active.get(), 1, "one reconcile at a time now");
        assert_eq!(pool.queue.len(), 2);
        pool.release.notify_waiters();
        assert_eq!(pool.entered.recv().await, Some(4));
        let error = pool.workers.stop().await.unwrap_err();
        assert!(
            matches!(error, Error::StopTimedOut { aborted: 1, .. }),
            "{error}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stuck_pool_does_not_slow_another_pool() {
        let config = WorkersConfig::default()
            .count(2)
            .stop_timeout(Duration::from_secs(1));
        let mut stuck = HeldPool::spawn(config.clone(), ());
        stuck.start(0..1000, 2).await;
        let (mut reports, sink) = recorder();
        let other = Queue::new(QueueConfig::default());
        let reconcile = |_key: u32| async { Ok::<_, String>(Action::Done) };
        let healthy = Workers::spawn(other.clone(), config, reconcile, sink);
        let start = Instant::now();
        for key in 0..10 {
            other.add(key);
        }
        assert_eq!(receive(&mut reports, 10).await.len(), 10);
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(stuck.queue.len(), 998);
        healthy.stop().await.unwrap();
        assert!(stuck.workers.stop().await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn stop_aborts_reconciles_that_outlive_the_timeout() {
        let config = WorkersConfig::default()
            .count(3)
            .stop_timeout(Duration::from_secs(5));
        let mut pool = HeldPool::spawn(config, ());
        pool.start(1..3, 2).await;
        let active = pool.workers.active();
        let start = Instant::now();
        let error = pool.workers.stop().await.unwrap_err();
        assert!(
            matches!(error, Error::StopTimedOut { aborted: 2, .. }),
            "{error}"
        );
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        assert_eq!(active.get(), 0);
        assert_eq!(
            pool.queue.processing(),
            0,
            "aborted reconciles ended their claims"
        );
    }
}
