//! What every kind's builder shares: rendering declared text into strings, numbers,
//! booleans, durations and JSON; metadata (names, namespaces, system labels); forEach
//! expansion; profile lookup.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use super::profiles::{ProfileClass, ProfileRegistry};
use super::{ErrorKind, ObjectRef, Owner, SecretFlags};
use crate::condition::{lookup, parse_duration};
use crate::labels;
use crate::render::{Render, Text, field_reference, render_text};
use crate::resources::{Common, ForEach, Kind, Labels, TextMap};

/// A failure inside one declaration, before it is located by phase and path.
#[derive(Debug)]
pub(crate) struct Fault {
    /// The field, e.g. `image` or `probes.liveness.port`.
    pub field: Option<String>,
    /// What failed.
    pub kind: ErrorKind,
}

impl Fault {
    /// A failure of the declaration as a whole.
    pub fn new(kind: ErrorKind) -> Self {
        Fault { field: None, kind }
    }

    /// A failure of one field.
    pub fn at(field: impl Into<String>, kind: ErrorKind) -> Self {
        Fault {
            field: Some(field.into()),
            kind,
        }
    }
}

pub(crate) type Result<T, E = Fault> = std::result::Result<T, E>;

/// What a kind's builder returns.
#[derive(Debug, Default)]
pub(crate) struct Built {
    /// The object.
    pub object: Value,
    /// Secret and copy flags.
    pub secret: Option<SecretFlags>,
    /// Custom children: status subresource hint.
    pub has_status: Option<bool>,
    /// Custom children: initial status.
    pub status: Option<Value>,
    /// Objects this one needs, applied just before it (an Ingress's generated TLS Secret).
    pub companions: Vec<(Kind, Built)>,
    /// Workload autoscale, rendered.
    pub scale: Option<super::ScalePlan>,
}

impl Built {
    /// Just an object.
    pub fn new(object: Value) -> Self {
        Built {
            object,
            ..Built::default()
        }
    }
}

/// Resolved metadata of one object.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    /// Object name.
    pub name: String,
    /// Namespace; `None` when cluster-scoped.
    pub namespace: Option<String>,
    /// Declared labels plus the system labels.
    pub labels: Map<String, Value>,
    /// Declared annotations.
    pub annotations: Map<String, Value>,
    /// The value of the owner label.
    pub owner_label: String,
    /// The owner CR's name.
    pub owner_name: String,
    /// The object's reference, when its apiVersion/kind are known before building.
    pub object_ref: Option<ObjectRef>,
}

impl Meta {
    /// The `metadata` block.
    pub fn metadata(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), Value::String(self.name.clone()));
        if let Some(ns) = &self.namespace {
            m.insert("namespace".into(), Value::String(ns.clone()));
        }
        m.insert("labels".into(), Value::Object(self.labels.clone()));
        if !self.annotations.is_empty() {
            m.insert(
                "annotations".into(),
                Value::Object(self.annotations.clone()),
            );
        }
        Value::Object(m)
    }

    /// A whole object of a built-in kind: apiVersion, kind, metadata, then `body`'s keys.
    pub fn object(&self, kind: Kind, body: Value) -> Value {
        let mut m = Map::new();
        m.insert(
            "apiVersion".into(),
            kind.api_version().unwrap_or_default().into(),
        );
        m.insert("kind".into(), kind.kube_kind().unwrap_or_default().into());
        m.insert("metadata".into(), self.metadata());
        if let Value::Object(body) = body {
            m.extend(body);
        }
        Value::Object(m)
    }

    /// The selector matching the owner's pods: `{orkestra-owner: <owner>}`.
    pub fn owner_selector(&self) -> Value {
        json!({ labels::OWNER: self.owner_label })
    }
}

/// Rendering context of one declaration (one forEach element).
pub(crate) struct Ctx<'a> {
    render: &'a dyn Render,
    profiles: &'a ProfileRegistry,
    /// The data map (CR, extras, forEach keys).
    pub data: &'a Value,
    /// The time conditions evaluate at.
    now: time::OffsetDateTime,
}

impl<'a> Ctx<'a> {
    pub fn new(
        render: &'a dyn Render,
        profiles: &'a ProfileRegistry,
        data: &'a Value,
        now: time::OffsetDateTime,
    ) -> Self {
        Ctx {
            render,
            profiles,
            data,
            now,
        }
    }

