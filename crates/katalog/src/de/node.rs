//! [`NodeDeserializer`]: the serde `Deserializer` of one YAML node, with its key path.
//!
//! Scalars are read by the type serde asks for; a value of the wrong type is recorded and
//! replaced by a placeholder so decoding goes on; structs record their unknown keys first.

use serde::Deserializer;
use serde::de::Error as _;
use serde::de::{IntoDeserializer, Visitor};

use super::access::{Enum, Map, Seq};
use super::scalar::{core_bool, parse_float, parse_int, yaml11_bool};
use super::spanned::{SPANNED_NAME, SpannedAccess};
use super::unknown::did_you_mean;
use super::{Context, Error};
use crate::yaml::{Node, NodeKind, Style, is_null_text};

/// A deserializer for one node.
pub(super) struct NodeDeserializer<'a, 'c> {
    pub(super) node: &'a Node,
    pub(super) ctx: &'c Context<'c>,
    pub(super) path: String,
}

impl<'a, 'c> NodeDeserializer<'a, 'c> {
    pub(super) fn child(&self, node: &'a Node, segment: &str) -> NodeDeserializer<'a, 'c> {
        let path = if self.path.is_empty() {
            segment.to_string()
        } else if segment.starts_with('[') {
            format!("{}{segment}", self.path)
        } else {
            format!("{}.{segment}", self.path)
        };
        NodeDeserializer {
            node,
            ctx: self.ctx,
            path,
        }
    }

    /// Gives an error without a place the place of this node.
    pub(super) fn place(&self, mut err: Error) -> Error {
        if err.span.is_none() {
            err.span = Some(self.node.span);
            err.path = Some(self.path.clone());
        }
        err
    }

    fn scalar(&self) -> Result<(&'a str, Style), Error> {
        match &self.node.kind {
            NodeKind::Scalar(text, style) => Ok((text, *style)),
            _ => Err(self.place(Error::custom(format!(
                "expected a scalar, found {}",
                self.node.type_name()
            )))),
        }
    }

    fn type_error(&self, expected: &str) -> Error {
        let found = match &self.node.kind {
            NodeKind::Scalar(text, _) if !self.node.is_null() => format!("`{text}`"),
            _ => self.node.type_name().to_string(),
        };
        let key = self.path.rsplit('.').next().unwrap_or_default();
        let subject = if key.is_empty() {
            String::new()
        } else {
            format!("`{key}`: ")
        };
        self.place(Error::custom(format!(
            "{subject}expected {expected}, found {found}"
        )))
    }

    /// Records a type error and lets decoding go on.
    fn recover(&self, err: Error) {
        let d = self.ctx.diagnostic(err, self.node.span);
        self.ctx.found.borrow_mut().push(d);
    }

    fn integer<T: std::str::FromStr>(&self, expected: &str) -> Result<T, Error> {
        let (text, _) = self.scalar().map_err(|_| self.type_error(expected))?;
        parse_int(text)
            .and_then(|v| v.to_string().parse().ok())
            .ok_or_else(|| self.type_error(expected))
    }
}

macro_rules! integer_methods {
    ($($method:ident => $visit:ident, $ty:ty, $expected:literal;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                let value: $ty = self.integer($expected).unwrap_or_else(|err| {
                    self.recover(err);
                    0
                });
                visitor.$visit(value).map_err(|e| self.place(e))
            }
        )*
    };
}

