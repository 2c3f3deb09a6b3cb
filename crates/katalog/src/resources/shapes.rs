//! Value shapes shared by several declaration kinds: labels, env, resources, probes,
//! security contexts, rolling updates, volumes, forEach, workload autoscale.
//!
//! Several accept two spellings found in real Katalogs (see the conformance README):
//! labels as a map or as a legacy `[{key, value}]` list, env as a Kubernetes list or as a
//! `NAME: {value: ...}` map. Both decode to one canonical form.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::condition::Condition;
use crate::render::Text;

/// Labels or annotations: key → templated value, in key order.
///
/// Accepts a map (`app: web`) or the legacy list (`[{key: app, value: web}]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Labels(pub BTreeMap<String, Text>);

impl Labels {
    /// Whether no entry is declared.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Text)> {
        self.0.iter()
    }
}

/// One entry of the legacy list form of [`Labels`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelEntry {
    key: String,
    #[serde(default)]
    value: Text,
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LabelsVisitor;
        impl<'de> Visitor<'de> for LabelsVisitor {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of labels or a list of {key, value}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, Text>()? {
                    out.insert(k, v);
                }
                Ok(Labels(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Labels, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(e) = seq.next_element::<LabelEntry>()? {
                    out.insert(e.key, e.value);
                }
                Ok(Labels(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Labels, E> {
                Ok(Labels::default())
            }
        }
        d.deserialize_any(LabelsVisitor)
    }
}

/// A plain string map whose values may be templates (configMap data, nodeSelector, ...).
pub type TextMap = BTreeMap<String, Text>;

/// One container environment variable.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvVar {
    /// Variable name.
    #[serde(default)]
    pub name: String,
    /// Literal (templated) value.
    #[serde(default)]
    pub value: Option<Text>,
    /// Value taken from a Secret or ConfigMap key (Kubernetes shape, templated strings).
    #[serde(default)]
    pub value_from: Option<serde_json::Value>,
}

/// The body of one entry in the map form of [`EnvVars`] (`NAME: {value: ...}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EnvBody {
    #[serde(default)]
    value: Option<Text>,
    #[serde(default)]
    value_from: Option<serde_json::Value>,
}

/// Container environment, in declaration order.
///
/// Accepts the Kubernetes list (`[{name, value}]`) or a map (`NAME: {value: ...}`, or
/// `NAME: value`); map entries come out in key order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EnvVars(pub Vec<EnvVar>);

impl<'de> Deserialize<'de> for EnvVars {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EnvVisitor;
        impl<'de> Visitor<'de> for EnvVisitor {
            type Value = EnvVars;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of {name, value} or a map of NAME: {value}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EnvVars, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = seq.next_element::<EnvVar>()? {
                    out.push(e);
                }
                Ok(EnvVars(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvVars, A::Error> {
                let mut entries = BTreeMap::new();
                while let Some((name, v)) = map.next_entry::<String, serde_json::Value>()? {
                    let var = if v.is_object() {
                        let b: EnvBody = serde_json::from_value(v).map_err(|e| {
                            de::Error::custom(format!(
                                "env `{name}`: {e}; a map entry is `{name}: <value>`, `{name}: {{value: ...}}` or `{name}: {{valueFrom: {{secretKeyRef: {{name, key}}}}}}`"
                            ))
                        })?;
                        EnvVar {
                            name: name.clone(),
                            value: b.value,
                            value_from: b.value_from,
                        }
                    } else {
                        let value: Text = serde_json::from_value(v)
                            .map_err(|e| de::Error::custom(format!("env `{name}`: {e}")))?;
                        EnvVar {
                            name: name.clone(),
                            value: Some(value),
                            value_from: None,
                        }
                    };
                    entries.insert(name, var);
                }
                Ok(EnvVars(entries.into_values().collect()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<EnvVars, E> {
                Ok(EnvVars::default())
            }
        }
        d.deserialize_any(EnvVisitor)
    }
}

/// A reference to a named Secret or ConfigMap.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NameRef {
    /// The object's name (templated).
    pub name: Text,
}

/// Bulk environment from Secrets and ConfigMaps.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvFrom {
    /// Secrets whose keys all become variables.
    #[serde(default)]
    pub secret_ref: Vec<NameRef>,
    /// ConfigMaps whose keys all become variables.
    #[serde(default)]
    pub config_map_ref: Vec<NameRef>,
}

/// CPU/memory requests and limits: a named `profile` XOR explicit quantities.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceRequirements {
    /// Named profile (built-in or from the Katalog's `profiles.resources`).
    #[serde(default)]
    pub profile: Option<Text>,
    /// Requests, e.g. `cpu: 100m`.
    #[serde(default)]
    pub requests: TextMap,
    /// Limits, e.g. `memory: 512Mi`.
    #[serde(default)]
    pub limits: TextMap,
}

/// The three probes of a container.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probes {
    /// Liveness probe.
    #[serde(default)]
    pub liveness: Option<Probe>,
    /// Readiness probe.
    #[serde(default)]
    pub readiness: Option<Probe>,
    /// Startup probe.
    #[serde(default)]
    pub startup: Option<Probe>,
}

