//! The operator autoscaler (spec §12.6): a box that declares `autoscale:` raises its own
//! workers, queue depth limit and resync while its conditions hold, and returns to its
//! baseline once they have been false for the cooldown.
//!
//! Every `interval` the conditions are evaluated against `{metrics: …}`, the same numbers
//! templates read as `.metrics` ([`Stats::snapshot`]), and `{cross: {<crd>: {metrics,
//! health}}}` for each sibling CRD of this process a condition names
//! (`cross.<crd>.metrics.queueDepth`): that box's own numbers, as its templates see them
//! (none when it does not run here, so such a condition does not hold). Scaling resizes the running pool (busy
//! workers finish their reconcile first), changes the depth limit of the current queue and
//! the resync period. It only acts while the box works; a box that stops working (this
//! replica stopped leading) starts at its baseline when it works again.
//!
//! A `profile` fills in what the block leaves out (ork's presets, see docs/runtime.md):
//!
//! | profile        | condition                       | workers       | cooldown |
//! |----------------|---------------------------------|---------------|----------|
//! | `conservative` | `metrics.queueDepth` > 200      | baseline × 2  | 5m       |
//! | `balanced`     | `metrics.queueDepth` > 100      | baseline × 2  | 2m       |
//! | `aggressive`   | `metrics.queueDepth` > 50       | baseline × 4  | 1m       |
//!
//! Without a profile the interval is 15 s and the cooldown 2 m. Workers stay within
//! `min`/`max` when given, and within 1..=50.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use katalog::build::EngineRender;
use katalog::condition::{Condition, Conditions, Env};
use kube::api::DynamicObject;
use kube::runtime::reflector::Store;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::metrics::CrdMetrics;
use crate::observe::Sources;
use crate::work::{ActiveWorkers, Health, Intake, Key, Workers};

/// The most workers a box may have, as `workers` validation allows.
const MAX_WORKERS: usize = 50;

/// A box's declared autoscaling, resolved: what to watch, and what to scale to.
#[derive(Clone, Debug)]
pub struct Plan {
    /// How often the conditions are evaluated.
    pub interval: Duration,
    /// How long the conditions must be false before the baseline is restored.
    pub cooldown: Duration,
    /// All must hold.
    pub when: Vec<Condition>,
    /// One must hold (when any are given).
    pub or: Vec<Condition>,
    /// Workers while scaled.
    pub workers: Option<usize>,
    /// Queue depth limit while scaled.
    pub queue_depth: Option<usize>,
    /// Resync while scaled.
    pub resync: Option<Duration>,
}

impl Plan {
    /// The plan of a CRD's `autoscale:` block with `baseline_workers` workers, `None` when it
    /// declares none (or nothing to scale).
    pub fn of(crd: &katalog::Crd, baseline_workers: usize) -> Option<Self> {
        let declared = &crd.operator_box().autoscale.as_ref()?.value;
        let profile = declared.profile.as_ref().map(|p| p.value.as_str());
        let (threshold, factor, cooldown) = match profile {
            Some("conservative") => (200, 2, Duration::from_secs(300)),
            Some("aggressive") => (50, 4, Duration::from_secs(60)),
            _ => (100, 2, Duration::from_secs(120)),
        };
        let duration = |text: Option<&katalog::de::Spanned<String>>| {
            text.and_then(|t| katalog::model::duration::parse(&t.value).ok())
        };
        let conditions = declared.conditions.clone().unwrap_or_default();
        let (when, or) = if conditions.when.is_empty() && conditions.or.is_empty() {
            // Neither conditions nor a profile: nothing would ever scale.
            profile?;
            let rule = Condition {
                field: Some("metrics.queueDepth".into()),
                greater_than: Some(threshold.to_string().into()),
                ..Condition::default()
            };
            (vec![rule], Vec::new())
        } else {
            (conditions.when, conditions.or)
        };
        let action = declared.action.clone().unwrap_or_default();
        let bounds = |n: usize| {
            let min = declared
                .min
                .and_then(|m| usize::try_from(m).ok())
                .unwrap_or(1);
            let max = declared
                .max
                .and_then(|m| usize::try_from(m).ok())
                .unwrap_or(MAX_WORKERS);
            n.clamp(min.max(1), max.clamp(1, MAX_WORKERS))
        };
        let workers = match &action.workers {
            Some(w) => usize::try_from(w.value).ok().map(bounds),
            None if profile.is_some() => Some(bounds(baseline_workers * factor)),
            None => None,
        };
        Some(Self {
            interval: duration(declared.interval.as_ref()).unwrap_or(Duration::from_secs(15)),
            cooldown: duration(declared.cooldown.as_ref()).unwrap_or(cooldown),
            when,
            or,
            workers,
            queue_depth: action.queue_depth.and_then(|d| usize::try_from(d).ok()),
            resync: duration(action.resync.as_ref()),
        })
    }
}

