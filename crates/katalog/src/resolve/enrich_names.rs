//! Enrich target names are read case-insensitively, as upstream reads them (its own examples
//! write `replicasets` for `replicaSets`): each `spec.crds.<name>.enrich` entry spelled in
//! another case than a known target is rewritten to the canonical spelling before decoding,
//! so everything that reads the model sees one name. Unknown names are left for validation
//! to report.

use crate::model::ENRICH_TARGETS;
use crate::yaml::{Node, NodeKind};

/// Rewrites the enrich target names of every CRD entry of `root` to their canonical case.
pub fn rewrite(root: &mut Node) {
    let Some(crds) =
        super::nodes::get_mut(root, "spec").and_then(|s| super::nodes::get_mut(s, "crds"))
    else {
        return;
    };
    let Some(entries) = super::nodes::entries_mut(crds) else {
        return;
    };
    for (_, entry) in entries.iter_mut() {
        let Some(NodeKind::Seq(targets)) =
            super::nodes::get_mut(entry, "enrich").map(|e| &mut e.kind)
        else {
            continue;
        };
        for target in targets.iter_mut() {
            let name = match &mut target.kind {
                NodeKind::Scalar(..) => target,
                NodeKind::Map(pairs) if pairs.len() == 1 => &mut pairs[0].0,
                _ => continue,
            };
            canonical_case(name);
        }
    }
}

/// Replaces the scalar `name` with the known target it spells in another case.
fn canonical_case(name: &mut Node) {
    let NodeKind::Scalar(text, _) = &mut name.kind else {
        return;
    };
    if let Some(known) = ENRICH_TARGETS
        .iter()
        .find(|t| t.eq_ignore_ascii_case(text) && **t != text.as_str())
    {
        *text = (*known).to_string();
    }
}
