//! Runs one [`OperatorBox`] per enabled CRD of a Katalog: every box watches from the start
//! (on followers too, so their caches are warm), and the [kordinator](crate::kordinator)
//! activates each box's work when its replica leads and its `dependsOn` conditions hold; boxes
//! stop in reverse order.
//!
//! The order is topological (Kahn's algorithm) with an alphabetical tie-break, as Orkestra's
//! kordinator computes it (spec §13.3); CRDs caught in a cycle (which validation rejects) come
//! last, alphabetically. Boxes share nothing mutable, so a box whose watch fails (its CRD
//! missing, the API server away) retries on its own while the others run, and is activated
//! once its CRD appears.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::kordinator::{Dependency, Kordinator, Leading};
use crate::metrics::Metrics;
use crate::operator_box::{self, BoxConfig, OperatorBox, Reconcile};

/// Errors of starting and stopping boxes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The reconcile of a CRD could not be built.
    #[error("preparing the reconcile of CRD {crd}: {message}")]
    ReconcileNotBuilt {
        /// The CRD's name in the Katalog.
        crd: String,
        /// Why.
        message: String,
    },
    /// A box did not stop cleanly.
    #[error("stopping OperatorBox {crd}")]
    StopFailed {
        /// The CRD's name in the Katalog.
        crd: String,
        /// Why.
        #[source]
        source: operator_box::Error,
    },
}

/// The boxes of one Katalog and the kordinator that activates them.
#[derive(Debug)]
pub struct Supervisor {
    /// In start order.
    boxes: Arc<[OperatorBox]>,
    stop: watch::Sender<bool>,
    kordinator: Option<JoinHandle<()>>,
}

impl Supervisor {
    /// Starts one box per enabled CRD of `katalog`, in [`start_order`], each with the
    /// reconcile `reconcile_for` builds for it, its own series in `metrics`, and
    /// `stop_timeout` for its running reconciles to finish on stop. Every box watches at
    /// once; its work starts while `leading` is true and its dependencies are satisfied
    /// (see [`crate::kordinator`]). The boxes take child changes made under
    /// [`DEFAULT_FIELD_MANAGER`](crate::reconcile::DEFAULT_FIELD_MANAGER) as the reconcile's
    /// own (see [`BoxConfig::field_manager`]). They share one cross-read registry
    /// ([`BoxConfig::sources`]), so `cross:` declarations read the other boxes' caches and a
    /// change there queues their readers, and one child watch per kind
    /// ([`BoxConfig::child_watches`]).
    ///
    /// # Errors
    ///
    /// [`Error::ReconcileNotBuilt`] when `reconcile_for` fails for a CRD; the boxes already
    /// started are stopped first.
    pub async fn start<R, E>(
        client: &Client,
        katalog: &katalog::Katalog,
        metrics: &Metrics,
        stop_timeout: std::time::Duration,
        leading: Leading,
        mut reconcile_for: impl FnMut(&katalog::Crd) -> Result<Arc<R>, E>,
    ) -> Result<Self, Error>
    where
        R: Reconcile,
        E: Display,
    {
        let order = start_order(katalog);
        let mut boxes = Vec::with_capacity(order.len());
        // The boxes' caches, which `cross:` declarations read.
        let sources = crate::observe::Sources::default();
        // One watch per child kind for all the boxes.
        let child_watches = crate::operator_box::child_watches::ChildWatches::default();
        for crd in &order {
            let reconcile = match reconcile_for(crd) {
                Ok(reconcile) => reconcile,
                Err(error) => {
                    for operator_box in boxes.iter().rev() {
                        let _ = OperatorBox::stop(operator_box).await;
                    }
                    return Err(Error::ReconcileNotBuilt {
                        crd: crd.name.clone(),
                        message: error.to_string(),
                    });
                }
            };
            tracing::info!(crd = %crd.name, kind = %crd.gvk(), "starting OperatorBox");
            boxes.push(OperatorBox::watch(
                client.clone(),
                BoxConfig::from_crd(crd)
                    .stop_timeout(stop_timeout)
                    .field_manager(crate::reconcile::DEFAULT_FIELD_MANAGER)
                    .sources(sources.clone())
                    .child_watches(child_watches.clone()),
                reconcile,
                metrics.crd(&crd.name),
            ));
        }
        let dependencies = dependencies(&order);
        Ok(Self::kordinate(boxes, dependencies, leading))
    }

