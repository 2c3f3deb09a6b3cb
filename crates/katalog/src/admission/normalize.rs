//! `normalize:` — canonical spec values rendered before mutation, validation and templates
//! (spec §9.1, §9.2 step 5). Nothing is written back: the CR in the cluster keeps what the
//! user wrote, and every later phase of the reconcile sees the canonical values.
//!
//! Each `spec.<path>` template renders against the **raw** CR (never against another
//! field's normalized value), in the order of the paths. The text is then typed:
//!
//! - with `types.<path>` declared, it is cast to that type (`int`/`integer`, `bool`/`boolean`,
//!   `float`/`number`, `string`), and an empty text removes the field (an empty string would
//!   fail an integer or boolean schema);
//! - otherwise it is read as a plain YAML scalar (`3` is an integer, `true` a boolean), and an
//!   empty text sets the empty string.
//!
//! Paths are dot paths under `spec` (`resources.limits.cpu`, `containers.0.image`); missing
//! maps are created. With `audit: true` every field whose value changed is listed as
//! `{field, from, to}` (templates read the list as `._normalizeChanges`). A template that
//! fails, or a value that is not of its declared type, is a finding: the CR is not
//! reconciled until it changes, as for a failed mutation.

use serde::Serialize;
use serde_json::Value;

use super::mutate::{set, typed};
use super::{Error, Finding, Input, gates_pass};
use crate::condition::{Env, lookup};
use crate::model::Normalize;
use crate::render::render_text;

/// One field normalize changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NormalizeChange {
    /// The dot path under the object (`spec.environment`).
    pub field: String,
    /// The value as written (absent: not set).
    #[serde(skip_serializing_if = "Value::is_null")]
    pub from: Value,
    /// The canonical value (absent: removed).
    #[serde(skip_serializing_if = "Value::is_null")]
    pub to: Value,
}

/// What normalize made of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The object with canonical spec values.
    pub object: Value,
    /// Fields whose value changed, in path order (always collected; shown only with audit).
    pub changes: Vec<NormalizeChange>,
    /// Fields that could not be normalized.
    pub errors: Vec<Finding>,
}

/// Applies `rules` to `input.object` (see the module documentation).
pub fn normalize(rules: &Normalize, input: &Input<'_>) -> Normalized {
    let raw = input.object;
    let mut out = Normalized {
        object: raw.clone(),
        changes: Vec::new(),
        errors: Vec::new(),
    };
    let env = Env::new(raw, input.render, input.now);
    match gates_pass(&rules.when, &[], &env) {
        Ok(true) => {}
        Ok(false) => return out,
        Err(e) => {
            out.errors.push(finding(None, &e));
            return out;
        }
    }
    for (path, template) in &rules.spec {
        let field = format!("spec.{}", path.trim().trim_start_matches('.'));
        let value_type = rules.types.get(path).map(|t| t.value.trim());
        match canonical(&template.value, value_type, input, raw) {
            Ok(value) => {
                let from = lookup(raw, &field).cloned().unwrap_or(Value::Null);
                if from == value {
                    continue;
                }
                let written = if value.is_null() {
                    remove(&mut out.object, &field);
                    Ok(())
                } else {
                    set(&mut out.object, &field, value.clone()).map(drop)
                };
                match written {
                    Ok(()) => out.changes.push(NormalizeChange {
                        field,
                        from,
                        to: value,
                    }),
                    Err(e) => out.errors.push(finding(Some(field), &e)),
                }
            }
            Err(e) => out.errors.push(finding(Some(field), &e)),
        }
    }
    out
}

/// The typed value of one template; `Null` removes the field.
fn canonical(
    template: &str,
    value_type: Option<&str>,
    input: &Input<'_>,
    raw: &Value,
) -> Result<Value, Error> {
    let text = render_text(input.render, template, raw).map_err(|source| Error::RenderFailed {
        what: "the normalize template".into(),
        source,
    })?;
    let text = text.trim();
    let value_type = value_type.map(|t| match t {
        "integer" => "int",
        "boolean" => "bool",
        "number" => "float",
        other => other,
    });
    Ok(match value_type {
        Some(_) if text.is_empty() => Value::Null,
        Some(value_type) => typed(Value::String(text.to_owned()), Some(value_type))?,
        None if text.is_empty() => Value::String(String::new()),
        None => crate::de::plain_scalar(text),
    })
}

