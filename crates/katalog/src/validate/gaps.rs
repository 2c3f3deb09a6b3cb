//! Katalog keys ork accepts but does not act on yet: each is reported where it is written, as
//! a warning (the rest of the Katalog runs; only that key has no effect) or an error (running
//! without it would do something else than the author asked). [`GAPS`] is the one list; the
//! table in `docs/katalog-keys.md` names the same model fields and a guard test keeps the two,
//! and the model, in step. Since `ork validate` and `ork run` both load through
//! [`crate::load`], both report these.

use super::Cx;
use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, NodeKind};

/// Whether a key that is not implemented stops the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapStatus {
    /// Accepted with a warning: it has no effect.
    Warned,
    /// Refused with an error.
    Refused,
}

/// One key ork does not act on.
#[derive(Debug, Clone, Copy)]
pub struct Gap {
    /// The model field, `Struct.field` (as in `crates/katalog/src/model`).
    pub field: &'static str,
    /// Where it is written, from the document root; `*` is any map key or list item.
    pub key: &'static str,
    /// Warning or error.
    pub status: GapStatus,
    /// What does not happen, for the message.
    pub effect: &'static str,
}

const fn refused(field: &'static str, key: &'static str, effect: &'static str) -> Gap {
    Gap {
        field,
        key,
        status: GapStatus::Refused,
        effect,
    }
}

const fn warned(field: &'static str, key: &'static str, effect: &'static str) -> Gap {
    Gap {
        field,
        key,
        status: GapStatus::Warned,
        effect,
    }
}

/// Every key ork accepts without acting on it.
pub const GAPS: &[Gap] = &[
    warned(
        "Queue.shared",
        "spec.crds.*.operatorBox.reconciler.queue.shared",
        "every CRD has a queue of its own; there is no shared queue",
    ),
    warned(
        "Queue.shared",
        "spec.crds.*.operatorBox.reconcile.queue.shared",
        "every CRD has a queue of its own; there is no shared queue",
    ),
    warned(
        "Queue.default",
        "spec.crds.*.operatorBox.reconciler.queue.default",
        "every CRD has a queue of its own; there is no shared queue",
    ),
    warned(
        "Rollback.on_rollback",
        "spec.crds.*.operatorBox.rollback.onRollback",
        "`onRollback` templates are not applied; a rollback re-applies the CRD's own templates with the last successful spec",
    ),
    warned(
        "Rollback.on_rollback",
        "spec.crds.*.operatorBox.runtime.rollback.onRollback",
        "`onRollback` templates are not applied; a rollback re-applies the CRD's own templates with the last successful spec",
    ),
    warned(
        "RuntimeSection.cleanup",
        "spec.crds.*.operatorBox.runtime.cleanup",
        "conditional cleanup is not run",
    ),
    warned(
        "OperatorBox.providers",
        "spec.crds.*.operatorBox.providers",
        "provider blocks are not read",
    ),
    warned(
        "Document.providers",
        "providers",
        "provider blocks are not read",
    ),
    warned(
        "Setup.helm",
        "spec.crds.*.setup.helm",
        "Helm releases of `setup` are not installed",
    ),
    warned(
        "Conversion.participant",
        "spec.crds.*.conversion.participant",
        "conversion statistics are not kept",
    ),
    refused(
        "Reconciler.hooks",
        "spec.crds.*.operatorBox.reconciler.hooks",
        "typed Go hooks (spec §9.8) cannot run in ork; a `remote` reconciler (spec §9.7) can replace them",
    ),
    refused(
        "Reconciler.hooks",
        "spec.crds.*.operatorBox.reconcile.hooks",
        "typed Go hooks (spec §9.8) cannot run in ork; a `remote` reconciler (spec §9.7) can replace them",
    ),
    refused(
        "Reconciler.constructor",
        "spec.crds.*.operatorBox.reconciler.constructor",
        "typed Go constructors (spec §9.8) cannot run in ork; a `remote` reconciler (spec §9.7) can replace them",
    ),
    refused(
        "Reconciler.constructor",
        "spec.crds.*.operatorBox.reconcile.constructor",
        "typed Go constructors (spec §9.8) cannot run in ork; a `remote` reconciler (spec §9.7) can replace them",
    ),
    warned(
        "Protection.cleanup_on_shutdown",
        "security.deletionProtection.cleanupOnShutdown",
        "the gateway removes what it registered on stop unless started with `ork gateway --keep-on-exit`",
    ),
    warned(
        "NamespaceProtection.cleanup_on_shutdown",
        "security.namespaceProtection.cleanupOnShutdown",
        "the gateway removes what it registered on stop unless started with `ork gateway --keep-on-exit`",
    ),
    warned(
        "SecurityWebhooks.cleanup_on_shutdown",
        "security.webhooks.cleanupOnShutdown",
        "the gateway removes what it registered on stop unless started with `ork gateway --keep-on-exit`",
    ),
    warned(
        "SecurityConversion.conversion_window",
        "security.conversion.conversionWindow",
        "no conversion window is kept",
    ),
    warned(
        "CertManager.auto_rotate",
        "security.certManager.autoRotate",
        "certificates are not rotated while the gateway runs; a restart issues new ones",
    ),
    warned(
        "GatewayToken.github_oidc",
        "gateway.api.auth.tokens.*.githubOIDC",
        "OIDC token sources are not verified",
    ),
    warned(
        "GatewayToken.gitlab_oidc",
        "gateway.api.auth.tokens.*.gitlabOIDC",
        "OIDC token sources are not verified",
    ),
    warned(
        "GatewayToken.vault_oidc",
        "gateway.api.auth.tokens.*.vaultOIDC",
        "OIDC token sources are not verified",
    ),
    warned(
        "GatewayToken.oidc",
        "gateway.api.auth.tokens.*.oidc",
        "OIDC token sources are not verified",
    ),
    warned(
        "Document.publish",
        "publish",
        "ork has no `ork push`: nothing is published, signed or tested from this block",
    ),
];

