//! User notes: named template expressions callable as functions, checked for valid names,
//! duplicates, parse errors and call cycles when the engine is built.

use std::collections::HashMap;

use super::error::NotesError;
use crate::funcs;
use crate::table::{EngineInner, Note, NoteDef, parse_with};

const RESERVED: &[&str] = &[
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
    "nil", "true", "false",
];

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
        && !RESERVED.contains(&name)
}

/// Builds the engine state for a set of notes.
pub(crate) fn build(notes: Vec<Note>, id: u64) -> Result<EngineInner, NotesError> {
    let mut note_index = HashMap::new();
    for (i, note) in notes.iter().enumerate() {
        if !is_identifier(&note.name) {
            return Err(NotesError::InvalidName {
                name: note.name.clone(),
            });
        }
        if note_index.insert(note.name.clone(), i).is_some() {
            return Err(NotesError::Duplicate {
                name: note.name.clone(),
            });
        }
    }
    let mut shadowed: Vec<String> = notes
        .iter()
        .filter(|n| {
            funcs::builtins().contains_key(n.name.as_str())
                || matches!(n.name.as_str(), "and" | "or")
        })
        .map(|n| n.name.clone())
        .collect();
    shadowed.sort();
    // Parse every expression against an engine that already knows all note names.
    let mut inner = EngineInner {
        id,
        notes: Vec::new(),
        note_index,
        shadowed,
    };
    let mut defs = Vec::with_capacity(notes.len());
    for note in &notes {
        let template =
            parse_with(&inner, &note.expression).map_err(|source| NotesError::ParseFailed {
                name: note.name.clone(),
                source,
            })?;
        defs.push(NoteDef {
            name: note.name.clone(),
            template,
        });
    }
    check_cycles(&defs, &inner.note_index)?;
    inner.notes = defs;
    Ok(inner)
}

/// Depth-first search for a note that (indirectly) calls itself.
fn check_cycles(defs: &[NoteDef], index: &HashMap<String, usize>) -> Result<(), NotesError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let calls: Vec<Vec<usize>> = defs
        .iter()
        .map(|d| {
            d.template
                .functions()
                .iter()
                .filter_map(|f| index.get(f).copied())
                .collect()
        })
        .collect();
    let mut marks = vec![Mark::New; defs.len()];
    for start in 0..defs.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, next edge to try).
        let mut stack = vec![(start, 0usize)];
        marks[start] = Mark::Active;
        while let Some(&mut (node, ref mut edge)) = stack.last_mut() {
            if let Some(&next) = calls[node].get(*edge) {
                *edge += 1;
                match marks[next] {
                    Mark::New => {
                        marks[next] = Mark::Active;
                        stack.push((next, 0));
                    }
                    Mark::Active => {
                        let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                        let mut cycle: Vec<String> = stack[from..]
                            .iter()
                            .map(|(n, _)| defs[*n].name.clone())
                            .collect();
                        cycle.push(defs[next].name.clone());
                        return Err(NotesError::Cycle { cycle });
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Engine, Note, RenderError};
    use super::*;
    use serde_json::json;

    fn note(name: &str, expression: &str) -> Note {
        Note {
            name: name.into(),
            expression: expression.into(),
            description: None,
        }
    }

    #[test]
    fn notes_render_against_the_callers_dot_and_may_call_each_other_in_any_order() {
        let engine = Engine::new()
            .with_notes([
                note(
                    "fullImage",
                    "{{ imageName }}:{{ .spec.tag | default \"latest\" }}",
                ),
                note("imageName", "{{ .spec.image }}"),
            ])
            .unwrap();
        let t = engine.parse("{{ fullImage }}").unwrap();
        assert_eq!(
            engine
                .render(&t, &json!({"spec": {"image": "nginx"}}))
                .unwrap(),
            "nginx:latest"
        );
    }

    #[test]
    fn a_note_given_an_argument_renders_against_it() {
        let engine = Engine::new()
            .with_notes([note("host", "{{ .name }}.svc")])
            .unwrap();
        let t = engine.parse("{{ host .spec }}/{{ .spec | host }}").unwrap();
        assert_eq!(
            engine.render(&t, &json!({"spec": {"name": "db"}})).unwrap(),
            "db.svc/db.svc"
        );
    }

    #[test]
    fn cycles_between_notes_are_refused_at_construction() {
        let err = Engine::new()
            .with_notes([
                note("a", "{{ b }}"),
                note("b", "{{ c }}"),
                note("c", "{{ a }}"),
            ])
            .unwrap_err();
        assert_eq!(
            err,
            NotesError::Cycle {
                cycle: vec!["a".into(), "b".into(), "c".into(), "a".into()]
            }
        );
        let err = Engine::new()
            .with_notes([note("me", "{{ me }}")])
            .unwrap_err();
        assert!(matches!(err, NotesError::Cycle { .. }));
    }

    #[test]
    fn bad_names_duplicates_and_unparsable_expressions_are_refused() {
        assert!(matches!(
            Engine::new().with_notes([note("1x", "a")]),
            Err(NotesError::InvalidName { .. })
        ));
        assert!(matches!(
            Engine::new().with_notes([note("if", "a")]),
            Err(NotesError::InvalidName { .. })
        ));
        assert!(matches!(
            Engine::new().with_notes([note("a", "x"), note("a", "y")]),
            Err(NotesError::Duplicate { .. })
        ));
        let Err(NotesError::ParseFailed { name, source }) =
            Engine::new().with_notes([note("a", "{{ nope }}")])
        else {
            panic!("expected a parse failure");
        };
        assert_eq!(
            (name.as_str(), source.function.as_deref()),
            ("a", Some("nope"))
        );
    }

    #[test]
    fn shadowing_a_builtin_is_allowed_and_reported() {
        let engine = Engine::new().with_notes([note("upper", "UP")]).unwrap();
        assert_eq!(engine.shadowed(), vec!["upper".to_string()]);
        let t = engine.parse("{{ upper }}").unwrap();
        assert_eq!(engine.render(&t, &json!({})).unwrap(), "UP");
    }

    #[test]
    fn a_template_with_notes_cannot_be_rendered_by_another_engine() {
        let a = Engine::new().with_notes([note("x", "1")]).unwrap();
        let b = Engine::new().with_notes([note("x", "2")]).unwrap();
        let t = a.parse("{{ x }}").unwrap();
        assert_eq!(b.render(&t, &json!({})), Err(RenderError::EngineMismatch));
        assert_eq!(a.clone().render(&t, &json!({})).unwrap(), "1");
    }

    #[test]
    fn errors_inside_a_note_name_the_note() {
        let engine = Engine::new()
            .with_notes([note("need", "{{ required \"missing\" .x }}")])
            .unwrap();
        let t = engine.parse("{{ need }}").unwrap();
        let err = engine.render(&t, &json!({})).unwrap_err();
        assert!(
            matches!(err, RenderError::NoteFailed { ref name, .. } if name == "need"),
            "{err:?}"
        );
    }
}
