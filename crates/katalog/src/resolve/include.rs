//! `include:` keys: files merged into the block that names them.
//!
//! `operatorBox.reconciler.include` (and `operatorBox.reconcile.include`) names a file with a
//! top-level `reconciler:`; the inline block wins over the file and `include` is removed.
//! `profiles.include`, `validation.include`, `mutation.include` and `serve.include` name files
//! that must exist and parse; their content is merged where ork uses it.

use std::path::Path;

use super::{Resolver, nodes, resolve_path};
use crate::diagnostic::Diagnostic;
use crate::yaml::Node;

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
