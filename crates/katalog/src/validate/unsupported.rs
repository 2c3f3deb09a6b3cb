//! Gateway features ork does not serve yet: the Gateway API (`serve:` routes, §16.10),
//! inbound intake webhooks (`gateway.webhooks`) and remote clusters (`gateway.clusters`).
//!
//! They are warnings, not errors: a Katalog that declares them still runs (its CRDs
//! reconcile, its admission rules are served); only those surfaces are absent.

use super::Cx;
use crate::diagnostic::Diagnostic;

pub fn check(cx: &mut Cx<'_>) {
    let file = cx.resolver.sources.path(0).to_path_buf();
    let gateway = cx.katalog.document.gateway.clone().unwrap_or_default();
    let mut top = Vec::new();
    if gateway.webhooks.is_some() {
        top.push(("gateway.webhooks", "inbound intake webhooks"));
    }
    if gateway.clusters.is_some() {
        top.push(("gateway.clusters", "remote clusters"));
    }
    for (path, what) in top {
        cx.push(
            Diagnostic::warning(
                "not-supported-yet",
                format!("`{path}` ({what}) is not supported yet; the ork gateway ignores it"),
            )
            .in_file(&file)
            .with_path(path)
            .with_hint("remove it, or keep it for Orkestra; ork serves the rest of the Katalog"),
        );
    }
    for crd in cx.katalog.crds.clone() {
        let Some(serve) = &crd.entry.serve else {
            continue;
        };
        if serve
            .value
            .get("enabled")
            .and_then(serde_json::Value::as_bool)
            == Some(false)
        {
            continue;
        }
        cx.crd_warning(
            &crd,
            Some(&serve.at),
            "not-supported-yet",
            "serve",
            "`serve` (Gateway API routes) is not supported yet; the ork gateway does not expose it",
            "remove it, or keep it for Orkestra; ork serves the rest of the Katalog",
        );
    }
}
