//! Motif imports (spec §20.2).
//!
//! On a CRD entry, `imports: [{motif: ./m.yaml, with: {...}}]` adds the Motif's resources to the
//! entry's operatorBox (`resources.onCreate` to `onCreate`, every other list to `onReconcile`)
//! and its status fields to `status.fields`; `with:` binds its inputs. At `spec.imports` only
//! the Motif's notes and profiles are taken. Only local paths are supported so far.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Resolver, nodes, resolve_path};
use crate::diagnostic::Diagnostic;
use crate::model::{MotifDocument, Notes, Profiles};
use crate::yaml::{Node, NodeKind, Span};

/// What a set of Motif imports contributes besides resources.
#[derive(Debug, Default)]
pub struct Contribution {
    /// Input bindings (with defaults applied).
    pub inputs: BTreeMap<String, String>,
    /// Notes.
    pub notes: Notes,
    /// Profiles.
    pub profiles: Vec<Profiles>,
}

/// Reads one Motif file named at `reference_node`.
fn read_motif(resolver: &mut Resolver, from: &Path, item: &Node) -> Option<(Node, MotifDocument)> {
    let reference_node = item.get("motif")?;
    let at = resolver.location(reference_node.span);
    let reference = reference_node.as_str().unwrap_or_default();
    let oci = item.get("oci").and_then(Node::as_str) == Some("true");
    let short_name = !reference.contains('/') && reference.contains(':');
    if oci || short_name {
        resolver.report(
            Diagnostic::error(
                "import-unsupported",
                format!("motif `{reference}`: OCI and registry Motif imports are not supported yet; use a local path"),
            )
            .at(&at),
        );
        return None;
    }
    let path = match resolve_path(from, reference) {
        Ok(p) => p,
        Err(message) => {
            resolver.report(
                Diagnostic::error(
                    "import-unsupported",
                    format!("motif `{reference}`: {message}"),
                )
                .at(&at),
            );
            return None;
        }
    };
    let node = resolver.parse(&path, Some(&at))?;
    let kind = node.get("kind").and_then(Node::as_str).unwrap_or_default();
    if kind != "Motif" {
        resolver.report(
            Diagnostic::error(
                "not-a-motif",
                format!("`{}` has kind `{kind}`, expected `Motif`", path.display()),
            )
            .at(&at),
        );
        return None;
    }
    let document: MotifDocument = resolver.decode(&node, "")?;
    Some((node, document))
}

/// Applies the Motif imports of one CRD entry node; returns the input bindings, notes and
/// profiles they bring.
pub fn apply_crd_imports(
    resolver: &mut Resolver,
    from: &Path,
    crd: &str,
    entry: &mut Node,
) -> Contribution {
    let mut out = Contribution::default();
    let Some(imports) = entry.get("imports").cloned() else {
        return out;
    };
    let NodeKind::Seq(items) = &imports.kind else {
        return out;
    };
    for item in items {
        let Some((node, document)) = read_motif(resolver, from, item) else {
            continue;
        };
        let reference = item.get("motif").and_then(Node::as_str).unwrap_or_default();
        let with = item.get("with");
        for input in &document.inputs {
            let bound = with.and_then(|w| w.get(&input.name)).and_then(Node::as_str);
            match (bound, input.fallback()) {
                (Some(v), _) | (None, Some(v)) => {
                    if let Some(ty) = input.value_type
                        && !v.contains("{{")
                        && !ty.admits(v)
                    {
                        let at = resolver.location(item.span);
                        resolver.report(
                            Diagnostic::error(
                                "motif-input-type",
                                format!(
                                    "Motif `{}` input `{}` is `{ty:?}`, but its value is `{v}`",
                                    reference, input.name
                                ),
                            )
                            .at(&at)
                            .with_crd(crd),
                        );
                    }
                    out.inputs.insert(input.name.clone(), v.to_string());
                }
                (None, None) => {
                    let at = resolver.location(item.span);
                    resolver.report(
                        Diagnostic::error(
                            "motif-input-missing",
                            format!("Motif `{}` needs input `{}`", reference, input.name),
                        )
                        .at(&at)
                        .with_crd(crd)
                        .with_hint(format!("add `with: {{{}: ...}}` to the import", input.name)),
                    );
                }
            }
        }
        if let Some(resources) = node.get("resources") {
            merge_resources(entry, resources);
        }
        if let Some(fields) = node.get("status").and_then(|s| s.get("fields")) {
            let span = entry.span;
            if let Some(status) =
                operator_box(entry, span).and_then(|b| nodes::entry(b, "status", span))
            {
                nodes::append_list(status, "fields", fields.clone());
            }
        }
        if let Some(notes) = document.notes {
            out.notes.functions.extend(notes.functions);
        }
        if let Some(profiles) = document.profiles {
            out.profiles.push(profiles);
        }
    }
    out
}

fn operator_box(entry: &mut Node, span: Span) -> Option<&mut Node> {
    nodes::entry(entry, "operatorBox", span)
}

fn merge_resources(entry: &mut Node, resources: &Node) {
    let span = entry.span;
    let newest = entry
        .get("operatorBox")
        .is_some_and(|b| b.get("reconcile").is_some());
    for (key, value) in nodes::entries(resources) {
        let Some(name) = key.as_str() else { continue };
        let (block, lists): (&str, Vec<(&str, &Node)>) =
            if name == "onCreate" || name == "onReconcile" || name == "onDelete" {
                (
                    name,
                    nodes::entries(value)
                        .iter()
                        .filter_map(|(k, v)| k.as_str().map(|k| (k, v)))
                        .collect(),
                )
            } else {
                ("onReconcile", vec![(name, value)])
            };
        let Some(mut target) = operator_box(entry, span) else {
            return;
        };
        if newest {
            match nodes::entry(target, "reconcile", span) {
                Some(t) => target = t,
                None => return,
            }
        }
        let Some(target) = nodes::entry(target, block, span) else {
            return;
        };
        for (kind, items) in lists {
            nodes::append_list(target, kind, items.clone());
        }
    }
}

/// Reads the Motifs of `spec.imports` for their notes and profiles.
pub fn apply_spec_imports(resolver: &mut Resolver, from: &Path, root: &Node) -> Contribution {
    let mut out = Contribution::default();
    let Some(NodeKind::Seq(items)) = root
        .get("spec")
        .and_then(|s| s.get("imports"))
        .map(|i| &i.kind)
    else {
        return out;
    };
    for item in items {
        let Some((_, document)) = read_motif(resolver, from, item) else {
            continue;
        };
        if let Some(notes) = document.notes {
            out.notes.functions.extend(notes.functions);
        }
        if let Some(profiles) = document.profiles {
            out.profiles.push(profiles);
        }
    }
    out
}
