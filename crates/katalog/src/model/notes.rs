//! User-defined template functions (`notes:`, spec §8.5).

use std::fmt;

use serde::de::{MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer};

use crate::de::Spanned;

/// One user note: a named template callable from every template of the Katalog.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NoteFunction {
    /// A Go identifier, called as `{{ name }}`.
    pub name: Spanned<String>,
    /// Free text.
    pub description: Option<String>,
    /// The template it expands to.
    pub expression: Spanned<String>,
}

/// `notes:` as `{functions: [...]}` or as a plain list of functions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Notes {
    /// The functions, in declaration order.
    pub functions: Vec<NoteFunction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotesObject {
    #[serde(default)]
    functions: Vec<NoteFunction>,
}

impl<'de> Deserialize<'de> for Notes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Notes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("{functions: [...]} or a list of functions")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Notes, A::Error> {
                let mut functions = Vec::new();
                while let Some(f) = seq.next_element()? {
                    functions.push(f);
                }
                Ok(Notes { functions })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Notes, A::Error> {
                let o = NotesObject::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Notes {
                    functions: o.functions,
                })
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Notes, E> {
                Ok(Notes::default())
            }
        }
        d.deserialize_any(V)
    }
}
