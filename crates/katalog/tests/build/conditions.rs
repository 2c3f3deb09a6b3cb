//! Conditions through the real template engine.

use katalog::condition::{Condition, Conditions, Env};
use serde_json::json;

use super::render;

fn eval(yaml: &str) -> bool {
    let conds: Vec<Condition> = serde_saphyr::from_str(yaml).unwrap();
    let data = json!({
        "metadata": {"name": "web"},
        "spec": {"notify": "true", "approved": true},
        "status": {"phase": "Running"},
        "children": {"job": {"status": {"succeeded": 1}}},
    });
    let r = render();
    Conditions::new(&conds, &[])
        .evaluate(&Env::new(
            &data,
            &r,
            time::macros::datetime!(2026-01-05 10:00 UTC),
        ))
        .unwrap()
}

#[test]
fn template_fields_call_notes() {
    assert!(eval(
        "[{field: '{{ jobSucceeded .children.job }}', equals: 'true'}]"
    ));
    assert!(eval("[{field: '{{ upper .metadata.name }}', equals: WEB}]"));
}

#[test]
fn booleans_compare_as_their_text() {
    assert!(eval("[{field: spec.approved, equals: 'true'}]"));
    assert!(eval("[{field: spec.notify, equals: true}]"));
}

#[test]
fn in_lists_accept_the_status_phases_of_the_full_stack_pack() {
    assert!(eval(
        "[{field: status.phase, operator: in, value: 'Running,Failed,Succeeded'}]"
    ));
    assert!(!eval(
        "[{field: status.phase, operator: in, value: 'Failed,Succeeded'}]"
    ));
}
