//! The [`Reconciler`] as its OperatorBox runs it: the box's [`Reconcile`], with `.cross` read
//! from the other boxes' caches, `.metrics` from the box's live numbers and `.health` from its
//! health record.

use std::sync::Arc;

use katalog::build::ObjectRef;
use kube::api::DynamicObject;
use kube::runtime::reflector::Store;

use super::{Action, Error, Reconciler, Surroundings};
use crate::observe::Cross;
use crate::operator_box::Reconcile;
use crate::operator_box::autoscale::Stats;
use crate::operator_box::children::ChildCache;

/// The Katalog-driven reconcile, with `.cross` read from the other boxes' caches.
impl Reconcile for Reconciler {
    type Error = Error;

    async fn reconcile(
        &self,
        cr: Arc<DynamicObject>,
        stats: &Stats,
    ) -> Result<Action, Self::Error> {
        let surroundings = Surroundings {
            metrics: stats.snapshot(),
            health: stats.health_view(&self.crd.name),
            ..self.surroundings(&cr)
        };
        Reconciler::reconcile(self, cr, &surroundings).await
    }

    fn render(&self) -> Option<Arc<katalog::build::EngineRender>> {
        Some(Reconciler::render(self).clone())
    }

    fn calls(&self) -> Option<Arc<crate::outbound::Calls>> {
        Reconciler::calls(self).cloned()
    }

    fn cross(&self) -> Option<Arc<Cross>> {
        Reconciler::cross(self).cloned()
    }

    fn child_kinds(&self) -> Vec<(String, String)> {
        Reconciler::child_kinds(self)
    }

    fn use_child_cache(&self, cache: Arc<dyn ChildCache>) {
        Reconciler::use_child_cache(self, cache);
    }

    fn use_primary_store(&self, store: Store<DynamicObject>) {
        Reconciler::use_primary_store(self, store);
    }

    fn retry(error: &Self::Error) -> bool {
        error.retry()
    }

    fn forget(&self, uid: &str) -> Vec<ObjectRef> {
        Reconciler::forget(self, uid)
    }

    fn again_after_status(&self, uid: &str) -> bool {
        Reconciler::again_after_status(self, uid)
    }
}
