//! `rollback.trigger`: a window that parses.

use super::Cx;

pub fn check(cx: &mut Cx<'_>) {
    for crd in &cx.katalog.crds {
        let trigger = crd
            .operator_box()
            .rollback
            .as_ref()
            .and_then(|r| r.value.trigger.as_ref());
        if let Some(t) = trigger {
            cx.crd_duration(
                crd,
                t.within_duration.as_ref(),
                "operatorBox.rollback.trigger.withinDuration",
            );
        }
    }
}
