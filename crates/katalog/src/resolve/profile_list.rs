//! Profile classes written as lists (upstream's own form, spec §20.3):
//!
//! ```yaml
//! profiles:
//!   limitRanges:
//!     - name: minimal
//!       description: Low defaults for CI
//!       limits: [...]
//! ```
//!
//! is read as the map form `limitRanges: {minimal: {limits: [...]}}`: each entry is keyed by
//! its `name:`, and its `description:` (documentation only, as upstream treats it) is dropped.
//! Both forms are current, so the list form gets no warning. An entry without a `name` and
//! a name given twice in one class are errors.

use super::Resolver;
use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, NodeKind};

/// Rewrites every list-form class under the top-level `profiles:` of `root` in place.
pub fn rewrite(resolver: &mut Resolver, root: &mut Node) {
    let Some(profiles) = super::nodes::get_mut(root, "profiles") else {
        return;
    };
    let Some(classes) = super::nodes::entries_mut(profiles) else {
        return;
    };
    for (class_key, class) in classes.iter_mut() {
        let class_name = class_key.as_str().unwrap_or_default().to_string();
        let NodeKind::Seq(items) = &class.kind else {
            continue;
        };
        let mut entries: Vec<(Node, Node)> = Vec::new();
        for item in items {
            let mut entry = item.clone();
            let name = super::nodes::remove(&mut entry, "name");
            let Some(name) = name.filter(|n| n.as_str().is_some_and(|s| !s.is_empty())) else {
                let at = resolver.location(item.span);
                resolver.report(
                    Diagnostic::error(
                        "missing-field",
                        format!("an entry of the `profiles.{class_name}` list has no `name`"),
                    )
                    .at(&at)
                    .with_path(format!("profiles.{class_name}"))
                    .with_hint("give every entry `name: <profile name>`"),
                );
                continue;
            };
            super::nodes::remove(&mut entry, "description");
            if entries.iter().any(|(k, _)| k.as_str() == name.as_str()) {
                let at = resolver.location(name.span);
                resolver.report(
                    Diagnostic::error(
                        "duplicate-profile",
                        format!(
                            "{class_name} profile `{}` is declared twice",
                            name.as_str().unwrap_or_default()
                        ),
                    )
                    .at(&at)
                    .with_path(format!("profiles.{class_name}"))
                    .with_hint("rename one of the two profiles"),
                );
                continue;
            }
            if entry.is_null() {
                entry.kind = NodeKind::Map(Vec::new());
            }
            entries.push((name, entry));
        }
        class.kind = NodeKind::Map(entries);
    }
}
