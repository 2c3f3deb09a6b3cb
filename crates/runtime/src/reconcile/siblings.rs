//! What `unique` validation rules compare against at reconcile time (spec §8: a value unique
//! across all instances of the CRD): the same fields of every other CR of the CRD. The box's
//! cache of its CRs is read when the box attached it; a Reconciler running without a box
//! lists the CRs once per reconcile, and only when the CRD has `unique` rules.

use katalog::admission::Siblings;
use kube::api::DynamicObject;
use serde_json::Value;

/// For each of `fields`, its non-null values in `others`, leaving out the CR `me` (namespace,
/// name) itself.
pub fn of<'a>(
    fields: &[&str],
    others: impl IntoIterator<Item = &'a DynamicObject>,
    me: (Option<&str>, &str),
) -> Siblings {
    let others: Vec<Value> = others
        .into_iter()
        .filter(|o| {
            (
                o.metadata.namespace.as_deref(),
                o.metadata.name.as_deref().unwrap_or(""),
            ) != me
        })
        .filter_map(|o| serde_json::to_value(o).ok())
        .collect();
    fields
        .iter()
        .map(|field| {
            let values = others
                .iter()
                .filter_map(|o| katalog::condition::lookup(o, field).cloned())
                .filter(|v| !v.is_null())
                .collect();
            ((*field).to_owned(), values)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cr(ns: &str, name: &str, host: Value) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "x.io/v1", "kind": "Site",
            "metadata": {"namespace": ns, "name": name},
            "spec": {"host": host}
        }))
        .unwrap()
    }

    #[test]
    fn every_other_cr_counts_across_namespaces_but_not_the_cr_itself() {
        let crs = [
            cr("a", "web", json!("a.example")),
            cr("b", "web", json!("b.example")),
            cr("a", "api", json!(null)),
        ];
        let s = of(&["spec.host"], &crs, (Some("a"), "web"));
        assert_eq!(s["spec.host"], [json!("b.example")]);
        let s = of(&["spec.host", "spec.port"], &crs, (Some("c"), "new"));
        assert_eq!(s["spec.host"], [json!("a.example"), json!("b.example")]);
        assert!(s["spec.port"].is_empty());
    }
}
