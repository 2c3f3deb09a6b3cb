//! Declared conversion (spec §16.5): `from → to` paths whose `spec` is a tree of templates
//! over the source object.

use serde_json::{Map, Value};

use super::{Error, Result};
use crate::condition::lookup;
use crate::model::Crd;
use crate::render::{Render, field_reference};

pub use crate::model::{Conversion, ConversionPath};

impl Conversion {
    /// The CRD's declared conversion (`conversion:` or `admission.conversion`), if any; a
    /// block that is only upstream's `participant: true` marker declares none.
    pub fn of(crd: &Crd) -> Option<Conversion> {
        crd.entry
            .conversion
            .as_ref()
            .filter(|c| !c.value.is_participant_only())
            .map(|c| c.value.clone())
    }
}

/// The version part of an `apiVersion` (`group/v1` → `v1`).
fn version_of(api_version: &str) -> &str {
    api_version.rsplit('/').next().unwrap_or(api_version)
}

/// Converts `object` to `desired_api_version` along its declared path.
///
/// The result keeps `kind`, `metadata` and every top-level field other than `spec` (such as
/// `status`) as they are, carries `apiVersion: desired_api_version`, and has as `spec` the
/// path's rendered `spec`. A leaf that is exactly one field reference (`"{{ .spec.size }}"`)
/// copies that value with its JSON type (absent → the key is left out); any other template
/// renders to text, read as a number or boolean when it is one. An object already at the
/// desired version is returned unchanged.
///
/// # Errors
/// No `apiVersion`, no declared path between the two versions, or a template that fails.
pub fn convert(
    conversion: &Conversion,
    object: &Value,
    desired_api_version: &str,
    render: &dyn Render,
) -> Result<Value> {
    let source = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .ok_or(Error::NoApiVersion)?;
    let (from, to) = (version_of(source), version_of(desired_api_version));
    if from == to {
        let mut same = object.clone();
        same["apiVersion"] = Value::String(desired_api_version.to_owned());
        return Ok(same);
    }
    let path = conversion.path(from, to).ok_or_else(|| Error::NoPath {
        from: from.to_owned(),
        to: to.to_owned(),
    })?;
    let mut out = object.clone();
    out["apiVersion"] = Value::String(desired_api_version.to_owned());
    if let Some(spec) = &path.spec {
        let rendered = leaf_tree(spec, object, render, "spec")?.unwrap_or(Value::Null);
        out["spec"] = rendered;
    }
    Ok(out)
}

/// Renders every template leaf of `tree`; `None` for a field reference to nothing.
fn leaf_tree(tree: &Value, source: &Value, render: &dyn Render, at: &str) -> Result<Option<Value>> {
    Ok(Some(match tree {
        Value::String(s) if s.contains("{{") => {
            if let Some(path) = field_reference(s) {
                return Ok(lookup(source, path).filter(|v| !v.is_null()).cloned());
            }
            let text = render
                .render(s, source)
                .map_err(|source| Error::RenderFailed {
                    what: at.to_owned(),
                    source,
                })?;
            scalar(text)
        }
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if let Some(v) = leaf_tree(v, source, render, &format!("{at}.{k}"))? {
                    out.insert(k.clone(), v);
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, v)| leaf_tree(v, source, render, &format!("{at}[{i}]")))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .map(|v| v.unwrap_or(Value::Null))
                .collect(),
        ),
        other => other.clone(),
    }))
}

/// Rendered text as a JSON scalar: an integer, a finite float or a boolean when it reads as
/// one (JSON spelling), else the text.
fn scalar(text: String) -> Value {
    match serde_json::from_str::<Value>(text.trim()) {
        Ok(v @ (Value::Number(_) | Value::Bool(_))) => v,
        _ => Value::String(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::fixtures::{crd, render};
    use serde_json::json;

    const DB: &str = r#"conversion:
  storageVersion: v1
  updateCRD: true
  paths:
    - from: v1alpha1
      to: v1
      spec:
        engine: "{{ .spec.databaseEngine }}"
        replicas: "{{ .spec.size }}"
        label: "{{ .metadata.name }}-{{ .spec.size }}"
        storage: {size: "{{ .spec.disk }}"}
    - from: v1
      to: v1alpha1
      spec:
        databaseEngine: "{{ .spec.engine }}"
        size: "{{ .spec.replicas }}"
        disk: "{{ .spec.storage.size }}"
"#;

    fn conversion() -> Conversion {
        Conversion::of(&crd(DB)).unwrap()
    }

    fn alpha() -> Value {
        json!({
            "apiVersion": "demo.ork.dev/v1alpha1",
            "kind": "App",
            "metadata": {"name": "db", "namespace": "default", "uid": "u1", "labels": {"a": "b"}},
            "spec": {"databaseEngine": "postgres", "size": 3, "disk": "10Gi"},
            "status": {"phase": "Ready"},
        })
    }

    #[test]
    fn the_block_reads_as_written() {
        let c = conversion();
        assert_eq!(c.storage_version(), "v1");
        assert!(c.update_crd);
        assert!(c.path("v1", "v1alpha1").is_some());
        assert!(c.path("v1", "v2").is_none());
    }

    #[test]
    fn a_declared_path_renders_the_spec_and_keeps_everything_else() {
        let v1 = convert(&conversion(), &alpha(), "demo.ork.dev/v1", &render()).unwrap();
        assert_eq!(
            v1,
            json!({
                "apiVersion": "demo.ork.dev/v1",
                "kind": "App",
                "metadata": {"name": "db", "namespace": "default", "uid": "u1", "labels": {"a": "b"}},
                "spec": {"engine": "postgres", "replicas": 3, "label": "db-3", "storage": {"size": "10Gi"}},
                "status": {"phase": "Ready"},
            })
        );
    }

    #[test]
    fn the_round_trip_is_lossless_for_declared_fields() {
        let c = conversion();
        let r = render();
        let v1 = convert(&c, &alpha(), "demo.ork.dev/v1", &r).unwrap();
        let back = convert(&c, &v1, "demo.ork.dev/v1alpha1", &r).unwrap();
        assert_eq!(back, alpha());
    }

    #[test]
    fn references_to_absent_fields_are_left_out() {
        let mut obj = alpha();
        obj["spec"].as_object_mut().unwrap().remove("disk");
        let v1 = convert(&conversion(), &obj, "demo.ork.dev/v1", &render()).unwrap();
        assert_eq!(v1["spec"]["storage"], json!({}));
        assert!(v1["spec"].get("replicas").is_some());
    }

    #[test]
    fn an_undeclared_path_is_a_clear_error() {
        let err = convert(&conversion(), &alpha(), "demo.ork.dev/v2", &render()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no conversion path declared from v1alpha1 to v2"
        );
        let same = convert(&conversion(), &alpha(), "demo.ork.dev/v1alpha1", &render()).unwrap();
        assert_eq!(same, alpha());
    }

    #[test]
    fn rendered_leaves_read_as_json_scalars() {
        assert_eq!(scalar("3".into()), json!(3));
        assert_eq!(scalar("true".into()), json!(true));
        assert_eq!(scalar("10Gi".into()), json!("10Gi"));
    }
}
