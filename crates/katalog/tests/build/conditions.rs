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

#[test]
fn every_condition_in_the_packs_resource_blocks_is_well_formed() {
    use katalog::condition::Severity;
    use katalog::resources::Kind;
    let mut seen = 0;
    for pack in super::packs::packs() {
        let loaded = katalog::load(&pack.entry).unwrap();
        for crd in &loaded.katalog.crds {
            let ob = crd.operator_box();
            for block in [&ob.on_create, &ob.on_reconcile, &ob.on_delete]
                .into_iter()
                .flatten()
            {
                let mut conds: Vec<&Condition> = block.when.iter().chain(&block.or).collect();
                for kind in Kind::ALL {
                    for d in block.declarations(kind) {
                        conds.extend(d.common().when.iter().chain(d.common().or));
                    }
                }
                for c in conds {
                    seen += 1;
                    let errors: Vec<_> = c
                        .problems()
                        .into_iter()
                        .filter(|p| p.severity == Severity::Error)
                        .collect();
                    assert!(errors.is_empty(), "{} {}: {errors:?}", pack.name, crd.name);
                }
            }
        }
    }
    assert!(seen > 10, "only {seen} conditions found");
}
