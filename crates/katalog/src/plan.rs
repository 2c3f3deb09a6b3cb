//! What changes between a deployed Katalog and a local one, CRD by CRD (`ork plan`).
//!
//! Both sides are loaded Katalogs ([`Loaded`]). A CRD present on one side only is added or
//! removed. For a CRD on both sides, the changes are the resolved reconciler settings
//! (`workers`, `resync`, ... as the runtime will use them, profiles and defaults applied)
//! and every leaf of the CRD's declaration (`spec.crds.<name>` in the file that declares it,
//! then a Komposer's override of it), compared as written, positions ignored.

use std::collections::BTreeMap;
use std::path::Path;

use crate::Loaded;
use crate::model::Crd;
use crate::yaml::{Node, NodeKind, parse_single};

/// One changed value: its path and the value before and after (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// `workers`, or a declaration path such as `operatorBox.onReconcile.deployments[0].image`.
    pub path: String,
    /// The deployed value.
    pub before: Option<String>,
    /// The local value.
    pub after: Option<String>,
}

/// How one CRD changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrdChange {
    /// Only in the local Katalog.
    Added(String),
    /// Only in the deployed Katalog.
    Removed(String),
    /// In both, with these differences.
    Modified {
        /// The CRD's name.
        name: String,
        /// What differs, settings first, then declaration leaves in path order.
        fields: Vec<FieldChange>,
    },
}

/// The changes from `deployed` to `local`, CRDs in name order; empty when nothing changes.
/// Katalog-level keys outside `spec` (notes, security, gateway, ...) are reported as a
/// modification of the pseudo-CRD `(katalog)`.
pub fn plan(deployed: &Loaded, local: &Loaded) -> Vec<CrdChange> {
    let mut names: Vec<&str> = deployed
        .katalog
        .crds
        .iter()
        .chain(&local.katalog.crds)
        .map(|c| c.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut changes = Vec::new();
    let top = diff_leaves(&top_level(deployed), &top_level(local));
    if !top.is_empty() {
        changes.push(CrdChange::Modified {
            name: "(katalog)".to_owned(),
            fields: top,
        });
    }
    for name in names {
        match (deployed.katalog.crd(name), local.katalog.crd(name)) {
            (None, Some(_)) => changes.push(CrdChange::Added(name.to_owned())),
            (Some(_), None) => changes.push(CrdChange::Removed(name.to_owned())),
            (Some(before), Some(after)) => {
                let mut fields = diff_leaves(&settings(before), &settings(after));
                fields.extend(diff_leaves(
                    &declaration(deployed, before),
                    &declaration(local, after),
                ));
                if !fields.is_empty() {
                    changes.push(CrdChange::Modified {
                        name: name.to_owned(),
                        fields,
                    });
                }
            }
            (None, None) => {}
        }
    }
    changes
}

/// The resolved settings of a CRD that a rollout changes, by name.
fn settings(crd: &Crd) -> BTreeMap<String, String> {
    let s = &crd.settings;
    let mut out = BTreeMap::from([
        ("apiVersion".to_owned(), crd.gvk().api_version()),
        ("kind".to_owned(), crd.gvk().kind.clone()),
        ("plural".to_owned(), crd.plural.clone()),
        ("namespaced".to_owned(), crd.namespaced.to_string()),
        ("enabled".to_owned(), crd.enabled.to_string()),
        ("workers".to_owned(), s.workers.to_string()),
        ("resync".to_owned(), format!("{:?}", s.resync)),
        ("maxDepth".to_owned(), s.max_depth.to_string()),
        (
            "failureThreshold".to_owned(),
            s.failure_threshold.to_string(),
        ),
        ("finalizers".to_owned(), crd.finalizers.join(",")),
    ]);
    if let Some(p) = &s.profile {
        out.insert("profile".to_owned(), p.clone());
    }
    out
}

/// The leaves of a CRD's declaration: `spec.crds.<name>` of the file declaring it, then the
/// entry file's (a Komposer's override), later ones winning.
fn declaration(loaded: &Loaded, crd: &Crd) -> BTreeMap<String, String> {
    let mut leaves = BTreeMap::new();
    let mut files = vec![crd.at.file.as_path()];
    if crd.at.file != loaded.path {
        files.push(loaded.path.as_path());
    }
    for file in files {
        if let Some(entry) = root(loaded, file)
            .as_ref()
            .and_then(|r| r.get("spec"))
            .and_then(|s| s.get("crds"))
            .and_then(|c| c.get(&crd.name))
        {
            flatten(entry, String::new(), &mut leaves);
        }
    }
    leaves
}

/// The leaves of the entry file outside `spec` (and `metadata.version`, which every
/// release changes).
fn top_level(loaded: &Loaded) -> BTreeMap<String, String> {
    let mut leaves = BTreeMap::new();
    if let Some(Node {
        kind: NodeKind::Map(entries),
        ..
    }) = root(loaded, &loaded.path)
    {
        for (k, v) in &entries {
            if let Some(key) = k.as_str()
                && key != "spec"
            {
                flatten(v, key.to_owned(), &mut leaves);
            }
        }
    }
    leaves.remove("metadata.version");
    leaves
}

/// The parsed document of a file the load read.
fn root(loaded: &Loaded, file: &Path) -> Option<Node> {
    let text = if file == loaded.path {
        loaded.raw.as_str()
    } else {
        loaded.sources.text(file)?
    };
    parse_single(text, 0).ok()
}

/// Every scalar under `node`, keyed by its dotted path (`a.b[0].c`); an empty map or list
/// is a leaf of its own (`{}`, `[]`).
fn flatten(node: &Node, path: String, out: &mut BTreeMap<String, String>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match &node.kind {
        NodeKind::Scalar(text, _) => {
            out.insert(path, text.clone());
        }
        NodeKind::Seq(items) if items.is_empty() => {
            out.insert(path, "[]".to_owned());
        }
        NodeKind::Map(entries) if entries.is_empty() => {
            out.insert(path, "{}".to_owned());
        }
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(item, format!("{path}[{i}]"), out);
            }
        }
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                flatten(v, join(k.as_str().unwrap_or("?")), out);
            }
        }
    }
}

