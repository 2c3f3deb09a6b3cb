//! `removeFinalizers: true` (CRD entry or `operatorBox.runtime`; Orkestra documents it as a
//! testing aid): ork puts none of its finalizers on the CRD's CRs and takes them off CRs that
//! still carry them (from a run without the flag), so deleting a CR never waits for ork.
//!
//! Consequently a deleted CR gets no delete path: `onDelete` does not run (`ork validate`
//! warns when both are declared), and children without an ownerReference (cluster-scoped,
//! or in other namespaces) are left behind; namespaced children with an ownerReference go
//! with the CR through the garbage collector.

use kube::api::DynamicObject;

use super::Reconciler;
use crate::finalizer;

impl Reconciler {
    /// Whether this CRD's CRs carry no finalizers of ork's.
    pub(super) fn strips_finalizers(&self) -> bool {
        self.crd.entry.remove_finalizers == Some(true)
    }

    /// Removes ork's finalizers from `cr`; returns the updated CR, `None` when it carried
    /// none of them.
    ///
    /// # Errors
    /// The metadata patch failed.
    pub(super) async fn strip_finalizers(
        &self,
        cr: &DynamicObject,
    ) -> finalizer::Result<Option<DynamicObject>> {
        let api = self.api(cr.metadata.namespace.as_deref());
        let ours = &self.finalizers;
        let updated = finalizer::update(&api, cr, &self.config.field_manager, |c| {
            finalizer::release_patch(c, ours)
        })
        .await?;
        if updated.is_some() {
            tracing::info!("removeFinalizers: ork's finalizers taken off the CR");
        }
        Ok(updated)
    }
}
