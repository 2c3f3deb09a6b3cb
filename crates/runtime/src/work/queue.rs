//! The work queue of one OperatorBox: dedupe, rate limit, requeue-after.
//!
//! [`Queue`] follows client-go's rate-limiting workqueue, the queue every Orkestra CRD had:
//!
//! - **Dedupe.** A key is in the queue at most once. Adding a key that is already waiting to be
//!   handed out changes nothing.
//! - **One worker per key.** A key handed out by [`Queue::next`] is *processing* until its
//!   [`Claim`] is done (or dropped). It is never handed to a second worker meanwhile. If it is
//!   added again while processing, it is marked dirty and queued once more when the claim ends.
//! - **Delays.** [`Queue::add_after`] holds a key until a deadline; when a key is already held,
//!   the earliest deadline wins. [`Queue::add_rate_limited`] picks the delay from a per-key
//!   exponential backoff and a queue-wide token bucket, whichever is longer (client-go's
//!   `DefaultControllerRateLimiter`), and [`Queue::forget`] resets the key's backoff.
//! - **Depth limit.** [`QueueConfig::max_depth`] is only a reference: the queue itself drops
//!   nothing. The caller decides from it whether a new key is dropped (`queue.behaviour`, see
//!   [`Behaviour`](super::Behaviour)), as Orkestra's informer does; retries and requeues are
//!   never dropped.
//!
//! The queue needs no task of its own: timers run inside [`Queue::next`], so a queue whose
//! keys are never asked for costs nothing but memory.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::hash::Hash;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Limits of a [`Queue`]: backoff, token bucket and depth.
///
/// The defaults are those of client-go's `DefaultControllerRateLimiter` and of Orkestra since
/// v0.7.17: backoff from 5 ms doubling up to 1000 s per key, a bucket of 10 keys per second
/// with a burst of 100, and no depth limit.
///
/// ```
/// use std::time::Duration;
/// use runtime::QueueConfig;
///
/// let config = QueueConfig::default().max_depth(500).base_delay(Duration::from_millis(10));
/// assert_eq!(config.depth_limit(), 500);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct QueueConfig {
    base_delay: Duration,
    max_delay: Duration,
    qps: f64,
    burst: u32,
    max_depth: usize,
    multiplier: f64,
    max_attempts: u32,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_secs(1000),
            qps: 10.0,
            burst: 100,
            max_depth: 0,
            multiplier: 2.0,
            max_attempts: 0,
        }
    }
}

impl QueueConfig {
    /// The backoff of a key's first failure; each further failure multiplies it (by 2 unless
    /// [`QueueConfig::multiplier`] says otherwise).
    #[must_use]
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest backoff a key can reach, however often it fails.
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Keys per second the token bucket lets through once its burst is spent.
    ///
    /// Zero or less turns the bucket off, leaving only the per-key backoff.
    #[must_use]
    pub fn qps(mut self, qps: f64) -> Self {
        self.qps = qps;
        self
    }

    /// How many rate-limited adds the token bucket lets through without delay.
    #[must_use]
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = burst;
        self
    }

    /// The depth `queue.behaviour` fires against; 0 (the default) means no limit. The queue
    /// itself never drops a key (see the [module docs](self)).
    #[must_use]
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// How much each further failure multiplies a key's backoff (`retryBackoff.multiplier`,
    /// default 2; 1 keeps it constant, below 1 shrinks it; negative values count as 0).
    #[must_use]
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier.max(0.0);
        self
    }

    /// How many attempts a failing key gets before the queue gives up on it until its next
    /// change (`retryBackoff.maxAttempts`); 0 (the default) means never give up.
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// The depth limit set by [`QueueConfig::max_depth`]; 0 means none.
    pub fn depth_limit(&self) -> usize {
        self.max_depth
    }

    /// The backoff of a key that has already failed `failures` times.
    fn backoff(&self, failures: u32) -> Duration {
        let factor = self
            .multiplier
            .powi(i32::try_from(failures).unwrap_or(i32::MAX));
        Duration::try_from_secs_f64(self.base_delay.as_secs_f64() * factor)
            .map_or(self.max_delay, |delay| delay.min(self.max_delay))
    }
}

