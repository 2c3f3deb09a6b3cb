//! `emit.events` declarations: names, lifecycle points, types and reasons are checked at load,
//! each problem at its line.

fn problems(events: &str) -> Vec<(String, u32)> {
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: e}}\nspec:\n  crds:\n    app:\n      apiTypes: {{group: a.io, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        emit:\n          events:\n{events}"
    );
    match katalog::load_text("katalog.yaml", text) {
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
