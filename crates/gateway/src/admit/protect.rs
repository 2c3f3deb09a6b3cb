//! Deletion protection, strict mode and namespace protection (spec §16.6, §16.7).

use serde_json::Value;

use katalog::labels::{DELETION_PROTECTION, STRICT_MODE_EXEMPT, TRUE};

use super::{Request, Response};
use crate::plan::Plan;

fn label<'a>(object: Option<&'a Value>, key: &str) -> Option<&'a str> {
    object?.get("metadata")?.get("labels")?.get(key)?.as_str()
}

fn describe(req: &Request) -> String {
    match &req.namespace {
        Some(ns) if !ns.is_empty() => format!("{} {ns}/{}", req.kind.kind, req.name),
        _ => format!("{} {}", req.kind.kind, req.name),
    }
}

/// `/deletion-protection`: a Katalog CRD, or an object labelled
/// `orkestra.io/deletion-protection: "true"`, may not be deleted.
pub fn deletion(plan: &Plan, req: &Request) -> Response {
    if req.operation != "DELETE" {
        return Response::allow(&req.uid);
    }
    if req.resource.group == "apiextensions.k8s.io"
        && req.resource.resource == "customresourcedefinitions"
    {
        let protected = plan
            .targets
            .iter()
            .any(|t| t.protect_crd && t.crd_name() == req.name);
        return if protected {
            Response::deny(
                &req.uid,
                format!(
                    "CustomResourceDefinition {} is protected by the Katalog {:?} (deletionProtection); stop its gateway or set deletionProtection.protectCRD: false first",
                    req.name, plan.katalog
                ),
            )
        } else {
            Response::allow(&req.uid)
        };
    }
    if label(req.old_object.as_ref(), DELETION_PROTECTION) == Some(TRUE) {
        return Response::deny(
            &req.uid,
            format!(
                "{} is protected: remove the label {DELETION_PROTECTION}=true before deleting it",
                describe(req)
            ),
        );
    }
    Response::allow(&req.uid)
}

/// `/strict-mode-protection`: removing the protection label is denied unless the new object
/// carries `orkestra.io/strict-mode-exempt: "true"`.
pub fn strict(req: &Request) -> Response {
    let had = label(req.old_object.as_ref(), DELETION_PROTECTION) == Some(TRUE);
    let has = label(req.object.as_ref(), DELETION_PROTECTION) == Some(TRUE);
    let exempt = label(req.object.as_ref(), STRICT_MODE_EXEMPT) == Some(TRUE);
    if req.operation == "UPDATE" && had && !has && !exempt {
        return Response::deny(
            &req.uid,
            format!(
                "{}: strict mode forbids removing the label {DELETION_PROTECTION} (label the object {STRICT_MODE_EXEMPT}=true first)",
                describe(req)
            ),
        );
    }
    Response::allow(&req.uid)
}

/// `/namespace-protection`: a CR may not be created or updated in a restricted namespace, or
/// outside the allowed ones.
pub fn namespace(plan: &Plan, req: &Request) -> Response {
    let (Some(target), Some(ns)) = (
        plan.target(&req.resource.group, &req.resource.resource),
        req.namespace.as_deref(),
    ) else {
        return Response::allow(&req.uid);
    };
    if target.restricted_namespaces.iter().any(|n| n == ns) {
        return Response::deny(
            &req.uid,
            format!("namespace {ns:?} is restricted for {}", target.crd.gvk.kind),
        );
    }
    if !target.allowed_namespaces.is_empty() && !target.allowed_namespaces.iter().any(|n| n == ns) {
        return Response::deny(
            &req.uid,
            format!(
                "{} may only be created in: {}",
                target.crd.gvk.kind,
                target.allowed_namespaces.join(", ")
            ),
        );
    }
    Response::allow(&req.uid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::katalog;
    use serde_json::json;

    fn request(v: Value) -> Request {
        serde_json::from_value(v).unwrap()
    }

    fn plan() -> Plan {
        Plan::from_katalog(&katalog(
            "security:
  deletionProtection: {strictMode: true}
  namespaceProtection: {enabled: true, allowedNamespaces: [team-a]}",
            "",
        ))
    }

    fn labelled(labels: Value) -> Value {
        json!({"metadata": {"name": "x", "labels": labels}})
    }

    #[test]
    fn katalog_crds_and_labelled_objects_cannot_be_deleted() {
        let crd = request(json!({
            "uid": "1", "operation": "DELETE", "name": "apps.demo.ork.dev",
            "kind": {"group": "apiextensions.k8s.io", "version": "v1", "kind": "CustomResourceDefinition"},
            "resource": {"group": "apiextensions.k8s.io", "version": "v1", "resource": "customresourcedefinitions"},
        }));
        assert!(!deletion(&plan(), &crd).allowed);
        let other = request(json!({
            "uid": "1", "operation": "DELETE", "name": "others.demo.ork.dev",
            "kind": {"group": "apiextensions.k8s.io", "kind": "CustomResourceDefinition"},
            "resource": {"group": "apiextensions.k8s.io", "resource": "customresourcedefinitions"},
        }));
        assert!(deletion(&plan(), &other).allowed);
        let cr = |labels| {
            request(json!({
                "uid": "2", "operation": "DELETE", "name": "x", "namespace": "team-a",
                "kind": {"group": "demo.ork.dev", "kind": "App"},
                "resource": {"group": "demo.ork.dev", "resource": "apps"},
                "oldObject": labelled(labels),
            }))
        };
        let denied = deletion(&plan(), &cr(json!({DELETION_PROTECTION: "true"})));
        assert_eq!(
            denied.message,
            "App team-a/x is protected: remove the label orkestra.io/deletion-protection=true before deleting it"
        );
        assert!(deletion(&plan(), &cr(json!({}))).allowed);
    }

    #[test]
    fn strict_mode_denies_removing_the_label_unless_exempt() {
        let update = |old: Value, new: Value| {
            request(json!({
                "uid": "3", "operation": "UPDATE", "name": "x",
                "kind": {"kind": "ConfigMap"}, "resource": {"resource": "configmaps"},
                "oldObject": labelled(old), "object": labelled(new),
            }))
        };
        let on = json!({DELETION_PROTECTION: "true"});
        assert!(!strict(&update(on.clone(), json!({}))).allowed);
        assert!(strict(&update(on.clone(), json!({STRICT_MODE_EXEMPT: "true"}))).allowed);
        assert!(strict(&update(on.clone(), on.clone())).allowed);
        assert!(strict(&update(json!({}), json!({}))).allowed);
    }

    #[test]
    fn namespaces_outside_the_allowed_list_are_denied() {
        let create = |ns: &str| {
            request(json!({
                "uid": "4", "operation": "CREATE", "name": "x", "namespace": ns,
                "kind": {"group": "demo.ork.dev", "kind": "App"},
                "resource": {"group": "demo.ork.dev", "resource": "apps"},
            }))
        };
        assert!(namespace(&plan(), &create("team-a")).allowed);
        assert_eq!(
            namespace(&plan(), &create("default")).message,
            "App may only be created in: team-a"
        );
    }
}
