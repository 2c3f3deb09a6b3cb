//! The operator vocabulary: `ork validate` (loading a Katalog) and the runtime's condition
//! deserializer accept exactly the same spellings, because both read `condition::OPERATORS`.

use katalog::condition::{Condition, OPERATORS};

fn katalog_with_rule(operator: &str) -> String {
    format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata:
  name: demo
spec:
  crds:
    web:
      apiTypes: {{group: demo.io, version: v1, kind: Web, plural: webs}}
      validation:
        rules:
          - {{field: spec.replicas, operator: {operator}, value: \"1\", message: m, action: deny}}
      operatorBox:
        onCreate:
          configMaps:
            - name: x
              when:
                - {{field: spec.replicas, operator: {operator}, value: \"1\"}}
"
    )
}

#[test]
fn every_operator_spelling_is_accepted_by_validation_and_the_runtime() {
    for (name, op) in OPERATORS {
        let text = katalog_with_rule(name);
        if let Err(d) = katalog::load_text("katalog.yaml", &text) {
            panic!("`{name}` refused by validation:\n{}", d.render());
        }
        let c: Condition =
            serde_json::from_value(serde_json::json!({"field": "spec.x", "operator": name}))
                .unwrap_or_else(|e| panic!("`{name}` refused by the runtime: {e}"));
        assert_eq!(c.operator, Some(*op), "{name}");
    }
}

#[test]
fn an_unknown_operator_is_refused_by_both_with_the_valid_list() {
    let d = katalog::load_text("katalog.yaml", katalog_with_rule("greaterThen"))
        .expect_err("validation refuses `greaterThen`");
    let text = d.render();
    assert!(text.contains("unknown operator `greaterThen`"), "{text}");
    assert!(text.contains("did you mean `greaterThan`?"), "{text}");
    assert!(
        text.contains("valid operators: equals, eq, notEquals, neq, ne"),
        "{text}"
    );
    assert!(text.contains("katalog.yaml:"), "{text}");

    let e = serde_json::from_value::<Condition>(
        serde_json::json!({"field": "spec.x", "operator": "greaterThen"}),
    )
    .expect_err("the runtime refuses `greaterThen`")
    .to_string();
    assert!(e.contains("unknown operator `greaterThen`"), "{e}");
    assert!(
        e.contains("valid operators: equals, eq, notEquals, neq, ne"),
        "{e}"
    );
}
