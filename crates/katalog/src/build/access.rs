//! Identity and access kinds: ServiceAccount, Role, ClusterRole, RoleBinding,
//! ClusterRoleBinding (spec §6.4).

use serde_json::{Map, Value, json};

use super::KindSpec;
use super::context::{Built, Ctx, Meta, Result};
use super::workloads::{put, put_list};
use crate::resources::{Kind, RoleBindingDecl, RoleDecl, ServiceAccountDecl};

pub(super) const SERVICE_ACCOUNT: KindSpec<ServiceAccountDecl> =
    KindSpec::new(Kind::ServiceAccount, service_account);
pub(super) const ROLE: KindSpec<RoleDecl> = KindSpec::new(Kind::Role, role);
pub(super) const CLUSTER_ROLE: KindSpec<RoleDecl> = KindSpec::new(Kind::ClusterRole, cluster_role);
pub(super) const ROLE_BINDING: KindSpec<RoleBindingDecl> =
    KindSpec::new(Kind::RoleBinding, role_binding);
pub(super) const CLUSTER_ROLE_BINDING: KindSpec<RoleBindingDecl> =
    KindSpec::new(Kind::ClusterRoleBinding, cluster_role_binding);

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn service_account(ctx: &Ctx<'_>, meta: &Meta, d: &ServiceAccountDecl) -> Result<Built> {
    let mut body = Map::new();
    let secrets: Vec<Value> = ctx
        .list("imagePullSecrets", &d.image_pull_secrets)?
        .into_iter()
        .map(|n| json!({"name": n}))
        .collect();
    put_list(&mut body, "imagePullSecrets", secrets);
    put(
        &mut body,
        "automountServiceAccountToken",
        d.automount_service_account_token.map(Value::from),
    );
    Ok(Built::new(
        meta.object(Kind::ServiceAccount, Value::Object(body)),
    ))
}

fn rules(ctx: &Ctx<'_>, d: &RoleDecl) -> Result<Value> {
    let mut out = Vec::new();
    for (i, r) in d.rules.iter().enumerate() {
        let f = |x: &str| format!("rules[{i}].{x}");
        let mut rule = Map::new();
        // apiGroups keeps empty strings: "" is the core group.
        let groups = r
            .api_groups
            .iter()
            .enumerate()
            .map(|(j, g)| ctx.text(&f(&format!("apiGroups[{j}]")), g).map(Value::from))
            .collect::<Result<Vec<_>>>()?;
        if !groups.is_empty() || !r.resources.is_empty() {
            rule.insert("apiGroups".into(), Value::Array(groups));
        }
        put_list(
            &mut rule,
            "resources",
            ctx.list(&f("resources"), &r.resources)?,
        );
        put_list(
            &mut rule,
            "resourceNames",
            ctx.list(&f("resourceNames"), &r.resource_names)?,
        );
        put_list(
            &mut rule,
            "nonResourceURLs",
            ctx.list(&f("nonResourceURLs"), &r.non_resource_urls)?,
        );
        rule.insert(
            "verbs".into(),
            Value::Array(ctx.list(&f("verbs"), &r.verbs)?),
        );
        out.push(Value::Object(rule));
    }
    Ok(Value::Array(out))
}

fn role(ctx: &Ctx<'_>, meta: &Meta, d: &RoleDecl) -> Result<Built> {
    Ok(Built::new(
        meta.object(Kind::Role, json!({"rules": rules(ctx, d)?})),
    ))
}

fn cluster_role(ctx: &Ctx<'_>, meta: &Meta, d: &RoleDecl) -> Result<Built> {
    Ok(Built::new(meta.object(
        Kind::ClusterRole,
        json!({"rules": rules(ctx, d)?}),
    )))
}

fn binding(
    ctx: &Ctx<'_>,
    meta: &Meta,
    d: &RoleBindingDecl,
    kind: Kind,
    default_role: &str,
) -> Result<Built> {
    let role_ref = json!({
        "apiGroup": ctx.opt("roleRef.apiGroup", d.role_ref.api_group.as_ref())?
            .unwrap_or_else(|| RBAC_GROUP.into()),
        "kind": ctx.opt("roleRef.kind", d.role_ref.kind.as_ref())?
            .unwrap_or_else(|| default_role.into()),
        "name": ctx.required("roleRef.name", d.role_ref.name.as_ref())?,
    });
    let mut subjects = Vec::new();
    for (i, s) in d.subjects.iter().enumerate() {
        let f = |x: &str| format!("subjects[{i}].{x}");
        let kind = ctx
            .opt(&f("kind"), s.kind.as_ref())?
            .unwrap_or_else(|| "ServiceAccount".into());
        let mut subject = Map::new();
        subject.insert("kind".into(), kind.clone().into());
        subject.insert(
            "name".into(),
            ctx.required(&f("name"), s.name.as_ref())?.into(),
        );
        if kind == "ServiceAccount" {
            let ns = ctx
                .opt(&f("namespace"), s.namespace.as_ref())?
                .or_else(|| meta.namespace.clone())
                .unwrap_or_else(|| "default".into());
            subject.insert("namespace".into(), ns.into());
        } else {
            let group = ctx
                .opt(&f("apiGroup"), s.api_group.as_ref())?
                .unwrap_or_else(|| RBAC_GROUP.into());
            subject.insert("apiGroup".into(), group.into());
        }
        subjects.push(Value::Object(subject));
    }
    Ok(Built::new(meta.object(
        kind,
        json!({"roleRef": role_ref, "subjects": subjects}),
    )))
}

fn role_binding(ctx: &Ctx<'_>, meta: &Meta, d: &RoleBindingDecl) -> Result<Built> {
    binding(ctx, meta, d, Kind::RoleBinding, "Role")
}

fn cluster_role_binding(ctx: &Ctx<'_>, meta: &Meta, d: &RoleBindingDecl) -> Result<Built> {
    binding(ctx, meta, d, Kind::ClusterRoleBinding, "ClusterRole")
}