    /// Starts one box per enabled CRD of `katalog` driven by the Katalog's own
    /// [`Reconciler`](crate::Reconciler)s (default configuration: field manager `orkestra`,
    /// a discovery cache per box, one child watch per kind): what `ork run` does once
    /// the cluster is prepared.
    ///
    /// # Errors
    ///
    /// [`Error::ReconcileNotBuilt`] when a CRD's templates cannot be prepared.
    pub async fn start_katalog(
        client: &Client,
        katalog: &katalog::Katalog,
        metrics: &Metrics,
        stop_timeout: std::time::Duration,
        leading: Leading,
    ) -> Result<Self, Error> {
        Self::start_notifying(client, katalog, metrics, stop_timeout, leading, None).await
    }

    /// [`Supervisor::start_katalog`], with condition transitions sent through `notifier`
    /// (what `ork run` does when the Katalog declares notification teams).
    ///
    /// # Errors
    ///
    /// As [`Supervisor::start_katalog`].
    pub async fn start_notifying(
        client: &Client,
        katalog: &katalog::Katalog,
        metrics: &Metrics,
        stop_timeout: std::time::Duration,
        leading: Leading,
        notifier: Option<crate::outbound::notify::Notifier>,
    ) -> Result<Self, Error> {
        Self::start(client, katalog, metrics, stop_timeout, leading, |crd| {
            let mut config = crate::ReconcilerConfig::default().metrics(metrics.crd(&crd.name));
            if let Some(n) = &notifier {
                config = config.notifier(n.clone());
            }
            crate::Reconciler::new(katalog, crd, client.clone(), config).map(Arc::new)
        })
        .await
    }

    /// Supervises boxes already built (tests, or callers with their own configuration):
    /// without dependencies, always leading, so each box is activated once its cache is
    /// synced.
    pub fn from_boxes(boxes: Vec<OperatorBox>) -> Self {
        let dependencies = vec![Vec::new(); boxes.len()];
        Self::kordinate(boxes, dependencies, crate::kordinator::always_leading())
    }

    fn kordinate(
        boxes: Vec<OperatorBox>,
        dependencies: Vec<Vec<Dependency>>,
        leading: Leading,
    ) -> Self {
        let boxes: Arc<[OperatorBox]> = boxes.into();
        let (stop, stopped) = watch::channel(false);
        let kordinator = Kordinator::new(Arc::clone(&boxes), dependencies);
        let kordinator = tokio::spawn(kordinator.run(leading, stopped));
        Self {
            boxes,
            stop,
            kordinator: Some(kordinator),
        }
    }

    /// The boxes, in start order.
    pub fn boxes(&self) -> &[OperatorBox] {
        &self.boxes
    }

    /// The box of CRD `name`.
    pub fn operator_box(&self, name: &str) -> Option<&OperatorBox> {
        self.boxes.iter().find(|b| b.name() == name)
    }

