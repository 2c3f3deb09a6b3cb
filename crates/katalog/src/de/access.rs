//! The serde accessors the node deserializer hands to visitors: [`Seq`] for lists, [`Map`]
//! for maps (skipping keys a struct does not know, already recorded), [`Enum`] for
//! single-key maps read as enum variants.

use serde::Deserializer;
use serde::de::Error as _;
use serde::de::{DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};

use super::Error;
use super::node::NodeDeserializer;
use super::unknown::{deprecated_alias, has_key};
use crate::yaml::Node;
use serde::de::IntoDeserializer as _;

pub(super) struct Seq<'a, 'c, 'p> {
    parent: &'p NodeDeserializer<'a, 'c>,
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
}

impl<'a, 'c, 'p> Seq<'a, 'c, 'p> {
    pub(super) fn new(parent: &'p NodeDeserializer<'a, 'c>, items: &'a [Node]) -> Self {
        Seq {
            parent,
            items: items.iter().enumerate(),
        }
    }
}

impl<'de> SeqAccess<'de> for Seq<'_, '_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.items.next() {
            Some((i, node)) => {
                let child = self.parent.child(node, &format!("[{i}]"));
                seed.deserialize(child).map(Some)
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

pub(super) struct Map<'a, 'c, 'p> {
    parent: &'p NodeDeserializer<'a, 'c>,
    entries: std::slice::Iter<'a, (Node, Node)>,
    all: &'a [(Node, Node)],
    /// The struct's name and field names, when the map is a struct.
    fields: Option<(&'static str, &'static [&'static str])>,
    value: Option<(&'a Node, String)>,
}

impl<'a, 'c, 'p> Map<'a, 'c, 'p> {
    pub(super) fn new(
        parent: &'p NodeDeserializer<'a, 'c>,
        entries: &'a [(Node, Node)],
        fields: Option<(&'static str, &'static [&'static str])>,
    ) -> Self {
        Map {
            parent,
            entries: entries.iter(),
            all: entries,
            fields,
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for Map<'_, '_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        for (key, value) in self.entries.by_ref() {
            let name = key.as_str().unwrap_or("?");
            let k = match self.fields {
                Some((_, fields)) if fields.contains(&name) => {
                    seed.deserialize(self.parent.child(key, name))?
                }
                // A deprecated spelling decodes as the key it was renamed to (its warning was
                // recorded when the struct's keys were checked).
                Some((owner, fields)) => match deprecated_alias(owner, name, fields) {
                    Some(new) if !has_key(self.all, new) => {
                        seed.deserialize(new.into_deserializer())?
                    }
                    _ => continue,
                },
                None => seed.deserialize(self.parent.child(key, name))?,
            };
            self.value = Some((value, name.to_string()));
            return Ok(Some(k));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (node, name) = self
            .value
            .take()
            .ok_or_else(|| Error::custom("value requested before key"))?;
        seed.deserialize(self.parent.child(node, &name))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

pub(super) struct Enum<'a, 'c, 'p> {
    pub(super) de: &'p NodeDeserializer<'a, 'c>,
    pub(super) key: &'a Node,
    pub(super) value: &'a Node,
}

impl<'de, 'a, 'c, 'p> EnumAccess<'de> for Enum<'a, 'c, 'p> {
    type Error = Error;
    type Variant = NodeDeserializer<'a, 'c>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), Error> {
        let name = self.key.as_str().unwrap_or("?");
        let variant = seed.deserialize(self.de.child(self.key, name))?;
        Ok((variant, self.de.child(self.value, name)))
    }
}

impl<'de> VariantAccess<'de> for NodeDeserializer<'_, '_> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_struct("", fields, visitor)
    }
}
