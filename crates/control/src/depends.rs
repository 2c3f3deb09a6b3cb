//! Each CRD's `dependsOn`, read from the Katalog as written (`GET /katalog/raw`), since the
//! runtime's `/katalog` summary does not carry it. The three forms of §4.2 are understood:
//! `[a, b]`, `{a: healthy}` and `{a: {condition: healthy}}`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One edge of the dependency graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// The CRD depended upon.
    pub name: String,
    /// `started` or `healthy`.
    pub condition: String,
}

/// Every CRD's dependencies in the Katalog YAML `raw`; CRDs without any are left out.
///
/// # Errors
/// The YAML error when `raw` does not parse.
pub fn of_raw(raw: &str) -> Result<BTreeMap<String, Vec<Dependency>>, String> {
    let document: Value = serde_saphyr::from_str(raw).map_err(|e| e.to_string())?;
    let mut graph = BTreeMap::new();
    let Some(crds) = document["spec"]["crds"].as_object() else {
        return Ok(graph);
    };
    for (name, entry) in crds {
        let edges = edges(&entry["dependsOn"]);
        if !edges.is_empty() {
            graph.insert(name.clone(), edges);
        }
    }
    Ok(graph)
}

fn edges(value: &Value) -> Vec<Dependency> {
    let edge = |name: &str, condition: &str| Dependency {
        name: name.to_owned(),
        condition: condition.to_owned(),
    };
    match value {
        Value::String(name) => vec![edge(name, "started")],
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .map(|n| edge(n, "started"))
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(name, condition)| {
                let condition = condition
                    .as_str()
                    .or_else(|| condition["condition"].as_str())
                    .unwrap_or("started");
                edge(name, condition)
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_depends_on_is_read() {
        let raw = "
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: shop}
spec:
  crds:
    db: {}
    cache:
      dependsOn: [db]
    web:
      dependsOn: {db: healthy, cache: {condition: started}}
";
        let graph = of_raw(raw).unwrap();
        assert!(!graph.contains_key("db"));
        assert_eq!(
            graph["cache"],
            [Dependency {
                name: "db".into(),
                condition: "started".into()
            }]
        );
        let web: Vec<(&str, &str)> = graph["web"]
            .iter()
            .map(|d| (d.name.as_str(), d.condition.as_str()))
            .collect();
        assert_eq!(web, [("cache", "started"), ("db", "healthy")]);
    }

    #[test]
    fn a_katalog_without_crds_has_no_edges_and_bad_yaml_is_an_error() {
        assert!(of_raw("kind: Komposer\n").unwrap().is_empty());
        assert!(of_raw("a: [").is_err());
    }
}
