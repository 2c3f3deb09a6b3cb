//! The early form of Katalogs and Komposers (spec §0, "README-old"), which upstream's own
//! examples still write: apiVersion `orkestra.konductor.io/v1Alpha`, `spec.crds` as a list of
//! entries carrying `name:`, the operator box written as `reconciler:` on the CRD entry, and a
//! Komposer's `sources:` for `imports:`.
//!
//! Each is rewritten into today's form before decoding, so it means exactly what the current
//! form means, and each gets a `deprecated-form` warning naming the current spelling.

use super::{Resolver, nodes};
use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, NodeKind, Span, Style};

/// The early apiVersion.
pub const EARLY_API_VERSION: &str = "orkestra.konductor.io/v1Alpha";
/// The apiVersion it is read as.
pub const API_VERSION: &str = "orkestra.orkspace.io/v1";

/// Rewrites the early form of a Katalog or Komposer document in place (other documents are
/// left alone), warning once per rewrite.
pub fn rewrite(resolver: &mut Resolver, root: &mut Node) {
    let kind = root
        .get("kind")
        .and_then(Node::as_str)
        .unwrap_or_default()
        .to_string();
    if !matches!(kind.as_str(), "Katalog" | "Komposer") {
        return;
    }
    if let Some(version) = nodes::get_mut(root, "apiVersion")
        && version.as_str() == Some(EARLY_API_VERSION)
    {
        let span = version.span;
        version.kind = NodeKind::Scalar(API_VERSION.to_string(), Style::Plain);
        warn(
            resolver,
            span,
            "apiVersion",
            format!("apiVersion `{EARLY_API_VERSION}` is the early form; read as `{API_VERSION}`"),
            format!("write `apiVersion: {API_VERSION}`"),
        );
    }
    if kind == "Komposer" && root.get("imports").is_none() {
        rename_key(resolver, root, "sources", "imports", "");
    }
    let Some(crds) = nodes::get_mut(root, "spec").and_then(|s| nodes::get_mut(s, "crds")) else {
        return;
    };
    if let NodeKind::Seq(items) = &crds.kind {
        let span = crds.span;
        match list_to_map(items) {
            Ok(entries) => {
                crds.kind = NodeKind::Map(entries);
                warn(
                    resolver,
                    span,
                    "spec.crds",
                    "`spec.crds` as a list of entries with `name:` is the early form; read as a map keyed by name".into(),
                    "write `crds: {<name>: {...}}`".into(),
                );
            }
            Err(at) => {
                let location = resolver.location(at);
                resolver.report(
                    Diagnostic::error(
                        "missing-field",
                        "an entry of the `spec.crds` list has no `name`",
                    )
                    .at(&location)
                    .with_path("spec.crds")
                    .with_hint("give every entry `name: <crd name>`, or write `crds` as a map"),
                );
                return;
            }
        }
    }
    if let Some(entries) = nodes::entries_mut(crds) {
        for (key, entry) in entries.iter_mut() {
            let name = key.as_str().unwrap_or_default().to_string();
            if entry.get("operatorBox").is_none() && entry.get("reconciler").is_some() {
                let prefix = format!("spec.crds.{name}.");
                rename_key(resolver, entry, "reconciler", "operatorBox", &prefix);
                if let Some(operator_box) = nodes::get_mut(entry, "operatorBox") {
                    nest_extension_points(resolver, operator_box, &format!("{prefix}reconciler."));
                }
            }
        }
    }
}

/// In the early operator box, `hooks:` and `constructor:` sat beside `default:` and the
/// templates; today they live under `operatorBox.reconciler`. Moves them there (unless the box
/// already has a `reconciler:`), with a warning each.
fn nest_extension_points(resolver: &mut Resolver, operator_box: &mut Node, prefix: &str) {
    if operator_box.get("reconciler").is_some() {
        return;
    }
    for key in ["hooks", "constructor"] {
        let Some((key_node, value)) = nodes::entries_mut(operator_box).and_then(|entries| {
            let i = entries.iter().position(|(k, _)| k.as_str() == Some(key))?;
            Some(entries.remove(i))
        }) else {
            continue;
        };
        let span = key_node.span;
        if let Some(reconciler) = nodes::entry(operator_box, "reconciler", span)
            && let Some(entries) = nodes::entries_mut(reconciler)
        {
            entries.push((key_node, value));
        }
        warn(
            resolver,
            span,
            &format!("{prefix}{key}"),
            format!(
                "`{key}` beside the early operator box's templates is the early form; read as `operatorBox.reconciler.{key}`"
            ),
            format!("move `{key}` under `operatorBox.reconciler`"),
        );
    }
}

/// The entries of an early `crds:` list as map entries keyed by their `name:` (removed from
/// the entry); the span of the first entry without a name otherwise.
fn list_to_map(items: &[Node]) -> Result<Vec<(Node, Node)>, Span> {
    items
        .iter()
        .map(|item| {
            let mut entry = item.clone();
            match nodes::remove(&mut entry, "name") {
                Some(name) if name.as_str().is_some() => Ok((name, entry)),
                _ => Err(item.span),
            }
        })
        .collect()
}

/// Renames the key `old` of the map `node` to `new` (when present), with a warning.
fn rename_key(resolver: &mut Resolver, node: &mut Node, old: &str, new: &str, prefix: &str) {
    let Some(entries) = nodes::entries_mut(node) else {
        return;
    };
    let Some((key, _)) = entries.iter_mut().find(|(k, _)| k.as_str() == Some(old)) else {
        return;
    };
    let span = key.span;
    key.kind = NodeKind::Scalar(new.to_string(), Style::Plain);
    warn(
        resolver,
        span,
        &format!("{prefix}{old}"),
        format!("`{old}` here is the early form of `{new}`; read as `{new}`"),
        format!("rename `{old}` to `{new}`"),
    );
}

fn warn(resolver: &mut Resolver, span: Span, path: &str, message: String, hint: String) {
    let at = resolver.location(span);
    resolver.report(
        Diagnostic::warning("deprecated-form", message)
            .at(&at)
            .with_path(path)
            .with_hint(hint),
    );
}
