//! [`preview`]: every object one CR produces, without a cluster (`ork template`).

use gotmpl::{NotesError, RenderContext};
use serde_json::{Map, Value};

use time::OffsetDateTime;

use super::{
    Builder, EngineRender, ProfileRegistry, add_owner_reference, engine_for, hooks_of,
    template_keys,
};
use crate::admission::admit_at_reconcile;
use crate::model::{Crd, Katalog};

/// The uid previews put in ownerReferences (the real one exists only in a cluster).
pub const PLACEHOLDER_UID: &str = "00000000-0000-0000-0000-000000000000";

/// Why a preview could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// `--crd` names no CRD of the Katalog.
    #[error("no CRD named {0:?} in the Katalog")]
    UnknownCrd(String),
    /// No CRD has the CR's apiVersion and kind.
    #[error("no CRD of the Katalog has kind {kind:?} ({api_version}); name one with --crd")]
    NoCrdForKind {
        /// The CR's apiVersion.
        api_version: String,
        /// The CR's kind.
        kind: String,
    },
    /// Several CRDs have the CR's kind.
    #[error("several CRDs have kind {kind:?} ({}); name one with --crd", candidates.join(", "))]
    AmbiguousKind {
        /// The CR's kind.
        kind: String,
        /// The CRD names that match.
        candidates: Vec<String>,
    },
    /// The Katalog's notes do not compile together.
    #[error("the Katalog's notes are invalid")]
    NotesInvalid(#[source] NotesError),
    /// A declaration failed to build.
    #[error("cannot build the CR's children")]
    BuildFailed(#[source] super::Error),
    /// A Motif `with:` binding does not render for this CR.
    #[error("cannot bind the CR's Motif inputs")]
    Input(#[source] super::InputError),
    /// The CRD's namespace guard excludes the CR's namespace: `ork run` does not reconcile it.
    #[error(
        "the CRD does not reconcile CRs in namespace {0:?} (allowedNamespaces/restrictedNamespaces)"
    )]
    NamespaceNotPermitted(String),
    /// Normalize, mutation or a `deny` validation rule refuses the CR: `ork run` would apply
    /// nothing for it either.
    #[error("the CR is denied: {0}")]
    Denied(String),
}

/// Picks the CRD a CR belongs to: the one named, else the one of the CR's kind (matched
/// on apiVersion and kind, or on kind alone when no apiVersion matches).
pub fn crd_for<'k>(
    k: &'k Katalog,
    cr: &Value,
    name: Option<&str>,
) -> Result<&'k Crd, PreviewError> {
    if let Some(name) = name {
        return k
            .crd(name)
            .ok_or_else(|| PreviewError::UnknownCrd(name.to_owned()));
    }
    let api_version = cr["apiVersion"].as_str().unwrap_or_default();
    let kind = cr["kind"].as_str().unwrap_or_default();
    let exact: Vec<&Crd> = k
        .crds
        .iter()
        .filter(|c| c.gvk().kind == kind && c.gvk().api_version() == api_version)
        .collect();
    let candidates = if exact.is_empty() {
        k.crds.iter().filter(|c| c.gvk().kind == kind).collect()
    } else {
        exact
    };
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(PreviewError::NoCrdForKind {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
        }),
        many => Err(PreviewError::AmbiguousKind {
            kind: kind.to_owned(),
            candidates: many.iter().map(|c| c.name.clone()).collect(),
        }),
    }
}

/// The objects one reconcile of `cr` applies, in apply order, with ownerReferences to the
/// CR (uid [`PLACEHOLDER_UID`]) on namespaced children.
///
/// # Errors
/// No matching CRD, invalid notes, or a declaration that cannot be built.
pub fn preview(k: &Katalog, cr: &Value, crd: Option<&str>) -> Result<Vec<Value>, PreviewError> {
    let crd = crd_for(k, cr, crd)?;
    if let Some(ns) = cr["metadata"]["namespace"].as_str()
        && crd.namespaced
        && !crd.permits_namespace(ns)
    {
        return Err(PreviewError::NamespaceNotPermitted(ns.to_owned()));
    }
    let render = EngineRender::new(engine_for(k).map_err(PreviewError::NotesInvalid)?)
        .with_context(RenderContext {
            seed: Some(0),
            ..RenderContext::default()
        });
    let profiles = ProfileRegistry::from_katalog(k);
    // As a reconcile does: the keys beside the CR (no cluster: `.cross` is empty), then
    // normalize, mutation and validation, then the children of the admitted CR.
    let keys = template_keys(crd, &render, cr, Map::new(), None).map_err(PreviewError::Input)?;
    let mut data = cr.clone();
    if let Some(d) = data.as_object_mut() {
        d.extend(keys.clone());
    }
    let admitted = admit_at_reconcile(crd, &data, &render, OffsetDateTime::now_utc(), None);
    if let Some(denied) = admitted.denied {
        return Err(PreviewError::Denied(denied));
    }
    let now = OffsetDateTime::now_utc();
    let plan = Builder::new(&render)
        .profiles(&profiles)
        .for_crd(crd)
        .now(now)
        .build(&admitted.object, hooks_of(crd), &keys)
        .map_err(PreviewError::BuildFailed)?;
    Ok(plan
        .children
        .into_iter()
        .map(|mut c| {
            if let Some(scale) = &c.scale {
                // As the first apply settles it (no live object yet). The time of the
                // change is the apply's own, so the preview does not show one.
                scale.settle(&mut c.object, None, None, now);
                if let Some(a) = c
                    .object
                    .pointer_mut("/metadata/annotations")
                    .and_then(Value::as_object_mut)
                {
                    a.remove(super::LAST_SCALE_ANNOTATION);
                    if a.is_empty() {
                        c.object["metadata"]
                            .as_object_mut()
                            .map(|m| m.remove("annotations"));
                    }
                }
            }
            if !c.cluster_scoped {
                add_owner_reference(&mut c.object, cr, PLACEHOLDER_UID);
            }
            c.object
        })
        .collect())
}
