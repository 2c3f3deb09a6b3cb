//! The owner CR as children see it: name, namespace, the owner label value, and the
//! ownerReference the runtime adds once it knows the CR's uid.

use serde_json::{Map, Value, json};

use crate::labels;

/// The CR that owns the children being built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// CR name.
    pub name: String,
    /// CR namespace (`default` for a CR without one).
    pub namespace: String,
    /// The value of the `orkestra-owner` label: `<name>` or `<name>.<serveTarget>`.
    pub label: String,
    /// The serve target the CR arrived through, if any.
    pub serve_target: Option<String>,
}

impl Owner {
    /// Reads name, namespace and serve target (annotation
    /// `orkestra.orkspace.io/serve-target`) from a CR.
    pub fn of(cr: &Value) -> Owner {
        let s = |p: &str| {
            cr.pointer(p)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let name = s("/metadata/name").unwrap_or_default().to_owned();
        let namespace = s("/metadata/namespace").unwrap_or("default").to_owned();
        let serve_target = cr
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(labels::SERVE_TARGET))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let label = match &serve_target {
            Some(t) => format!("{name}.{t}"),
            None => name.clone(),
        };
        Owner {
            name,
            namespace,
            label,
            serve_target,
        }
    }

    /// Adds the system labels of a child (they win over declared labels of the same key).
    pub fn stamp(&self, labels: &mut Map<String, Value>) {
        labels.insert(labels::MANAGED.into(), labels::TRUE.into());
        labels.insert(labels::OWNER.into(), self.label.clone().into());
        if let Some(t) = &self.serve_target {
            labels.insert(labels::SERVE_TARGET_LABEL.into(), t.clone().into());
        }
    }
}

/// The ownerReference a namespaced child carries to its CR: controller and
/// blockOwnerDeletion set, so garbage collection cascades.
pub fn owner_reference(cr: &Value, uid: &str) -> Value {
    let s = |p: &str| cr.pointer(p).and_then(Value::as_str).unwrap_or_default();
    json!({
        "apiVersion": s("/apiVersion"),
        "kind": s("/kind"),
        "name": s("/metadata/name"),
        "uid": uid,
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Adds the CR's ownerReference to a built object (replacing one with the same uid).
/// Cluster-scoped objects must not get one; the caller decides.
pub fn add_owner_reference(object: &mut Value, cr: &Value, uid: &str) {
    let reference = owner_reference(cr, uid);
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let refs = meta
        .entry("ownerReferences")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = refs {
        list.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
        list.push(reference);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_label_carries_the_serve_target() {
        let cr = json!({"metadata": {"name": "a", "namespace": "ns",
            "annotations": {"orkestra.orkspace.io/serve-target": "prod"}}});
        let o = Owner::of(&cr);
        assert_eq!(o.label, "a.prod");
        let mut l = Map::new();
        o.stamp(&mut l);
        assert_eq!(l["orkestra-serve-target"], "prod");
        assert_eq!(l["orkestra.orkspace.io/managed"], "true");
    }

    #[test]
    fn a_cr_without_namespace_owns_children_in_default() {
        assert_eq!(
            Owner::of(&json!({"metadata": {"name": "a"}})).namespace,
            "default"
        );
    }

    #[test]
    fn owner_references_are_added_once_per_uid() {
        let cr = json!({"apiVersion": "x.io/v1", "kind": "X", "metadata": {"name": "a"}});
        let mut obj = json!({"metadata": {"name": "c"}});
        add_owner_reference(&mut obj, &cr, "u1");
        add_owner_reference(&mut obj, &cr, "u1");
        let refs = obj["metadata"]["ownerReferences"].as_array().unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0]["controller"], true);
        assert_eq!(refs[0]["kind"], "X");
    }
}