/// The differing keys of two leaf maps, in key order.
fn diff_leaves(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<FieldChange> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| FieldChange {
            path: k.clone(),
            before: before.get(k).cloned(),
            after: after.get(k).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Loaded {
        crate::load_text("katalog.yaml", text).unwrap_or_else(|d| panic!("{}", d.render()))
    }

    const BASE: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: shop, version: 0.1.0}
spec:
  crds:
    web:
      apiTypes: {group: ex.io, version: v1, kind: Web, plural: webs}
      operatorBox:
        reconciler: {workers: 1}
        onReconcile:
          configMaps:
            - name: "{{ .metadata.name }}"
              data: {a: "1"}
    old:
      apiTypes: {group: ex.io, version: v1, kind: Old, plural: olds}
"#;

    #[test]
    fn the_same_katalog_plans_nothing_even_reformatted_and_re_versioned() {
        let moved = BASE
            .replace("version: 0.1.0", "version: 0.2.0")
            .replace("data: {a: \"1\"}", "data:\n                a: '1'");
        assert_eq!(plan(&load(BASE), &load(&moved)), []);
    }

    #[test]
    fn added_removed_and_modified_crds_with_their_field_changes() {
        let local = BASE
            .replace("workers: 1", "workers: 3")
            .replace("data: {a: \"1\"}", "data: {a: \"2\"}")
            .replace(
                "    old:\n      apiTypes: {group: ex.io, version: v1, kind: Old, plural: olds}\n",
                "    new:\n      apiTypes: {group: ex.io, version: v1, kind: New, plural: news}\n",
            );
        let changes = plan(&load(BASE), &load(&local));
        let change = |path: &str, before: &str, after: &str| FieldChange {
            path: path.to_owned(),
            before: Some(before.to_owned()),
            after: Some(after.to_owned()),
        };
        assert_eq!(
            changes,
            [
                CrdChange::Added("new".to_owned()),
                CrdChange::Removed("old".to_owned()),
                CrdChange::Modified {
                    name: "web".to_owned(),
                    fields: vec![
                        change("workers", "1", "3"),
                        change("operatorBox.onReconcile.configMaps[0].data.a", "1", "2"),
                        change("operatorBox.reconciler.workers", "1", "3"),
                    ],
                },
            ]
        );
    }
}