/// What became of a key given to [`Queue::add`] or [`Queue::add_after`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Added {
    /// The key is new to the queue: it waits to be handed out (or, for a delayed add, it waits
    /// for its deadline).
    Queued,
    /// The key was already waiting, or it is being processed and is now marked to be queued
    /// again when its claim ends; either way it will be processed once.
    Merged,
    /// The queue is shut down and takes no new keys.
    Closed,
}

/// A deduplicating, rate-limited work queue of keys of type `K`.
///
/// Cloning gives another handle to the same queue. See the [module docs](self) for the
/// semantics; `Workers` runs the loop below for a pool of tasks.
///
/// ```no_run
/// use std::time::Duration;
/// use runtime::{Queue, QueueConfig};
///
/// # async fn example(reconcile: impl Fn(&str) -> Result<Option<Duration>, String>) {
/// let queue: Queue<String> = Queue::new(QueueConfig::default());
/// queue.add("default/web".to_owned());
/// while let Some(claim) = queue.next().await {
///     match reconcile(claim.key()) {
///         Ok(requeue) => {
///             queue.forget(claim.key());
///             if let Some(after) = requeue {
///                 queue.add_after(claim.key().clone(), after);
///             }
///         }
///         Err(_) => {
///             queue.add_rate_limited(claim.key().clone());
///         }
///     }
///     claim.done();
/// }
/// # }
/// ```
///
/// # Shutdown
///
/// [`Queue::shutdown`] stops intake: later adds return [`Added::Closed`], delayed keys are
/// discarded, and so are re-adds of keys still processing. Keys already waiting are still
/// handed out, and [`Queue::next`] returns `None` once none is left (drain, as client-go's
/// `ShutDown`). A pool of workers that wants to stop without draining stops asking instead (see
/// `Workers::stop`).
pub struct Queue<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for Queue<K> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K> fmt::Debug for Queue<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Queue")
            .field("depth", &state.ready.len())
            .field("processing", &state.processing.len())
            .field("delayed", &state.delayed.len())
            .field("shut_down", &state.shut_down)
            .finish()
    }
}

struct Shared<K> {
    config: QueueConfig,
    state: Mutex<State<K>>,
    /// Wakes one waiter in [`Queue::next`] when a key becomes ready or a deadline moves;
    /// all of them on shutdown.
    wake: Notify,
}

impl<K> Shared<K> {
    fn lock(&self) -> MutexGuard<'_, State<K>> {
        // No code panics while holding the lock except `K`'s own Hash or Eq; the state is still
        // consistent enough to serve in that case.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct State<K> {
    /// Keys waiting to be handed out, oldest first.
    ready: VecDeque<K>,
    /// Keys that want processing: every key in `ready`, plus keys re-added while processing.
    dirty: HashSet<K>,
    /// Keys handed out whose claim has not ended.
    processing: HashSet<K>,
    /// Delayed keys by deadline; the sequence number keeps equal deadlines in add order.
    delayed: BTreeMap<(Instant, u64), K>,
    /// The deadline of each delayed key.
    deadlines: HashMap<K, (Instant, u64)>,
    sequence: u64,
    /// Failures since the last forget, per key.
    failures: HashMap<K, u32>,
    bucket: TokenBucket,
    shut_down: bool,
    /// The depth limit in force (the config's, until [`Queue::set_max_depth`]).
    max_depth: usize,
}

impl<K: Clone + Eq + Hash> State<K> {
    fn enqueue(&mut self, key: K) -> (Added, bool) {
        if self.shut_down {
            return (Added::Closed, false);
        }
        if self.dirty.contains(&key) {
            return (Added::Merged, false);
        }
        if self.processing.contains(&key) {
            // The limit is checked when a key enters; this one is already accepted.
            self.dirty.insert(key);
            return (Added::Merged, false);
        }
        self.dirty.insert(key.clone());
        self.ready.push_back(key);
        (Added::Queued, true)
    }

