//! Document-level checks: apiVersion, kind, metadata, lifecycle and policy (§18.2 #1, #2).

use super::Cx;
use crate::diagnostic::Diagnostic;
use crate::model::{API_VERSION, DocumentKind, Lifecycle};

pub fn check(cx: &mut Cx<'_>) {
    api_version(cx);
    kind(cx);
    metadata_name(cx);
    lifecycle(cx);
    min_maturity(cx);
    imports_on_katalog(cx);
}

fn imports_on_katalog(cx: &mut Cx<'_>) {
    let doc = &cx.katalog.document;
    let is_katalog = doc.kind.as_ref().is_some_and(|k| k.value == "Katalog");
    let Some(imports) = &doc.imports else { return };
    let declared =
        !imports.files.is_empty() || !imports.registry.is_empty() || !imports.helm.is_empty();
    if is_katalog && declared {
        let at = doc
            .kind
            .as_ref()
            .map(|k| k.at.clone())
            .unwrap_or_else(|| root_location(cx));
        cx.push(
            Diagnostic::error(
                "imports-on-katalog",
                "top-level `imports` (files, registry, helm) is only valid on a Komposer",
            )
            .at(&at)
            .with_path("imports")
            .with_hint("set `kind: Komposer`, or move Motif imports to `spec.imports`"),
        );
    }
}

fn root_location(cx: &Cx<'_>) -> crate::Location {
    crate::Location {
        file: cx.resolver.sources.path(0).to_path_buf(),
        line: 1,
        col: 1,
    }
}

fn api_version(cx: &mut Cx<'_>) {
    match &cx.katalog.document.api_version {
        Some(v) if v.value == API_VERSION => {}
        Some(v) => {
            let d = Diagnostic::error(
                "wrong-api-version",
                format!(
                    "apiVersion `{}` is not supported; expected `{API_VERSION}`",
                    v.value
                ),
            )
            .at(&v.at)
            .with_path("apiVersion")
            .with_hint(format!("set `apiVersion: {API_VERSION}`"));
            cx.push(d);
        }
        None => {
            let at = root_location(cx);
            cx.push(
                Diagnostic::error("missing-field", "missing `apiVersion`")
                    .at(&at)
                    .with_path("apiVersion")
                    .with_hint(format!("add `apiVersion: {API_VERSION}`")),
            );
        }
    }
}

fn kind(cx: &mut Cx<'_>) {
    match &cx.katalog.document.kind {
        Some(k) if k.value == "Katalog" || k.value == "Komposer" => {}
        Some(k) => {
            let mut d = Diagnostic::error(
                "wrong-kind",
                format!(
                    "kind `{}` is not a Katalog document; expected `Katalog` or `Komposer`",
                    k.value
                ),
            )
            .at(&k.at)
            .with_path("kind");
            d = match crate::de::did_you_mean(&k.value, &["Katalog", "Komposer"]) {
                Some(close) => d.with_hint(format!("did you mean `{close}`?")),
                None => d.with_hint("set `kind: Katalog`"),
            };
            cx.push(d);
        }
        None => {
            let at = root_location(cx);
            cx.push(
                Diagnostic::error("missing-field", "missing `kind`")
                    .at(&at)
                    .with_path("kind")
                    .with_hint("add `kind: Katalog`"),
            );
        }
    }
}

fn metadata_name(cx: &mut Cx<'_>) {
    match &cx.katalog.document.metadata.name {
        Some(n) if !n.value.trim().is_empty() => {}
        other => {
            let at = other
                .as_ref()
                .map(|n| n.at.clone())
                .unwrap_or_else(|| root_location(cx));
            cx.push(
                Diagnostic::error("missing-field", "missing `metadata.name`")
                    .at(&at)
                    .with_path("metadata.name")
                    .with_hint("name the operator: `metadata: {name: my-operator}`"),
            );
        }
    }
}

const MATURITIES: &[&str] = &["alpha", "beta", "stable", "deprecated"];

fn lifecycle(cx: &mut Cx<'_>) {
    let Some(lifecycle) = cx.katalog.document.lifecycle.clone() else {
        return;
    };
    let Lifecycle {
        maturity,
        deprecation,
        accept,
        ..
    } = lifecycle;
    if let Some(m) = maturity.filter(|m| !MATURITIES.contains(&m.value.as_str())) {
        cx.push(
            Diagnostic::error(
                "unknown-maturity",
                format!("unknown maturity `{}`", m.value),
            )
            .at(&m.at)
            .with_path("lifecycle.maturity")
            .with_hint("use alpha, beta, stable or deprecated"),
        );
    }
    if let Some(deprecation) = deprecation {
        if deprecation
            .message
            .as_deref()
            .is_none_or(|m| m.trim().is_empty())
        {
            let at = root_location(cx);
            cx.push(
                Diagnostic::error("deprecation-message", "a deprecation needs a `message`")
                    .at(&at)
                    .with_path("lifecycle.deprecation.message")
                    .with_hint("say why, and what to use instead"),
            );
        }
        if let Some(timeline) = deprecation.timeline {
            for (key, date) in [("from", timeline.from), ("to", timeline.to)] {
                if let Some(date) = date.filter(|d| !is_date(&d.value)) {
                    cx.push(
                        Diagnostic::error(
                            "invalid-date",
                            format!("`{}` is not a YYYY-MM-DD date", date.value),
                        )
                        .at(&date.at)
                        .with_path(format!("lifecycle.deprecation.timeline.{key}")),
                    );
                }
            }
        }
    }
    if let Some(accept) = accept
        && cx.katalog.kind == DocumentKind::Katalog
    {
        cx.push(
            Diagnostic::error(
                "accept-on-katalog",
                "`lifecycle.accept` is only valid on a Komposer",
            )
            .at(&accept.at)
            .with_path("lifecycle.accept"),
        );
    }
}

fn min_maturity(cx: &mut Cx<'_>) {
    let value = cx
        .katalog
        .document
        .policy
        .as_ref()
        .and_then(|p| p.lifecycle.as_ref())
        .and_then(|l| l.min_maturity.clone());
    if let Some(m) = value.filter(|m| !MATURITIES.contains(&m.value.as_str())) {
        cx.push(
            Diagnostic::error(
                "unknown-maturity",
                format!("unknown minMaturity `{}`", m.value),
            )
            .at(&m.at)
            .with_path("policy.lifecycle.minMaturity")
            .with_hint("use alpha, beta, stable or deprecated"),
        );
    }
}

/// True for `YYYY-MM-DD` with a plausible month and day.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    matches!(parts.as_slice(), [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2
        && y.parse::<u32>().is_ok()
        && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        && d.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d)))
}

#[cfg(test)]
mod tests {
    use super::is_date;

    #[test]
    fn dates_are_year_month_day() {
        assert!(is_date("2026-01-31"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("26-01-01"));
    }
}
