//! Traffic kinds: Service, Ingress, NetworkPolicy (spec §6.4).

use serde_json::{Map, Value, json};

use super::context::{Built, Ctx, Meta, Result, int_or_string};
use super::profiles::ProfileClass;
use super::workloads::{put, put_list};
use super::{KindSpec, SecretFlags, TlsRequest};
use crate::resources::{IngressDecl, Kind, NetworkPolicyDecl, ServiceDecl};

pub(super) const SERVICE: KindSpec<ServiceDecl> = KindSpec::new(Kind::Service, service);
pub(super) const INGRESS: KindSpec<IngressDecl> = KindSpec::new(Kind::Ingress, ingress);
pub(super) const NETWORK_POLICY: KindSpec<NetworkPolicyDecl> =
    KindSpec::new(Kind::NetworkPolicy, network_policy);

/// A Service selecting the owner's pods (or the declared selector).
fn service(ctx: &Ctx<'_>, meta: &Meta, d: &ServiceDecl) -> Result<Built> {
    let port = ctx
        .int("port", d.port.as_ref())?
        .ok_or_else(|| super::context::Fault::at("port", super::ErrorKind::Missing))?;
    let mut p = Map::new();
    p.insert("port".into(), port.into());
    let target = ctx.int_or_string("targetPort", d.target_port.as_ref())?;
    p.insert("targetPort".into(), target.unwrap_or_else(|| port.into()));
    let protocol = ctx
        .opt("protocol", d.protocol.as_ref())?
        .unwrap_or_else(|| "TCP".into());
    p.insert("protocol".into(), protocol.to_ascii_uppercase().into());
    put(
        &mut p,
        "nodePort",
        ctx.int("nodePort", d.node_port.as_ref())?.map(Value::from),
    );
    let selector = ctx.map("selector", &d.selector)?;
    let mut spec = Map::new();
    let kind = ctx
        .opt("type", d.service_type.as_ref())?
        .unwrap_or_else(|| "ClusterIP".into());
    spec.insert("type".into(), kind.into());
    if d.headless {
        spec.insert("clusterIP".into(), "None".into());
    }
    spec.insert(
        "selector".into(),
        if selector.is_empty() {
            meta.owner_selector()
        } else {
            Value::Object(selector)
        },
    );
    spec.insert("ports".into(), Value::Array(vec![Value::Object(p)]));
    Ok(Built::new(
        meta.object(Kind::Service, json!({"spec": spec})),
    ))
}

/// An Ingress with one rule routing `path` on `host` to a Service port.
fn ingress(ctx: &Ctx<'_>, meta: &Meta, d: &IngressDecl) -> Result<Built> {
    let owner = &meta.owner_name;
    let service = ctx
        .opt("serviceName", d.service_name.as_ref())?
        .unwrap_or_else(|| format!("{owner}-svc"));
    let port = match ctx.opt("servicePort", d.service_port.as_ref())? {
        Some(p) => match int_or_string(&p) {
            Value::String(name) => json!({"name": name}),
            n => json!({"number": n}),
        },
        None => json!({"number": 80}),
    };
    let path = json!({
        "path": ctx.opt("path", d.path.as_ref())?.unwrap_or_else(|| "/".into()),
        "pathType": ctx.opt("pathType", d.path_type.as_ref())?.unwrap_or_else(|| "Prefix".into()),
        "backend": {"service": {"name": service, "port": port}},
    });
    let mut rule = Map::new();
    put(
        &mut rule,
        "host",
        ctx.opt("host", d.host.as_ref())?.map(Value::from),
    );
    rule.insert("http".into(), json!({"paths": [path]}));
    let mut spec = Map::new();
    put(
        &mut spec,
        "ingressClassName",
        ctx.opt("className", d.class_name.as_ref())?
            .map(Value::from),
    );
    spec.insert("rules".into(), json!([rule]));
    let mut companions = Vec::new();
    if let Some(tls) = &d.tls
        && (tls.create || tls.enabled || tls.secret_name.is_some())
    {
        let secret = ctx
            .opt("tls.secretName", tls.secret_name.as_ref())?
            .unwrap_or_else(|| format!("{owner}-tls"));
        let hosts = ctx.list("tls.hosts", &tls.hosts)?;
        if tls.create || tls.enabled {
            companions.push((Kind::Secret, tls_secret(ctx, meta, &secret, &hosts, tls)?));
        }
        let mut t = Map::new();
        put_list(&mut t, "hosts", hosts);
        t.insert("secretName".into(), secret.into());
        spec.insert("tls".into(), json!([t]));
    }
    let mut built = Built::new(meta.object(Kind::Ingress, json!({"spec": spec})));
    built.companions = companions;
    Ok(built)
}

/// The self-signed TLS Secret an Ingress with `tls.create` (or `enabled`) asks for: made
/// once, for the TLS hosts.
fn tls_secret(
    ctx: &Ctx<'_>,
    meta: &Meta,
    name: &str,
    hosts: &[Value],
    tls: &crate::resources::IngressTls,
) -> Result<Built> {
    let dns_names: Vec<String> = hosts
        .iter()
        .filter_map(|h| h.as_str().map(str::to_owned))
        .collect();
    let valid_for = match &tls.valid_for {
        Some(v) => ctx.duration("tls.validFor", v)?,
        None => None,
    };
    let mut secret_meta = meta.clone();
    secret_meta.name = name.to_owned();
    let mut built =
        Built::new(secret_meta.object(Kind::Secret, json!({"type": "kubernetes.io/tls"})));
    built.secret = Some(SecretFlags {
        once: true,
        tls: Some(TlsRequest {
            common_name: dns_names
                .first()
                .cloned()
                .unwrap_or_else(|| name.to_owned()),
            dns_names,
            valid_for: valid_for.unwrap_or(std::time::Duration::from_secs(365 * 86_400)),
        }),
        ..SecretFlags::default()
    });
    Ok(built)
}

/// A NetworkPolicy from a profile or explicit rules.
fn network_policy(ctx: &Ctx<'_>, meta: &Meta, d: &NetworkPolicyDecl) -> Result<Built> {
    let mut spec = Map::new();
    let selector = match &d.pod_selector {
        Some(v) => ctx.json("podSelector", v, false)?,
        None => json!({}),
    };
    spec.insert("podSelector".into(), selector);
    let expanded = match &d.profile {
        Some(name) => ctx.profile("profile", ProfileClass::NetworkPolicies, name)?,
        None => None,
    };
    match expanded {
        Some(Value::Object(p)) => {
            for key in ["policyTypes", "ingress", "egress"] {
                put(&mut spec, key, p.get(key).cloned());
            }
        }
        _ => {
            put_list(
                &mut spec,
                "policyTypes",
                ctx.list("policyTypes", &d.policy_types)?,
            );
            for (key, rules) in [("ingress", &d.ingress), ("egress", &d.egress)] {
                if !rules.is_empty() {
                    let v = ctx.json(key, &Value::Array(rules.clone()), true)?;
                    spec.insert(key.into(), v);
                }
            }
        }
    }
    Ok(Built::new(
        meta.object(Kind::NetworkPolicy, json!({"spec": spec})),
    ))
}
