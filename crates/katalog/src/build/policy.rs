//! Namespace-level kinds: Namespace, ResourceQuota, LimitRange (spec §6.4).

use serde_json::{Map, Value, json};

use super::KindSpec;
use super::context::{Built, Ctx, Meta, Result};
use super::profiles::ProfileClass;
use super::workloads::put_list;
use crate::resources::{Kind, LimitRangeDecl, NamespaceDecl, ResourceQuotaDecl};

pub(super) const NAMESPACE: KindSpec<NamespaceDecl> = KindSpec::new(Kind::Namespace, namespace);
pub(super) const RESOURCE_QUOTA: KindSpec<ResourceQuotaDecl> =
    KindSpec::new(Kind::ResourceQuota, resource_quota);
pub(super) const LIMIT_RANGE: KindSpec<LimitRangeDecl> =
    KindSpec::new(Kind::LimitRange, limit_range);

fn namespace(_: &Ctx<'_>, meta: &Meta, _: &NamespaceDecl) -> Result<Built> {
    Ok(Built::new(meta.object(Kind::Namespace, json!({}))))
}

fn resource_quota(ctx: &Ctx<'_>, meta: &Meta, d: &ResourceQuotaDecl) -> Result<Built> {
    let hard = match &d.profile {
        Some(name) => ctx
            .profile("profile", ProfileClass::ResourceQuotas, name)?
            .and_then(|p| p.get("hard").cloned())
            .unwrap_or_else(|| json!({})),
        None => Value::Object(ctx.map("hard", &d.hard)?),
    };
    let mut spec = Map::new();
    spec.insert("hard".into(), hard);
    put_list(&mut spec, "scopes", ctx.list("scopes", &d.scopes)?);
    Ok(Built::new(
        meta.object(Kind::ResourceQuota, json!({"spec": spec})),
    ))
}

fn limit_range(ctx: &Ctx<'_>, meta: &Meta, d: &LimitRangeDecl) -> Result<Built> {
    let limits = match &d.profile {
        Some(name) => ctx
            .profile("profile", ProfileClass::LimitRanges, name)?
            .and_then(|p| p.get("limits").cloned())
            .unwrap_or_else(|| json!([])),
        None => ctx.json("limits", &Value::Array(d.limits.clone()), true)?,
    };
    Ok(Built::new(meta.object(
        Kind::LimitRange,
        json!({"spec": {"limits": limits}}),
    )))
}
