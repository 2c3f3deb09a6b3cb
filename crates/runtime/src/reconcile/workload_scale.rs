//! Workload autoscale at apply time (spec §6.3): a Deployment whose declaration has
//! `autoscale:` is applied with the replica count [`ScalePlan::decide`] settles from the live
//! count, not the declared one, so a converging reconcile never undoes a scale change.
//!
//! The time of the last change is kept in the workload's
//! [`LAST_SCALE_ANNOTATION`](katalog::build::LAST_SCALE_ANNOTATION) (written with the same
//! apply), so the cooldown holds across restarts and replicas. A create-only Deployment
//! (neither `reconcile: true` nor `onReconcile`) is not re-applied, so a change is written to
//! it by [`patch`]: only its replica count and that annotation.

use katalog::build::{Child, LAST_SCALE_ANNOTATION, ObjectRef, ScalePlan};
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Settles `object` (the Deployment about to be applied) by `child`'s scale plan from the
/// `live` object's replica count and last-change annotation ([`ScalePlan::settle`]); does
/// nothing without a plan. Returns the change, `(from, to)`, when the count moves.
pub fn settle(
    child: &Child,
    object: &mut Value,
    live: Option<&DynamicObject>,
    now: OffsetDateTime,
) -> Option<(i64, i64)> {
    let plan: &ScalePlan = child.scale.as_ref()?;
    let live_replicas = live.and_then(|o| o.data.pointer("/spec/replicas")?.as_i64());
    let last = live
        .and_then(|o| o.metadata.annotations.as_ref()?.get(LAST_SCALE_ANNOTATION))
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
    plan.settle(object, live_replicas, last, now)
}

/// Writes the replica count and last-change annotation of `object` (as [`settle`] left them)
/// to the live workload `r` with a merge patch.
///
/// # Errors
/// The patch request failed.
pub async fn patch(
    client: &kube::Client,
    kind: &crate::discovery::Resolved,
    r: &ObjectRef,
    object: &Value,
    manager: &str,
) -> Result<(), kube::Error> {
    let api = super::owned::api(client, kind, r.namespace.as_deref());
    let body = json!({
        "metadata": {"annotations": {
            LAST_SCALE_ANNOTATION: object.pointer(&format!(
                "/metadata/annotations/{}",
                LAST_SCALE_ANNOTATION.replace('/', "~1")
            )),
        }},
        "spec": {"replicas": object.pointer("/spec/replicas")},
    });
    let params = PatchParams {
        field_manager: Some(manager.to_owned()),
        ..PatchParams::default()
    };
    api.patch(&r.name, &params, &Patch::Merge(&body)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use katalog::build::{Apply, Phase, ScaleMove};
    use katalog::resources::Kind;
    use std::time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-05 10:00 UTC);

    fn child(step: Option<ScaleMove>) -> Child {
        Child {
            phase: Phase::OnCreate,
            path: "deployments[0]".into(),
            kind: Kind::Deployment,
            object: json!({"metadata": {"name": "d"}, "spec": {"replicas": 2}}),
            apply: Apply::Converge,
            force: true,
            cluster_scoped: false,
            secret: None,
            sleep: None,
            has_status: None,
            status: None,
            scale: Some(ScalePlan {
                min: 2,
                max: Some(6),
                cooldown: Duration::from_secs(60),
                step,
            }),
        }
    }

    fn live(replicas: i64, last: Option<&str>) -> DynamicObject {
        let mut meta = json!({"name": "d"});
        if let Some(t) = last {
            meta["annotations"] = json!({ LAST_SCALE_ANNOTATION: t });
        }
        serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta, "spec": {"replicas": replicas},
        }))
        .unwrap()
    }

    #[test]
    fn a_step_moves_the_live_count_and_stamps_the_time() {
        let c = child(Some(ScaleMove::By(3)));
        let mut object = c.object.clone();
        let moved = settle(&c, &mut object, Some(&live(2, None)), NOW);
        assert_eq!(moved, Some((2, 5)));
        assert_eq!(object["spec"]["replicas"], 5);
        assert_eq!(
            object["metadata"]["annotations"][LAST_SCALE_ANNOTATION],
            "2026-01-05T10:00:00Z"
        );
    }

    #[test]
    fn without_a_step_the_live_count_and_stamp_are_kept_not_the_declared_count() {
        let c = child(None);
        let mut object = c.object.clone();
        let at = "2026-01-05T09:00:00Z";
        assert_eq!(settle(&c, &mut object, Some(&live(4, Some(at))), NOW), None);
        assert_eq!(object["spec"]["replicas"], 4);
        assert_eq!(object["metadata"]["annotations"][LAST_SCALE_ANNOTATION], at);
    }

    #[test]
    fn within_the_cooldown_the_count_holds() {
        let c = child(Some(ScaleMove::To(6)));
        let mut object = c.object.clone();
        let recent = "2026-01-05T09:59:30Z";
        assert_eq!(
            settle(&c, &mut object, Some(&live(3, Some(recent))), NOW),
            None
        );
        assert_eq!(object["spec"]["replicas"], 3);
    }
}