    /// The condition environment of this declaration.
    pub fn env(&self) -> crate::condition::Env<'_> {
        crate::condition::Env::new(self.data, self.render, self.now)
    }

    /// Renders text (templates only; static text is copied as it is).
    pub fn text(&self, field: &str, t: &str) -> Result<String> {
        render_text(self.render, t, self.data)
            .map(Cow::into_owned)
            .map_err(|e| Fault::at(field, ErrorKind::RenderFailed(e)))
    }

    /// Renders optional text; absent or rendered empty (after trimming) is `None`.
    pub fn opt(&self, field: &str, t: Option<&Text>) -> Result<Option<String>> {
        let Some(t) = t else { return Ok(None) };
        let s = self.text(field, t)?;
        let trimmed = s.trim();
        Ok(if trimmed.is_empty() {
            None
        } else if trimmed.len() == s.len() {
            Some(s)
        } else {
            Some(trimmed.to_owned())
        })
    }

    /// Renders text that must not be empty.
    pub fn required(&self, field: &str, t: Option<&Text>) -> Result<String> {
        self.opt(field, t)?
            .ok_or_else(|| Fault::at(field, ErrorKind::Missing))
    }

    /// Renders an integer; absent or empty is `None`.
    pub fn int(&self, field: &str, t: Option<&Text>) -> Result<Option<i64>> {
        let Some(s) = self.opt(field, t)? else {
            return Ok(None);
        };
        parse_int(&s)
            .map(Some)
            .ok_or_else(|| Fault::at(field, ErrorKind::NotANumber(s)))
    }

    /// Renders a Kubernetes IntOrString: a number when it parses, else the text.
    pub fn int_or_string(&self, field: &str, t: Option<&Text>) -> Result<Option<Value>> {
        Ok(self.opt(field, t)?.map(|s| int_or_string(&s)))
    }

    /// Renders a boolean; absent or empty is `None`.
    pub fn boolean(&self, field: &str, t: Option<&Text>) -> Result<Option<bool>> {
        let Some(s) = self.opt(field, t)? else {
            return Ok(None);
        };
        match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(Some(true)),
            "false" | "0" | "no" => Ok(Some(false)),
            _ => Err(Fault::at(field, ErrorKind::NotABool(s))),
        }
    }

    /// Renders an extended duration (`90d`, `1h30m`); absent or empty is `None`.
    pub fn duration(&self, field: &str, t: &Text) -> Result<Option<std::time::Duration>> {
        let Some(s) = self.opt(field, Some(t))? else {
            return Ok(None);
        };
        parse_duration(&s)
            .and_then(|d| d.try_into().ok())
            .map(Some)
            .ok_or_else(|| Fault::at(field, ErrorKind::NotADuration(s)))
    }

    /// Renders each element; elements that render empty are dropped.
    pub fn list(&self, field: &str, items: &[Text]) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(items.len());
        for (i, t) in items.iter().enumerate() {
            if let Some(s) = self.opt(&format!("{field}[{i}]"), Some(t))? {
                out.push(Value::String(s));
            }
        }
        Ok(out)
    }

    /// Renders each value of a map (values stay strings, even when empty).
    pub fn map(&self, field: &str, m: &TextMap) -> Result<Map<String, Value>> {
        let mut out = Map::new();
        for (k, v) in m {
            out.insert(
                k.clone(),
                Value::String(self.text(&format!("{field}.{k}"), v)?),
            );
        }
        Ok(out)
    }

    /// Renders labels or annotations.
    pub fn labels(&self, field: &str, l: &Labels) -> Result<Map<String, Value>> {
        self.map(field, &l.0)
    }

    /// Renders every template string inside a JSON value. With `coerce`, a rendered
    /// template that reads as a number, boolean, or JSON object/array becomes that value
    /// (so typed fields of arbitrary kinds pass API validation); static strings never
    /// change.
    pub fn json(&self, field: &str, v: &Value, coerce: bool) -> Result<Value> {
        Ok(match v {
            Value::String(s) if s.contains("{{") => {
                let out = self.text(field, s)?;
                if coerce {
                    coerce_text(out)
                } else {
                    Value::String(out)
                }
            }
            Value::Array(a) => Value::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| self.json(&format!("{field}[{i}]"), x, coerce))
                    .collect::<Result<_>>()?,
            ),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| Ok((k.clone(), self.json(&format!("{field}.{k}"), x, coerce)?)))
                    .collect::<Result<_>>()?,
            ),
            other => other.clone(),
        })
    }

    /// Looks up the profile a `profile:` field names.
    pub fn profile(&self, field: &str, class: ProfileClass, name: &Text) -> Result<Option<Value>> {
        let Some(name) = self.opt(field, Some(name))? else {
            return Ok(None);
        };
        match self.profiles.lookup(class, &name) {
            Some(v) => Ok(Some(v.into_owned())),
            None => Err(Fault::at(
                field,
                ErrorKind::UnknownProfile {
                    class: class.name(),
                    name,
                },
            )),
        }
    }

    /// The namespaces one declaration targets: `[None]` when cluster-scoped; each of
    /// `toNamespaces` when given; else the declared namespace, the CR's, or `default`.
    ///
    /// A `toNamespaces` entry that is one bare field reference to a list
    /// (`"{{ .spec.targetNamespaces }}"`) stands for each string of that list, as in
    /// Orkestra; entries rendering empty are dropped.
    ///
    /// # Errors
    /// A template failed, or a rendered namespace is not a namespace name (a DNS label):
    /// such a value would otherwise reach the API as part of a request path.
    pub fn namespaces(
        &self,
        cluster_scoped: bool,
        common: &Common<'_>,
        targets: &[Text],
        owner: &Owner,
    ) -> Result<Vec<Option<String>>> {
        if cluster_scoped {
            return Ok(vec![None]);
        }
        if !targets.is_empty() {
            let mut out = Vec::new();
            for (i, t) in targets.iter().enumerate() {
                let field = format!("toNamespaces[{i}]");
                let listed = field_reference(t).and_then(|path| match lookup(self.data, path) {
                    Some(Value::Array(items)) => Some(items),
                    _ => None,
                });
                let names: Vec<String> = match listed {
                    Some(items) => items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    None => self.opt(&field, Some(t))?.into_iter().collect(),
                };
                for ns in names {
                    out.push(Some(namespace_name(&field, ns)?));
                }
            }
            return Ok(out);
        }
        let declared = self.namespace("namespace", common.namespace)?;
        Ok(vec![Some(
            declared.unwrap_or_else(|| owner.namespace.clone()),
        )])
    }

    /// Renders an optional namespace; absent or rendered empty is `None`.
    ///
    /// # Errors
    /// A template failed, or the result is not a namespace name.
    pub fn namespace(&self, field: &str, t: Option<&Text>) -> Result<Option<String>> {
        self.opt(field, t)?
            .map(|name| namespace_name(field, name))
            .transpose()
    }

    /// Resolves name, labels (declared plus system) and annotations.
    pub fn meta(
        &self,
        kind: Kind,
        common: &Common<'_>,
        namespace: Option<String>,
        owner: &Owner,
        identity: Option<(&Text, &Text)>,
    ) -> Result<Meta> {
        let name = match self.opt("name", common.name)? {
            Some(n) => n,
            None if kind == Kind::Custom => {
                return Err(Fault::at("metadata.name", ErrorKind::Missing));
            }
            None => format!("{}-{}", owner.name, kind.default_name_suffix()),
        };
        let mut labels = self.labels("labels", common.labels)?;
        owner.stamp(&mut labels);
        let annotations = self.labels("annotations", common.annotations)?;
        let type_of = match (kind.api_version(), kind.kube_kind(), identity) {
            (Some(a), Some(k), _) => Some((a.to_owned(), k.to_owned())),
            (_, _, Some((a, k))) => {
                match (self.opt("apiVersion", Some(a))?, self.opt("kind", Some(k))?) {
                    (Some(a), Some(k)) => Some((a, k)),
                    _ => None,
                }
            }
            _ => None,
        };
        let object_ref = type_of.map(|(api_version, kind)| ObjectRef {
            api_version,
            kind,
            namespace: namespace.clone(),
            name: name.clone(),
        });
        Ok(Meta {
            name,
            namespace,
            labels,
            annotations,
            owner_label: owner.label.clone(),
            owner_name: owner.name.clone(),
            object_ref,
        })
    }
}

