//! Namespace guards: `allowedNamespaces` XOR `restrictedNamespaces` (§18.2 #14).

use super::Cx;
use crate::diagnostic::Diagnostic;

pub fn check(cx: &mut Cx<'_>) {
    crd_guards(cx);
    global_guard(cx);
}

fn crd_guards(cx: &mut Cx<'_>) {
    for crd in &cx.katalog.crds {
        let (Some(allowed), Some(restricted)) = (
            &crd.entry.allowed_namespaces,
            &crd.entry.restricted_namespaces,
        ) else {
            continue;
        };
        if allowed.value.is_empty() || restricted.value.is_empty() {
            continue;
        }
        cx.crd_error(crd, Some(&restricted.at), "namespace-guard-conflict", "restrictedNamespaces",
            format!("CRD `{}` declares both `allowedNamespaces` (line {}) and `restrictedNamespaces`; use one or the other", crd.name, allowed.at.line),
            "keep `allowedNamespaces` (an allow-list) or `restrictedNamespaces` (a deny-list), not both");
    }
}

fn global_guard(cx: &mut Cx<'_>) {
    let Some(p) = cx
        .katalog
        .document
        .security
        .as_ref()
        .and_then(|s| s.namespace_protection.as_ref())
    else {
        return;
    };
    if !p.allowed_namespaces.is_empty() && !p.restricted_namespaces.is_empty() {
        let file = cx.resolver.sources.path(0).to_path_buf();
        cx.push(
            Diagnostic::error("namespace-guard-conflict",
                "`security.namespaceProtection` declares both `allowedNamespaces` and `restrictedNamespaces`")
                .in_file(&file)
                .with_path("security.namespaceProtection.restrictedNamespaces")
                .with_hint("keep one of the two lists"),
        );
    }
}
