//! What a CR carries because ork manages it (spec §9.2 step 4, §16.6, §24): finalizers,
//! the managed label, the CRD entry's `labels:`, deletion-protection labels; the CRD's
//! namespace guard; and the child kinds a CRD can produce.
//!
//! # The write budget
//! Orkestra patches every CR's metadata on its first reconcile (cleanup finalizer, managed
//! label, `managed-by`/`managed-since`). ork writes a CR's metadata only when something needs
//! it, so a CR whose children the garbage collector can delete costs its children and one
//! status write:
//! - the cleanup finalizer when the delete path has work: `onDelete`, an `external:` call at
//!   `onDelete`, an `emit.events` Event `on: [delete]`, finalizers the Katalog declares, deletion protection
//!   ([`FinalizerNeed::Always`]); and, found at reconcile, before the first child that cannot
//!   carry an ownerReference to the CR (cluster-scoped, or in another namespace) is written
//!   ([`Reconciler::ensure_cleanup`]);
//! - labels the gateway reads (deletion protection, strict-mode exemption) and the CRD entry's
//!   `labels:` always;
//! - the managed label and the `managed-by`/`managed-since` annotations only in a metadata
//!   write that happens anyway (nothing in ork reads them on CRs).

use std::collections::BTreeMap;

use katalog::labels;
use katalog::render::{Text, render_text};
use katalog::resources::Kind;
use katalog::{Crd, Katalog};
use kube::api::DynamicObject;

use super::{Error, Reconciler};
use crate::finalizer::{self, Tracking};

/// When a CRD's CRs carry ork's finalizers (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FinalizerNeed {
    /// The delete path has work for every CR: added on the first reconcile.
    Always,
    /// Only a CR with a child that cannot carry an ownerReference needs the cleanup pass.
    WhenUnowned,
}

impl FinalizerNeed {
    pub(crate) fn of(
        crd: &Crd,
        protection: Protection,
        calls: Option<&crate::outbound::Calls>,
    ) -> FinalizerNeed {
        let declared = crd
            .finalizers
            .iter()
            .any(|f| f.as_str() != labels::CLEANUP_FINALIZER);
        let on_delete_call =
            calls.is_some_and(|c| c.any_in(&[katalog::model::external::Place::OnDelete]));
        let delete_event = crd.operator_box().events.as_ref().is_some_and(|e| {
            e.value
                .values()
                .any(|e| e.value.points().contains(&"delete"))
        });
        if crd.operator_box().on_delete.is_some()
            || on_delete_call
            || delete_event
            || declared
            || protection.protect
        {
            FinalizerNeed::Always
        } else {
            FinalizerNeed::WhenUnowned
        }
    }
}

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
    // A remote reconciler's children: pruned and watched like template children.
    if let Some(remote) = ob.reconciler.as_ref().and_then(|r| r.remote.as_ref()) {
        for m in katalog::remote::managed_kinds(&remote.value) {
            if let Some(v) = m.api_version() {
                push(&v, &m.kind);
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

    /// The tracking metadata this CR must carry, with ork's finalizers when `finalize`;
    /// `None` when nothing needs a metadata write (see the module docs).
    pub(super) fn tracking(&self, cr: &DynamicObject, finalize: bool) -> Option<Tracking> {
        // `removeFinalizers` wins: ork's finalizers are never added (see `strip`).
        let finalize = finalize && !self.strips_finalizers();
        let needed = finalize
            || self.protection.protect
            || self.protection.exempt
            || self.crd.entry.labels.is_some();
        if !needed {
            return None;
        }
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
        Some(Tracking {
            finalizers: if finalize {
                self.finalizers.clone()
            } else {
                Vec::new()
            },
            katalog: self.katalog_name.clone(),
            labels: labels_map,
            now: self.now_text(),
        })
    }

    /// The metadata the first step of a reconcile ensures: see [`Reconciler::tracking`].
    pub(super) fn first_tracking(&self, cr: &DynamicObject) -> Option<Tracking> {
        self.tracking(cr, self.finalizer_need == FinalizerNeed::Always)
    }

    /// Adds the cleanup finalizer (with the rest of the tracking metadata) unless the CR
    /// carries it: called before a child that cannot carry an ownerReference is written, so
    /// the delete path finds and deletes it.
    ///
    /// # Errors
    /// The metadata patch was refused.
    pub(super) async fn ensure_cleanup(&self, cr: &DynamicObject) -> Result<(), Error> {
        let carries = cr
            .metadata
            .finalizers
            .as_ref()
            .is_some_and(|f| f.iter().any(|f| f == labels::CLEANUP_FINALIZER));
        if carries {
            return Ok(());
        }
        let api = self.api(cr.metadata.namespace.as_deref());
        let tracking = self.tracking(cr, true);
        finalizer::update(&api, cr, &self.config.field_manager, |c| {
            tracking
                .as_ref()
                .and_then(|t| finalizer::ensure_patch(c, t))
        })
        .await
        .map(|_| ())
        .map_err(Error::MetadataFailed)
    }
}
