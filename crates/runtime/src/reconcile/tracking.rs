//! What a CR carries because ork manages it (spec §9.2 step 4, §16.6, §24): finalizers,
//! the managed label, the CRD entry's `labels:`, deletion-protection labels; the CRD's
//! namespace guard; and the child kinds a CRD can produce.

use std::collections::BTreeMap;

use katalog::labels;
use katalog::render::{Text, render_text};
use katalog::resources::Kind;
use katalog::{Crd, Katalog};
use kube::api::DynamicObject;

use super::Reconciler;
use crate::finalizer::Tracking;

/// See [`Reconciler::child_kinds`].
pub(crate) fn child_kinds_of(crd: &Crd) -> Vec<(String, String)> {
    let ob = crd.operator_box();
    let mut blocks = Vec::new();
    for block in [&ob.on_create, &ob.on_reconcile, &ob.on_delete]
        .into_iter()
        .flatten()
    {
        blocks.push(block);
        blocks.extend(block.groups.iter());
    }
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |api_version: &str, kind: &str| {
        let k = (api_version.to_owned(), kind.to_owned());
        if !out.contains(&k) {
            out.push(k);
        }
    };
    for kind in Kind::ALL {
        for block in &blocks {
            if block.declarations(kind).is_empty() {
                continue;
            }
            match (kind.api_version(), kind.kube_kind()) {
                (Some(v), Some(k)) => push(v, k),
                _ => {
                    for c in &block.custom {
                        if let (Some(v), Some(k)) = (&c.api_version, &c.kind)
                            && !v.is_template()
                            && !k.is_template()
                        {
                            push(v.as_str(), k.as_str());
                        }
                    }
                }
            }
        }
    }
    out
}

/// Deletion-protection labels this CRD's CRs carry (spec §9.2 step 4, §16.6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Protection {
    /// `orkestra.io/deletion-protection: "true"`: `security.deletionProtection` is on and
    /// the CRD does not turn `protectCRs` (or the whole setting) off.
    pub(crate) protect: bool,
    /// `orkestra.io/strict-mode-exempt: "true"`: the CRD sets `strictMode: false`.
    pub(super) exempt: bool,
}

impl Protection {
    pub(crate) fn of(katalog: &Katalog, crd: &Crd) -> Protection {
        let global = katalog
            .document
            .security
            .as_ref()
            .and_then(|s| s.deletion_protection.as_ref())
            .is_some_and(|p| p.enabled != Some(false));
        let own = crd.entry.deletion_protection.as_deref();
        Protection {
            protect: global && own.is_none_or(katalog::model::CrdProtection::protects_crs),
            exempt: own.is_some_and(katalog::model::CrdProtection::strict_mode_exempt),
        }
    }
}

impl Reconciler {
    /// The CRD's namespace guard (`allowedNamespaces`, `restrictedNamespaces`): CRs in other
    /// namespaces are not reconciled at all.
    pub(super) fn is_namespace_permitted(&self, ns: &str) -> bool {
        self.crd.permits_namespace(ns)
    }

    /// The tracking metadata this CR must carry.
    pub(super) fn tracking(&self, cr: &DynamicObject) -> Tracking {
        let mut labels_map =
            BTreeMap::from([(labels::MANAGED.to_owned(), labels::TRUE.to_owned())]);
        for (on, label) in [
            (self.protection.protect, labels::DELETION_PROTECTION),
            (self.protection.exempt, labels::STRICT_MODE_EXEMPT),
        ] {
            if on {
                labels_map.insert(label.to_owned(), labels::TRUE.to_owned());
            }
        }
        if let Some(declared) = &self.crd.entry.labels {
            let data = self.cr_json(cr);
            for (k, v) in &declared.0 {
                match render_text(&*self.render, &Text::new(v.clone()), &data) {
                    Ok(s) => {
                        labels_map.insert(k.clone(), s.into_owned());
                    }
                    Err(e) => tracing::warn!(label = k, error = %e, "CR label cannot be rendered"),
                }
            }
        }
        Tracking {
            finalizers: if self.strips_finalizers() {
                Vec::new()
            } else {
                self.finalizers.clone()
            },
            katalog: self.katalog_name.clone(),
            labels: labels_map,
            now: self.now_text(),
        }
    }
}
