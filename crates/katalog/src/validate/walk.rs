//! Walking the merged YAML trees, for checks that need exact positions of nested values.

use crate::yaml::{Node, NodeKind};

/// Calls `f` on every node under `node` with its key path (`a.b[0].c`).
pub fn walk<'a>(node: &'a Node, path: &str, f: &mut impl FnMut(&'a Node, &str)) {
    f(node, path);
    match &node.kind {
        NodeKind::Scalar(..) => {}
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), f);
            }
        }
        NodeKind::Map(entries) => {
            for (key, value) in entries {
                let k = key.as_str().unwrap_or("?");
                let child = if path.is_empty() {
                    k.to_string()
                } else {
                    format!("{path}.{k}")
                };
                walk(value, &child, f);
            }
        }
    }
}

/// The CRD entry name a key path belongs to (`spec.crds.<name>.…`).
pub fn crd_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("spec.crds.")?;
    Some(rest.split(['.', '[']).next().unwrap_or(rest))
}

/// The last key of a path.
pub fn last_key(path: &str) -> &str {
    let tail = path.rsplit('.').next().unwrap_or(path);
    tail.split('[').next().unwrap_or(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_the_crd_and_last_key() {
        assert_eq!(crd_of("spec.crds.web.operatorBox.x"), Some("web"));
        assert_eq!(crd_of("metadata.name"), None);
        assert_eq!(last_key("a.b[2]"), "b");
        assert_eq!(last_key("a.image"), "image");
    }

    #[test]
    fn walk_visits_every_node_with_its_path() {
        let node = crate::yaml::parse_single("a: {b: [x, y]}\n", 0).unwrap();
        let mut seen = Vec::new();
        walk(&node, "", &mut |_, p| seen.push(p.to_string()));
        assert_eq!(seen, ["", "a", "a.b", "a.b[0]", "a.b[1]"]);
    }
}
