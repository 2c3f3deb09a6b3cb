//! [`preview`]: every object one CR produces, without a cluster (`ork template`).

use gotmpl::{NotesError, RenderContext};
use serde_json::{Map, Value};

use super::{Builder, EngineRender, ProfileRegistry, add_owner_reference, engine_for, hooks_of};
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
    let render = EngineRender::new(engine_for(k).map_err(PreviewError::NotesInvalid)?)
        .with_context(RenderContext {
            seed: Some(0),
            ..RenderContext::default()
        });
    let profiles = ProfileRegistry::from_katalog(k);
    let plan = Builder::new(&render)
        .profiles(&profiles)
        .for_crd(crd)
        .build(cr, hooks_of(crd), &Map::new())
        .map_err(PreviewError::BuildFailed)?;
    Ok(plan
        .children
        .into_iter()
        .map(|mut c| {
            if !c.cluster_scoped {
                add_owner_reference(&mut c.object, cr, PLACEHOLDER_UID);
            }
            c.object
        })
        .collect())
}