    /// Runs until `shutdown` completes, then [`Supervisor::stop`]s.
    ///
    /// # Errors
    ///
    /// As [`Supervisor::stop`].
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), Vec<Error>> {
        shutdown.await;
        tracing::info!("stopping: no new work is taken in; running reconciles finish");
        self.stop().await
    }

    /// Stops activating boxes, then stops every box in reverse start order, each letting its
    /// running reconciles finish within its workers' stop timeout.
    ///
    /// # Errors
    ///
    /// Every box that did not stop cleanly (the others still stopped).
    pub async fn stop(mut self) -> Result<(), Vec<Error>> {
        self.stop.send_replace(true);
        if let Some(kordinator) = self.kordinator.take() {
            let _ = kordinator.await;
        }
        let mut errors = Vec::new();
        for operator_box in self.boxes.iter().rev() {
            let crd = operator_box.name().to_owned();
            match operator_box.stop().await {
                Ok(()) => tracing::info!(%crd, "OperatorBox stopped"),
                Err(source) => errors.push(Error::StopFailed { crd, source }),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        if let Some(kordinator) = &self.kordinator {
            kordinator.abort();
        }
    }
}

/// The `dependsOn` entries of each CRD of `order`, as indexes into `order` (dependencies on
/// CRDs that do not run are left out: validation reports them).
fn dependencies(order: &[&katalog::Crd]) -> Vec<Vec<Dependency>> {
    let index: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, crd)| (crd.name.as_str(), i))
        .collect();
    order
        .iter()
        .map(|crd| {
            crd.depends_on()
                .iter()
                .filter_map(|d| {
                    let on = *index.get(d.name.value.as_str())?;
                    (on != index[crd.name.as_str()]).then_some(Dependency {
                        on,
                        condition: d.condition,
                    })
                })
                .collect()
        })
        .collect()
}

/// Waits for SIGTERM or SIGINT.
///
/// # Errors
///
/// When the signal handlers cannot be installed.
pub async fn shutdown_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = interrupt.recv() => tracing::info!("SIGINT received"),
    }
    Ok(())
}

/// The enabled CRDs of `katalog` in start order: every CRD after the enabled CRDs it depends
/// on, alphabetical among those ready at the same time; CRDs in a cycle last, alphabetically.
pub fn start_order(katalog: &katalog::Katalog) -> Vec<&katalog::Crd> {
    let enabled: BTreeMap<&str, &katalog::Crd> = katalog
        .enabled_crds()
        .map(|crd| (crd.name.as_str(), crd))
        .collect();
    let mut waiting_on: BTreeMap<&str, BTreeSet<&str>> = enabled
        .iter()
        .map(|(name, crd)| {
            let deps = crd
                .depends_on()
                .iter()
                .map(|d| d.name.value.as_str())
                .filter(|d| enabled.contains_key(d) && d != name)
                .collect();
            (*name, deps)
        })
        .collect();
    let mut order = Vec::with_capacity(enabled.len());
    let mut ready: BTreeSet<&str> = waiting_on
        .iter()
        .filter(|(_, deps)| deps.is_empty())
        .map(|(name, _)| *name)
        .collect();
    while let Some(name) = ready.pop_first() {
        waiting_on.remove(name);
        order.push(enabled[name]);
        for (other, deps) in &mut waiting_on {
            if deps.remove(name) && deps.is_empty() {
                ready.insert(other);
            }
        }
    }
    order.extend(waiting_on.keys().map(|name| enabled[name]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn katalog(text: &str) -> katalog::Katalog {
        let loaded = katalog::load_text("/nonexistent/katalog.yaml", text)
            .unwrap_or_else(|d| panic!("{}", d.render()));
        loaded.katalog
    }

    fn crd(name: &str, depends: &[&str], enabled: bool) -> String {
        let deps = if depends.is_empty() {
            String::new()
        } else {
            format!("      dependsOn: [{}]\n", depends.join(", "))
        };
        format!(
            "    {name}:\n      enabled: {enabled}\n{deps}      apiTypes: {{group: example.com, version: v1, kind: K{name}, plural: k{name}s}}\n"
        )
    }

    fn names(katalog: &katalog::Katalog) -> Vec<&str> {
        start_order(katalog)
            .into_iter()
            .map(|c| c.name.as_str())
            .collect()
    }

    #[test]
    fn dependencies_start_first_and_ties_break_alphabetically() {
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n{}{}{}{}",
            crd("zeta", &[], true),
            crd("app", &["db", "zeta"], true),
            crd("db", &[], true),
            crd("cache", &["db"], true),
        );
        assert_eq!(names(&katalog(&text)), ["db", "cache", "zeta", "app"]);
    }

    #[test]
    fn disabled_crds_do_not_start() {
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n{}{}",
            crd("web", &[], true),
            crd("off", &[], false),
        );
        assert_eq!(names(&katalog(&text)), ["web"]);
    }
}
