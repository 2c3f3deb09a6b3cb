//! Komposer (spec §20.1): a Katalog built from imported Katalog files plus overrides.
//!
//! The imported files' CRD entries are collected (a name imported twice is an error), then the
//! Komposer's own `spec.crds` entries are deep-merged onto them field by field (each must name
//! an imported CRD). Registry and Helm imports are not supported yet.

use std::path::{Path, PathBuf};

use super::{Resolver, nodes, resolve_path};
use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, NodeKind};

/// One imported Katalog.
#[derive(Debug)]
pub struct Imported {
    /// The file.
    pub path: PathBuf,
    /// Its tree, with `spec.crds` moved out.
    pub root: Node,
    /// The names of the CRDs it brought.
    pub crds: Vec<String>,
}

/// Replaces the Komposer's `spec.crds` with the merged CRD entries of its imports and returns
/// the imported documents (for notes, profiles and provenance).
pub fn compose(resolver: &mut Resolver, path: &Path, root: &mut Node) -> Vec<Imported> {
    let mut merged: Vec<(Node, Node)> = Vec::new();
    let mut imported = Vec::new();
    let Some(imports) = root.get("imports").cloned() else {
        return imported;
    };
    for (key, value) in nodes::entries(&imports) {
        let at = resolver.location(key.span);
        match key.as_str() {
            Some("files") => {}
            Some(other @ ("registry" | "helm")) => {
                if !value.is_null() && !matches!(&value.kind, NodeKind::Seq(v) if v.is_empty()) {
                    resolver.report(
                        Diagnostic::error(
                            "import-unsupported",
                            format!("`imports.{other}` is not supported yet; import local Katalog files with `imports.files`"),
                        )
                        .at(&at)
                        .with_path(format!("imports.{other}")),
                    );
                }
                continue;
            }
            _ => continue,
        }
        let NodeKind::Seq(files) = &value.kind else {
            continue;
        };
        for file in files {
            let at = resolver.location(file.span);
            let reference = file
                .as_str()
                .or_else(|| file.get("url").and_then(Node::as_str))
                .unwrap_or_default()
                .to_string();
            let target = match resolve_path(path, &reference) {
                Ok(p) => p,
                Err(message) => {
                    resolver.report(
                        Diagnostic::error(
                            "import-unsupported",
                            format!("import `{reference}`: {message}"),
                        )
                        .at(&at)
                        .with_path("imports.files"),
                    );
                    continue;
                }
            };
            let Some(mut doc) = resolver.parse(&target, Some(&at)) else {
                continue;
            };
            let kind = doc.get("kind").and_then(Node::as_str).unwrap_or_default();
            if kind == "Komposer" {
                resolver.report(
                    Diagnostic::error(
                        "komposer-imports-komposer",
                        format!(
                            "`{}` is a Komposer; a Komposer can only import Katalogs",
                            target.display()
                        ),
                    )
                    .at(&at),
                );
                continue;
            }
            let crds = nodes::get_mut(&mut doc, "spec")
                .and_then(|spec| nodes::remove(spec, "crds"))
                .map(|crds| match crds.kind {
                    NodeKind::Map(entries) => entries,
                    _ => Vec::new(),
                })
                .unwrap_or_default();
            let mut names = Vec::new();
            for (name, entry) in crds {
                let text = name.as_str().unwrap_or_default().to_string();
                if let Some((first, _)) = merged.iter().find(|(k, _)| k.as_str() == Some(&text)) {
                    let first_at = resolver.location(first.span);
                    resolver.report(
                        Diagnostic::error(
                            "duplicate-crd",
                            format!("CRD `{text}` is imported twice (first at {first_at})"),
                        )
                        .at(&resolver.location(name.span))
                        .with_crd(text.clone())
                        .with_hint("rename one of them, or disable one with a Komposer override `enabled: false`"),
                    );
                    continue;
                }
                names.push(text);
                merged.push((name, entry));
            }
            imported.push(Imported {
                path: target,
                root: doc,
                crds: names,
            });
        }
    }
    let overrides = nodes::get_mut(root, "spec")
        .and_then(|spec| nodes::remove(spec, "crds"))
        .map(|crds| match crds.kind {
            NodeKind::Map(entries) => entries,
            _ => Vec::new(),
        })
        .unwrap_or_default();
    for (name, over) in overrides {
        let text = name.as_str().unwrap_or_default().to_string();
        match merged.iter_mut().find(|(k, _)| k.as_str() == Some(&text)) {
            Some((_, base)) => nodes::merge(base, over),
            None => {
                let at = resolver.location(name.span);
                resolver.report(
                    Diagnostic::error(
                        "override-unknown-crd",
                        format!("Komposer override `spec.crds.{text}` names no imported CRD"),
                    )
                    .at(&at)
                    .with_crd(text.clone())
                    .with_path(format!("spec.crds.{text}")),
                );
            }
        }
    }
    let span = root.span;
    if let Some(spec) = nodes::entry(root, "spec", span)
        && let Some(entries) = nodes::entries_mut(spec)
    {
        entries.push((
            Node {
                kind: NodeKind::Scalar("crds".into(), crate::yaml::Style::Plain),
                span,
            },
            Node {
                kind: NodeKind::Map(merged),
                span,
            },
        ));
    }
    imported
}