impl Plan {
    /// The CRDs whose numbers the conditions read (`cross.<crd>.…` fields), each once.
    fn cross_crds(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for c in self.when.iter().chain(&self.or) {
            let field = c.field.as_ref().map_or("", |f| f.as_str()).trim();
            if let Some(name) = field
                .strip_prefix("cross.")
                .and_then(|r| r.split('.').next())
                && !name.is_empty()
                && !names.iter().any(|n| n == name)
            {
                names.push(name.to_owned());
            }
        }
        names
    }
}

/// Whether a box is scaled now, and how many workers it means to have. Cloning gives another
/// handle to the same state.
#[derive(Clone, Debug)]
pub struct Scale {
    active: Arc<AtomicBool>,
    workers: Arc<AtomicUsize>,
}

impl Scale {
    /// At the baseline, with `workers` workers.
    pub fn new(workers: usize) -> Self {
        Self {
            active: Arc::default(),
            workers: Arc::new(AtomicUsize::new(workers)),
        }
    }

    /// True while the autoscaler holds the box above its baseline.
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// The workers the box means to have now.
    pub fn workers(&self) -> usize {
        self.workers.load(Ordering::Relaxed)
    }

    fn set(&self, active: bool, workers: usize) {
        self.active.store(active, Ordering::Relaxed);
        self.workers.store(workers, Ordering::Relaxed);
    }

    /// Back at the baseline of `workers` workers.
    pub(super) fn reset(&self, workers: usize) {
        self.set(false, workers);
    }
}

/// The live numbers of one box: what `.metrics` shows templates and autoscale conditions
/// read. All handles; cloning is cheap.
#[derive(Clone)]
pub struct Stats {
    pub(super) intake: Intake,
    pub(super) active: ActiveWorkers,
    pub(super) health: Health,
    pub(super) scale: Scale,
    pub(super) store: Store<DynamicObject>,
}

impl Stats {
    /// True while the autoscaler holds the box above its baseline.
    pub fn scale_active(&self) -> bool {
        self.scale.is_active()
    }

    /// The workers the box means to have now.
    pub fn workers(&self) -> usize {
        self.scale.workers()
    }

    /// `queueDepth`, `workers`, `activeWorkers`, `resourceCount`, `reconcileCount`,
    /// `errorCount`, `errorRate`, `successRate`, `consecutiveFailures`, `latency` and
    /// `latencyP99` (milliseconds, over recent reconciles) and `autoscaleActive`.
    pub fn snapshot(&self) -> Value {
        let counts = self.health.counts();
        let (latency, p99) = self.health.latency_ms();
        json!({
            "queueDepth": self.intake.len(),
            "workers": self.scale.workers(),
            "activeWorkers": self.active.get(),
            "resourceCount": self.store.len(),
            "reconcileCount": counts.total,
            "errorCount": counts.failed,
            "errorRate": counts.error_rate(),
            "successRate": 1.0 - counts.error_rate(),
            "consecutiveFailures": counts.consecutive_fails,
            "latency": latency,
            "latencyP99": p99,
            "autoscaleActive": self.scale.is_active(),
        })
    }
}

impl Stats {
    /// The box's health as `/katalog/{name}/health` reports it (queue depth and resource count
    /// filled in; leadership and dependency health left out): what templates read as
    /// `.health` (spec §10.4).
    pub fn health_view(&self, name: &str) -> Value {
        let mut snapshot = self.health.snapshot(name);
        snapshot.queue_depth = self.intake.len();
        snapshot.resource_count = self.store.len();
        let mut view = serde_json::to_value(snapshot).unwrap_or(Value::Null);
        if let Some(v) = view.as_object_mut() {
            v.remove("isKonductor");
            v.remove("hasUnhealthyDependencies");
        }
        view
    }
}

/// A box's [`Stats`] as the cross reads of other boxes see them.
pub(super) struct Vitals {
    /// The box's CRD.
    pub(super) name: String,
    pub(super) stats: Stats,
}

impl crate::observe::Vitals for Vitals {
    fn health(&self) -> Value {
        self.stats.health_view(&self.name)
    }

    fn metrics(&self) -> Value {
        self.stats.snapshot()
    }
}

/// What the autoscaler of one box acts on.
pub(super) struct Autoscaler {
    pub(super) name: String,
    pub(super) plan: Plan,
    pub(super) stats: Stats,
    pub(super) workers: Arc<Mutex<Option<Workers<Key>>>>,
    pub(super) resync: Arc<watch::Sender<Duration>>,
    pub(super) baseline: Baseline,
    pub(super) metrics: CrdMetrics,
    /// Renders templated condition fields (the box's reconcile engine).
    pub(super) render: Arc<EngineRender>,
    /// The boxes of this process, for `cross.<crd>.metrics.*` conditions.
    pub(super) sources: Option<Sources>,
}

/// The settings a box returns to.
#[derive(Clone, Copy, Debug)]
pub(super) struct Baseline {
    pub(super) workers: usize,
    pub(super) queue_depth: usize,
    pub(super) resync: Duration,
}

impl Baseline {
    /// The settings `config` declares.
    pub(super) fn of(config: &super::BoxConfig) -> Self {
        Self {
            workers: config.workers.count_of(),
            queue_depth: config.queue.depth_limit(),
            resync: config.resync,
        }
    }
}