    fn delay(&mut self, key: K, deadline: Instant) -> (Added, bool) {
        if self.shut_down {
            return (Added::Closed, false);
        }
        if let Some(&held) = self.deadlines.get(&key) {
            if held.0 <= deadline {
                return (Added::Merged, false);
            }
            self.delayed.remove(&held);
        }
        self.sequence += 1;
        let slot = (deadline, self.sequence);
        let earliest = self
            .delayed
            .first_key_value()
            .is_none_or(|(first, _)| slot < *first);
        self.delayed.insert(slot, key.clone());
        self.deadlines.insert(key, slot);
        (Added::Queued, earliest)
    }

    /// Moves every delayed key whose deadline has passed into the queue; true when any
    /// became ready.
    fn promote_due(&mut self) -> bool {
        if self.delayed.is_empty() {
            return false;
        }
        let now = Instant::now();
        let mut any = false;
        while let Some(entry) = self.delayed.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            self.deadlines.remove(&key);
            any |= self.enqueue(key).1;
        }
        any
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.delayed.first_key_value().map(|(slot, _)| slot.0)
    }
}

impl<K: Clone + Eq + Hash + Send> Queue<K> {
    /// An empty queue with the given limits.
    pub fn new(config: QueueConfig) -> Self {
        let max_depth = config.max_depth;
        let bucket = TokenBucket::new(config.qps, config.burst);
        Self {
            shared: Arc::new(Shared {
                config,
                state: Mutex::new(State {
                    ready: VecDeque::new(),
                    dirty: HashSet::new(),
                    processing: HashSet::new(),
                    delayed: BTreeMap::new(),
                    deadlines: HashMap::new(),
                    sequence: 0,
                    failures: HashMap::new(),
                    bucket,
                    shut_down: false,
                    max_depth,
                }),
                wake: Notify::new(),
            }),
        }
    }

    /// The limits this queue was made with.
    pub fn config(&self) -> &QueueConfig {
        &self.shared.config
    }

    /// Changes the depth limit from now on (0: none), as the autoscaler does; keys already
    /// queued stay.
    pub fn set_max_depth(&self, depth: usize) {
        self.shared.lock().max_depth = depth;
    }

    /// The depth limit in force; 0 means none.
    pub fn max_depth(&self) -> usize {
        self.shared.lock().max_depth
    }

    /// Queues `key` now, unless it is already queued (see [`Added`]).
    pub fn add(&self, key: K) -> Added {
        let (added, woke) = {
            let mut state = self.shared.lock();
            let woke = state.promote_due();
            let (added, ready) = state.enqueue(key);
            (added, woke || ready)
        };
        if woke {
            self.shared.wake.notify_one();
        }
        added
    }

    /// Queues `key` once `delay` has passed; a zero delay is [`Queue::add`].
    ///
    /// If `key` is already held for a later deadline, the earlier one wins; a key already
    /// held for an earlier deadline keeps it ([`Added::Merged`]). A delayed key is separate
    /// from the same key queued now: this is how a successful reconcile asks to be run again
    /// later.
    pub fn add_after(&self, key: K, delay: Duration) -> Added {
        if delay.is_zero() {
            return self.add(key);
        }
        let (added, earliest) = {
            let mut state = self.shared.lock();
            state.delay(key, Instant::now() + delay)
        };
        if earliest {
            // A waiter may be sleeping until a later deadline.
            self.shared.wake.notify_one();
        }
        added
    }

    /// Queues `key` after the delay its failures call for, and returns that delay.
    ///
    /// The delay is the longer of the key's exponential backoff (base, doubled per failure
    /// since the last [`Queue::forget`], capped at the maximum) and the wait the shared token
    /// bucket imposes. Each call counts as one more failure of `key`.
    pub fn add_rate_limited(&self, key: K) -> Duration {
        let delay = {
            let mut state = self.shared.lock();
            let failures = state.failures.entry(key.clone()).or_insert(0);
            let backoff = self.shared.config.backoff(*failures);
            *failures = failures.saturating_add(1);
            backoff.max(state.bucket.reserve(Instant::now()))
        };
        self.add_after(key, delay);
        delay
    }

