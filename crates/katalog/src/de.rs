//! A serde `Deserializer` over a spanned YAML [`Node`], so the model is plain derived structs.
//!
//! What it adds to ordinary serde decoding:
//! - **every unknown key in one run**: when a struct is decoded its known field names are at
//!   hand, so each unknown key is recorded (position, full key path, "did you mean"), skipped,
//!   and decoding continues; derived `deny_unknown_fields` never sees the key;
//! - **renamed keys** of spec §0 (`anyOf` → `or`, …) get an error naming the new key;
//! - **errors with a place**: type errors carry the line, column and key path of the node;
//! - **YAML 1.1 booleans** (`yes`, `on`, …) only where a bool is expected; elsewhere they
//!   stay strings, as in YAML 1.2.
//!
//! [`Spanned`] lets a model field keep the position of its value.

use std::cell::RefCell;
use std::fmt;
use std::path::PathBuf;

use serde::de::Error as _;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::{Deserialize, Deserializer};

use crate::diagnostic::{Diagnostic, Location};
use crate::yaml::{Node, NodeKind, SourceMap, Span, Style, is_null_text};

/// A decoding failure: what went wrong and, once known, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub message: String,
    /// Where, once the failing node is known.
    pub span: Option<Span>,
    /// The key path of the failing node.
    pub path: Option<String>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            message: msg.to_string(),
            span: None,
            path: None,
        }
    }
}

/// Code of a value of the wrong type. Decoding records it and goes on with a placeholder
/// (`false`, `0`, `""`, empty list or map), so every such value in a file is reported; the
/// decoded model is then not fit for validation.
pub const INVALID_VALUE: &str = "invalid-value";

/// Keys that were renamed in a breaking release: (struct the key appears in or `*` for any
/// struct that knows the new key, old key, new key).
const RENAMED: &[(&str, &str, &str)] = &[
    ("*", "anyOf", "or"),
    ("Cross", "labels", "labelSelector"),
    ("CrossSource", "type", "protocol"),
    ("Hooks", "resources", "managedResources"),
    ("Constructor", "resources", "managedResources"),
];

/// Decodes `node` (read from `file`) into `T`.
///
/// Returns the value, or the error that stopped decoding, together with every unknown or
/// renamed key found on the way (these do not stop decoding, but make the result invalid).
pub fn from_node<T: DeserializeOwned>(
    node: &Node,
    sources: &SourceMap,
) -> (Result<T, Diagnostic>, Vec<Diagnostic>) {
    from_node_at(node, sources, "")
}

/// Like [`from_node`], with key paths starting at `path` (for nodes that sit inside a larger
/// document, e.g. an included file).
pub fn from_node_at<T: DeserializeOwned>(
    node: &Node,
    sources: &SourceMap,
    path: &str,
) -> (Result<T, Diagnostic>, Vec<Diagnostic>) {
    let ctx = Context {
        sources,
        found: RefCell::new(Vec::new()),
    };
    let de = NodeDeserializer {
        node,
        ctx: &ctx,
        path: path.to_string(),
    };
    let result = T::deserialize(de).map_err(|err| ctx.diagnostic(err, node.span));
    let mut found = ctx.found.into_inner();
    found.sort_by_key(|d| (d.line, d.col));
    (result, found)
}

struct Context<'s> {
    sources: &'s SourceMap,
    found: RefCell<Vec<Diagnostic>>,
}

impl Context<'_> {
    /// The diagnostic of a decoding error (at `fallback` when it has no place).
    fn diagnostic(&self, err: Error, fallback: Span) -> Diagnostic {
        let span = err.span.unwrap_or(fallback);
        let mut diagnostic = Diagnostic::error(INVALID_VALUE, err.message).at(&self.location(span));
        if let Some(path) = err.path.filter(|p| !p.is_empty()) {
            diagnostic = diagnostic.with_path(path);
        }
        diagnostic
    }

    fn location(&self, span: Span) -> Location {
        Location {
            file: self.sources.path(span.file).to_path_buf(),
            line: span.line,
            col: span.col,
        }
    }
}

/// A deserializer for one node.
struct NodeDeserializer<'a, 'c> {
    node: &'a Node,
    ctx: &'c Context<'c>,
    path: String,
}

