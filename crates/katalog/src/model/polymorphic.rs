//! Fields that Katalogs write in more than one shape (spec §28.1), each read into one type.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer};

use crate::de::Spanned;

/// When a dependency counts as satisfied (spec §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DependCondition {
    /// The dependency's workers have started (the default).
    #[default]
    Started,
    /// The dependency is running without consecutive failures.
    Healthy,
}

/// One `dependsOn` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    /// The CRD entry depended upon, where it was written.
    pub name: Spanned<String>,
    /// When it counts as satisfied.
    pub condition: DependCondition,
}

/// `dependsOn` in any of its three forms: `[a, b]`, `{a: healthy}`, `{a: {condition: healthy}}`,
/// or a single name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DependsOn(pub Vec<Dependency>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DependencyObject {
    #[serde(default)]
    condition: DependCondition,
}

struct ConditionForm(DependCondition);

impl<'de> Deserialize<'de> for ConditionForm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ConditionForm;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`started`, `healthy` or {condition: ...}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ConditionForm, E> {
                match v {
                    "started" | "" => Ok(ConditionForm(DependCondition::Started)),
                    "healthy" => Ok(ConditionForm(DependCondition::Healthy)),
                    other => Err(E::custom(format!(
                        "unknown dependsOn condition `{other}`, expected `started` or `healthy`"
                    ))),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<ConditionForm, E> {
                Ok(ConditionForm(DependCondition::Started))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ConditionForm, A::Error> {
                let object = DependencyObject::deserialize(MapAccessDeserializer::new(map))?;
                Ok(ConditionForm(object.condition))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for DependsOn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DependsOn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of CRD names or a map of CRD name to condition")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DependsOn, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = seq.next_element::<Spanned<String>>()? {
                    out.push(Dependency {
                        name,
                        condition: DependCondition::Started,
                    });
                }
                Ok(DependsOn(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DependsOn, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = map.next_key::<Spanned<String>>()? {
                    let ConditionForm(condition) = map.next_value()?;
                    out.push(Dependency { name, condition });
                }
                Ok(DependsOn(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<DependsOn, E> {
                Ok(DependsOn::default())
            }
            fn visit_str<E: de::Error>(self, _v: &str) -> Result<DependsOn, E> {
                Err(E::custom(
                    "a single dependsOn name must be written as a list: dependsOn: [name]",
                ))
            }
        }
        d.deserialize_any(V)
    }
}

/// Labels as a map, or in the legacy list form `[{key: k, value: v}]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Labels(pub BTreeMap<String, String>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelPair {
    key: String,
    #[serde(default)]
    value: String,
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of labels or a list of {key, value}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Labels, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(pair) = seq.next_element::<LabelPair>()? {
                    out.insert(pair.key, pair.value);
                }
                Ok(Labels(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, ScalarString>()? {
                    out.insert(k, v.0);
                }
                Ok(Labels(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Labels, E> {
                Ok(Labels::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// Any scalar, read as its text (`80`, `true` and `"x"` all become strings).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScalarString(pub String);

impl<'de> Deserialize<'de> for ScalarString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(ScalarString)
    }
}

/// `setup:` as a list of manifest paths, or the object form.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Setup {
    /// Manifests to apply, in order, relative to the Katalog.
    pub apply: Vec<String>,
    /// Helm releases to install first (object form only; kept as written).
    pub helm: Vec<serde_json::Value>,
    /// Objects to wait for before the operator starts (object form only).
    pub wait: Vec<SetupWait>,
}

/// One `setup.wait` entry: an object that must exist (and be ready) before the operator
/// starts (dev mode).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupWait {
    /// Its kind (`Deployment`, `Secret`, …).
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its namespace; omitted for cluster-scoped objects.
    pub namespace: Option<String>,
    /// Also wait for a `Ready`, `Available`, `Established` or `Complete` condition that is
    /// `True`.
    #[serde(default)]
    pub ready: bool,
    /// How long (default 30 s).
    pub timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupObject {
    #[serde(default)]
    apply: Vec<String>,
    #[serde(default)]
    helm: Vec<serde_json::Value>,
    #[serde(default)]
    wait: Vec<SetupWait>,
}

impl<'de> Deserialize<'de> for Setup {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Setup;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of manifest paths or {apply, helm, wait}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Setup, A::Error> {
                let mut apply = Vec::new();
                while let Some(path) = seq.next_element::<String>()? {
                    apply.push(path);
                }
                Ok(Setup {
                    apply,
                    ..Setup::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Setup, A::Error> {
                let o = SetupObject::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Setup {
                    apply: o.apply,
                    helm: o.helm,
                    wait: o.wait,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// Retry backoff: the scalar shorthand (`500ms`, the initial delay) or the object form.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RetryBackoff {
    /// First delay.
    pub initial: Option<String>,
    /// Longest delay.
    pub max: Option<String>,
    /// Growth factor per attempt.
    pub multiplier: Option<f64>,
    /// Attempts before giving up (0 = no limit).
    pub max_attempts: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RetryBackoffObject {
    #[serde(alias = "base", alias = "initialDelay")]
    initial: Option<String>,
    max: Option<String>,
    multiplier: Option<f64>,
    max_attempts: Option<i64>,
}

impl<'de> Deserialize<'de> for RetryBackoff {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RetryBackoff;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration or {initial, max, multiplier, maxAttempts}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RetryBackoff, E> {
                Ok(RetryBackoff {
                    initial: Some(v.to_string()),
                    ..RetryBackoff::default()
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RetryBackoff, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RetryBackoff, A::Error> {
                let o = RetryBackoffObject::deserialize(MapAccessDeserializer::new(map))?;
                Ok(RetryBackoff {
                    initial: o.initial,
                    max: o.max,
                    multiplier: o.multiplier,
                    max_attempts: o.max_attempts,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A list that may also be written as a single item.
#[derive(Debug, Clone, PartialEq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list or a single item")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(OneOrMany(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OneOrMany<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany<T>, E> {
                T::deserialize(de::value::StrDeserializer::<E>::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<OneOrMany<T>, E> {
                Ok(OneOrMany(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::de::from_node;
    use crate::yaml::{SourceMap, parse_single};

    fn decode<T: serde::de::DeserializeOwned>(text: &str) -> T {
        let mut sources = SourceMap::default();
        let id = sources.add("k.yaml".into(), text.into());
        let node = parse_single(text, id).unwrap();
        let (result, found) = from_node::<T>(&node, &sources);
        assert!(found.is_empty(), "{found:?}");
        result.unwrap()
    }

    #[test]
    fn depends_on_accepts_list_map_and_object_forms() {
        let list: DependsOn = decode("[a, b]");
        assert_eq!(list.0.len(), 2);
        assert_eq!(list.0[0].condition, DependCondition::Started);
        let map: DependsOn = decode("a: healthy\nb: {condition: started}\n");
        assert_eq!(map.0[0].name.value, "a");
        assert_eq!(map.0[0].condition, DependCondition::Healthy);
        assert_eq!(map.0[1].condition, DependCondition::Started);
        assert_eq!((map.0[1].name.at.line, map.0[1].name.at.col), (2, 1));
    }

    #[test]
    fn depends_on_rejects_unknown_conditions() {
        let mut sources = SourceMap::default();
        let id = sources.add("k.yaml".into(), "a: ready\n".into());
        let node = parse_single("a: ready\n", id).unwrap();
        let (result, _) = from_node::<DependsOn>(&node, &sources);
        assert!(result.unwrap_err().message.contains("ready"));
    }

    #[test]
    fn labels_accept_map_and_key_value_list() {
        let map: Labels = decode("app: web\nport: 80\n");
        let list: Labels = decode("- key: app\n  value: web\n- key: port\n  value: \"80\"\n");
        assert_eq!(map, list);
    }

    #[test]
    fn setup_accepts_a_list_or_an_object() {
        let list: Setup = decode("[a.yaml, b.yaml]");
        let object: Setup = decode("apply: [a.yaml, b.yaml]\n");
        assert_eq!(list.apply, object.apply);
    }

    #[test]
    fn retry_backoff_accepts_a_scalar_or_an_object() {
        let scalar: RetryBackoff = decode("500ms");
        assert_eq!(scalar.initial.as_deref(), Some("500ms"));
        let object: RetryBackoff = decode("initial: 1s\nmax: 1m\nmultiplier: 2\nmaxAttempts: 5\n");
        assert_eq!(object.max.as_deref(), Some("1m"));
        assert_eq!(object.max_attempts, Some(5));
    }
}
