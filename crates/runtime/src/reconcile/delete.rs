//! The delete path (spec §9.6), run when a CR carrying ork's finalizers has a
//! `deletionTimestamp`.
//!
//! It is level-triggered like the rest: each reconcile looks at the cluster, takes the next
//! step and asks to be requeued while something is pending, so no worker blocks for minutes
//! and a restart resumes where the cluster is.
//! 1. Event `Deleting` (once per CR and process).
//! 2. `onDelete`: every group in order; a group deletes its declared objects (owned ones only;
//!    foreground propagation when `ordered`) and creates its Jobs without ownerReferences.
//!    An ordered group is done when its objects are gone (404) and its Jobs are Complete or
//!    Failed (a Job that cannot be created because its namespace is terminating is skipped:
//!    it never could be, and waiting for it would hold the namespace's deletion); the next group starts only then. Unordered, only Jobs are awaited. Pending work
//!    requeues after 3 s. The timeout (default 5 m) runs from the CR's `deletionTimestamp`;
//!    when it passes, a Warning Event and `Ready=False` say what is pending and the finalizer
//!    stays (the CR remains Terminating until someone intervenes or the CR changes).
//! 3. Children without an ownerReference (cluster-scoped, or in other namespaces) that point
//!    at the CR's uid are deleted; namespaced children with ownerReferences are left to the
//!    garbage collector.
//! 4. ork's finalizers are removed, last, by a merge patch guarded by `resourceVersion`.

use std::sync::Arc;
use std::time::Duration;

use katalog::build::{Child, DeletePlan, Owner};
use kube::api::{DynamicObject, PostParams};
use serde_json::Value;

use super::{Action, Error, Reconciler, Surroundings, owned};
use crate::events::EventType;
use crate::finalizer;

/// How often pending `onDelete` work is looked at again.
pub const POLL: Duration = Duration::from_secs(3);

impl Reconciler {
    /// Runs the delete path for a CR with a `deletionTimestamp`.
    pub(super) async fn finalize(
        &self,
        cr: &Arc<DynamicObject>,
        surroundings: &Surroundings,
    ) -> Result<Action, Error> {
        let carries_ours = cr
            .metadata
            .finalizers
            .as_ref()
            .is_some_and(|f| f.iter().any(|f| self.finalizers.contains(f)));
        if !carries_ours {
            return Ok(Action::Done);
        }
        let uid = cr.metadata.uid.clone().unwrap_or_default();
        let first = self
            .announced
            .lock()
            .map(|mut a| a.insert(uid.clone()))
            .unwrap_or(true);
        if first {
            self.event(
                cr,
                EventType::Normal,
                "Deleting",
                "running onDelete and cleanup",
            )
            .await;
        }
        let mut cr_json = self.cr_json(cr);
        self.emit_named(cr, super::emit::Point::Delete, &cr_json);
        if let Err(e) = self
            .call_external(&[katalog::model::external::Place::OnDelete], &mut cr_json)
            .await
        {
            return Err(self.fail(cr, e).await);
        }
        if let Some(on_delete) = &self.crd.operator_box().on_delete {
            let keys = match self.template_keys(&cr_json, surroundings) {
                Ok(keys) => keys,
                Err(e) => return Err(self.fail(cr, e).await),
            };
            // The builder is not Send: it must be gone before the next await.
            let built = self.builder().build_delete(&cr_json, on_delete, &keys);
            let plan = match built {
                Ok(p) => p,
                Err(e) => return Err(self.fail(cr, Error::RenderFailed(e)).await),
            };
            let pending = match self.run_on_delete(cr, &plan).await {
                Ok(p) => p,
                Err(e) => return Err(self.fail(cr, e).await),
            };
            if !pending.is_empty() {
                let pending = pending.join(", ");
                if self.deleting_for(cr) > plan.timeout {
                    let e = Error::DeletionTimedOut {
                        timeout: plan.timeout,
                        pending,
                    };
                    return Err(self.fail(cr, e).await);
                }
                tracing::debug!(pending, "onDelete still running");
                return Ok(Action::RequeueAfter(POLL));
            }
        }
        if let Err(e) = self.clean_up_tracked(&cr_json, &uid).await {
            return Err(self.fail(cr, e).await);
        }
        let api = self.api(cr.metadata.namespace.as_deref());
        let ours = self.finalizers.clone();
        if let Err(e) = finalizer::update(&api, cr, &self.config.field_manager, |c| {
            finalizer::release_patch(c, &ours)
        })
        .await
        {
            return Err(self.fail(cr, Error::MetadataFailed(e)).await);
        }
        // The children written for it stay remembered until the box reports the CR gone:
        // its cleanup deletes those the cache has not seen yet too.
        self.forget_said(&uid);
        Ok(Action::Done)
    }

    /// How long the CR has been deleting, by its `deletionTimestamp`.
    fn deleting_for(&self, cr: &DynamicObject) -> Duration {
        let Some(since) = &cr.metadata.deletion_timestamp else {
            return Duration::ZERO;
        };
        let now = self.now().unix_timestamp();
        Duration::from_secs(now.saturating_sub(since.0.as_second()).max(0) as u64)
    }