impl<'a, 'c> NodeDeserializer<'a, 'c> {
    fn child(&self, node: &'a Node, segment: &str) -> NodeDeserializer<'a, 'c> {
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
    fn place(&self, mut err: Error) -> Error {
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

    fn record_unknown(&self, struct_name: &str, key: &Node, fields: &[&str]) {
        let name = key.as_str().unwrap_or("<non-scalar key>");
        let path = self.child(key, name).path;
        let location = self.ctx.location(key.span);
        let renamed = RENAMED.iter().find(|(owner, old, new)| {
            *old == name && (*owner == struct_name || (*owner == "*" && fields.contains(new)))
        });
        let diagnostic = match renamed {
            Some((_, old, new)) => {
                Diagnostic::error("renamed-key", format!("key `{old}` was renamed to `{new}`"))
                    .with_hint(format!("rename `{old}` to `{new}`"))
            }
            None => {
                let mut d = Diagnostic::error("unknown-key", format!("unknown key `{name}`"));
                if let Some(close) = did_you_mean(name, fields) {
                    d = d.with_hint(format!("did you mean `{close}`?"));
                } else if !fields.is_empty() && fields.len() <= 12 {
                    d = d.with_hint(format!("known keys here: {}", fields.join(", ")));
                }
                d
            }
        };
        self.ctx
            .found
            .borrow_mut()
            .push(diagnostic.at(&location).with_path(path));
    }
}

/// The known field closest to `name`, if it is close enough to be a typo.
pub fn did_you_mean<'f>(name: &str, fields: &[&'f str]) -> Option<&'f str> {
    let lower = name.to_ascii_lowercase();
    fields
        .iter()
        .filter(|f| !f.starts_with('$'))
        .map(|f| (edit_distance(&lower, &f.to_ascii_lowercase()), *f))
        .filter(|(d, f)| *d <= (f.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| f)
}

/// Levenshtein distance between two strings.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

fn parse_int(text: &str) -> Option<i128> {
    let t = text.replace('_', "");
    if let Some(hex) = t.strip_prefix("0x") {
        return i128::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = t.strip_prefix("0o") {
        return i128::from_str_radix(oct, 8).ok();
    }
    t.parse().ok()
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let looks_numeric = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && text.chars().any(|c| c.is_ascii_digit());
    if looks_numeric {
        text.parse().ok()
    } else {
        None
    }
}

/// A plain (unquoted) YAML scalar as the core schema reads it: null, bool, integer, float,
/// else the text itself. Templates that produce typed values (normalize) resolve through this.
pub(crate) fn plain_scalar(text: &str) -> serde_json::Value {
    use serde_json::Value;
    if is_null_text(text) {
        Value::Null
    } else if let Some(b) = core_bool(text) {
        Value::Bool(b)
    } else if let Some(i) = parse_int(text).and_then(|i| i64::try_from(i).ok()) {
        Value::from(i)
    } else if let Some(f) = parse_float(text).filter(|f| f.is_finite()) {
        Value::from(f)
    } else {
        Value::String(text.to_owned())
    }
}

/// `true`/`false` as YAML 1.2's core schema spells them.
fn core_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn yaml11_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "y" => Some(true),
        "false" | "no" | "off" | "n" => Some(false),
        _ => None,
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
                        self.record_unknown(name, key, fields);
                    }
                }
                visitor
                    .visit_map(Map::new(&self, entries, Some(fields)))
                    .map_err(|e| self.place(e))
            }
            _ => {
                if !self.node.is_null() {
                    self.recover(self.type_error("a map"));
                }
                visitor
                    .visit_map(Map::new(&self, &[], Some(fields)))
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

struct Seq<'a, 'c, 'p> {
    parent: &'p NodeDeserializer<'a, 'c>,
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
}