/// Removes the dot path `field` from `object`, if it is there.
fn remove(object: &mut Value, field: &str) {
    let Some((parent, last)) = field.rsplit_once('.') else {
        return;
    };
    let mut cur = object;
    for seg in parent.split('.') {
        let next = match cur {
            Value::Object(map) => map.get_mut(seg),
            Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        let Some(next) = next else { return };
        cur = next;
    }
    if let Value::Object(map) = cur {
        map.remove(last);
    }
}

fn finding(field: Option<String>, error: &Error) -> Finding {
    Finding {
        rule: field.clone().unwrap_or_else(|| "normalize".into()),
        field,
        message: format!("normalize: {}", super::chain(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::{Stage, fixtures};
    use serde_json::json;

    /// `yaml` is the body of a `normalize:` block, at indentation 0.
    fn run(yaml: &str, object: Value) -> Normalized {
        let body: String = yaml.lines().map(|l| format!("  {l}\n")).collect();
        let crd = fixtures::crd(&format!("normalize:\n{body}"));
        let rules = crd.entry.normalize.expect("a normalize block");
        let render = fixtures::render();
        normalize(&rules, &Input::new(&object, &render, Stage::Reconcile))
    }

    #[test]
    fn messy_strings_become_canonical_and_the_changes_are_listed() {
        let out = run(
            "spec:\n  environment: '{{ default \"production\" .spec.environment | toLower | trimSpace }}'\n  name: '{{ .spec.name | toLower | trimSpace }}'\n",
            json!({"spec": {"environment": " STAGING ", "name": "acme corp"}}),
        );
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(
            out.object["spec"],
            json!({"environment": "staging", "name": "acme corp"})
        );
        assert_eq!(
            serde_json::to_value(&out.changes).unwrap(),
            json!([{"field": "spec.environment", "from": " STAGING ", "to": "staging"}])
        );
    }

    #[test]
    fn each_template_sees_the_raw_object_not_earlier_results() {
        let out = run(
            "spec:\n  a: '{{ .spec.b }}-a'\n  b: 'B'\n",
            json!({"spec": {"b": "raw"}}),
        );
        assert_eq!(out.object["spec"], json!({"a": "raw-a", "b": "B"}));
    }

    #[test]
    fn untyped_results_read_as_yaml_scalars_and_declared_types_are_cast() {
        let out = run(
            "spec:\n  replicas: '{{ default 1 .spec.replicas }}'\n  suspend: '{{ .spec.off }}'\n  flag: '0'\n  label: ''\n  gone: ''\ntypes:\n  flag: bool\n  gone: int\n",
            json!({"spec": {"off": "true", "label": "x", "gone": 3}}),
        );
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(
            out.object["spec"],
            json!({"replicas": 1, "suspend": true, "flag": false, "label": "", "off": "true"})
        );
    }

    #[test]
    fn nested_paths_create_maps_and_reach_into_lists() {
        let out = run(
            "spec:\n  resources.limits.cpu: '500m'\n  containers.0.image: '{{ .spec.image }}:{{ .spec.tag }}'\n",
            json!({"spec": {"image": "nginx", "tag": "1.27", "containers": [{"name": "web"}]}}),
        );
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(
            out.object["spec"]["resources"],
            json!({"limits": {"cpu": "500m"}})
        );
        assert_eq!(
            out.object["spec"]["containers"],
            json!([{"name": "web", "image": "nginx:1.27"}])
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_a_finding_and_changes_nothing() {
        let out = run(
            "spec:\n  replicas: 'many'\ntypes:\n  replicas: int\n",
            json!({"spec": {"replicas": 2}}),
        );
        assert_eq!(out.object["spec"]["replicas"], 2);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].field.as_deref(), Some("spec.replicas"));
        assert!(
            out.errors[0].message.contains("not a valid int"),
            "{}",
            out.errors[0].message
        );
    }

    #[test]
    fn when_gates_the_whole_block() {
        let yaml = "when: [{field: spec.tidy, equals: 'yes'}]\nspec:\n  name: '{{ .spec.name | toLower }}'\n";
        let off = run(yaml, json!({"spec": {"name": "ACME"}}));
        assert_eq!(off.object["spec"]["name"], "ACME");
        let on = run(yaml, json!({"spec": {"name": "ACME", "tidy": "yes"}}));
        assert_eq!(on.object["spec"]["name"], "acme");
    }
}
