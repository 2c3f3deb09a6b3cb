//! `operatorBox:` in the v0.7.17 layout and the newest five-section layout (spec §5), and the
//! mapping of the newest layout onto the v0.7.17 fields (spec §5.3), so the rest of ork reads
//! one shape.

use serde::Deserialize;

use super::{
    Autoscale, Condition, CrdEntry, Cross, HookTemplates, Observe, PreReconcile, Reconciler,
    Status, Watch,
};
use crate::de::Spanned;

/// An OperatorBox as written. After [`OperatorBox::normalize`] only the v0.7.17 fields are set.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OperatorBox {
    /// Identity and tuning (v0.7.17).
    pub reconciler: Option<Reconciler>,
    /// Shorthand of `reconciler.default` seen in packs.
    pub default: Option<bool>,
    /// Finalizers (override `spec.finalizers`).
    pub finalizers: Option<Vec<String>>,
    /// Templates applied when a CR is first seen.
    pub on_create: Option<HookTemplates>,
    /// Templates converged every reconcile.
    pub on_reconcile: Option<HookTemplates>,
    /// Templates run on deletion.
    pub on_delete: Option<HookTemplates>,
    /// Declared status.
    pub status: Option<Status>,
    /// Cross reads (v0.7.17 place).
    #[serde(default)]
    pub cross: Vec<Spanned<Cross>>,
    /// Secondary watches (older place).
    #[serde(default)]
    pub watch: Vec<Spanned<Watch>>,
    /// Watches, events and (newest) cross reads.
    pub observe: Option<Observe>,
    /// Gates.
    pub pre_reconcile: Option<PreReconcile>,
    /// Operator self-scaling.
    pub autoscale: Option<Spanned<Autoscale>>,
    /// Rollback trigger and templates.
    pub rollback: Option<Spanned<super::Rollback>>,
    /// Roll back after repeated failures.
    pub roll_back_on_error: Option<bool>,
    /// Box-level conditions.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// Box-level conditions.
    #[serde(default)]
    pub or: Vec<Condition>,
    /// Raw provider blocks.
    pub providers: Option<serde_json::Value>,
    /// Newest layout: long-lived policy.
    pub runtime: Option<Spanned<RuntimeSection>>,
    /// Newest layout: identity, templates and tuning.
    pub reconcile: Option<Spanned<Reconciler>>,
    /// Newest layout: status and named events.
    pub emit: Option<Spanned<Emit>>,
    /// Newest layout `runtime.cleanup` (kept as written).
    #[serde(skip)]
    pub cleanup: Option<serde_json::Value>,
    /// Newest layout `emit.events`: named Events.
    #[serde(skip)]
    pub events: Option<Spanned<super::EmitEvents>>,
}

/// Newest layout `operatorBox.runtime`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuntimeSection {
    /// Finalizers.
    pub finalizers: Option<Vec<String>>,
    /// Testing: strip finalizers.
    pub remove_finalizers: Option<bool>,
    /// Deletion protection override.
    pub deletion_protection: Option<Spanned<super::CrdProtection>>,
    /// Namespace guard.
    pub restricted_namespaces: Option<Spanned<Vec<String>>>,
    /// Namespace guard.
    pub allowed_namespaces: Option<Spanned<Vec<String>>>,
    /// Skip the status patch.
    pub ignore_status_patch: Option<bool>,
    /// Ignore observedGeneration.
    pub ignore_observed_generation: Option<bool>,
    /// Operator self-scaling.
    pub autoscale: Option<Spanned<Autoscale>>,
    /// Rollback.
    pub rollback: Option<Spanned<super::Rollback>>,
    /// Roll back after repeated failures.
    pub roll_back_on_error: Option<bool>,
    /// Conditional cleanup.
    pub cleanup: Option<serde_json::Value>,
}

/// Newest layout `operatorBox.emit`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Emit {
    /// Declared status.
    pub status: Option<Status>,
    /// Named structured events.
    pub events: Option<Spanned<super::EmitEvents>>,
}

/// A key set in both layouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutConflict {
    /// The v0.7.17 key.
    pub old: &'static str,
    /// The newest-layout key.
    pub new: &'static str,
    /// Where the newest-layout section is.
    pub at: crate::Location,
}

fn put<T>(
    slot: &mut Option<T>,
    value: Option<T>,
    old: &'static str,
    new: &'static str,
    at: &crate::Location,
    conflicts: &mut Vec<LayoutConflict>,
) {
    if let Some(value) = value {
        if slot.is_some() {
            conflicts.push(LayoutConflict {
                old,
                new,
                at: at.clone(),
            });
        } else {
            *slot = Some(value);
        }
    }
}

