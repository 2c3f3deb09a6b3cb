//! Mutation rules (spec §16.4): `default` fills an absent or empty field, `override` always
//! sets it; values take their native JSON type from `valueType`; the result is a JSON patch.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Error, Finding, Input, Result, chain, gates_pass, rule_name};
use crate::condition::{Env, lookup, value_text};
use crate::de::Spanned;
use crate::model::MutationRule;
use crate::render::render_text;

/// One JSON patch (RFC 6902) operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatchOp {
    /// `add` or `replace`.
    pub op: &'static str,
    /// JSON pointer.
    pub path: String,
    /// The value written.
    pub value: Value,
}

/// The outcome of mutation.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutated {
    /// The object with every applied rule's change.
    pub object: Value,
    /// The patch that turns the original object into [`Mutated::object`].
    pub patch: Vec<PatchOp>,
    /// Rules that applied but could not be carried out (a bad value, a template failure);
    /// the object is left as it was for them.
    pub errors: Vec<Finding>,
}

impl Mutated {
    /// No change.
    pub fn unchanged(object: Value) -> Self {
        Mutated {
            object,
            patch: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// Applies `rules` in order to a copy of `input.object`. Each rule's `when`/`or` gates see
/// the object as the rules before it left it.
pub fn mutate(rules: &[Spanned<MutationRule>], input: &Input<'_>) -> Mutated {
    let mut out = Mutated::unchanged(input.object.clone());
    for (i, rule) in rules.iter().enumerate() {
        let rule = &rule.value;
        if !input.stage.fires(rule.fires.as_ref()) {
            continue;
        }
        if let Err(e) = apply(rule, input, &mut out) {
            let name = rule_name(rule.name.as_ref(), rule.field.as_ref(), i);
            out.errors.push(Finding {
                message: format!("mutation {name:?} failed: {}", chain(&e)),
                rule: name,
                field: rule.field.clone(),
            });
        }
    }
    out
}

fn apply(rule: &MutationRule, input: &Input<'_>, out: &mut Mutated) -> Result<()> {
    let (field, value, is_default) = match (&rule.field, &rule.default, &rule.override_value) {
        (Some(f), Some(v), None) => (f, v, true),
        (Some(f), None, Some(v)) => (f, v, false),
        _ => return Err(Error::IncompleteMutation),
    };
    let env = Env::new(&out.object, input.render, input.now);
    if !gates_pass(&rule.when, &rule.or, &env)? {
        return Ok(());
    }
    let current = lookup(&out.object, field);
    if is_default && current.is_some_and(|v| !is_empty(v)) {
        return Ok(());
    }
    let value = typed(
        rendered(value, input, &out.object)?,
        rule.value_type.as_ref().map(|t| t.value.as_str()),
    )?;
    if current == Some(&value) {
        return Ok(());
    }
    let op = set(&mut out.object, field, value)?;
    out.patch.push(op);
    Ok(())
}

/// Absent-equivalent values a `default` replaces: null, `""`, `[]`, `{}`.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// A declared value with its templates rendered against the object.
fn rendered(v: &Value, input: &Input<'_>, object: &Value) -> Result<Value> {
    Ok(match v {
        Value::String(s) => Value::String(
            render_text(input.render, s, object)
                .map_err(|source| Error::RenderFailed {
                    what: "the mutation value".into(),
                    source,
                })?
                .into_owned(),
        ),
        other => other.clone(),
    })
}

/// The value in its declared type. Without `valueType` a value keeps the type it was
/// written with (`default: 1` is a number, `default: "1"` a string).
pub(super) fn typed(v: Value, value_type: Option<&str>) -> Result<Value> {
    let text = || value_text(&v).trim().to_owned();
    let mismatch = |value_type| Error::ValueTypeMismatch {
        value: text(),
        value_type,
    };
    Ok(match value_type.map(str::trim) {
        None => v,
        Some("string") => Value::String(value_text(&v).into_owned()),
        Some("int") => {
            let t = text();
            match t.parse::<i64>() {
                Ok(i) => Value::from(i),
                Err(_) => match t.parse::<f64>() {
                    Ok(f) if f.fract() == 0.0 && f.is_finite() => Value::from(f as i64),
                    _ => return Err(mismatch("int")),
                },
            }
        }
        Some("float") => text()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::from)
            .ok_or_else(|| mismatch("float"))?,
        Some("bool") => match text().to_ascii_lowercase().as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(mismatch("bool")),
        },
        Some(other) => return Err(Error::UnknownValueType(other.to_owned())),
    })
}

/// Sets the dot path `field` in `object` to `value`, creating missing maps, and returns the
/// patch operation that does the same: `replace` when the field exists, else `add` at the
/// first missing level (with the missing maps nested in its value).
pub(super) fn set(object: &mut Value, field: &str, value: Value) -> Result<PatchOp> {
    let segments: Vec<&str> = field
        .trim()
        .trim_start_matches('.')
        .split('.')
        .filter(|s| !s.is_empty())
        .collect();
    let Some((last, parents)) = segments.split_last() else {
        return Err(Error::ParentNotAMap(field.to_owned()));
    };
    let mut pointer = String::new();
    let mut cur = object;
    for (depth, seg) in parents.iter().enumerate() {
        // An existing list item, by index (`containers.0.image`).
        if let Value::Array(items) = cur {
            let item = seg.parse::<usize>().ok().and_then(|i| items.get_mut(i));
            let Some(item) = item else {
                return Err(Error::ParentNotAMap(field.to_owned()));
            };
            pointer.push('/');
            pointer.push_str(seg);
            cur = item;
            continue;
        }
        let Value::Object(map) = cur else {
            return Err(Error::ParentNotAMap(field.to_owned()));
        };
        pointer.push('/');
        pointer.push_str(&escape(seg));
        if !map.get(*seg).is_some_and(|v| v.is_object() || v.is_array()) {
            if map.get(*seg).is_some_and(|v| !v.is_null()) {
                return Err(Error::ParentNotAMap(field.to_owned()));
            }
            let nested = segments[depth + 1..]
                .iter()
                .rev()
                .fold(value, |inner, key| {
                    let mut m = Map::new();
                    m.insert((*key).to_owned(), inner);
                    Value::Object(m)
                });
            let op = if map.contains_key(*seg) {
                "replace"
            } else {
                "add"
            };
            map.insert((*seg).to_owned(), nested.clone());
            return Ok(PatchOp {
                op,
                path: pointer,
                value: nested,
            });
        }
        cur = map.get_mut(*seg).expect("checked above");
    }
    let Value::Object(map) = cur else {
        return Err(Error::ParentNotAMap(field.to_owned()));
    };
    pointer.push('/');
    pointer.push_str(&escape(last));
    let op = if map.contains_key(*last) {
        "replace"
    } else {
        "add"
    };
    map.insert((*last).to_owned(), value.clone());
    Ok(PatchOp {
        op,
        path: pointer,
        value,
    })
}

/// A JSON pointer segment (RFC 6901).
fn escape(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::Stage;
    use crate::admission::fixtures::{crd, render};
    use serde_json::json;

    fn run(rules: &str, object: Value) -> Mutated {
        let crd = crd(&format!("mutation:\n  rules:\n{rules}"));
        let r = render();
        mutate(
            &crd.entry.mutation.unwrap().rules,
            &Input::new(&object, &r, Stage::Admission),
        )
    }

    /// Applies a patch the way the API server does, for the two ops we emit.
    fn apply_patch(mut object: Value, patch: &[PatchOp]) -> Value {
        for op in patch {
            let (parent, key) = op.path.rsplit_once('/').unwrap();
            let key = key.replace("~1", "/").replace("~0", "~");
            let target = if parent.is_empty() {
                &mut object
            } else {
                object.pointer_mut(parent).unwrap()
            };
            target
                .as_object_mut()
                .unwrap()
                .insert(key, op.value.clone());
        }
        object
    }

    const PLATFORM: &str = r#"    - {field: spec.replicas, default: "2", valueType: int}
    - {field: spec.environment, default: development}
    - {field: spec.rateLimit, default: "100", valueType: int}
"#;

    #[test]
    fn defaults_fill_absent_fields_with_native_types() {
        let m = run(PLATFORM, json!({"spec": {"image": "x"}}));
        assert_eq!(
            m.object,
            json!({"spec": {"image": "x", "replicas": 2, "environment": "development", "rateLimit": 100}})
        );
        assert_eq!(
            m.patch[0],
            PatchOp {
                op: "add",
                path: "/spec/replicas".into(),
                value: json!(2)
            }
        );
        assert!(m.errors.is_empty());
    }

    #[test]
    fn defaults_leave_set_fields_alone_but_fill_empty_ones() {
        let m = run(
            PLATFORM,
            json!({"spec": {"replicas": 5, "environment": "", "rateLimit": 0}}),
        );
        assert_eq!(m.object["spec"]["replicas"], json!(5));
        assert_eq!(m.object["spec"]["rateLimit"], json!(0));
        assert_eq!(m.object["spec"]["environment"], json!("development"));
        assert_eq!(m.patch.len(), 1);
        assert_eq!(m.patch[0].op, "replace");
    }

    #[test]
    fn override_always_sets_and_skips_when_already_equal() {
        let rules = "    - {field: spec.engine, override: postgres}\n";
        let m = run(rules, json!({"spec": {"engine": "mysql"}}));
        assert_eq!(m.object["spec"]["engine"], json!("postgres"));
        assert_eq!(m.patch[0].op, "replace");
        let m = run(rules, json!({"spec": {"engine": "postgres"}}));
        assert!(m.patch.is_empty());
    }

    #[test]
    fn missing_parents_are_created_in_one_add() {
        let m = run(
            "    - {field: spec.tls.enabled, default: \"true\", valueType: bool}\n",
            json!({"metadata": {"name": "a"}}),
        );
        assert_eq!(m.patch.len(), 1);
        assert_eq!(m.patch[0].path, "/spec");
        assert_eq!(m.patch[0].value, json!({"tls": {"enabled": true}}));
        assert_eq!(
            apply_patch(json!({"metadata": {"name": "a"}}), &m.patch),
            m.object
        );
    }

    #[test]
    fn the_patch_reproduces_the_mutated_object() {
        let rules = r#"    - {field: spec.a, default: 1}
    - {field: spec.b.c, override: "{{ .metadata.name }}-x"}
    - {field: "spec.d/e", default: "1.5", valueType: float}
"#;
        let original = json!({"metadata": {"name": "web"}, "spec": {"b": {"z": 1}}});
        let m = run(rules, original.clone());
        assert_eq!(m.object["spec"]["b"]["c"], json!("web-x"));
        assert_eq!(m.object["spec"]["d/e"], json!(1.5));
        assert_eq!(m.patch[2].path, "/spec/d~1e");
        assert_eq!(apply_patch(original, &m.patch), m.object);
    }

    #[test]
    fn later_rules_see_earlier_mutations_in_their_gates() {
        let rules = r#"    - {field: spec.tier, default: gold}
    - field: spec.replicas
      default: 3
      when: [{field: spec.tier, equals: gold}]
"#;
        let m = run(rules, json!({"spec": {}}));
        assert_eq!(m.object["spec"]["replicas"], json!(3));
    }

    #[test]
    fn a_value_of_the_wrong_type_is_reported_and_changes_nothing() {
        let m = run(
            "    - {field: spec.replicas, default: many, valueType: int}\n",
            json!({"spec": {}}),
        );
        assert_eq!(m.object, json!({"spec": {}}));
        assert!(m.patch.is_empty());
        assert_eq!(
            m.errors[0].message,
            "mutation \"spec.replicas\" failed: value \"many\" is not a valid int"
        );
    }

    #[test]
    fn a_parent_that_is_not_a_map_is_an_error() {
        let m = run(
            "    - {field: spec.a.b, default: 1}\n",
            json!({"spec": {"a": 3}}),
        );
        assert!(matches!(m.errors.len(), 1));
        assert!(m.patch.is_empty());
    }
}
