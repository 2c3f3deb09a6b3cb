//! Named profiles (spec §20.3): presets that expand into resource requirements, probe
//! timings, security contexts, rolling updates, HPA/PDB behaviour, NetworkPolicy rules,
//! ResourceQuota limits and LimitRange items.
//!
//! A [`ProfileRegistry`] holds the Katalog's own profiles; a lookup tries those first
//! (they win over built-ins of the same name), then the built-ins. Every profile is a JSON
//! value in the shape its class expands to (see [`ProfileClass`]).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Value, json};

/// A class of profiles, and the shape its profiles have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProfileClass {
    /// `{requests: {cpu, memory}, limits: {cpu, memory}}`.
    Resources,
    /// `{initialDelaySeconds, periodSeconds, failureThreshold, timeoutSeconds,
    /// successThreshold}`.
    Probes,
    /// A Kubernetes container SecurityContext.
    ContainerSecurity,
    /// A Kubernetes PodSecurityContext.
    PodSecurity,
    /// `{maxSurge, maxUnavailable}`.
    RollingUpdate,
    /// `{targetCPUUtilizationPercentage, behavior: {scaleUp, scaleDown}}`.
    Hpa,
    /// `{minAvailable}` or `{maxUnavailable}`.
    Pdb,
    /// `{policyTypes, ingress, egress}`.
    NetworkPolicies,
    /// `{hard: {...}}`.
    ResourceQuotas,
    /// `{limits: [...]}`; there are no built-ins.
    LimitRanges,
}

impl ProfileClass {
    /// The class name used in messages and in a Katalog's `profiles:` block.
    pub fn name(self) -> &'static str {
        match self {
            ProfileClass::Resources => "resources",
            ProfileClass::Probes => "probes",
            ProfileClass::ContainerSecurity => "containerSecurity",
            ProfileClass::PodSecurity => "podSecurity",
            ProfileClass::RollingUpdate => "rollingUpdate",
            ProfileClass::Hpa => "hpa",
            ProfileClass::Pdb => "pdb",
            ProfileClass::NetworkPolicies => "networkPolicies",
            ProfileClass::ResourceQuotas => "resourceQuotas",
            ProfileClass::LimitRanges => "limitRanges",
        }
    }
}

/// The Katalog's own profiles, by class and name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileRegistry {
    user: BTreeMap<ProfileClass, BTreeMap<String, Value>>,
}

impl ProfileRegistry {
    /// No user profiles: only built-ins resolve.
    pub fn new() -> Self {
        ProfileRegistry::default()
    }

    /// Adds (or replaces) a user profile.
    pub fn insert(&mut self, class: ProfileClass, name: impl Into<String>, value: Value) {
        self.user
            .entry(class)
            .or_default()
            .insert(name.into(), value);
    }

    /// Adds a user profile, builder style.
    #[must_use]
    pub fn with(mut self, class: ProfileClass, name: impl Into<String>, value: Value) -> Self {
        self.insert(class, name, value);
        self
    }

    /// Resolves a profile: the user's of that name, else the built-in (names of built-ins
    /// are case-insensitive).
    pub fn lookup(&self, class: ProfileClass, name: &str) -> Option<Cow<'_, Value>> {
        if let Some(v) = self.user.get(&class).and_then(|m| m.get(name)) {
            return Some(Cow::Borrowed(v));
        }
        builtin(class, name).map(Cow::Owned)
    }
}

fn resources(cpu_req: &str, cpu_lim: &str, mem_req: &str, mem_lim: &str) -> Value {
    json!({
        "requests": {"cpu": cpu_req, "memory": mem_req},
        "limits": {"cpu": cpu_lim, "memory": mem_lim},
    })
}

fn probe(delay: i64, period: i64, failures: i64, timeout: i64) -> Value {
    json!({
        "initialDelaySeconds": delay,
        "periodSeconds": period,
        "failureThreshold": failures,
        "timeoutSeconds": timeout,
    })
}

fn hpa(cpu: i64, up: Value, down: Value) -> Value {
    json!({"targetCPUUtilizationPercentage": cpu, "behavior": {"scaleUp": up, "scaleDown": down}})
}

fn rules(window: i64, select: &str, policies: &[(&str, i64, i64)]) -> Value {
    let policies: Vec<Value> = policies
        .iter()
        .map(|(t, v, p)| json!({"type": t, "value": v, "periodSeconds": p}))
        .collect();
    json!({"stabilizationWindowSeconds": window, "selectPolicy": select, "policies": policies})
}

fn quota(pods: &str, cpu: &str, mem: &str, req_cpu: &str, req_mem: &str) -> Value {
    json!({"hard": {
        "pods": pods, "cpu": cpu, "memory": mem,
        "requests.cpu": req_cpu, "requests.memory": req_mem,
        "limits.cpu": cpu, "limits.memory": mem,
    }})
}

