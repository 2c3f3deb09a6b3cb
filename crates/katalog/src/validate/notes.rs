//! User notes: names, uniqueness, shadowing of built-ins (§18.3 #31). Their expressions are
//! parsed with every other template in [`super::templates`].

use super::Cx;
use crate::diagnostic::Diagnostic;

pub fn check(cx: &mut Cx<'_>) {
    let mut seen: Vec<(String, crate::Location)> = Vec::new();
    for note in &cx.katalog.notes {
        let name = &note.name;
        let valid = name
            .value
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            cx.push(
                Diagnostic::error(
                    "invalid-note-name",
                    format!("note name `{}` is not a valid identifier", name.value),
                )
                .at(&name.at)
                .with_path("notes.functions")
                .with_hint("use letters, digits and `_`, starting with a letter"),
            );
        }
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name.value) {
            let first = first.clone();
            cx.push(
                Diagnostic::error(
                    "duplicate-note",
                    format!("note `{}` is declared twice (first at {first})", name.value),
                )
                .at(&name.at)
                .with_path("notes.functions")
                .with_hint("rename one of them"),
            );
        } else {
            seen.push((name.value.clone(), name.at.clone()));
        }
        if super::templates::is_builtin_function(&name.value) {
            cx.push(
                Diagnostic::warning(
                    "note-shadows-builtin",
                    format!(
                        "note `{}` shadows the built-in function of the same name",
                        name.value
                    ),
                )
                .at(&name.at)
                .with_path("notes.functions")
                .with_hint("rename the note unless replacing the built-in is intended"),
            );
        }
    }
}