impl Autoscaler {
    /// Evaluates the conditions every interval, until the box aborts it.
    pub(super) async fn run(self) {
        let mut tick = tokio::time::interval(self.plan.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut false_since: Option<Instant> = None;
        loop {
            tick.tick().await;
            let working = self.lock_workers().is_some();
            if !working {
                if self.stats.scale.is_active() {
                    self.apply(false, self.baseline);
                }
                false_since = None;
                continue;
            }
            let data = self.data();
            let env = Env::new(&data, &*self.render, time::OffsetDateTime::now_utc());
            let hold = match Conditions::new(&self.plan.when, &self.plan.or).evaluate(&env) {
                Ok(hold) => hold,
                Err(error) => {
                    tracing::warn!(crd = %self.name, error = %crate::error_chain(&error), "autoscale conditions cannot be evaluated");
                    continue;
                }
            };
            let active = self.stats.scale.is_active();
            if hold {
                false_since = None;
                if !active {
                    self.apply(true, self.scaled());
                }
            } else if active {
                let since = *false_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= self.plan.cooldown {
                    self.apply(false, self.baseline);
                    false_since = None;
                }
            }
        }
    }

    /// What the conditions read: this box's metrics, and those of the sibling CRDs they
    /// name under `cross.`.
    fn data(&self) -> Value {
        let mut cross = serde_json::Map::new();
        if let Some(sources) = &self.sources {
            for name in self.plan.cross_crds() {
                if let Some(vitals) = sources.get(&name).and_then(|s| s.vitals) {
                    let read = json!({"metrics": vitals.metrics(), "health": vitals.health()});
                    cross.insert(name, read);
                }
            }
        }
        json!({ "metrics": self.stats.snapshot(), "cross": cross })
    }

    fn scaled(&self) -> Baseline {
        Baseline {
            workers: self.plan.workers.unwrap_or(self.baseline.workers),
            queue_depth: self.plan.queue_depth.unwrap_or(self.baseline.queue_depth),
            resync: self.plan.resync.unwrap_or(self.baseline.resync),
        }
    }

    /// Moves the box to `to`; `active` says whether that is the scaled state.
    fn apply(&self, active: bool, to: Baseline) {
        if let Some(workers) = self.lock_workers().as_mut() {
            workers.resize(to.workers);
        }
        if let Some(queue) = self.stats.intake.current() {
            queue.set_max_depth(to.queue_depth);
        }
        self.resync.send_replace(to.resync);
        self.stats.scale.set(active, to.workers);
        self.metrics.record_autoscale(active);
        let action = if active {
            "scaled up"
        } else {
            "back to baseline"
        };
        tracing::info!(crd = %self.name, workers = to.workers, queue_depth = to.queue_depth, resync = ?to.resync, "autoscale: {action}");
    }

    fn lock_workers(&self) -> std::sync::MutexGuard<'_, Option<Workers<Key>>> {
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gotmpl::Engine;

    fn crd(autoscale: &str) -> katalog::Crd {
        let body: String = autoscale
            .lines()
            .map(|l| format!("          {l}\n"))
            .collect();
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n    app:\n      apiTypes: {{group: example.com, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        autoscale:\n{body}"
        );
        let loaded = katalog::load_text("/nonexistent/katalog.yaml", text)
            .unwrap_or_else(|d| panic!("{}", d.render()));
        loaded.katalog.crds[0].clone()
    }

    #[test]
    fn a_declared_block_is_taken_as_written() {
        let plan = Plan::of(
            &crd("interval: 1s\ncooldown: 3s\nconditions:\n  when: [{field: metrics.queueDepth, greaterThan: '80'}]\ndo: {workers: 8, queueDepth: 500, resync: 10s}\n"),
            2,
        )
        .unwrap();
        assert_eq!(plan.interval, Duration::from_secs(1));
        assert_eq!(plan.cooldown, Duration::from_secs(3));
        assert_eq!(plan.when.len(), 1);
        assert_eq!(plan.workers, Some(8));
        assert_eq!(plan.queue_depth, Some(500));
        assert_eq!(plan.resync, Some(Duration::from_secs(10)));
    }

    #[test]
    fn a_profile_fills_in_the_condition_and_the_workers_within_bounds() {
        let plan = Plan::of(&crd("profile: aggressive\nmax: 10\n"), 3).unwrap();
        assert_eq!(plan.workers, Some(10));
        assert_eq!(plan.cooldown, Duration::from_secs(60));
        let data = json!({"metrics": {"queueDepth": 51}});
        let render = EngineRender::new(Engine::new());
        let env = Env::new(&data, &render, time::OffsetDateTime::now_utc());
        assert!(
            Conditions::new(&plan.when, &plan.or)
                .evaluate(&env)
                .unwrap()
        );
    }

    #[test]
    fn without_conditions_or_profile_there_is_nothing_to_do() {
        assert!(Plan::of(&crd("interval: 5s\n"), 2).is_none());
    }
}
