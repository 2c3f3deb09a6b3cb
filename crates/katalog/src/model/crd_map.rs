//! `spec.crds`: a map of CRD entries that keeps document order.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::CrdEntry;
use crate::de::Spanned;

/// CRD entries in document order; the key is the CRD's name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrdMap(pub Vec<(Spanned<String>, CrdEntry)>);

impl CrdMap {
    /// The entry with this name.
    pub fn get(&self, name: &str) -> Option<&CrdEntry> {
        self.0.iter().find(|(k, _)| k.value == name).map(|(_, v)| v)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for CrdMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CrdMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of CRD name to CRD entry")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CrdMap, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = map.next_key::<Spanned<String>>()? {
                    let entry: CrdEntry = map.next_value()?;
                    out.push((name, entry));
                }
                Ok(CrdMap(out))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<CrdMap, E> {
                Ok(CrdMap::default())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _seq: A) -> Result<CrdMap, A::Error> {
                Err(serde::de::Error::custom(
                    "`spec.crds` is a map keyed by CRD name, or the early list of entries with `name:`",
                ))
            }
        }
        d.deserialize_any(V)
    }
}