impl<'de> Deserializer<'de> for NodeDeserializer<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match &self.node.kind {
            NodeKind::Scalar(text, Style::Quoted) => visitor.visit_str(text),
            NodeKind::Scalar(text, Style::Plain) => {
                if is_null_text(text) {
                    visitor.visit_unit()
                } else if let Some(b) = core_bool(text) {
                    visitor.visit_bool(b)
                } else if let Some(i) = parse_int(text) {
                    if let Ok(i) = i64::try_from(i) {
                        visitor.visit_i64(i)
                    } else if let Ok(u) = u64::try_from(i) {
                        visitor.visit_u64(u)
                    } else {
                        visitor.visit_str(text)
                    }
                } else if let Some(f) = parse_float(text) {
                    visitor.visit_f64(f)
                } else {
                    visitor.visit_str(text)
                }
            }
            NodeKind::Seq(items) => visitor.visit_seq(Seq::new(&self, items)),
            NodeKind::Map(entries) => visitor.visit_map(Map::new(&self, entries, None)),
        };
        result.map_err(|e| self.place(e))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.kind {
            NodeKind::Scalar(text, Style::Plain) if yaml11_bool(text).is_some() => visitor
                .visit_bool(yaml11_bool(text).unwrap_or_default())
                .map_err(|e| self.place(e)),
            _ => {
                self.recover(self.type_error("a boolean (true or false)"));
                visitor.visit_bool(false).map_err(|e| self.place(e))
            }
        }
    }

    integer_methods! {
        deserialize_i8 => visit_i8, i8, "an integer";
        deserialize_i16 => visit_i16, i16, "an integer";
        deserialize_i32 => visit_i32, i32, "an integer";
        deserialize_i64 => visit_i64, i64, "an integer";
        deserialize_u8 => visit_u8, u8, "a non-negative integer";
        deserialize_u16 => visit_u16, u16, "a non-negative integer";
        deserialize_u32 => visit_u32, u32, "a non-negative integer";
        deserialize_u64 => visit_u64, u64, "a non-negative integer";
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let value = self
            .scalar()
            .ok()
            .and_then(|(text, _)| parse_float(text).or_else(|| parse_int(text).map(|i| i as f64)))
            .unwrap_or_else(|| {
                self.recover(self.type_error("a number"));
                0.0
            });
        visitor.visit_f64(value).map_err(|e| self.place(e))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.kind {
            NodeKind::Scalar(text, _) => visitor.visit_str(text).map_err(|e| self.place(e)),
            _ => {
                self.recover(self.type_error("a string"));
                visitor.visit_str("").map_err(|e| self.place(e))
            }
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.node.is_null() {
            visitor.visit_none().map_err(|e| self.place(e))
        } else {
            let place = (self.node.span, self.path.clone());
            visitor.visit_some(self).map_err(|mut e| {
                if e.span.is_none() {
                    e.span = Some(place.0);
                    e.path = Some(place.1);
                }
                e
            })
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.node.is_null() {
            visitor.visit_unit().map_err(|e| self.place(e))
        } else {
            Err(self.type_error("nothing (null)"))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let place = (self.node.span, self.path.clone());
        visitor.visit_newtype_struct(self).map_err(|mut e| {
            if e.span.is_none() {
                e.span = Some(place.0);
                e.path = Some(place.1);
            }
            e
        })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.kind {
            NodeKind::Seq(items) => visitor
                .visit_seq(Seq::new(&self, items))
                .map_err(|e| self.place(e)),
            _ => {
                if !self.node.is_null() {
                    self.recover(self.type_error("a list"));
                }
                visitor
                    .visit_seq(Seq::new(&self, &[]))
                    .map_err(|e| self.place(e))
            }
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.kind {
            NodeKind::Map(entries) => visitor
                .visit_map(Map::new(&self, entries, None))
                .map_err(|e| self.place(e)),
            _ => {
                if !self.node.is_null() {
                    self.recover(self.type_error("a map"));
                }
                visitor
                    .visit_map(Map::new(&self, &[], None))
                    .map_err(|e| self.place(e))
            }
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == SPANNED_NAME {
            return visitor
                .visit_map(SpannedAccess::new(self))
                .map_err(|e| Error {
                    message: e.message,
                    span: e.span,
                    path: e.path,
                });
        }
        match &self.node.kind {
            NodeKind::Map(entries) => {
                for (key, _) in entries {
                    let known = key.as_str().is_some_and(|k| fields.contains(&k));
                    if !known {
                        self.record_unknown(name, key, fields, entries);
                    }
                }
                visitor
                    .visit_map(Map::new(&self, entries, Some((name, fields))))
                    .map_err(|e| self.place(e))
            }
            _ => {
                if !self.node.is_null() {
                    self.recover(self.type_error("a map"));
                }
                visitor
                    .visit_map(Map::new(&self, &[], Some((name, fields))))
                    .map_err(|e| self.place(e))
            }
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match &self.node.kind {
            NodeKind::Scalar(text, _) => {
                if !variants.contains(&text.as_str()) {
                    let mut err = self.type_error(&format!("one of {}", variants.join(", ")));
                    if let Some(close) = did_you_mean(text, variants) {
                        err.message.push_str(&format!(" (did you mean `{close}`?)"));
                    }
                    return Err(err);
                }
                visitor
                    .visit_enum(text.as_str().into_deserializer())
                    .map_err(|e: Error| self.place(e))
            }
            NodeKind::Map(entries) if entries.len() == 1 => visitor
                .visit_enum(Enum {
                    de: &self,
                    key: &entries[0].0,
                    value: &entries[0].1,
                })
                .map_err(|e| self.place(e)),
            _ => Err(self.type_error(&format!("one of {}", variants.join(", ")))),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}
