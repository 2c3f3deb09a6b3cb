//! `.children` as templates read it after the converge pass (spec §8.2): every child the plan
//! applied, grouped by kind, under a plural key mapping name → object
//! (`.children.jobs`, read as `index .children.jobs "release-build"`) and a singular key
//! holding the first one in plan order (`.children.job`). Custom children are also
//! grouped under `customs`/`custom`; HorizontalPodAutoscalers, PersistentVolumeClaims and
//! PersistentVolumes also answer to Orkestra's short names (`hpas`/`hpa`, `pvc`, `pv`).

use serde_json::{Map, Value};

/// The objects of one kind, in plan order.
#[derive(Debug, Clone, Default)]
pub struct Group {
    /// The Kubernetes kind (`Deployment`).
    pub kind: String,
    /// `(name, object)` in plan order.
    pub objects: Vec<(String, Value)>,
}

/// The children one reconcile applied, grouped by kind.
#[derive(Debug, Clone, Default)]
pub struct ChildrenView {
    /// `(singular key, plural key, group)` in first-seen order.
    groups: Vec<(String, String, Group)>,
    /// Custom children (any declared kind) as (group, object) positions, for
    /// `customs`/`custom`.
    customs: Vec<(usize, usize)>,
}

impl ChildrenView {
    /// Adds `object` (a stored child) of `kind` whose resource plural is `plural`.
    pub fn add(&mut self, kind: &str, plural: &str, custom: bool, object: Value) {
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let singular = kind.to_lowercase();
        let at = match self.groups.iter().position(|(s, _, _)| *s == singular) {
            Some(at) => at,
            None => {
                self.groups.push((
                    singular,
                    plural.to_owned(),
                    Group {
                        kind: kind.to_owned(),
                        objects: Vec::new(),
                    },
                ));
                self.groups.len() - 1
            }
        };
        let objects = &mut self.groups[at].2.objects;
        objects.push((name, object));
        if custom {
            self.customs.push((at, objects.len() - 1));
        }
    }

    /// Every group, for enrichment to add its keys to the objects.
    pub fn groups_mut(&mut self) -> impl Iterator<Item = &mut Group> {
        self.groups.iter_mut().map(|(_, _, g)| g)
    }

    /// Every group.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter().map(|(_, _, g)| g)
    }

    /// The `.children` map: plural and singular keys per kind, plus the aliases.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let mut put = |singular: &str, plural: &str, objects: &[(String, Value)]| {
            let Some((_, first)) = objects.first() else {
                return;
            };
            let by_name: Map<String, Value> = objects.iter().cloned().collect();
            out.entry(plural).or_insert(Value::Object(by_name));
            out.entry(singular).or_insert_with(|| first.clone());
        };
        for (singular, plural, group) in &self.groups {
            put(singular, plural, &group.objects);
            match singular.as_str() {
                "horizontalpodautoscaler" => put("hpa", "hpas", &group.objects),
                "persistentvolumeclaim" => put("pvc", plural, &group.objects),
                "persistentvolume" => put("pv", plural, &group.objects),
                _ => {}
            }
        }
        // Custom objects as enrichment left them (they are also in their kind's group).
        let customs: Vec<(String, Value)> = self
            .customs
            .iter()
            .map(|&(g, o)| self.groups[g].2.objects[o].clone())
            .collect();
        put("custom", "customs", &customs);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(name: &str) -> Value {
        json!({"metadata": {"name": name}})
    }

    #[test]
    fn each_kind_has_a_map_by_name_and_its_first_object() {
        let mut view = ChildrenView::default();
        view.add("Job", "jobs", false, obj("build"));
        view.add("Job", "jobs", false, obj("test"));
        view.add(
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            false,
            obj("web"),
        );
        let map = view.to_map();
        assert_eq!(map["job"]["metadata"]["name"], "build");
        assert_eq!(map["jobs"]["test"]["metadata"]["name"], "test");
        assert_eq!(map["jobs"]["build"]["metadata"]["name"], "build");
        assert_eq!(map["hpa"]["metadata"]["name"], "web");
        assert_eq!(map["hpas"]["web"]["metadata"]["name"], "web");
        assert_eq!(
            map["horizontalpodautoscalers"]["web"]["metadata"]["name"],
            "web"
        );
        assert!(!map.contains_key("custom"));
    }

    #[test]
    fn custom_children_are_also_under_customs() {
        let mut view = ChildrenView::default();
        view.add("Database", "databases", true, obj("db"));
        let map = view.to_map();
        assert_eq!(map["database"]["metadata"]["name"], "db");
        assert_eq!(map["custom"]["metadata"]["name"], "db");
        assert_eq!(map["customs"]["db"]["metadata"]["name"], "db");
    }
}