    /// Takes the next steps of `onDelete`; returns what is still pending (empty: done).
    async fn run_on_delete(
        &self,
        cr: &DynamicObject,
        plan: &DeletePlan,
    ) -> Result<Vec<String>, Error> {
        let uid = cr.metadata.uid.clone().unwrap_or_default();
        let mut pending = Vec::new();
        for group in &plan.groups {
            for r in &group.deletes {
                let kind = self.resolve(&r.api_version, &r.kind).await?;
                let api = owned::api(&self.client, &kind, r.namespace.as_deref());
                let live = api.get_opt(&r.name).await.map_err(|source| {
                    Error::OwnedFailed(owned::Error::DeleteFailed {
                        object: r.to_string(),
                        source,
                    })
                })?;
                let Some(live) = live.filter(|o| owned::is_owned(o, &uid)) else {
                    continue;
                };
                if live.metadata.deletion_timestamp.is_none() {
                    owned::delete(&self.client, &kind, &live, plan.ordered)
                        .await
                        .map_err(Error::OwnedFailed)?;
                }
                if plan.ordered {
                    pending.push(r.to_string());
                }
            }
            for job in &group.jobs {
                if !self.job_finished(job).await? {
                    pending.push(job.object_ref().to_string());
                }
            }
            if plan.ordered && !pending.is_empty() {
                break;
            }
        }
        Ok(pending)
    }

    /// Creates an `onDelete` Job (no ownerReference: it must outlive the CR) when absent and
    /// tells whether it is Complete or Failed.
    async fn job_finished(&self, job: &Child) -> Result<bool, Error> {
        let r = job.object_ref();
        let kind = self.resolve(&r.api_version, &r.kind).await?;
        let api = owned::api(&self.client, &kind, r.namespace.as_deref());
        let failed = |source| {
            Error::ApplyFailed(Box::new(super::apply::Error::CreateFailed {
                path: job.path.clone(),
                object: r.clone(),
                source,
            }))
        };
        let live = match api.get_opt(&r.name).await.map_err(failed)? {
            Some(live) => live,
            None => {
                let obj: DynamicObject =
                    serde_json::from_value(job.object.clone()).map_err(|source| {
                        Error::ApplyFailed(Box::new(super::apply::Error::InvalidObject {
                            path: job.path.clone(),
                            object: r.clone(),
                            source,
                        }))
                    })?;
                let params = PostParams {
                    field_manager: Some(self.config.field_manager.clone()),
                    ..PostParams::default()
                };
                match api.create(&params, &obj).await {
                    Ok(created) => created,
                    Err(kube::Error::Api(e)) if e.code == 409 => return Ok(false),
                    // It never could be: holding the finalizer would hold the namespace.
                    Err(e) if crate::refusal::is_namespace_terminating(&e) => {
                        tracing::info!(job = %r, "the namespace is terminating; the onDelete Job cannot be created and is skipped");
                        return Ok(true);
                    }
                    Err(e) => return Err(failed(e)),
                }
            }
        };
        Ok(is_job_finished(&live.data))
    }

    /// Deletes the children that have no ownerReference to the CR but point at its uid.
    async fn clean_up_tracked(&self, cr_json: &Value, uid: &str) -> Result<(), Error> {
        let owner = Owner::of(cr_json);
        for (v, k) in self.child_kinds() {
            let kind = self.resolve(&v, &k).await?;
            let objects = owned::list(&self.client, None, &kind, None, &owner.label, uid)
                .await
                .map_err(Error::OwnedFailed)?;
            for object in objects {
                let has_reference = object
                    .metadata
                    .owner_references
                    .as_ref()
                    .is_some_and(|refs| refs.iter().any(|r| r.uid == uid));
                if has_reference || object.metadata.deletion_timestamp.is_some() {
                    continue;
                }
                owned::delete(&self.client, &kind, &object, false)
                    .await
                    .map_err(Error::OwnedFailed)?;
                tracing::info!(object = %owned::describe(&kind, &object), "deleted a tracked child");
            }
        }
        Ok(())
    }
}

/// Whether a Job's status has a `Complete` or `Failed` condition that is `True`.
pub fn is_job_finished(job: &Value) -> bool {
    job.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                matches!(c["type"].as_str(), Some("Complete" | "Failed")) && c["status"] == "True"
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_job_is_finished_when_complete_or_failed_is_true() {
        let job = |t: &str, s: &str| json!({"status": {"conditions": [{"type": t, "status": s}]}});
        assert!(is_job_finished(&job("Complete", "True")));
        assert!(is_job_finished(&job("Failed", "True")));
        assert!(!is_job_finished(&job("Complete", "False")));
        assert!(!is_job_finished(&job("Suspended", "True")));
        assert!(!is_job_finished(&json!({})));
    }
}