    /// Resets the backoff of `key`, as after a successful reconcile.
    pub fn forget(&self, key: &K) {
        self.shared.lock().failures.remove(key);
    }

    /// Whether `key`, failing once more now, has used up its attempts
    /// ([`QueueConfig::max_attempts`]): the attempt that just failed was the last.
    pub fn exhausted(&self, key: &K) -> bool {
        let limit = self.shared.config.max_attempts;
        limit > 0 && self.failures(key).saturating_add(1) >= limit
    }

    /// How many times `key` failed since it was last forgotten.
    pub fn failures(&self, key: &K) -> u32 {
        self.shared.lock().failures.get(key).copied().unwrap_or(0)
    }

    /// Whether `key` already wants processing (waiting, or re-added while processing): an add
    /// would merge into it.
    pub fn is_waiting(&self, key: &K) -> bool {
        let mut state = self.shared.lock();
        state.promote_due();
        state.dirty.contains(key)
    }

    /// The depth: how many keys wait to be handed out now (delayed keys not yet due and keys
    /// being processed are not counted).
    pub fn len(&self) -> usize {
        let mut state = self.shared.lock();
        state.promote_due();
        state.ready.len()
    }

    /// True when no key waits to be handed out.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many keys are being processed (handed out, claim not yet ended).
    pub fn processing(&self) -> usize {
        self.shared.lock().processing.len()
    }

    /// Stops intake; see [Shutdown](Queue#shutdown).
    pub fn shutdown(&self) {
        {
            let mut state = self.shared.lock();
            state.shut_down = true;
            state.delayed.clear();
            state.deadlines.clear();
        }
        self.shared.wake.notify_waiters();
    }

    /// True once [`Queue::shutdown`] was called.
    pub fn is_shut_down(&self) -> bool {
        self.shared.lock().shut_down
    }

    /// Waits for the next key to process and claims it.
    ///
    /// Returns `None` once the queue is shut down and no key is left. Cancel-safe: a key is
    /// only taken from the queue by the poll that returns it.
    pub async fn next(&self) -> Option<Claim<K>> {
        loop {
            let mut woken = pin!(self.shared.wake.notified());
            // Register before looking, so that a wake between the look and the wait is kept.
            woken.as_mut().enable();
            let deadline = {
                let mut state = self.shared.lock();
                state.promote_due();
                if let Some(key) = state.ready.pop_front() {
                    state.dirty.remove(&key);
                    state.processing.insert(key.clone());
                    let more = !state.ready.is_empty();
                    drop(state);
                    if more {
                        self.shared.wake.notify_one();
                    }
                    return Some(Claim {
                        key: Some(key),
                        queue: self.clone(),
                    });
                }
                if state.shut_down {
                    return None;
                }
                state.next_deadline()
            };
            match deadline {
                Some(deadline) => {
                    tokio::select! {
                        () = woken => {}
                        () = tokio::time::sleep_until(deadline) => {}
                    }
                }
                None => woken.await,
            }
        }
    }

    fn finish(&self, key: K) {
        let requeued = {
            let mut state = self.shared.lock();
            state.processing.remove(&key);
            if !state.dirty.contains(&key) {
                false
            } else if state.shut_down {
                state.dirty.remove(&key);
                false
            } else {
                state.ready.push_back(key);
                true
            }
        };
        if requeued {
            self.shared.wake.notify_one();
        }
    }
}

/// A key handed out by [`Queue::next`]; while it lives, no other worker gets the same key.
///
/// End it with [`Claim::done`] when processing is over. Dropping it does the same, so a claim
/// ends even when its worker panics or is aborted. If the key was added again meanwhile, it is
/// queued once more as the claim ends.
pub struct Claim<K: Clone + Eq + Hash + Send> {
    key: Option<K>,
    queue: Queue<K>,
}

