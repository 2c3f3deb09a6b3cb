//! Gateway and security: gateway requirement, standalone/endpoint, tokens, failure policies,
//! certificate durations (§18.2 #21; §18.3 #46).

use super::{Cx, duration_problem};
use crate::diagnostic::Diagnostic;

pub fn check(cx: &mut Cx<'_>) {
    requirement(cx);
    standalone_and_endpoint(cx);
    tokens(cx);
    failure_policies(cx);
    cert_manager(cx);
}

fn entry_file(cx: &Cx<'_>) -> std::path::PathBuf {
    cx.resolver.sources.path(0).to_path_buf()
}

/// Features served by the gateway, declared without a gateway. Orkestra rejects this; ork
/// warns, because its gateway is started next to the runtime (docs/katalog-decisions.md).
fn requirement(cx: &mut Cx<'_>) {
    let doc = &cx.katalog.document;
    let gateway = doc.gateway.as_ref();
    let has_gateway = gateway.is_some_and(|g| {
        g.enabled == Some(true) || g.standalone == Some(true) || g.endpoint.is_some()
    }) || doc
        .security
        .as_ref()
        .is_some_and(|s| s.gateway_endpoint.is_some());
    if has_gateway {
        return;
    }
    let Some(security) = &doc.security else {
        return;
    };
    let mut features = Vec::new();
    if security
        .deletion_protection
        .as_ref()
        .is_some_and(|p| p.is_enabled())
    {
        features.push("deletion protection");
    }
    if security
        .webhooks
        .as_ref()
        .and_then(|w| w.admission.as_ref())
        .is_some_and(|a| a.enabled == Some(true))
    {
        features.push("admission webhooks");
    }
    if security
        .conversion
        .as_ref()
        .is_some_and(|c| c.enabled == Some(true))
    {
        features.push("conversion");
    }
    if security
        .namespace_protection
        .as_ref()
        .is_some_and(|p| p.enabled == Some(true))
    {
        features.push("namespace protection");
    }
    if features.is_empty() {
        return;
    }
    let file = entry_file(cx);
    cx.push(
        Diagnostic::warning(
            "gateway-required",
            format!(
                "{} need the gateway, which this Katalog does not declare",
                features.join(", ")
            ),
        )
        .in_file(&file)
        .with_path("gateway")
        .with_hint(
            "run the ork gateway next to the runtime, or declare `gateway: {enabled: true}`",
        ),
    );
}

fn standalone_and_endpoint(cx: &mut Cx<'_>) {
    let Some(g) = &cx.katalog.document.gateway else {
        return;
    };
    if g.standalone == Some(true) && g.endpoint.is_some() {
        let file = entry_file(cx);
        cx.push(
            Diagnostic::error(
                "gateway-standalone-endpoint",
                "`gateway.standalone` and `gateway.endpoint` are mutually exclusive",
            )
            .in_file(&file)
            .with_path("gateway")
            .with_hint("a standalone gateway has no runtime to point at; remove one of them"),
        );
    }
}

fn tokens(cx: &mut Cx<'_>) {
    let Some(auth) = cx
        .katalog
        .document
        .gateway
        .as_ref()
        .and_then(|g| g.api.as_ref())
        .and_then(|a| a.auth.clone())
    else {
        return;
    };
    let mut names: Vec<String> = Vec::new();
    for (i, token) in auth.tokens.iter().enumerate() {
        let path = format!("gateway.api.auth.tokens[{i}]");
        let t = &token.value;
        if names.contains(&t.name) {
            cx.push(
                Diagnostic::error(
                    "duplicate-token",
                    format!("gateway token `{}` is declared twice", t.name),
                )
                .at(&token.at)
                .with_path(path.clone()),
            );
        }
        names.push(t.name.clone());
        let sources = [
            t.secret_ref.is_some(),
            t.token.is_some(),
            t.github_oidc.is_some(),
            t.gitlab_oidc.is_some(),
            t.vault_oidc.is_some(),
            t.oidc.is_some(),
        ]
        .iter()
        .filter(|s| **s)
        .count();
        if sources != 1 {
            cx.push(Diagnostic::error("token-source", format!("gateway token `{}` needs exactly one of secretRef, token, githubOIDC, gitlabOIDC, vaultOIDC, oidc", t.name))
                .at(&token.at).with_path(path.clone()));
        }
        if let Some(literal) = &t.token
            && !literal.trim_start().starts_with('$')
        {
            cx.push(Diagnostic::error("literal-token", format!("gateway token `{}` is a literal; tokens must be env references such as `${{ORK_TOKEN}}`", t.name))
                    .at(&token.at).with_path(format!("{path}.token"))
                    .with_hint("move the secret to an environment variable and write `token: \"${VAR}\"`"));
        }
    }
}

fn failure_policies(cx: &mut Cx<'_>) {
    let Some(security) = cx.katalog.document.security.clone() else {
        return;
    };
    let policies = [
        (
            "security.deletionProtection.failurePolicy",
            security.deletion_protection.and_then(|p| p.failure_policy),
        ),
        (
            "security.namespaceProtection.failurePolicy",
            security.namespace_protection.and_then(|p| p.failure_policy),
        ),
        (
            "security.webhooks.failurePolicy",
            security.webhooks.and_then(|w| w.failure_policy),
        ),
    ];
    for (path, policy) in policies {
        if let Some(p) = policy.filter(|p| p.value != "Fail" && p.value != "Ignore") {
            cx.push(
                Diagnostic::error(
                    "invalid-failure-policy",
                    format!("failurePolicy `{}` is not `Fail` or `Ignore`", p.value),
                )
                .at(&p.at)
                .with_path(path)
                .with_hint("use `Fail` or `Ignore`"),
            );
        }
    }
}

fn cert_manager(cx: &mut Cx<'_>) {
    let Some(c) = cx
        .katalog
        .document
        .security
        .as_ref()
        .and_then(|s| s.cert_manager.clone())
    else {
        return;
    };
    for (key, value) in [
        ("rotationThreshold", c.rotation_threshold),
        ("validFor", c.valid_for),
    ] {
        if let Some(v) = value
            && let Some(problem) = duration_problem(&v.value)
        {
            cx.push(
                Diagnostic::error("invalid-duration", problem)
                    .at(&v.at)
                    .with_path(format!("security.certManager.{key}")),
            );
        }
    }
}
