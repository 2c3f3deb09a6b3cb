//! Configuration kinds: ConfigMap and Secret (spec §6.4). Both may be copied into several
//! namespaces (`toNamespaces`) or from an existing object (`fromConfigMap`/`fromSecret`,
//! carried as [`SecretFlags::copy_from`] for the runtime to fill in).

use base64::Engine as _;
use serde_json::{Map, Value};

use super::context::{Built, Ctx, Meta, Result};
use super::{KindSpec, ObjectRef, SecretFlags, TlsRequest};
use crate::render::Text;
use crate::resources::{ConfigMapDecl, Kind, SecretDecl};

pub(super) const CONFIG_MAP: KindSpec<ConfigMapDecl> = KindSpec {
    targets: |d| &d.to_namespaces,
    ..KindSpec::new(Kind::ConfigMap, config_map)
};
pub(super) const SECRET: KindSpec<SecretDecl> = KindSpec {
    targets: |d| &d.to_namespaces,
    ..KindSpec::new(Kind::Secret, secret)
};

/// The object to copy from, in `from_namespace` or the owner's namespace.
fn copy_source(
    ctx: &Ctx<'_>,
    meta: &Meta,
    kind: &str,
    name_field: &str,
    name: Option<&Text>,
    namespace: Option<&Text>,
) -> Result<Option<ObjectRef>> {
    let Some(name) = ctx.opt(name_field, name)? else {
        return Ok(None);
    };
    let namespace = ctx
        .namespace("fromNamespace", namespace)?
        .or_else(|| meta.namespace.clone());
    Ok(Some(ObjectRef {
        api_version: "v1".into(),
        kind: kind.into(),
        namespace,
        name,
    }))
}

fn config_map(ctx: &Ctx<'_>, meta: &Meta, d: &ConfigMapDecl) -> Result<Built> {
    let mut body = Map::new();
    let data = ctx.map("data", &d.data)?;
    if !data.is_empty() {
        body.insert("data".into(), Value::Object(data));
    }
    let binary = ctx.map("binaryData", &d.binary_data)?;
    if !binary.is_empty() {
        body.insert("binaryData".into(), Value::Object(binary));
    }
    let mut built = Built::new(meta.object(Kind::ConfigMap, Value::Object(body)));
    if let Some(from) = copy_source(
        ctx,
        meta,
        "ConfigMap",
        "fromConfigMap",
        d.from_config_map.as_ref(),
        d.from_namespace.as_ref(),
    )? {
        built.secret = Some(SecretFlags {
            copy_from: Some(from),
            ..SecretFlags::default()
        });
    }
    Ok(built)
}

/// A Secret; `data` values are plain text, written base64-encoded.
fn secret(ctx: &Ctx<'_>, meta: &Meta, d: &SecretDecl) -> Result<Built> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut data = Map::new();
    for (k, v) in d.data.iter().chain(d.string_data.iter()) {
        let text = ctx.text(&format!("data.{k}"), v)?;
        data.insert(k.clone(), b64.encode(text).into());
    }
    let mut body = Map::new();
    let tls = match &d.tls {
        Some(t) => {
            let valid_for = match &t.valid_for {
                Some(v) => ctx.duration("tls.validFor", v)?,
                None => None,
            };
            let rotate = match &d.rotate_after {
                Some(r) => ctx.duration("rotateAfter", r)?,
                None => None,
            };
            Some(TlsRequest {
                common_name: ctx
                    .opt("tls.commonName", t.common_name.as_ref())?
                    .unwrap_or_else(|| meta.name.clone()),
                dns_names: ctx
                    .list("tls.dnsNames", &t.dns_names)?
                    .into_iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                valid_for: valid_for
                    .or(rotate)
                    .unwrap_or(std::time::Duration::from_secs(365 * 86_400)),
            })
        }
        None => None,
    };
    let kind = match (ctx.opt("type", d.secret_type.as_ref())?, &tls) {
        (Some(t), _) => t,
        (None, Some(_)) => "kubernetes.io/tls".into(),
        (None, None) => "Opaque".into(),
    };
    body.insert("type".into(), kind.into());
    if !data.is_empty() && tls.is_none() {
        body.insert("data".into(), Value::Object(data));
    }
    let rotate_after = match &d.rotate_after {
        Some(r) => ctx.duration("rotateAfter", r)?,
        None => None,
    };
    let copy_from = copy_source(
        ctx,
        meta,
        "Secret",
        "fromSecret",
        d.from_secret.as_ref(),
        d.from_namespace.as_ref(),
    )?;
    let mut built = Built::new(meta.object(Kind::Secret, Value::Object(body)));
    built.secret = Some(SecretFlags {
        once: d.once,
        rotate_after,
        tls,
        copy_from,
    });
    Ok(built)
}