impl<'a, 'c, 'p> Seq<'a, 'c, 'p> {
    fn new(parent: &'p NodeDeserializer<'a, 'c>, items: &'a [Node]) -> Self {
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

struct Map<'a, 'c, 'p> {
    parent: &'p NodeDeserializer<'a, 'c>,
    entries: std::slice::Iter<'a, (Node, Node)>,
    fields: Option<&'static [&'static str]>,
    value: Option<(&'a Node, String)>,
}

impl<'a, 'c, 'p> Map<'a, 'c, 'p> {
    fn new(
        parent: &'p NodeDeserializer<'a, 'c>,
        entries: &'a [(Node, Node)],
        fields: Option<&'static [&'static str]>,
    ) -> Self {
        Map {
            parent,
            entries: entries.iter(),
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
            if self.fields.is_some_and(|fields| !fields.contains(&name)) {
                continue;
            }
            let key_de = self.parent.child(key, name);
            let k = seed.deserialize(key_de)?;
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

struct Enum<'a, 'c, 'p> {
    de: &'p NodeDeserializer<'a, 'c>,
    key: &'a Node,
    value: &'a Node,
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

const SPANNED_NAME: &str = "$katalog::Spanned";
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

struct SpannedAccess<'a, 'c> {
    de: Option<NodeDeserializer<'a, 'c>>,
    step: usize,
}

impl<'a, 'c> SpannedAccess<'a, 'c> {
    fn new(de: NodeDeserializer<'a, 'c>) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Reconciler {
        workers: Option<i64>,
        resync: Option<String>,
        enabled: Option<bool>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Root {
        reconciler: Reconciler,
        or: Option<Vec<String>>,
    }

    fn decode<T: DeserializeOwned>(text: &str) -> (Result<T, Diagnostic>, Vec<Diagnostic>) {
        let mut sources = SourceMap::default();
        let id = sources.add("k.yaml".into(), text.into());
        let node = parse_single(text, id).unwrap();
        from_node(&node, &sources)
    }

    #[test]
    fn every_unknown_key_is_reported_with_path_and_suggestion() {
        let (result, found) = decode::<Root>("reconciler:\n  workerz: 3\n  resynk: 1s\nextra: 1\n");
        assert!(result.is_ok());
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].path.as_deref(), Some("reconciler.workerz"));
        assert_eq!(found[0].hint.as_deref(), Some("did you mean `workers`?"));
        assert_eq!((found[0].line, found[0].col), (2, 3));
        assert_eq!(found[1].hint.as_deref(), Some("did you mean `resync`?"));
        assert_eq!(found[2].path.as_deref(), Some("extra"));
    }

    #[test]
    fn renamed_keys_name_the_new_key() {
        let (_, found) = decode::<Root>("reconciler: {}\nanyOf: [a]\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "renamed-key");
        assert!(found[0].message.contains("`or`"), "{}", found[0].message);
    }

    #[test]
    fn type_errors_carry_position_and_path() {
        let (result, found) = decode::<Root>("reconciler:\n  workers: many\n");
        assert!(result.is_ok(), "decoding goes on with a placeholder");
        let err = &found[0];
        assert_eq!(err.code, INVALID_VALUE);
        assert_eq!(err.path.as_deref(), Some("reconciler.workers"));
        assert_eq!((err.line, err.col), (2, 12));
        assert!(err.message.contains("many"), "{}", err.message);
    }

    #[test]
    fn every_type_error_and_unknown_key_is_reported_in_one_run() {
        let (result, found) = decode::<Root>(
            "reconciler:\n  workers: many\n  enabled: maybe\n  resync: [1]\n  extra: 1\nor: 3\n",
        );
        assert!(result.is_ok());
        let paths: Vec<_> = found.iter().filter_map(|d| d.path.as_deref()).collect();
        assert_eq!(
            paths,
            [
                "reconciler.workers",
                "reconciler.enabled",
                "reconciler.resync",
                "reconciler.extra",
                "or"
            ]
        );
    }

    #[test]
    fn yaml11_booleans_are_read_only_where_a_bool_is_expected() {
        let (result, _) = decode::<Root>("reconciler:\n  enabled: yes\n  resync: on\n");
        let root = result.unwrap();
        assert_eq!(root.reconciler.enabled, Some(true));
        assert_eq!(root.reconciler.workers, None);
        assert_eq!(root.or, None);
        assert_eq!(root.reconciler.resync.as_deref(), Some("on"));
    }

    #[test]
    fn missing_fields_point_at_their_map() {
        let (result, _) = decode::<Root>("or: [a]\n");
        let err = result.unwrap_err();
        assert!(err.message.contains("reconciler"), "{}", err.message);
        assert_eq!(err.line, 1);
    }

    #[test]
    fn spanned_values_know_where_they_were_written() {
        #[derive(Deserialize)]
        struct S {
            name: Spanned<String>,
        }
        let (result, _) = decode::<S>("\nname: web\n");
        let s = result.unwrap();
        assert_eq!(s.name.value, "web");
        assert_eq!((s.name.at.line, s.name.at.col), (2, 7));
        assert_eq!(s.name.at.file, PathBuf::from("k.yaml"));
    }

    #[test]
    fn untyped_values_resolve_plain_scalars_like_yaml() {
        let (result, _) =
            decode::<serde_json::Value>("a: 1\nb: \"1\"\nc: true\nd: ~\ne: 1.5\nf: x\n");
        let v = result.unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": 1, "b": "1", "c": true, "d": null, "e": 1.5, "f": "x"})
        );
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("workerz", "workers"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(
            did_you_mean("operatorBx", &["operatorBox", "crdFile"]),
            Some("operatorBox")
        );
        assert_eq!(did_you_mean("zzz", &["operatorBox"]), None);
    }
}
