//! The early form of `envFrom` references, which upstream's own examples still write:
//!
//! ```yaml
//! envFrom:
//!   secretRef: ["{{ .metadata.name }}-creds"]
//! ```
//!
//! Upstream first read `secretRef`/`configMapRef` as lists of names and later as lists of
//! `{name: ...}` maps (no longer accepting bare names). A bare name here is rewritten into
//! `{name: <it>}` before decoding, so it means exactly what the map form means, with a
//! `deprecated-form` warning for each list that used it.

use super::Resolver;
use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, NodeKind, Span, Style};

/// Rewrites every `envFrom.secretRef`/`envFrom.configMapRef` list of bare names in `root`.
pub fn rewrite(resolver: &mut Resolver, root: &mut Node) {
    let mut rewritten = Vec::new();
    visit(root, "", &mut rewritten);
    for (span, path, key) in rewritten {
        let at = resolver.location(span);
        resolver.report(
            Diagnostic::warning(
                "deprecated-form",
                format!("`envFrom.{key}` as a list of names is the early form; each name is read as `{{name: ...}}`"),
            )
            .at(&at)
            .with_path(path)
            .with_hint(format!("write `{key}: [{{name: ...}}]`")),
        );
    }
}

/// What was rewritten: the list's place, its key path and its key.
type Rewritten = Vec<(Span, String, &'static str)>;

/// Walks `node` (at key path `path`), rewriting as it goes.
fn visit(node: &mut Node, path: &str, rewritten: &mut Rewritten) {
    match &mut node.kind {
        NodeKind::Map(entries) => {
            for (key, value) in entries.iter_mut() {
                let name = key.as_str().unwrap_or_default();
                let child = if path.is_empty() {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                };
                if name == "envFrom" {
                    rewrite_refs(value, &child, rewritten);
                }
                visit(value, &child, rewritten);
            }
        }
        NodeKind::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                visit(item, &format!("{path}[{i}]"), rewritten);
            }
        }
        NodeKind::Scalar(..) => {}
    }
}

fn rewrite_refs(env_from: &mut Node, path: &str, rewritten: &mut Rewritten) {
    let NodeKind::Map(entries) = &mut env_from.kind else {
        return;
    };
    for (key, list) in entries.iter_mut() {
        let name: &'static str = match key.as_str() {
            Some("secretRef") => "secretRef",
            Some("configMapRef") => "configMapRef",
            _ => continue,
        };
        let span = list.span;
        let NodeKind::Seq(items) = &mut list.kind else {
            continue;
        };
        let mut any = false;
        for item in items.iter_mut() {
            if let NodeKind::Scalar(..) = &item.kind
                && !item.is_null()
            {
                let key = Node {
                    kind: NodeKind::Scalar("name".into(), Style::Plain),
                    span: item.span,
                };
                let value = item.clone();
                item.kind = NodeKind::Map(vec![(key, value)]);
                any = true;
            }
        }
        if any {
            rewritten.push((span, format!("{path}.{name}"), name));
        }
    }
}
