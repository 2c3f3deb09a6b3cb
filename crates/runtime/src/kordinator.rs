//! The kordinator decides, again and again, which boxes may work: those of a replica that
//! leads, whose cache holds its first list (so its CRD exists), and whose `dependsOn`
//! conditions hold (spec §13.3).
//!
//! It never blocks on one box: each pass walks the boxes in start order and activates every
//! box that may work; a box that may not yet is looked at again on the next pass (every
//! [`PASS_PERIOD`] until all boxes work, then only when leadership changes). A dependency
//! counts as
//!
//! - `started` once its box is active;
//! - `healthy` once its box is active and either reconciled successfully (with no failure
//!   after) or has nothing to reconcile. This is latched, as Orkestra's `healthyCh` is closed
//!   once: a dependent that started keeps working when its dependency degrades later.
//!
//! When this replica stops leading, every box is deactivated at once, in reverse order, with
//! running reconciles aborted (no split brain); the latches reset.
//!
//! Each activation is counted in `controller_crd_activation_total{result="success"}` and its
//! latency — from the start of the leadership term to the box's activation, so waiting for
//! the cache, a missing CRD or dependencies all count — in
//! `controller_crd_activation_latency_seconds`. A box whose watch fails while it waits to be
//! activated counts one `result="error"` per term.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use katalog::model::DependCondition;
use tokio::sync::watch;

use crate::operator_box::OperatorBox;

/// How often a pass runs while some box waits.
pub const PASS_PERIOD: Duration = Duration::from_millis(250);

/// Whether this replica leads now; `true` forever for a single replica.
pub type Leading = watch::Receiver<bool>;

/// A [`Leading`] that is always true (no leader election).
pub fn always_leading() -> Leading {
    watch::channel(true).1
}

/// One `dependsOn` entry, resolved to the index of the box depended upon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dependency {
    /// Index of the dependency's box in start order.
    pub on: usize,
    /// When it counts as satisfied.
    pub condition: DependCondition,
}

/// The activation state of a set of boxes.
pub(crate) struct Kordinator {
    boxes: Arc<[OperatorBox]>,
    /// Per box, in start order.
    dependencies: Vec<Vec<Dependency>>,
    /// Per box: counted healthy once since it was activated.
    healthy_once: Vec<bool>,
    /// Per box: a failed activation was counted in this term.
    failure_counted: Vec<bool>,
    /// When the current leadership term began.
    term_started: Option<Instant>,
}

impl Kordinator {
    pub(crate) fn new(boxes: Arc<[OperatorBox]>, dependencies: Vec<Vec<Dependency>>) -> Self {
        let healthy_once = vec![false; boxes.len()];
        Self {
            failure_counted: healthy_once.clone(),
            boxes,
            dependencies,
            healthy_once,
            term_started: None,
        }
    }

    /// Runs passes while `leading` and deactivates everything when it turns false, until
    /// `stop` turns true.
    pub(crate) async fn run(mut self, mut leading: Leading, mut stop: watch::Receiver<bool>) {
        let mut leading_open = true;
        loop {
            let lead = *leading.borrow_and_update();
            let settled = if lead {
                self.pass()
            } else {
                self.demote().await;
                true
            };
            tokio::select! {
                biased;
                changed = stop.wait_for(|stop| *stop) => {
                    let _ = changed;
                    break;
                }
                changed = leading.changed(), if leading_open => {
                    leading_open = changed.is_ok();
                }
                () = tokio::time::sleep(PASS_PERIOD), if !settled => {}
            }
        }
    }

    /// Activates every box that may work now; true when all boxes work.
    pub(crate) fn pass(&mut self) -> bool {
        let term_started = *self.term_started.get_or_insert_with(Instant::now);
        for (index, operator_box) in self.boxes.iter().enumerate() {
            if !self.healthy_once[index] && counts_healthy(operator_box) {
                self.healthy_once[index] = true;
            }
        }
        let mut all_active = true;
        for (index, operator_box) in self.boxes.iter().enumerate() {
            if operator_box.is_active() {
                continue;
            }
            let waiting: Vec<String> = self.dependencies[index]
                .iter()
                .filter(|d| !self.satisfied(d))
                .map(|d| {
                    let condition = match d.condition {
                        DependCondition::Started => "started",
                        DependCondition::Healthy => "healthy",
                    };
                    format!("{} ({condition})", self.boxes[d.on].name())
                })
                .collect();
            let health = operator_box.health();
            if health.waiting_on() != waiting {
                if !waiting.is_empty() {
                    tracing::info!(crd = %operator_box.name(), waiting_on = ?waiting, "OperatorBox waits for its dependencies");
                }
                health.set_waiting_on(waiting.clone());
            }
            if waiting.is_empty() && operator_box.is_synced() {
                operator_box.activate();
                operator_box
                    .metrics()
                    .record_activation(term_started.elapsed(), true);
                if counts_healthy(operator_box) {
                    self.healthy_once[index] = true;
                }
            } else {
                if !self.failure_counted[index] && health.watch_error().is_some() {
                    self.failure_counted[index] = true;
                    operator_box
                        .metrics()
                        .record_activation(term_started.elapsed(), false);
                }
                all_active = false;
            }
        }
        all_active
    }

    fn satisfied(&self, dependency: &Dependency) -> bool {
        match dependency.condition {
            DependCondition::Started => self.boxes[dependency.on].is_active(),
            DependCondition::Healthy => self.healthy_once[dependency.on],
        }
    }

    /// Deactivates every box at once, in reverse order, aborting running reconciles.
    async fn demote(&mut self) {
        self.term_started = None;
        self.failure_counted.fill(false);
        if !self.boxes.iter().any(OperatorBox::is_active) {
            return;
        }
        tracing::warn!("not leading: stopping the work of every OperatorBox now");
        for operator_box in self.boxes.iter().rev() {
            if let Err(error) = operator_box.deactivate(Duration::ZERO).await {
                tracing::warn!(error = %crate::error_chain(&error), "reconciles aborted");
            }
        }
        self.healthy_once.fill(false);
    }
}

/// A box that is active and either succeeded since it started or has nothing to reconcile.
fn counts_healthy(operator_box: &OperatorBox) -> bool {
    operator_box.is_active()
        && operator_box.is_synced()
        && (operator_box.health().succeeded_since_start() || operator_box.store().is_empty())
}