/// `name` when it is a namespace name (an RFC 1123 DNS label), else the fault at `field`.
fn namespace_name(field: &str, name: String) -> Result<String> {
    let label = name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if label {
        Ok(name)
    } else {
        Err(Fault::at(field, ErrorKind::InvalidNamespace(name)))
    }
}

/// Parses an integer written as text (`"3"`, `" 3 "`, `"3.0"`).
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    s.parse::<i64>().ok().or_else(|| {
        s.parse::<f64>()
            .ok()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

/// A number when the text is an integer, else the text (Kubernetes IntOrString).
pub(crate) fn int_or_string(s: &str) -> Value {
    match s.trim().parse::<i64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::String(s.to_owned()),
    }
}

/// The typed value a rendered template stands for, when it reads as one.
fn coerce_text(s: String) -> Value {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(f) = t.parse::<f64>()
        && f.is_finite()
        && !t.eq_ignore_ascii_case("nan")
        && !t.to_ascii_lowercase().contains("inf")
    {
        return Value::from(f);
    }
    match t {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if (t.starts_with('{') || t.starts_with('['))
        && let Ok(v) = serde_json::from_str::<Value>(t)
    {
        return v;
    }
    Value::String(s)
}

/// The data maps of one declaration: the data itself, or one per forEach element with
/// `.item`, `.index`, `.<as>` (and `.value` for map fields) added. A forEach field that is
/// absent or not a list/map expands to nothing.
pub(crate) fn expand<'d>(
    data: &'d Value,
    for_each: Option<&ForEach>,
) -> Result<Vec<Cow<'d, Value>>> {
    let Some(fe) = for_each else {
        return Ok(vec![Cow::Borrowed(data)]);
    };
    let with = |item: Value, index: usize, value: Option<&Value>| {
        let mut d = data.clone();
        if let Value::Object(m) = &mut d {
            if let Some(alias) = fe.alias.as_deref().filter(|a| !a.is_empty()) {
                m.insert(alias.to_owned(), item.clone());
            }
            m.insert("item".into(), item);
            m.insert("index".into(), Value::from(index));
            if let Some(v) = value {
                m.insert("value".into(), v.clone());
            }
        }
        Cow::Owned(d)
    };
    Ok(match lookup(data, &fe.field) {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| with(item.clone(), i, None))
            .collect(),
        Some(Value::Object(m)) => m
            .iter()
            .enumerate()
            .map(|(i, (k, v))| with(Value::String(k.clone()), i, Some(v)))
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_from_text_with_spaces_or_a_zero_fraction() {
        assert_eq!(parse_int(" 3 "), Some(3));
        assert_eq!(parse_int("3.0"), Some(3));
        assert_eq!(parse_int("3.5"), None);
        assert_eq!(parse_int("three"), None);
    }

    #[test]
    fn rendered_templates_coerce_to_typed_values() {
        assert_eq!(coerce_text("50".into()), json!(50));
        assert_eq!(coerce_text("1.5".into()), json!(1.5));
        assert_eq!(coerce_text("true".into()), json!(true));
        assert_eq!(coerce_text("{\"a\": 1}".into()), json!({"a": 1}));
        assert_eq!(coerce_text("{not json".into()), json!("{not json"));
        assert_eq!(coerce_text("us-east-1".into()), json!("us-east-1"));
        assert_eq!(coerce_text("inf".into()), json!("inf"));
    }

    #[test]
    fn for_each_over_a_list_adds_item_index_and_alias() {
        let data = json!({"spec": {"regions": ["eu", "us"]}});
        let fe = ForEach {
            field: "spec.regions".into(),
            alias: Some("region".into()),
        };
        let out = expand(&data, Some(&fe)).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1]["item"], "us");
        assert_eq!(out[1]["region"], "us");
        assert_eq!(out[1]["index"], 1);
    }

    #[test]
    fn for_each_over_a_map_adds_key_and_value_in_key_order() {
        let data = json!({"spec": {"tiers": {"b": 2, "a": 1}}});
        let fe = ForEach {
            field: "spec.tiers".into(),
            alias: None,
        };
        let out = expand(&data, Some(&fe)).unwrap();
        assert_eq!(out[0]["item"], "a");
        assert_eq!(out[0]["value"], 1);
        assert_eq!(out[1]["item"], "b");
    }

    #[test]
    fn for_each_over_a_missing_field_expands_to_nothing() {
        let data = json!({"spec": {}});
        let fe = ForEach {
            field: "spec.none".into(),
            alias: None,
        };
        assert!(expand(&data, Some(&fe)).unwrap().is_empty());
    }
}