/// One probe: a check (`http` with a path, `tcp`, or `exec`) plus timings from a profile
/// or explicit fields.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probe {
    /// `http` (default when a path is set), `tcp` or `exec`.
    #[serde(default, rename = "type")]
    pub kind: Option<Text>,
    /// HTTP path.
    #[serde(default)]
    pub path: Option<Text>,
    /// Port; defaults to the container port.
    #[serde(default)]
    pub port: Option<Text>,
    /// Command for `exec` probes.
    #[serde(default)]
    pub command: Vec<Text>,
    /// Named timing profile (`standard` when nothing is given).
    #[serde(default)]
    pub profile: Option<Text>,
    /// Seconds before the first probe.
    #[serde(default)]
    pub initial_delay_seconds: Option<Text>,
    /// Seconds between probes.
    #[serde(default)]
    pub period_seconds: Option<Text>,
    /// Seconds before a probe times out.
    #[serde(default)]
    pub timeout_seconds: Option<Text>,
    /// Failures before the probe counts as failed.
    #[serde(default)]
    pub failure_threshold: Option<Text>,
    /// Successes before the probe counts as passed.
    #[serde(default)]
    pub success_threshold: Option<Text>,
}

/// Linux capabilities to add and drop.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Capabilities {
    /// Capabilities added.
    #[serde(default)]
    pub add: Vec<Text>,
    /// Capabilities dropped.
    #[serde(default)]
    pub drop: Vec<Text>,
}

/// A seccomp profile reference.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeccompProfile {
    /// `RuntimeDefault`, `Localhost` or `Unconfined`.
    #[serde(rename = "type")]
    pub kind: Text,
    /// Profile file for `Localhost`.
    #[serde(default)]
    pub localhost_profile: Option<Text>,
}

/// Container security settings: `profile` (baseline, restricted, hardened) XOR fields.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerSecurity {
    /// Named profile.
    #[serde(default)]
    pub profile: Option<Text>,
    /// Refuse to run as root.
    #[serde(default)]
    pub run_as_non_root: Option<bool>,
    /// UID to run as.
    #[serde(default)]
    pub run_as_user: Option<Text>,
    /// GID to run as.
    #[serde(default)]
    pub run_as_group: Option<Text>,
    /// Mount the root filesystem read-only.
    #[serde(default)]
    pub read_only_root_filesystem: Option<bool>,
    /// Allow gaining privileges (setuid).
    #[serde(default)]
    pub allow_privilege_escalation: Option<bool>,
    /// Run privileged.
    #[serde(default)]
    pub privileged: Option<bool>,
    /// Capabilities.
    #[serde(default)]
    pub capabilities: Option<Capabilities>,
    /// Seccomp profile.
    #[serde(default)]
    pub seccomp_profile: Option<SeccompProfile>,
}

/// Pod security settings: `profile` XOR fields.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSecurity {
    /// Named profile.
    #[serde(default)]
    pub profile: Option<Text>,
    /// Refuse to run as root.
    #[serde(default)]
    pub run_as_non_root: Option<bool>,
    /// UID to run as.
    #[serde(default)]
    pub run_as_user: Option<Text>,
    /// GID to run as.
    #[serde(default)]
    pub run_as_group: Option<Text>,
    /// Group owning mounted volumes.
    #[serde(default)]
    pub fs_group: Option<Text>,
    /// Extra groups.
    #[serde(default)]
    pub supplemental_groups: Vec<Text>,
    /// Seccomp profile.
    #[serde(default)]
    pub seccomp_profile: Option<SeccompProfile>,
}

