//! `include:` keys: files merged into the block that names them.
//!
//! `operatorBox.reconciler.include` (and `operatorBox.reconcile.include`) names a file with a
//! top-level `reconciler:`; the inline block wins over the file and `include` is removed.
//! `validation.include` and `mutation.include` (also under `admission:`) name a file with a
//! top-level `rules:` list: its rules come first, the inline rules after them, and `include`
//! is removed (spec §16.3). `profiles.include` and `serve.include` name files that must exist
//! and parse; their content is read where ork uses it.

use std::path::Path;

use super::{Resolver, nodes, resolve_path};
use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, NodeKind};

/// Expands `include:` under the reconciler block(s) of one CRD entry node.
pub fn expand_reconciler_include(resolver: &mut Resolver, from: &Path, entry: &mut Node) {
    let Some(operator_box) = nodes::get_mut(entry, "operatorBox") else {
        return;
    };
    for key in ["reconciler", "reconcile"] {
        let Some(block) = nodes::get_mut(operator_box, key) else {
            continue;
        };
        let Some(include) = nodes::remove(block, "include") else {
            continue;
        };
        let at = resolver.location(include.span);
        let Some(reference) = include.as_str().map(str::to_string) else {
            resolver.report(
                Diagnostic::error("invalid-value", "`include` must be a file path").at(&at),
            );
            continue;
        };
        let path = match resolve_path(from, &reference) {
            Ok(p) => p,
            Err(message) => {
                resolver.report(Diagnostic::error("include-failed", message).at(&at));
                continue;
            }
        };
        let Some(mut file) = resolver.parse(&path, Some(&at)) else {
            continue;
        };
        let Some(mut base) = nodes::remove(&mut file, "reconciler") else {
            resolver.report(
                Diagnostic::error(
                    "include-failed",
                    format!("`{}` has no top-level `reconciler:`", path.display()),
                )
                .at(&at),
            );
            continue;
        };
        let inline = std::mem::replace(
            block,
            Node {
                kind: crate::yaml::NodeKind::Map(Vec::new()),
                span: block.span,
            },
        );
        nodes::merge(&mut base, inline);
        *block = base;
    }
}

/// Expands `include:` of the `validation` and `mutation` blocks (top level and under
/// `admission:`) of one CRD entry node: the file's `rules:` are put before the inline ones.
pub fn expand_rule_includes(resolver: &mut Resolver, from: &Path, entry: &mut Node) {
    for parent in [None, Some("admission")] {
        for key in ["validation", "mutation"] {
            let holder = match parent {
                None => Some(&mut *entry),
                Some(p) => nodes::get_mut(entry, p),
            };
            let Some(block) = holder.and_then(|h| nodes::get_mut(h, key)) else {
                continue;
            };
            let Some(include) = nodes::remove(block, "include") else {
                continue;
            };
            let at = resolver.location(include.span);
            let Some(reference) = include.as_str().map(str::to_string) else {
                resolver.report(
                    Diagnostic::error("invalid-value", "`include` must be a file path").at(&at),
                );
                continue;
            };
            let Some(mut file) = read_included(resolver, from, &reference, &at) else {
                continue;
            };
            let rules = nodes::remove(&mut file, "rules");
            let Some(Node {
                kind: NodeKind::Seq(mut included),
                ..
            }) = rules
            else {
                resolver.report(
                    Diagnostic::error(
                        "include-failed",
                        format!("`{reference}` has no top-level `rules:` list"),
                    )
                    .at(&at)
                    .with_hint(format!(
                        "an included {key} file holds `rules: [...]`, as the inline block does"
                    )),
                );
                continue;
            };
            for (other, _) in nodes::entries(&file) {
                let other_at = resolver.location(other.span);
                resolver.report(
                    Diagnostic::error(
                        "include-failed",
                        format!(
                            "`{}` in `{reference}` is not read: an included {key} file holds only `rules:`",
                            other.as_str().unwrap_or_default()
                        ),
                    )
                    .at(&other_at)
                    .with_hint(format!("move it to the `{key}:` block that names the file")),
                );
            }
            if let Some(NodeKind::Seq(inline)) = nodes::get_mut(block, "rules").map(|r| &mut r.kind)
            {
                included.append(inline);
            }
            nodes::append_list(
                block,
                "rules",
                Node {
                    kind: NodeKind::Seq(included),
                    span: include.span,
                },
            );
        }
    }
}

/// Reads an included file that must exist and parse (serve fields, rule files, token files)
/// and returns its tree.
pub fn read_included(
    resolver: &mut Resolver,
    from: &Path,
    reference: &str,
    at: &crate::Location,
) -> Option<Node> {
    match resolve_path(from, reference) {
        Ok(path) => resolver.parse(&path, Some(at)),
        Err(message) => {
            resolver.report(Diagnostic::error("include-failed", message).at(at));
            None
        }
    }
}
