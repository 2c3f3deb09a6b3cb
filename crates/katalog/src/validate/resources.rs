//! Resource declarations, checked on the merged YAML tree so each problem has its exact
//! position: custom resources, HPA references, services, port protocols, durations and
//! profile names (§18.2 #11, #12, #15, #16, #19, #20; §18.3 #30–#38).

use super::walk::{crd_of, walk};
use super::{Cx, duration_problem};
use crate::diagnostic::Diagnostic;
use crate::model::ProfileMap;
use crate::yaml::{Node, NodeKind};

/// Built-in resource profiles.
pub const RESOURCE_PROFILES: &[&str] = &[
    "tiny",
    "small",
    "medium",
    "large",
    "xlarge",
    "burst",
    "steady",
    "compute-heavy",
    "memory-heavy",
];
/// Built-in NetworkPolicy profiles.
pub const NETWORK_POLICY_PROFILES: &[&str] = &[
    "deny-all",
    "deny-all-ingress",
    "deny-all-egress",
    "allow-same-namespace",
    "allow-dns-egress",
    "allow-all",
];
/// Built-in rolling-update profiles.
pub const ROLLING_UPDATE_PROFILES: &[&str] = &["safe", "fast", "blue-green"];
/// Built-in container/pod security profiles.
pub const SECURITY_PROFILES: &[&str] = &["baseline", "restricted", "hardened"];

pub fn check(cx: &mut Cx<'_>) {
    let roots = std::mem::take(&mut cx.resolver.roots);
    let Some(root) = roots.first() else {
        return;
    };
    let mut problems: Vec<(Diagnostic, Option<String>)> = Vec::new();
    walk(root, "", &mut |node, path| {
        let Some(crd) = crd_of(path) else { return };
        let Some((block, kind)) = declaration(path) else {
            return;
        };
        let _ = block;
        let at = |n: &Node| location(cx, n);
        let mut report = |d: Diagnostic| problems.push((d, Some(crd.to_string())));
        check_declaration(cx, node, path, kind, &at, &mut report);
    });
    cx.resolver.roots = roots;
    for (d, crd) in problems {
        let d = match crd {
            Some(c) => d.with_crd(c),
            None => d,
        };
        cx.push(d);
    }
}

fn location(cx: &Cx<'_>, node: &Node) -> crate::Location {
    cx.resolver.location(node.span)
}

/// For a path to one resource declaration (`…onCreate.deployments[0]`), the block and kind key.
fn declaration(path: &str) -> Option<(&str, &str)> {
    let (head, index) = path.rsplit_once('[')?;
    if !index.ends_with(']') || index[..index.len() - 1].parse::<usize>().is_err() {
        return None;
    }
    let (parent, kind) = head.rsplit_once('.')?;
    let block = parent.rsplit('.').next()?;
    let block = block.split('[').next()?;
    let in_block = matches!(block, "onCreate" | "onReconcile" | "onDelete" | "groups")
        || parent.ends_with(']') && parent.contains(".groups[");
    (in_block && path.contains(".operatorBox.")).then_some((block, kind))
}

fn text<'n>(node: &'n Node, key: &str) -> Option<&'n str> {
    node.get(key)
        .and_then(Node::as_str)
        .filter(|s| !s.is_empty())
}

fn is_static(s: &str) -> bool {
    !s.contains("{{")
}