/// Deployment rolling update: `profile` (safe, fast, blue-green) XOR explicit fields.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RollingUpdate {
    /// Named profile.
    #[serde(default)]
    pub profile: Option<Text>,
    /// Extra pods allowed during the rollout (count or percent).
    #[serde(default)]
    pub max_surge: Option<Text>,
    /// Pods allowed to be unavailable during the rollout (count or percent).
    #[serde(default)]
    pub max_unavailable: Option<Text>,
}

/// One pod volume. Exactly one source is expected; source bodies use the Kubernetes
/// shape and their strings may be templates.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Volume {
    /// Volume name (templated).
    pub name: Text,
    /// ConfigMap source.
    #[serde(default)]
    pub config_map: Option<serde_json::Value>,
    /// Secret source.
    #[serde(default)]
    pub secret: Option<serde_json::Value>,
    /// EmptyDir source.
    #[serde(default)]
    pub empty_dir: Option<serde_json::Value>,
    /// PersistentVolumeClaim source.
    #[serde(default)]
    pub persistent_volume_claim: Option<serde_json::Value>,
    /// HostPath source.
    #[serde(default)]
    pub host_path: Option<serde_json::Value>,
}

/// One container volume mount.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeMount {
    /// Name of a volume in `volumes`.
    pub name: Text,
    /// Path inside the container.
    pub mount_path: Text,
    /// Sub-path inside the volume.
    #[serde(default)]
    pub sub_path: Option<Text>,
    /// Mount read-only.
    #[serde(default)]
    pub read_only: Option<bool>,
}

/// Expansion of one declaration into one per element of a list (or map) field.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ForEach {
    /// Dot path into the data map, e.g. `spec.regions`.
    pub field: String,
    /// Extra name for the current element (`.item` is always set).
    #[serde(default, rename = "as")]
    pub alias: Option<String>,
}

/// `when`/`or` conditions grouped under one key (autoscale steps).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConditionSet {
    /// All must pass.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// At least one must pass.
    #[serde(default)]
    pub or: Vec<Condition>,
}

/// One direction of a workload autoscale.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaleStep {
    /// When the step fires.
    #[serde(default)]
    pub conditions: ConditionSet,
    /// Replicas added (scale up).
    #[serde(default)]
    pub increment: Option<Text>,
    /// Replicas removed (scale down).
    #[serde(default)]
    pub decrement: Option<Text>,
    /// Replica count to jump to when the step fires (instead of a step by
    /// `increment`/`decrement`; `ork validate` refuses both together).
    #[serde(default)]
    pub target: Option<Text>,
}

/// Workload autoscale of a Deployment, evaluated every reconcile.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadAutoscale {
    /// Lowest replica count.
    #[serde(default)]
    pub min: Option<Text>,
    /// Highest replica count.
    #[serde(default)]
    pub max: Option<Text>,
    /// Minimum time between two scale changes.
    #[serde(default)]
    pub cooldown: Option<Text>,
    /// Scale-up step.
    #[serde(default)]
    pub scale_up: Option<ScaleStep>,
    /// Scale-down step.
    #[serde(default)]
    pub scale_down: Option<ScaleStep>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_accept_a_map_and_the_legacy_list() {
        let map: Labels = serde_json::from_str(r#"{"app": "web", "tier": 2}"#).unwrap();
        let list: Labels = serde_json::from_str(
            r#"[{"key": "tier", "value": 2}, {"key": "app", "value": "web"}]"#,
        )
        .unwrap();
        assert_eq!(map, list);
        assert_eq!(map.0["tier"].as_str(), "2");
    }

    #[test]
    fn legacy_label_entries_reject_unknown_keys() {
        assert!(serde_json::from_str::<Labels>(r#"[{"key": "a", "valu": "b"}]"#).is_err());
    }

    #[test]
    fn env_accepts_a_list_and_a_map_of_values() {
        let list: EnvVars =
            serde_json::from_str(r#"[{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]"#)
                .unwrap();
        assert_eq!(list.0[0].name, "B");
        let map: EnvVars = serde_json::from_str(
            r#"{"B": {"value": "2"}, "A": "1", "C": {"valueFrom": {"x": 1}}}"#,
        )
        .unwrap();
        let names: Vec<&str> = map.0.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C"]);
        assert_eq!(map.0[0].value.as_deref(), Some("1"));
        assert!(map.0[2].value_from.is_some());
    }
}
