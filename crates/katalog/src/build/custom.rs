//! `custom:` children: any apiVersion/kind, schema-agnostic (spec §6.4). The spec and any
//! other top-level keys are rendered recursively, and rendered templates are coerced to the
//! number, boolean or JSON they read as, so typed fields of the target CRD validate.

use serde_json::{Map, Value};

use super::KindSpec;
use super::context::{Built, Ctx, Meta, Result};
use crate::resources::{CustomDecl, Kind};

pub(super) const CUSTOM: KindSpec<CustomDecl> = KindSpec {
    identity: |d| Some((d.api_version.as_ref()?, d.kind.as_ref()?)),
    cluster_scoped: |d| d.metadata.namespaced.map(|n| !n),
    ..KindSpec::new(Kind::Custom, custom)
};

fn custom(ctx: &Ctx<'_>, meta: &Meta, d: &CustomDecl) -> Result<Built> {
    let mut m = Map::new();
    m.insert(
        "apiVersion".into(),
        ctx.required("apiVersion", d.api_version.as_ref())?.into(),
    );
    m.insert("kind".into(), ctx.required("kind", d.kind.as_ref())?.into());
    m.insert("metadata".into(), meta.metadata());
    if let Some(spec) = &d.spec {
        m.insert("spec".into(), ctx.json("spec", spec, true)?);
    }
    for (k, v) in &d.other {
        m.insert(k.clone(), ctx.json(k, v, true)?);
    }
    let status = match &d.status {
        Some(s) => Some(ctx.json("status", s, true)?),
        None => None,
    };
    let has_status = d.has_status.or(status.as_ref().map(|_| true));
    Ok(Built {
        object: Value::Object(m),
        has_status,
        status,
        ..Built::default()
    })
}
