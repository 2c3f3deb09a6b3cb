//! Templated text and the render abstraction: [`Text`], a Katalog scalar kept as the text
//! the author wrote, and [`Render`], what turns template text into its value.
//!
//! Orkestra declares numbers, ports and flags as strings (`replicas: "3"`), and any string
//! may hold a template (`"{{ .spec.replicas }}"`). Authors also write bare YAML scalars
//! (`port: 8080`, `greaterThan: 0`, `equals: true`); those are accepted and kept as their
//! text so every such field is rendered and parsed the same way.
//!
//! Conditions ([`crate::condition`]), declarations ([`crate::resources`]), object building
//! and admission all render through the [`Render`] trait, so none of them depends on how
//! templates are compiled, and this module depends on none of them.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A scalar field of a declaration, as text. May hold a template.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(pub String);

impl Text {
    /// Wraps a string.
    pub fn new(s: impl Into<String>) -> Self {
        Text(s.into())
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the text is a template (contains `{{`), the Orkestra inference rule.
    pub fn is_template(&self) -> bool {
        self.0.contains("{{")
    }
}

/// Renders template text against a data map. Implemented by the template engine (with a
/// parse cache) and by small stand-ins in tests; keeps conditions and object building
/// independent of how templates are compiled.
pub trait Render: Send + Sync {
    /// Renders `src`, a template (`{{ ... }}`), against `data`.
    fn render(&self, src: &str, data: &serde_json::Value) -> Result<String, RenderFailure>;
}

/// Why a template could not be rendered: the engine's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RenderFailure {
    /// The engine's description of the failure.
    pub message: String,
}

impl RenderFailure {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        RenderFailure {
            message: message.into(),
        }
    }
}

/// Renders `src` if it is a template; static text is returned as it is, without copying.
pub fn render_text<'a>(
    r: &dyn Render,
    src: &'a str,
    data: &serde_json::Value,
) -> Result<Cow<'a, str>, RenderFailure> {
    if src.contains("{{") {
        r.render(src, data).map(Cow::Owned)
    } else {
        Ok(Cow::Borrowed(src))
    }
}

/// The field path of a template that is one bare field reference: `"{{ .a.b }}"` (trim
/// markers allowed) → `a.b`; `None` for anything else (pipelines, functions, text around).
/// Such a template stands for the field's value itself, list or map included, not only its
/// text.
pub fn field_reference(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.trim_start_matches('-').trim_end_matches('-').trim();
    let path = inner.strip_prefix('.')?;
    let plain = !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-');
    plain.then_some(path)
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(s.to_owned())
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(s)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(String::new()))
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_booleans_are_kept_as_their_text() {
        let v: Vec<Text> = serde_json::from_str(r#"["3", 8080, true, 1.5, null]"#).unwrap();
        let got: Vec<&str> = v.iter().map(Text::as_str).collect();
        assert_eq!(got, ["3", "8080", "true", "1.5", ""]);
    }

    #[test]
    fn maps_are_rejected() {
        assert!(serde_json::from_str::<Text>(r#"{"a": 1}"#).is_err());
    }

    #[test]
    fn templates_are_recognised_by_their_braces() {
        assert!(Text::from("{{ .spec.image }}").is_template());
        assert!(!Text::from("nginx:1.25").is_template());
    }

    #[test]
    fn field_references_are_recognised_only_when_bare() {
        assert_eq!(field_reference("{{ .spec.size }}"), Some("spec.size"));
        assert_eq!(field_reference("{{- .spec.size -}}"), Some("spec.size"));
        assert_eq!(field_reference("{{ .spec.size | quote }}"), None);
        assert_eq!(field_reference("x{{ .spec.size }}"), None);
        assert_eq!(field_reference("{{ .a }}{{ .b }}"), None);
    }
}
