//! Cross-namespace copies left out of an in-memory run, as Orkestra's simulate leaves them
//! out: a Secret or ConfigMap declaration with `fromNamespace` or `toNamespaces` copies an
//! object that lives in the cluster, which the in-memory API does not hold. Run, each would
//! fail its cycle on the missing source and hide what the rest of the CRD does; removed,
//! the run says so in a note. A run against a control plane (`--envtest`) keeps them: the
//! copy then reads whatever that API holds.

use katalog::Crd;
use katalog::render::Text;
use katalog::resources::HookTemplates;

/// `crd` without its cross-namespace copy declarations, and one note per declaration left
/// out (`onCreate.secrets[0] "{{ .spec.secretName }}": …`).
pub fn without_cross_namespace_copies(crd: &Crd) -> (Crd, Vec<String>) {
    let mut crd = crd.clone();
    let mut notes = Vec::new();
    if let Some(b) = crd.entry.operator_box.as_mut() {
        for (phase, hooks) in [
            ("onCreate", &mut b.on_create),
            ("onReconcile", &mut b.on_reconcile),
            ("onDelete", &mut b.on_delete),
        ] {
            if let Some(h) = hooks.as_mut() {
                strip(h, phase, &mut notes);
            }
        }
    }
    (crd, notes)
}

fn strip(h: &mut HookTemplates, at: &str, notes: &mut Vec<String>) {
    keep(
        &mut h.secrets,
        &format!("{at}.secrets"),
        |d| {
            (
                d.from_namespace.is_some() || !d.to_namespaces.is_empty(),
                d.name.as_ref(),
            )
        },
        notes,
    );
    keep(
        &mut h.config_maps,
        &format!("{at}.configMaps"),
        |d| {
            (
                d.from_namespace.is_some() || !d.to_namespaces.is_empty(),
                d.name.as_ref(),
            )
        },
        notes,
    );
    for (i, group) in h.groups.iter_mut().enumerate() {
        strip(group, &format!("{at}.groups[{i}]"), notes);
    }
}

/// Keeps the declarations `copy` says are not copies (it also gives their name), noting
/// the others.
fn keep<T>(
    decls: &mut Vec<T>,
    at: &str,
    copy: impl Fn(&T) -> (bool, Option<&Text>),
    notes: &mut Vec<String>,
) {
    let mut i = 0;
    decls.retain(|d| {
        let (is_copy, name) = copy(d);
        if is_copy {
            let name = name
                .map(|n| format!(" {:?}", n.as_str()))
                .unwrap_or_default();
            notes.push(format!(
                "{at}[{i}]{name}: cross-namespace copy skipped (it reads its source from a \
                 live cluster; --envtest runs it)"
            ));
        }
        i += 1;
        !is_copy
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd(on_create: &str) -> Crd {
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n    dist:\n      apiTypes: {{group: a.io, version: v1, kind: Dist, plural: dists}}\n      operatorBox:\n        onCreate:\n{on_create}"
        );
        let loaded =
            katalog::load_text("katalog.yaml", text).unwrap_or_else(|d| panic!("{}", d.render()));
        loaded.katalog.crd("dist").unwrap().clone()
    }

    #[test]
    fn copies_into_or_from_other_namespaces_are_left_out_with_a_note_each() {
        let crd = crd(
            "          secrets:\n            - {name: a, fromSecret: s, fromNamespace: platform, toNamespaces: [x]}\n            - {name: b, data: {k: v}}\n          configMaps:\n            - {name: c, toNamespaces: ['{{ .spec.targets }}']}\n            - {name: d, data: {k: v}}\n",
        );
        let (stripped, notes) = without_cross_namespace_copies(&crd);
        let on_create = stripped.operator_box().on_create.as_ref().unwrap();
        let kept: Vec<_> = on_create
            .secrets
            .iter()
            .filter_map(|d| d.name.as_ref())
            .chain(on_create.config_maps.iter().filter_map(|d| d.name.as_ref()))
            .map(Text::as_str)
            .collect();
        assert_eq!(kept, ["b", "d"]);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].starts_with("onCreate.secrets[0] \"a\": cross-namespace copy skipped"));
        assert!(notes[1].starts_with("onCreate.configMaps[0] \"c\":"));
        assert!(
            crd.operator_box().on_create.as_ref().unwrap().secrets.len() == 2,
            "the Katalog's own CRD is left as it is"
        );
    }

    #[test]
    fn a_crd_without_copies_is_unchanged_and_noted_nothing() {
        let crd = crd("          secrets: [{name: b, data: {k: v}}]\n");
        let (stripped, notes) = without_cross_namespace_copies(&crd);
        assert!(notes.is_empty());
        assert_eq!(stripped.operator_box(), crd.operator_box());
    }
}
