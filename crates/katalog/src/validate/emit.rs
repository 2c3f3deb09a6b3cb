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

#[cfg(test)]
mod tests {
    fn problems(events: &str) -> Vec<(String, u32)> {
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: e}}\nspec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        emit:\n          events:\n{events}"
        );
        match crate::load_text("katalog.yaml", text) {
            Ok(_) => Vec::new(),
            Err(d) => d
                .errors()
                .map(|e| (e.path.clone().unwrap_or_default(), e.line))
                .collect(),
        }
    }

    #[test]
    fn a_well_formed_event_loads() {
        assert!(problems(
            "            scaledUp: {on: [reconcile, delete], type: Warning, message: '{{ .spec.x }}'}\n"
        )
        .is_empty());
    }

    #[test]
    fn unknown_points_types_and_templated_reasons_are_errors_at_their_line() {
        let mut p = problems(
            "            up: {on: [created]}\n            Down: {}\n            odd:\n              type: Info\n              reason: '{{ .spec.r }}'\n",
        );
        p.sort_by_key(|(_, line)| *line);
        assert_eq!(
            p,
            [
                ("spec.crds.app.operatorBox.emit.events.up.on".to_owned(), 11),
                ("spec.crds.app.operatorBox.emit.events.Down".to_owned(), 12),
                (
                    "spec.crds.app.operatorBox.emit.events.odd.type".to_owned(),
                    14
                ),
                (
                    "spec.crds.app.operatorBox.emit.events.odd.reason".to_owned(),
                    15
                ),
            ]
        );
    }
}