impl OperatorBox {
    /// Moves the newest layout's sections onto the v0.7.17 fields (spec §5.3). CRD-level keys
    /// that the newest layout keeps in `operatorBox.runtime` move onto `entry`. Keys set in
    /// both layouts are returned as conflicts and the v0.7.17 value is kept.
    pub fn normalize(&mut self, entry: &mut CrdEntry) -> Vec<LayoutConflict> {
        let mut c = Vec::new();
        if let Some(shorthand) = self.default.take() {
            let reconciler = self.reconciler.get_or_insert_with(Reconciler::default);
            put(
                &mut reconciler.default,
                Some(shorthand),
                "operatorBox.reconciler.default",
                "operatorBox.default",
                &crate::Location::default(),
                &mut c,
            );
        }
        if let Some(reconcile) = self.reconcile.take() {
            let at = reconcile.at.clone();
            let mut r = reconcile.value;
            put(
                &mut self.on_create,
                r.on_create.take(),
                "operatorBox.onCreate",
                "operatorBox.reconcile.onCreate",
                &at,
                &mut c,
            );
            put(
                &mut self.on_reconcile,
                r.on_reconcile.take(),
                "operatorBox.onReconcile",
                "operatorBox.reconcile.onReconcile",
                &at,
                &mut c,
            );
            put(
                &mut self.on_delete,
                r.on_delete.take(),
                "operatorBox.onDelete",
                "operatorBox.reconcile.onDelete",
                &at,
                &mut c,
            );
            put(
                &mut self.reconciler,
                Some(r),
                "operatorBox.reconciler",
                "operatorBox.reconcile",
                &at,
                &mut c,
            );
        }
        if let Some(reconciler) = &mut self.reconciler {
            put(
                &mut self.on_create,
                reconciler.on_create.take(),
                "operatorBox.onCreate",
                "operatorBox.reconciler.onCreate",
                &crate::Location::default(),
                &mut c,
            );
            put(
                &mut self.on_reconcile,
                reconciler.on_reconcile.take(),
                "operatorBox.onReconcile",
                "operatorBox.reconciler.onReconcile",
                &crate::Location::default(),
                &mut c,
            );
            put(
                &mut self.on_delete,
                reconciler.on_delete.take(),
                "operatorBox.onDelete",
                "operatorBox.reconciler.onDelete",
                &crate::Location::default(),
                &mut c,
            );
        }
        if let Some(emit) = self.emit.take() {
            let at = emit.at.clone();
            put(
                &mut self.status,
                emit.value.status,
                "operatorBox.status",
                "operatorBox.emit.status",
                &at,
                &mut c,
            );
            self.events = emit.value.events;
        }
        if let Some(observe) = &mut self.observe {
            self.cross.append(&mut observe.cross);
            self.watch.append(&mut observe.watch);
        }
        if let Some(runtime) = self.runtime.take() {
            let at = runtime.at.clone();
            let r = runtime.value;
            put(
                &mut self.finalizers,
                r.finalizers,
                "operatorBox.finalizers",
                "operatorBox.runtime.finalizers",
                &at,
                &mut c,
            );
            put(
                &mut self.autoscale,
                r.autoscale,
                "operatorBox.autoscale",
                "operatorBox.runtime.autoscale",
                &at,
                &mut c,
            );
            put(
                &mut self.rollback,
                r.rollback,
                "operatorBox.rollback",
                "operatorBox.runtime.rollback",
                &at,
                &mut c,
            );
            put(
                &mut self.roll_back_on_error,
                r.roll_back_on_error,
                "operatorBox.rollBackOnError",
                "operatorBox.runtime.rollBackOnError",
                &at,
                &mut c,
            );
            self.cleanup = r.cleanup;
            put(
                &mut entry.remove_finalizers,
                r.remove_finalizers,
                "removeFinalizers",
                "operatorBox.runtime.removeFinalizers",
                &at,
                &mut c,
            );
            put(
                &mut entry.deletion_protection,
                r.deletion_protection,
                "deletionProtection",
                "operatorBox.runtime.deletionProtection",
                &at,
                &mut c,
            );
            put(
                &mut entry.restricted_namespaces,
                r.restricted_namespaces,
                "restrictedNamespaces",
                "operatorBox.runtime.restrictedNamespaces",
                &at,
                &mut c,
            );
            put(
                &mut entry.allowed_namespaces,
                r.allowed_namespaces,
                "allowedNamespaces",
                "operatorBox.runtime.allowedNamespaces",
                &at,
                &mut c,
            );
            put(
                &mut entry.ignore_status_patch,
                r.ignore_status_patch,
                "ignoreStatusPatch",
                "operatorBox.runtime.ignoreStatusPatch",
                &at,
                &mut c,
            );
            put(
                &mut entry.ignore_observed_generation,
                r.ignore_observed_generation,
                "ignoreObservedGeneration",
                "operatorBox.runtime.ignoreObservedGeneration",
                &at,
                &mut c,
            );
        }
        c
    }
}

impl CrdEntry {
    /// Maps the newest layout onto the v0.7.17 fields: CRD-level `admission:` and the
    /// five-section operatorBox. Returns keys declared in both layouts.
    pub fn normalize(&mut self) -> Vec<LayoutConflict> {
        let mut c = Vec::new();
        if let Some(admission) = self.admission.take() {
            let at = crate::Location::default();
            put(
                &mut self.validation,
                admission.validation,
                "validation",
                "admission.validation",
                &at,
                &mut c,
            );
            put(
                &mut self.mutation,
                admission.mutation,
                "mutation",
                "admission.mutation",
                &at,
                &mut c,
            );
            put(
                &mut self.conversion,
                admission.conversion,
                "conversion",
                "admission.conversion",
                &at,
                &mut c,
            );
            put(
                &mut self.webhooks,
                admission.webhooks,
                "webhooks",
                "admission.webhooks",
                &at,
                &mut c,
            );
        }
        if let Some(mut operator_box) = self.operator_box.take() {
            c.extend(operator_box.normalize(self));
            self.operator_box = Some(operator_box);
        }
        c
    }
}
