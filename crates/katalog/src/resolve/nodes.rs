//! Editing YAML trees before they are decoded: deep merges (Komposer overrides, includes) and
//! list appends (Motif resources). Working on nodes keeps every value's original position.

use crate::yaml::{Node, NodeKind, Span, Style};

/// Deep-merges `over` onto `base`: maps merge key by key (recursively), anything else in
/// `over` replaces what `base` has.
pub fn merge(base: &mut Node, over: Node) {
    match (&mut base.kind, over.kind) {
        (NodeKind::Map(entries), NodeKind::Map(over_entries)) => {
            for (key, value) in over_entries {
                let name = key.as_str().map(str::to_string);
                let existing = entries
                    .iter_mut()
                    .find(|(k, _)| name.is_some() && k.as_str() == name.as_deref());
                match existing {
                    Some((_, slot)) => merge(slot, value),
                    None => entries.push((key, value)),
                }
            }
        }
        (_, kind) => {
            base.kind = kind;
            base.span = over.span;
        }
    }
}

/// The value under `key` of a mapping, mutably.
pub fn get_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut node.kind {
        NodeKind::Map(entries) => entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// Removes `key` from a mapping and returns its value.
pub fn remove(node: &mut Node, key: &str) -> Option<Node> {
    match &mut node.kind {
        NodeKind::Map(entries) => {
            let index = entries.iter().position(|(k, _)| k.as_str() == Some(key))?;
            Some(entries.remove(index).1)
        }
        _ => None,
    }
}

/// The value under `key`, created as an empty mapping (at `span`) when absent or null.
/// Returns `None` when `node` is not a mapping.
pub fn entry<'a>(node: &'a mut Node, key: &str, span: Span) -> Option<&'a mut Node> {
    if node.is_null() {
        node.kind = NodeKind::Map(Vec::new());
    }
    let NodeKind::Map(entries) = &mut node.kind else {
        return None;
    };
    let index = match entries.iter().position(|(k, _)| k.as_str() == Some(key)) {
        Some(i) => i,
        None => {
            entries.push((
                Node {
                    kind: NodeKind::Scalar(key.to_string(), Style::Plain),
                    span,
                },
                Node {
                    kind: NodeKind::Map(Vec::new()),
                    span,
                },
            ));
            entries.len() - 1
        }
    };
    let slot = &mut entries[index].1;
    if slot.is_null() {
        slot.kind = NodeKind::Map(Vec::new());
    }
    Some(slot)
}

/// Appends the items of the list `items` to the list under `key` of `node` (created when
/// absent). Returns false when a value in the way is not a list.
pub fn append_list(node: &mut Node, key: &str, items: Node) -> bool {
    let NodeKind::Seq(new_items) = items.kind else {
        return false;
    };
    let span = items.span;
    let Some(slot) = entry(node, key, span) else {
        return false;
    };
    if matches!(&slot.kind, NodeKind::Map(e) if e.is_empty()) {
        slot.kind = NodeKind::Seq(Vec::new());
    }
    match &mut slot.kind {
        NodeKind::Seq(existing) => {
            existing.extend(new_items);
            true
        }
        _ => false,
    }
}

/// The entries of a mapping node (empty for anything else).
pub fn entries(node: &Node) -> &[(Node, Node)] {
    match &node.kind {
        NodeKind::Map(entries) => entries,
        _ => &[],
    }
}

/// The entries of a mapping node, mutably.
pub fn entries_mut(node: &mut Node) -> Option<&mut Vec<(Node, Node)>> {
    match &mut node.kind {
        NodeKind::Map(entries) => Some(entries),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;

    #[test]
    fn merge_overrides_leaves_and_keeps_siblings() {
        let mut base = parse_single("a:\n  b: 1\n  c: 2\nd: [1]\n", 0).unwrap();
        let over = parse_single("a:\n  b: 9\nd: [2, 3]\ne: x\n", 1).unwrap();
        merge(&mut base, over);
        let a = base.get("a").unwrap();
        assert_eq!(a.get("b").unwrap().as_str(), Some("9"));
        assert_eq!(a.get("b").unwrap().span.file, 1);
        assert_eq!(a.get("c").unwrap().as_str(), Some("2"));
        assert!(matches!(&base.get("d").unwrap().kind, NodeKind::Seq(items) if items.len() == 2));
        assert_eq!(base.get("e").unwrap().as_str(), Some("x"));
    }

    #[test]
    fn append_list_creates_missing_keys() {
        let mut base = parse_single("box: {}\n", 0).unwrap();
        let items = parse_single("[1, 2]", 0).unwrap();
        let target = get_mut(&mut base, "box").unwrap();
        let on_reconcile = entry(target, "onReconcile", Span::default()).unwrap();
        assert!(append_list(on_reconcile, "services", items));
        let services = base
            .get("box")
            .unwrap()
            .get("onReconcile")
            .unwrap()
            .get("services");
        assert!(matches!(&services.unwrap().kind, NodeKind::Seq(items) if items.len() == 2));
    }
}