/// Reports every [`GAPS`] key the Katalog's files write.
pub fn check(cx: &mut Cx<'_>) {
    let mut seen = Vec::new();
    for gap in GAPS {
        let path: Vec<&str> = gap.key.split('.').collect();
        let mut found = Vec::new();
        for root in &cx.resolver.roots {
            find(root, &path, &mut String::new(), &mut found);
        }
        let found: Vec<(String, crate::yaml::Span)> =
            found.into_iter().map(|(w, n)| (w, n.span)).collect();
        for (written, span) in found {
            let at = cx.resolver.location(span);
            if seen.contains(&(gap.key, at.clone())) {
                continue;
            }
            seen.push((gap.key, at.clone()));
            let message = match gap.status {
                GapStatus::Warned => {
                    format!(
                        "`{written}` is accepted but not implemented: {}",
                        gap.effect
                    )
                }
                GapStatus::Refused => format!("`{written}` is not supported: {}", gap.effect),
            };
            let d = match gap.status {
                GapStatus::Warned => Diagnostic::warning("not-implemented", message),
                GapStatus::Refused => Diagnostic::error("not-implemented", message),
            };
            cx.push(
                d.at(&at)
                    .with_path(written)
                    .with_hint("see docs/katalog-keys.md for what ork implements"),
            );
        }
    }
}

/// Collects the nodes at `path` under `node` (with the concrete path written).
fn find<'n>(
    node: &'n Node,
    path: &[&str],
    written: &mut String,
    out: &mut Vec<(String, &'n Node)>,
) {
    let Some((head, rest)) = path.split_first() else {
        if !node.is_null() {
            out.push((written.clone(), node));
        }
        return;
    };
    let len = written.len();
    match &node.kind {
        NodeKind::Map(entries) => {
            for (key, value) in entries {
                let Some(name) = key.as_str() else { continue };
                if *head == "*" || *head == name {
                    if !written.is_empty() {
                        written.push('.');
                    }
                    written.push_str(name);
                    find(value, rest, written, out);
                    written.truncate(len);
                }
            }
        }
        NodeKind::Seq(items) if *head == "*" => {
            for (i, item) in items.iter().enumerate() {
                written.push_str(&format!("[{i}]"));
                find(item, rest, written, out);
                written.truncate(len);
            }
        }
        _ => {}
    }
}
