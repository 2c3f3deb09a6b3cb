//! [`Spanned`]: a model value together with the place it was written.
//!
//! The node deserializer recognises the reserved struct name [`SPANNED_NAME`] and answers
//! with the node's file, line and column before the value itself ([`SpannedAccess`]).

use std::fmt;
use std::path::PathBuf;

use serde::de::Error as _;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::Error;
use super::node::NodeDeserializer;
use crate::diagnostic::Location;

pub(super) const SPANNED_NAME: &str = "$katalog::Spanned";
const SPANNED_FIELDS: &[&str] = &["$file", "$line", "$col", "$value"];

/// A value together with the place it was written.
///
/// Only the Katalog deserializer knows how to fill the place; elsewhere decoding a `Spanned`
/// fails.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub at: Location,
}

impl<T> Spanned<T> {
    /// A value with a place.
    pub fn new(value: T, at: Location) -> Self {
        Spanned { value, at }
    }
}

impl<T: Default> Default for Spanned<T> {
    fn default() -> Self {
        Spanned::new(T::default(), Location::default())
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpannedVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value read by the Katalog loader")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Spanned<T>, A::Error> {
                let mut at = Location::default();
                let mut value = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "$file" => at.file = PathBuf::from(map.next_value::<String>()?),
                        "$line" => at.line = map.next_value()?,
                        "$col" => at.col = map.next_value()?,
                        _ => value = Some(map.next_value()?),
                    }
                }
                let value = value.ok_or_else(|| de::Error::missing_field("$value"))?;
                Ok(Spanned { value, at })
            }
        }
        deserializer.deserialize_struct(
            SPANNED_NAME,
            SPANNED_FIELDS,
            SpannedVisitor(std::marker::PhantomData),
        )
    }
}

pub(super) struct SpannedAccess<'a, 'c> {
    de: Option<NodeDeserializer<'a, 'c>>,
    step: usize,
}

impl<'a, 'c> SpannedAccess<'a, 'c> {
    pub(super) fn new(de: NodeDeserializer<'a, 'c>) -> Self {
        SpannedAccess {
            de: Some(de),
            step: 0,
        }
    }
}

impl<'de> MapAccess<'de> for SpannedAccess<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(field) = SPANNED_FIELDS.get(self.step) else {
            return Ok(None);
        };
        seed.deserialize(field.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let step = self.step;
        self.step += 1;
        let de = self
            .de
            .as_ref()
            .ok_or_else(|| Error::custom("spanned value read twice"))?;
        match step {
            0 => seed.deserialize(
                de.ctx
                    .sources
                    .path(de.node.span.file)
                    .display()
                    .to_string()
                    .into_deserializer(),
            ),
            1 => seed.deserialize(de.node.span.line.into_deserializer()),
            2 => seed.deserialize(de.node.span.col.into_deserializer()),
            _ => {
                let de = self
                    .de
                    .take()
                    .ok_or_else(|| Error::custom("spanned value read twice"))?;
                seed.deserialize(de)
            }
        }
    }
}
