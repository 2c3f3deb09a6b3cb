//! What a remote reconciler (spec §9.7) returns, as data: its `resources` answer turned into
//! a block of declarations ([`declarations_of`]) that the [`Builder`](super::Builder) builds
//! exactly as it builds template children (names, labels, owner label, namespace guard, SSA
//! force). The kinds it may manage and its auth are [`crate::remote`]'s.
//!
//! Decisions:
//! - **Intent form** `{type, fields}`: `type` names a template kind, singular or plural,
//!   any case (`deployment`, `Deployments`, `configMap`, `hpa`); `fields` is one declaration
//!   of that kind, with the same keys a Katalog uses. `custom` takes a `custom:` declaration.
//! - **Full form** (an object with `apiVersion` and `kind`) becomes a `custom:` declaration:
//!   `metadata.name`/`namespace`/`labels`/`annotations` are kept (other metadata, and
//!   `status`, are dropped: ork owns them), every other top-level key goes into the object.
//! - The answer is data, not templates: it is built with [`Literal`], so a `{{` in a value
//!   reaches the object as written.

use serde_json::{Map, Value, json};

use crate::render::{Render, RenderFailure};
use crate::resources::{HookTemplates, Kind};

/// A renderer that renders nothing: every text is returned as written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Literal;

impl Render for Literal {
    fn render(&self, src: &str, _data: &Value) -> Result<String, RenderFailure> {
        Ok(src.to_owned())
    }
}

/// The template kind an intent `type` names.
pub fn kind_of_type(t: &str) -> Option<Kind> {
    let t = t.to_ascii_lowercase();
    Kind::ALL.into_iter().find(|k| {
        let key = k.key().to_ascii_lowercase();
        key == t
            || key.strip_suffix('s') == Some(t.as_str())
            || k.kube_kind().is_some_and(|kk| kk.eq_ignore_ascii_case(&t))
    })
}

/// The block of declarations a remote reconciler's `resources` answer stands for.
///
/// # Errors
/// The first entry that is neither form, names no known kind, or whose fields are not a
/// declaration of that kind, located as `resources[i]`.
pub fn declarations_of(resources: &[Value]) -> Result<HookTemplates, String> {
    let mut blocks: Map<String, Value> = Map::new();
    for (i, r) in resources.iter().enumerate() {
        let (key, declaration) = declaration_of(r).map_err(|e| format!("resources[{i}]: {e}"))?;
        let one = json!({ key.clone(): [declaration.clone()] });
        serde_json::from_value::<HookTemplates>(one)
            .map_err(|e| format!("resources[{i}]: not a `{key}` declaration: {e}"))?;
        if let Some(list) = blocks
            .entry(key)
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
        {
            list.push(declaration);
        }
    }
    serde_json::from_value(Value::Object(blocks)).map_err(|e| format!("resources: {e}"))
}

/// The HookTemplates key and the declaration of one entry.
fn declaration_of(r: &Value) -> Result<(String, Value), String> {
    let o = r.as_object().ok_or("an entry must be an object")?;
    if let Some(t) = o.get("type") {
        let t = t.as_str().ok_or("`type` must be a string")?;
        let kind = kind_of_type(t).ok_or_else(|| format!("unknown resource type `{t}`"))?;
        let fields = o.get("fields").cloned().unwrap_or(json!({}));
        if !fields.is_object() {
            return Err("`fields` must be an object".into());
        }
        return Ok((kind.key().to_owned(), fields));
    }
    let (Some(api_version), Some(kind)) = (o.get("apiVersion"), o.get("kind")) else {
        return Err("an entry needs `type` and `fields`, or `apiVersion` and `kind`".into());
    };
    let mut decl = Map::new();
    decl.insert("apiVersion".into(), api_version.clone());
    decl.insert("kind".into(), kind.clone());
    let mut metadata = Map::new();
    if let Some(m) = o.get("metadata").and_then(Value::as_object) {
        for key in ["name", "namespace", "labels", "annotations"] {
            if let Some(v) = m.get(key) {
                metadata.insert(key.into(), v.clone());
            }
        }
    }
    decl.insert("metadata".into(), Value::Object(metadata));
    for (k, v) in o {
        if !matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status") {
            decl.insert(k.clone(), v.clone());
        }
    }
    Ok((Kind::Custom.key().to_owned(), Value::Object(decl)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_types_name_template_kinds_in_any_form() {
        for (t, k) in [
            ("deployment", Kind::Deployment),
            ("Deployments", Kind::Deployment),
            ("configMap", Kind::ConfigMap),
            ("service", Kind::Service),
            ("hpa", Kind::HorizontalPodAutoscaler),
            ("HorizontalPodAutoscaler", Kind::HorizontalPodAutoscaler),
        ] {
            assert_eq!(kind_of_type(t), Some(k), "{t}");
        }
        assert_eq!(kind_of_type("gadget"), None);
    }

    #[test]
    fn both_forms_become_declarations_and_bad_entries_are_located() {
        let block = declarations_of(&[
            json!({"type": "deployment", "fields": {"name": "web", "image": "nginx", "replicas": 2}}),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "web", "uid": "x", "labels": {"a": "b"}},
                   "spec": {"ports": [{"port": 80}]}, "status": {"x": 1}}),
        ])
        .unwrap();
        assert_eq!(block.deployments.len(), 1);
        assert_eq!(block.custom.len(), 1);
        let c = &block.custom[0];
        assert_eq!(c.metadata.name.as_ref().unwrap().as_str(), "web");
        assert!(c.status.is_none(), "status is ork's");

        let e = declarations_of(&[
            json!({"type": "deployment", "fields": {}}),
            json!({"type": "gadget"}),
        ])
        .unwrap_err();
        assert_eq!(e, "resources[1]: unknown resource type `gadget`");
        let e =
            declarations_of(&[json!({"type": "deployment", "fields": {"bogus": 1}})]).unwrap_err();
        assert!(
            e.starts_with("resources[0]: not a `deployments` declaration"),
            "{e}"
        );
        let e = declarations_of(&[json!({"metadata": {}})]).unwrap_err();
        assert!(e.contains("needs `type`"), "{e}");
    }
}
