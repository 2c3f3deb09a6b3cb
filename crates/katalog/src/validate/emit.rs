//! `emit.events`: declaration names, lifecycle points and Event types.

use super::{Cx, is_camel_case};
use crate::model::{Crd, EMIT_ON, EMIT_TYPES};

pub fn check(cx: &mut Cx<'_>) {
    for crd in &cx.katalog.crds {
        events(cx, crd);
    }
}

fn events(cx: &mut Cx<'_>, crd: &Crd) {
    let Some(events) = &crd.operator_box().events else {
        return;
    };
    for (name, event) in &events.value {
        let rest = format!("operatorBox.emit.events.{name}");
        if !is_camel_case(name) {
            cx.crd_error(
                crd,
                Some(&event.at),
                "invalid-event-name",
                &rest,
                format!("event declaration name `{name}` must be camelCase"),
                "",
            );
        }
        for point in &event.value.on {
            if !EMIT_ON.contains(&point.value.as_str()) {
                cx.crd_error(
                    crd,
                    Some(&point.at),
                    "invalid-event-on",
                    &format!("{rest}.on"),
                    format!("`{}` is not a lifecycle point", point.value),
                    format!("use one of: {}", EMIT_ON.join(", ")),
                );
            }
        }
        if let Some(kind) = &event.value.kind
            && !EMIT_TYPES.contains(&kind.value.as_str())
        {
            cx.crd_error(
                crd,
                Some(&kind.at),
                "invalid-event-type",
                &format!("{rest}.type"),
                format!("Event type `{}` is not Normal or Warning", kind.value),
                "Kubernetes accepts only Normal and Warning",
            );
        }
        let reason = event.value.reason_for(name);
        if reason.is_empty() || reason.len() > 128 || reason.contains("{{") {
            cx.crd_error(
                crd,
                event
                    .value
                    .reason
                    .as_ref()
                    .map(|r| &r.at)
                    .or(Some(&event.at)),
                "invalid-event-reason",
                &format!("{rest}.reason"),
                format!("Event reason `{reason}` must be fixed text of 1 to 128 characters"),
                "the reason names what happened (e.g. `ScaledUp`); put details in `message`",
            );
        }
    }
}