fn check_declaration(
    cx: &Cx<'_>,
    node: &Node,
    path: &str,
    kind: &str,
    at: &dyn Fn(&Node) -> crate::Location,
    report: &mut dyn FnMut(Diagnostic),
) {
    if !matches!(node.kind, NodeKind::Map(_)) {
        return;
    }
    let error = |code: &'static str, n: &Node, key: &str, message: String, hint: &str| {
        let mut d = Diagnostic::error(code, message)
            .at(&at(n))
            .with_path(if key.is_empty() {
                path.to_string()
            } else {
                format!("{path}.{key}")
            });
        if !hint.is_empty() {
            d = d.with_hint(hint);
        }
        d
    };
    match kind {
        "custom" => {
            for key in ["apiVersion", "kind"] {
                if text(node, key).is_none() {
                    report(error(
                        "custom-missing-field",
                        node,
                        key,
                        format!("custom resource at `{path}` has no `{key}`"),
                        &format!(
                            "add `{key}:` (custom resources need apiVersion, kind and metadata.name)"
                        ),
                    ));
                }
            }
            if node.get("metadata").and_then(|m| text(m, "name")).is_none() {
                report(error(
                    "custom-missing-field",
                    node,
                    "metadata.name",
                    format!("custom resource at `{path}` has no `metadata.name`"),
                    "add `metadata: {name: ...}`",
                ));
            }
        }
        "hpa" => {
            let target = node.get("scaleTargetRef");
            for key in ["kind", "name"] {
                if target.and_then(|t| text(t, key)).is_none() {
                    report(error(
                        "hpa-reference",
                        node,
                        &format!("scaleTargetRef.{key}"),
                        format!("HPA at `{path}` has no `scaleTargetRef.{key}`"),
                        "",
                    ));
                }
            }
            let kind_of_target = target.and_then(|t| text(t, "kind")).unwrap_or_default();
            let auto = matches!(kind_of_target, "Deployment" | "StatefulSet" | "ReplicaSet");
            if !auto
                && target.and_then(|t| text(t, "apiVersion")).is_none()
                && !kind_of_target.is_empty()
            {
                report(error(
                    "hpa-reference",
                    node,
                    "scaleTargetRef.apiVersion",
                    format!(
                        "HPA at `{path}` targets `{kind_of_target}` without `scaleTargetRef.apiVersion`"
                    ),
                    "add the target's apiVersion",
                ));
            }
        }
        "deployments" => {
            for (direction, step) in [("scaleUp", "increment"), ("scaleDown", "decrement")] {
                if let Some(d) = node.get("autoscale").and_then(|a| a.get(direction))
                    && d.get("target").is_some()
                    && d.get(step).is_some()
                {
                    report(error(
                        "autoscale-target-and-step",
                        d,
                        &format!("autoscale.{direction}"),
                        format!("`autoscale.{direction}` gives both `target` and `{step}`"),
                        &format!(
                            "keep one: `target` jumps to a count, `{step}` steps by an amount"
                        ),
                    ));
                }
            }
        }
        "services" => {
            if let Some(t) = text(node, "type").filter(|t| is_static(t))
                && ![
                    "ClusterIP",
                    "NodePort",
                    "LoadBalancer",
                    "ExternalName",
                    "Headless",
                ]
                .contains(&t)
            {
                report(error(
                    "invalid-service-type",
                    node.get("type").unwrap_or(node),
                    "type",
                    format!(
                        "service type `{t}` is not ClusterIP, NodePort, LoadBalancer or ExternalName"
                    ),
                    "",
                ));
            }
        }
        _ => {}
    }
    let profiles = &cx.katalog.profiles;
    walk(node, "", &mut |n, sub| {
        let key = super::walk::last_key(sub);
        let Some(value) = n.as_str().filter(|v| is_static(v) && !v.is_empty()) else {
            return;
        };
        let full = format!("{path}.{sub}");
        match key {
            "sleep" | "rotateAfter" | "validFor" | "timeout" => {
                if let Some(problem) = duration_problem(value) {
                    report(error(
                        "invalid-duration",
                        n,
                        sub,
                        format!("`{key}`: {problem}"),
                        "use e.g. 30s, 5m, 90d",
                    ));
                }
            }
            "protocol"
                if !full.contains(".external[") && !["TCP", "UDP", "SCTP"].contains(&value) =>
            {
                report(error(
                    "invalid-protocol",
                    n,
                    sub,
                    format!("port protocol `{value}` is not TCP, UDP or SCTP"),
                    "",
                ));
            }
            "profile" => {
                let parent = sub
                    .rsplit_once('.')
                    .map_or(kind, |(p, _)| super::walk::last_key(p));
                let parent = if sub == "profile" { kind } else { parent };
                let (class, builtin, user): (&str, &[&str], &ProfileMap) = match parent {
                    "resources" => ("resources", RESOURCE_PROFILES, &profiles.resources),
                    "networkPolicies" => (
                        "networkPolicies",
                        NETWORK_POLICY_PROFILES,
                        &profiles.network_policies,
                    ),
                    "rollingUpdate" => (
                        "rollingUpdate",
                        ROLLING_UPDATE_PROFILES,
                        &profiles.rolling_update,
                    ),
                    "securityContext" => (
                        "containerSecurity",
                        SECURITY_PROFILES,
                        &profiles.container_security,
                    ),
                    "podSecurity" => ("podSecurity", SECURITY_PROFILES, &profiles.pod_security),
                    _ => return,
                };
                if !builtin.contains(&value) && !user.contains_key(value) {
                    let hint = crate::de::did_you_mean(value, builtin)
                        .map(|c| format!("did you mean `{c}`?"))
                        .unwrap_or_else(|| format!("built-in {class} profiles: {}; or declare it under profiles.{class}", builtin.join(", ")));
                    report(error(
                        "unknown-profile",
                        n,
                        sub,
                        format!("unknown {class} profile `{value}` at `{full}`"),
                        &hint,
                    ));
                }
            }
            _ => {}
        }
    });
}

#[cfg(test)]
mod tests {
    use super::declaration;

    #[test]
    fn declarations_are_found_by_their_path() {
        assert_eq!(
            declaration("spec.crds.w.operatorBox.onCreate.deployments[0]"),
            Some(("onCreate", "deployments"))
        );
        assert_eq!(
            declaration("spec.crds.w.operatorBox.reconcile.onReconcile.custom[2]"),
            Some(("onReconcile", "custom"))
        );
        assert_eq!(
            declaration("spec.crds.w.operatorBox.status.fields[0]"),
            None
        );
        assert_eq!(declaration("spec.crds.w.crFiles[0]"), None);
    }
}