impl<K: Clone + Eq + Hash + Send> Claim<K> {
    /// The claimed key.
    pub fn key(&self) -> &K {
        self.key
            .as_ref()
            .expect("a claim holds its key until it is dropped")
    }

    /// Ends processing of the key (client-go's `Done`).
    pub fn done(self) {
        drop(self);
    }
}

impl<K: Clone + Eq + Hash + Send + fmt::Debug> fmt::Debug for Claim<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Claim").field(&self.key).finish()
    }
}

impl<K: Clone + Eq + Hash + Send> Drop for Claim<K> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.queue.finish(key);
        }
    }
}

/// A token bucket of `qps` tokens a second holding at most `burst`; like Go's `rate.Limiter`,
/// a reservation may take the balance below zero, and the debt is the wait.
struct TokenBucket {
    qps: f64,
    burst: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl TokenBucket {
    fn new(qps: f64, burst: u32) -> Self {
        Self {
            qps,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: None,
        }
    }

    /// Takes one token and returns how long until it is really there.
    fn reserve(&mut self, now: Instant) -> Duration {
        if self.qps <= 0.0 {
            return Duration::ZERO;
        }
        if let Some(last) = self.last {
            let refill = now.saturating_duration_since(last).as_secs_f64() * self.qps;
            self.tokens = (self.tokens + refill).min(self.burst);
        }
        self.last = Some(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.qps)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;

    fn queue() -> Queue<&'static str> {
        Queue::new(QueueConfig::default())
    }

    /// The key of the next claim, which is ended at once.
    async fn take(queue: &Queue<&'static str>) -> &'static str {
        let claim = queue.next().await.expect("queue is open");
        let key = *claim.key();
        claim.done();
        key
    }

    /// True when `future` is still pending after every other task had its turn.
    async fn is_pending<F: Future>(future: F) -> bool {
        tokio::select! {
            biased;
            _ = future => false,
            () = tokio::task::yield_now() => true,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn adding_a_queued_key_again_keeps_one_copy() {
        let queue = queue();
        assert_eq!(queue.add("a"), Added::Queued);
        assert_eq!(queue.add("b"), Added::Queued);
        assert_eq!(queue.add("a"), Added::Merged);
        assert_eq!(queue.len(), 2);
        assert_eq!(take(&queue).await, "a");
        assert_eq!(take(&queue).await, "b");
        assert!(queue.is_empty());
        assert!(is_pending(queue.next()).await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_being_processed_is_not_handed_to_a_second_worker() {
        let queue = queue();
        queue.add("a");
        let claim = queue.next().await.unwrap();
        assert_eq!(queue.add("a"), Added::Merged);
        assert_eq!(queue.len(), 0, "a processing key waits outside the queue");
        let second = tokio::spawn({
            let queue = queue.clone();
            async move { *queue.next().await.unwrap().key() }
        });
        tokio::task::yield_now().await;
        assert!(
            !second.is_finished(),
            "second worker got the key while it was processing"
        );
        claim.done();
        assert_eq!(second.await.unwrap(), "a");
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_re_added_while_processing_is_queued_once_when_done() {
        let queue = queue();
        queue.add("a");
        let claim = queue.next().await.unwrap();
        queue.add("a");
        queue.add("a");
        queue.add("b");
        claim.done();
        assert_eq!(queue.len(), 2);
        assert_eq!(take(&queue).await, "b");
        assert_eq!(take(&queue).await, "a");
        assert!(is_pending(queue.next()).await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_claim_dropped_by_a_panicking_worker_still_ends() {
        let queue = queue();
        queue.add("a");
        let worker = tokio::spawn({
            let queue = queue.clone();
            async move {
                let _claim = queue.next().await.unwrap();
                panic!("worker failed");
            }
        });
        assert!(worker.await.is_err());
        assert_eq!(queue.processing(), 0);
        queue.add("a");
        assert_eq!(take(&queue).await, "a");
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_keys_come_out_in_deadline_order() {
        let queue = queue();
        let start = Instant::now();
        queue.add_after("late", Duration::from_millis(300));
        queue.add_after("early", Duration::from_millis(100));
        queue.add_after("middle", Duration::from_millis(200));
        assert_eq!(queue.len(), 0);
        for (key, at) in [("early", 100), ("middle", 200), ("late", 300)] {
            assert_eq!(take(&queue).await, key);
            assert_eq!(start.elapsed(), Duration::from_millis(at));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_earliest_deadline_wins_for_a_key_added_twice() {
        let queue = queue();
        let start = Instant::now();
        assert_eq!(queue.add_after("a", Duration::from_secs(10)), Added::Queued);
        assert_eq!(queue.add_after("a", Duration::from_secs(2)), Added::Queued);
        assert_eq!(queue.add_after("a", Duration::from_secs(5)), Added::Merged);
        assert_eq!(take(&queue).await, "a");
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        assert!(is_pending(queue.next()).await);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(queue.is_empty(), "the later deadlines were dropped");
    }

    #[tokio::test(start_paused = true)]
    async fn a_delayed_key_is_processed_again_after_being_processed_now() {
        let queue = queue();
        let start = Instant::now();
        queue.add_after("a", Duration::from_secs(1));
        assert_eq!(queue.add("a"), Added::Queued);
        assert_eq!(take(&queue).await, "a");
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(take(&queue).await, "a");
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_delayed_key_coming_due_past_the_depth_limit_is_still_queued() {
        let queue = Queue::new(QueueConfig::default().max_depth(1));
        queue.add("a");
        queue.add_after("b", Duration::from_secs(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(queue.len(), 2, "a retry or requeue is never dropped");
        assert_eq!(take(&queue).await, "a");
        assert_eq!(take(&queue).await, "b");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_worker_wakes_for_a_new_earlier_deadline() {
        let queue = queue();
        let start = Instant::now();
        queue.add_after("late", Duration::from_secs(60));
        let waiter = tokio::spawn({
            let queue = queue.clone();
            async move { take(&queue).await }
        });
        tokio::task::yield_now().await;
        queue.add_after("soon", Duration::from_secs(1));
        assert_eq!(waiter.await.unwrap(), "soon");
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_doubles_per_failure_up_to_the_cap() {
        let queue = Queue::new(QueueConfig::default().qps(0.0));
        let delays: Vec<_> = (0..4).map(|_| queue.add_rate_limited("a")).collect();
        let ms = Duration::from_millis;
        assert_eq!(delays, [ms(5), ms(10), ms(20), ms(40)]);
        for _ in 4..40 {
            queue.add_rate_limited("a");
        }
        assert_eq!(queue.add_rate_limited("a"), Duration::from_secs(1000));
        assert_eq!(queue.failures(&"a"), 41);
        assert_eq!(
            queue.add_rate_limited("b"),
            ms(5),
            "backoff is counted per key"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_multiplier_sets_the_growth_of_the_backoff() {
        let ms = Duration::from_millis;
        let triple = Queue::new(QueueConfig::default().qps(0.0).multiplier(3.0));
        let delays: Vec<_> = (0..3).map(|_| triple.add_rate_limited("a")).collect();
        assert_eq!(delays, [ms(5), ms(15), ms(45)]);
        let constant = Queue::new(QueueConfig::default().qps(0.0).multiplier(1.0));
        let delays: Vec<_> = (0..3).map(|_| constant.add_rate_limited("a")).collect();
        assert_eq!(delays, [ms(5), ms(5), ms(5)]);
    }

    #[tokio::test(start_paused = true)]
    async fn max_attempts_counts_the_failing_attempt_and_forget_starts_over() {
        let queue = Queue::new(QueueConfig::default().qps(0.0).max_attempts(3));
        assert!(!queue.exhausted(&"a"), "first attempt failed: two left");
        queue.add_rate_limited("a");
        assert!(!queue.exhausted(&"a"), "second attempt failed: one left");
        queue.add_rate_limited("a");
        assert!(queue.exhausted(&"a"), "third attempt failed: none left");
        queue.forget(&"a");
        assert!(!queue.exhausted(&"a"));
        let unlimited = Queue::new(QueueConfig::default().qps(0.0));
        for _ in 0..50 {
            unlimited.add_rate_limited("a");
        }
        assert!(!unlimited.exhausted(&"a"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limited_key_comes_back_after_its_backoff() {
        let queue = Queue::new(QueueConfig::default().qps(0.0));
        let start = Instant::now();
        queue.add_rate_limited("a");
        queue.add_rate_limited("a");
        assert_eq!(take(&queue).await, "a");
        assert_eq!(start.elapsed(), Duration::from_millis(5), "earliest wins");
        queue.add_rate_limited("a");
        assert_eq!(take(&queue).await, "a");
        assert_eq!(start.elapsed(), Duration::from_millis(5 + 20));
    }

    #[tokio::test(start_paused = true)]
    async fn forget_resets_the_backoff() {
        let queue = Queue::new(QueueConfig::default().qps(0.0));
        for _ in 0..5 {
            queue.add_rate_limited("a");
        }
        queue.forget(&"a");
        assert_eq!(queue.failures(&"a"), 0);
        assert_eq!(queue.add_rate_limited("a"), Duration::from_millis(5));
    }

    #[tokio::test(start_paused = true)]
    async fn the_token_bucket_spaces_out_a_burst_past_its_size() {
        let queue = Queue::new(QueueConfig::default().base_delay(Duration::from_millis(1)));
        let keys: Vec<String> = (0..103).map(|i| i.to_string()).collect();
        let delays: Vec<Duration> = keys
            .iter()
            .map(|key| queue.add_rate_limited(key.clone()))
            .collect();
        let ms = Duration::from_millis;
        assert!(
            delays[..100].iter().all(|d| *d == ms(1)),
            "the burst of 100 only waits the backoff"
        );
        assert_eq!(delays[100..], [ms(100), ms(200), ms(300)]);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            queue.add_rate_limited("refilled".into()),
            ms(1),
            "a second of quiet pays the debt back and refills"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_depth_limit_is_a_reference_the_queue_itself_drops_nothing() {
        let queue = Queue::new(QueueConfig::default().max_depth(2));
        for key in ["a", "b", "c"] {
            assert_eq!(queue.add(key), Added::Queued);
        }
        assert_eq!(queue.add("a"), Added::Merged);
        assert_eq!((queue.len(), queue.max_depth()), (3, 2));
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_drains_queued_keys_then_ends() {
        let queue = queue();
        queue.add("a");
        queue.add("b");
        queue.add_after("delayed", Duration::from_secs(1));
        let claim = queue.next().await.unwrap();
        queue.add("a");
        queue.shutdown();
        assert_eq!(queue.add("c"), Added::Closed);
        assert_eq!(queue.add_after("c", Duration::from_secs(1)), Added::Closed);
        claim.done();
        assert_eq!(take(&queue).await, "b");
        assert!(queue.next().await.is_none());
        assert!(queue.next().await.is_none(), "stays ended");
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_wakes_every_waiting_worker() {
        let queue = queue();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let queue = queue.clone();
                tokio::spawn(async move { queue.next().await.is_none() })
            })
            .collect();
        tokio::task::yield_now().await;
        queue.shutdown();
        for waiter in waiters {
            assert!(waiter.await.unwrap());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn many_workers_get_each_key_exactly_once() {
        let queue: Queue<u32> = Queue::new(QueueConfig::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (queue, seen) = (queue.clone(), Arc::clone(&seen));
                tokio::spawn(async move {
                    while let Some(claim) = queue.next().await {
                        seen.lock().unwrap().push(*claim.key());
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for key in 0..100 {
            queue.add(key);
        }
        tokio::task::yield_now().await;
        queue.shutdown();
        for worker in workers {
            worker.await.unwrap();
        }
        let mut seen = seen.lock().unwrap().clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }
}
