//! Validation: every check of spec §18.2 and the §18.3 checks that apply to what ork accepts,
//! one family per file, each check a small named function. All problems are reported in one
//! run; warnings do not make a Katalog invalid.

mod admission;
mod conversion;
mod dependencies;
mod document;
mod emit;
pub mod gaps;
mod gateway;
mod identity;
mod namespaces;
mod notes;
mod notify;
mod observe;
mod reconciler;
mod resources;
mod rollback;
mod status;
pub mod templates;
mod unsupported;
mod walk;

use crate::Location;
use crate::diagnostic::Diagnostic;
use crate::model::{Crd, Katalog};
use crate::resolve::Resolver;

/// Runs every check, adding problems to the resolver's diagnostics.
pub fn validate(katalog: &Katalog, resolver: &mut Resolver) {
    let mut cx = Cx { katalog, resolver };
    document::check(&mut cx);
    identity::check(&mut cx);
    dependencies::check(&mut cx);
    reconciler::check(&mut cx);
    namespaces::check(&mut cx);
    status::check(&mut cx);
    admission::check(&mut cx);
    conversion::check(&mut cx);
    observe::check(&mut cx);
    emit::check(&mut cx);
    rollback::check(&mut cx);
    gateway::check(&mut cx);
    notes::check(&mut cx);
    notify::check(&mut cx);
    resources::check(&mut cx);
    templates::check(&mut cx);
    unsupported::check(&mut cx);
    gaps::check(&mut cx);
}

/// What every check gets: the model and a place to report.
pub struct Cx<'a> {
    /// The resolved Katalog.
    pub katalog: &'a Katalog,
    /// Sources, trees and diagnostics.
    pub resolver: &'a mut Resolver,
}

impl Cx<'_> {
    /// Records a problem.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.resolver.report(diagnostic);
    }

    /// An error about a CRD, at `at` (or the CRD's key when `at` has no line), with the path
    /// `spec.crds.<crd>.<rest>`.
    pub fn crd_error(
        &mut self,
        crd: &Crd,
        at: Option<&Location>,
        code: &'static str,
        rest: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.crd_diagnostic(Diagnostic::error(code, message), crd, at, rest, hint);
    }

    /// A warning about a CRD (see [`Cx::crd_error`]).
    pub fn crd_warning(
        &mut self,
        crd: &Crd,
        at: Option<&Location>,
        code: &'static str,
        rest: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.crd_diagnostic(Diagnostic::warning(code, message), crd, at, rest, hint);
    }

    /// Reports `value` (a duration, or a template) at `spec.crds.<crd>.<rest>` when it does
    /// not parse.
    pub fn crd_duration(
        &mut self,
        crd: &Crd,
        value: Option<&crate::de::Spanned<String>>,
        rest: &str,
    ) {
        if let Some(v) = value
            && let Some(problem) = duration_problem(&v.value)
        {
            self.crd_error(
                crd,
                Some(&v.at),
                "invalid-duration",
                rest,
                problem,
                "use a duration such as 30s, 5m or 90d",
            );
        }
    }

    fn crd_diagnostic(
        &mut self,
        d: Diagnostic,
        crd: &Crd,
        at: Option<&Location>,
        rest: &str,
        hint: impl Into<String>,
    ) {
        let at = at.filter(|a| a.line > 0).unwrap_or(&crd.at);
        let path = if rest.is_empty() {
            format!("spec.crds.{}", crd.name)
        } else {
            format!("spec.crds.{}.{rest}", crd.name)
        };
        let hint = hint.into();
        let mut d = d.at(at).with_path(path).with_crd(crd.name.clone());
        if !hint.is_empty() {
            d = d.with_hint(hint);
        }
        self.push(d);
    }
}

/// True for a lowercase RFC 1123 label or subdomain (`a-b.c`).
pub fn is_rfc1123(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// True for a camelCase identifier (`fetchPrice`).
pub fn is_camel_case(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

/// Checks a duration string unless it is a template; returns the error text.
pub fn duration_problem(text: &str) -> Option<String> {
    if crate::model::duration::is_template(text) {
        return None;
    }
    crate::model::duration::parse(text)
        .err()
        .map(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1123_names_are_lowercase_dns_labels() {
        assert!(is_rfc1123("db-cluster"));
        assert!(is_rfc1123("demo.example.io"));
        assert!(!is_rfc1123("Db"));
        assert!(!is_rfc1123("-a"));
        assert!(!is_rfc1123(""));
    }

    #[test]
    fn camel_case_names_start_lowercase() {
        assert!(is_camel_case("fetchPrice"));
        assert!(!is_camel_case("FetchPrice"));
        assert!(!is_camel_case("fetch-price"));
    }
}