/// The built-in profile `name` of `class`, if there is one.
pub fn builtin(class: ProfileClass, name: &str) -> Option<Value> {
    let name = name.trim().to_ascii_lowercase();
    let n = name.as_str();
    Some(match class {
        ProfileClass::Resources => match n {
            "tiny" => resources("25m", "100m", "64Mi", "128Mi"),
            "small" => resources("100m", "500m", "128Mi", "512Mi"),
            "medium" => resources("250m", "1", "256Mi", "1Gi"),
            "large" => resources("500m", "2", "512Mi", "2Gi"),
            "burst" => resources("200m", "2", "256Mi", "2Gi"),
            "steady" => resources("300m", "600m", "256Mi", "512Mi"),
            "compute-heavy" => resources("1", "2", "512Mi", "1Gi"),
            "memory-heavy" => resources("250m", "500m", "1Gi", "2Gi"),
            _ => return None,
        },
        ProfileClass::Probes => match n {
            "fast" => probe(5, 10, 2, 5),
            "standard" => probe(15, 20, 3, 10),
            "patient" => probe(30, 30, 5, 10),
            "slow-start" => probe(0, 10, 30, 10),
            _ => return None,
        },
        ProfileClass::ContainerSecurity => match n {
            "baseline" => json!({
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["NET_RAW"]},
            }),
            "restricted" => json!({
                "allowPrivilegeEscalation": false,
                "runAsNonRoot": true,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            }),
            "hardened" => json!({
                "allowPrivilegeEscalation": false,
                "runAsNonRoot": true,
                "readOnlyRootFilesystem": true,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            }),
            _ => return None,
        },
        ProfileClass::PodSecurity => match n {
            "baseline" => json!({"runAsNonRoot": false}),
            "restricted" => json!({"runAsNonRoot": true, "runAsUser": 1000}),
            "hardened" => json!({
                "runAsNonRoot": true, "runAsUser": 65534, "runAsGroup": 65534, "fsGroup": 65534,
            }),
            _ => return None,
        },
        ProfileClass::RollingUpdate => match n {
            "safe" => json!({"maxSurge": 1, "maxUnavailable": 0}),
            "fast" => json!({"maxSurge": "25%", "maxUnavailable": "25%"}),
            "blue-green" => json!({"maxSurge": "100%", "maxUnavailable": 0}),
            _ => return None,
        },
        ProfileClass::Hpa => {
            let fast_up = || rules(0, "Max", &[("Percent", 100, 15), ("Pods", 4, 15)]);
            match n {
                "web" => hpa(70, fast_up(), rules(300, "Min", &[("Percent", 10, 60)])),
                "api" => hpa(60, fast_up(), rules(600, "Min", &[("Percent", 5, 60)])),
                "latency-sensitive" => hpa(
                    50,
                    rules(0, "Max", &[("Percent", 200, 15), ("Pods", 10, 15)]),
                    rules(900, "Min", &[("Percent", 5, 120)]),
                ),
                "batch" => hpa(
                    80,
                    rules(30, "Max", &[("Percent", 100, 60)]),
                    rules(120, "Min", &[("Percent", 50, 60)]),
                ),
                "cost-optimized" => hpa(
                    80,
                    rules(180, "Min", &[("Percent", 25, 60)]),
                    rules(60, "Min", &[("Percent", 50, 60)]),
                ),
                _ => return None,
            }
        }
        ProfileClass::Pdb => match n {
            "zero-downtime" => json!({"minAvailable": "100%"}),
            "rolling" => json!({"maxUnavailable": 1}),
            "relaxed" => json!({"maxUnavailable": "25%"}),
            _ => return None,
        },
        ProfileClass::NetworkPolicies => match n {
            "deny-all" => {
                json!({"policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []})
            }
            "deny-all-ingress" => json!({"policyTypes": ["Ingress"], "ingress": []}),
            "deny-all-egress" => json!({"policyTypes": ["Egress"], "egress": []}),
            "allow-same-namespace" => json!({
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
            }),
            "allow-dns-egress" => json!({
                "policyTypes": ["Egress"],
                "egress": [{"ports": [
                    {"protocol": "UDP", "port": 53},
                    {"protocol": "TCP", "port": 53},
                ]}],
            }),
            _ => return None,
        },
        ProfileClass::ResourceQuotas => match n {
            "small" => quota("10", "2", "4Gi", "1", "2Gi"),
            "medium" => quota("20", "4", "8Gi", "2", "4Gi"),
            "large" => quota("50", "8", "16Gi", "4", "8Gi"),
            "xlarge" => quota("100", "16", "32Gi", "8", "16Gi"),
            _ => return None,
        },
        ProfileClass::LimitRanges => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_profiles_win_over_built_ins() {
        let p = ProfileRegistry::new().with(
            ProfileClass::Resources,
            "tiny",
            json!({"requests": {"cpu": "1m"}}),
        );
        assert_eq!(
            p.lookup(ProfileClass::Resources, "tiny").unwrap()["requests"]["cpu"],
            "1m"
        );
        assert_eq!(
            ProfileRegistry::new()
                .lookup(ProfileClass::Resources, "tiny")
                .unwrap()["requests"]["cpu"],
            "25m"
        );
    }

    #[test]
    fn built_in_names_are_case_insensitive_and_unknown_names_resolve_to_nothing() {
        assert!(builtin(ProfileClass::Pdb, "Zero-Downtime").is_some());
        assert!(builtin(ProfileClass::Pdb, "nope").is_none());
        assert!(builtin(ProfileClass::LimitRanges, "small").is_none());
    }
}
