//! CRD identity: name, source of the GVK, apiTypes fields, mode, uniqueness, built-in kinds
//! (§18.2 #1, #3, #4, #5; §18.3 #42).

use std::collections::BTreeMap;

use super::{Cx, is_rfc1123};
use crate::model::{Crd, ENRICH_TARGETS};

pub fn check(cx: &mut Cx<'_>) {
    for crd in &cx.katalog.crds {
        crd_name(cx, crd);
        crd_source(cx, crd);
        api_types_fields(cx, crd);
        mode(cx, crd);
        built_in_selector(cx, crd);
        enrich(cx, crd);
        labels(cx, crd);
    }
    duplicate_gvk(cx);
}

fn crd_name(cx: &mut Cx<'_>, crd: &Crd) {
    if !is_crd_name(&crd.name) {
        cx.crd_error(
            crd,
            None,
            "invalid-crd-name",
            "",
            format!(
                "CRD name `{}` must be letters, digits, `-` and `.`, starting and ending with a letter or digit",
                crd.name
            ),
            format!(
                "rename it to `{}`",
                crd.name.to_lowercase().replace('_', "-")
            ),
        );
    }
}

/// A CRD entry's name: an RFC 1123 name that may also use upper-case letters, as upstream's
/// own examples do (`declarativeApp`). The name only keys the entry (logs, metrics,
/// `dependsOn`, `cross`); it never becomes a Kubernetes object name.
fn is_crd_name(name: &str) -> bool {
    is_rfc1123(&name.to_ascii_lowercase())
}

fn crd_source(cx: &mut Cx<'_>, crd: &Crd) {
    if crd.entry.api_types.is_none() && crd.entry.crd_file.is_none() {
        cx.crd_error(
            crd,
            None,
            "missing-crd-source",
            "",
            format!(
                "CRD `{}` declares neither `apiTypes` nor `crdFile`",
                crd.name
            ),
            "add `crdFile: ./crd.yaml` or `apiTypes: {group, version, kind, plural}`",
        );
    }
}

fn api_types_fields(cx: &mut Cx<'_>, crd: &Crd) {
    let Some(api_types) = &crd.entry.api_types else {
        return;
    };
    if crd.entry.crd_file.is_some() && crd.gvk.kind.is_empty() {
        return; // the crdFile problem is already reported
    }
    let at = api_types.at.clone();
    for (key, value) in [("version", &crd.gvk.version), ("kind", &crd.gvk.kind)] {
        if value.is_empty() {
            cx.crd_error(
                crd,
                Some(&at),
                "missing-field",
                &format!("apiTypes.{key}"),
                format!("CRD `{}` has no `apiTypes.{key}`", crd.name),
                format!("add `apiTypes.{key}`"),
            );
        }
    }
    if !crd.built_in {
        if crd.gvk.group.is_empty() {
            cx.crd_error(
                crd,
                Some(&at),
                "missing-field",
                "apiTypes.group",
                format!("CRD `{}` has no `apiTypes.group`", crd.name),
                "add the API group, e.g. `group: example.io`",
            );
        } else if !is_rfc1123(&crd.gvk.group) {
            cx.crd_error(
                crd,
                Some(&at),
                "invalid-group",
                "apiTypes.group",
                format!(
                    "API group `{}` is not a lowercase RFC 1123 name",
                    crd.gvk.group
                ),
                "use a DNS-style group such as `example.io`",
            );
        }
        if api_types.value.plural.as_deref().is_none_or(str::is_empty) {
            cx.crd_error(
                crd,
                Some(&at),
                "missing-field",
                "apiTypes.plural",
                format!("CRD `{}` has no `apiTypes.plural`", crd.name),
                format!("add `plural: {}`", crd.plural),
            );
        }
    }
}

fn mode(cx: &mut Cx<'_>, crd: &Crd) {
    let Some(mode) = &crd.entry.mode else {
        return;
    };
    let location = crd
        .entry
        .api_types
        .as_ref()
        .and_then(|a| a.value.location.as_ref());
    match mode.value.as_str() {
        "dynamic" => {}
        "typed" if location.is_some() => {}
        "typed" => cx.crd_error(
            crd,
            Some(&mode.at),
            "typed-without-location",
            "mode",
            "`mode: typed` needs `apiTypes.location` (the Go import path of the types)",
            "set `apiTypes.location`, or use `mode: dynamic`",
        ),
        other => cx.crd_error(
            crd,
            Some(&mode.at),
            "invalid-mode",
            "mode",
            format!("mode `{other}` is not `typed` or `dynamic`"),
            "use `mode: dynamic`",
        ),
    }
}

fn built_in_selector(cx: &mut Cx<'_>, crd: &Crd) {
    let has_selector = crd
        .entry
        .label_selector
        .as_ref()
        .is_some_and(|l| !l.0.is_empty());
    if crd.built_in && !has_selector {
        let message = format!(
            "CRD `{}` watches the built-in kind `{}` without a `labelSelector`; it would reconcile every {} in the cluster",
            crd.name, crd.gvk.kind, crd.gvk.kind
        );
        let hint = "add `labelSelector: {app: my-app}`";
        // A cluster-scoped kind (Namespace, Node) has few objects and upstream's examples
        // govern all of them: a warning. A namespaced kind (Pod, ConfigMap) stays an error.
        if crd.namespaced {
            cx.crd_error(
                crd,
                None,
                "built-in-without-selector",
                "labelSelector",
                message,
                hint,
            );
        } else {
            cx.crd_warning(
                crd,
                None,
                "built-in-without-selector",
                "labelSelector",
                message,
                hint,
            );
        }
    }
}

fn enrich(cx: &mut Cx<'_>, crd: &Crd) {
    if crd.entry.enrich_all == Some(true) && !crd.entry.enrich.is_empty() {
        cx.crd_error(
            crd,
            None,
            "enrich-exclusive",
            "enrich",
            "`enrich` and `enrichAll` are mutually exclusive",
            "keep one of them",
        );
    }
    for target in &crd.entry.enrich {
        let name = match &target.value {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Object(map) if map.len() == 1 => map.keys().next().cloned(),
            _ => None,
        };
        match name {
            Some(n) if ENRICH_TARGETS.contains(&n.as_str()) => {
                if let Some(problem) = gate_problem(&target.value) {
                    cx.crd_error(
                        crd,
                        Some(&target.at),
                        "invalid-value",
                        "enrich",
                        format!("enrich target `{n}`: {problem}"),
                        "write `{target: {when: [...]}}` (also `or:`/`anyOf:`) with conditions as in status fields",
                    );
                }
            }
            Some(n) => cx.crd_error(
                crd,
                Some(&target.at),
                "unknown-enrich-target",
                "enrich",
                format!("unknown enrich target `{n}`"),
                match crate::de::did_you_mean(&n, ENRICH_TARGETS) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("known targets: {}", ENRICH_TARGETS.join(", ")),
                },
            ),
            None => cx.crd_error(
                crd,
                Some(&target.at),
                "invalid-value",
                "enrich",
                "an enrich entry is a target name or `{target: {when: [...]}}`",
                "",
            ),
        }
    }
}

/// What is wrong with the gate of an enrich entry in the struct form, if anything.
fn gate_problem(entry: &serde_json::Value) -> Option<String> {
    let serde_json::Value::Object(map) = entry else {
        return None;
    };
    let gate = map.values().next()?;
    let serde_json::Value::Object(gate) = gate else {
        return Some("its gate is not a map".into());
    };
    for (key, list) in gate {
        if !matches!(key.as_str(), "when" | "or" | "anyOf") {
            return Some(format!("unknown gate key `{key}`"));
        }
        if let Err(e) = serde_json::from_value::<Vec<crate::condition::Condition>>(list.clone()) {
            return Some(format!("`{key}` is not a list of conditions: {e}"));
        }
    }
    None
}

fn labels(cx: &mut Cx<'_>, crd: &Crd) {
    let Some(labels) = &crd.entry.labels else {
        return;
    };
    for key in labels.0.keys() {
        let name = key.rsplit('/').next().unwrap_or(key);
        let prefix_ok = key.split_once('/').is_none_or(|(p, _)| is_rfc1123(p));
        let name_ok = !name.is_empty()
            && name.len() <= 63
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !(prefix_ok && name_ok) || key.contains("{{") {
            cx.crd_error(
                crd,
                None,
                "invalid-label-key",
                "labels",
                format!("label key `{key}` is not a valid Kubernetes label key (keys are static)"),
                "use `[prefix/]name` with alphanumerics, `-`, `_`, `.`",
            );
        }
    }
}

fn duplicate_gvk(cx: &mut Cx<'_>) {
    let mut seen: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for crd in cx.katalog.enabled_crds() {
        if crd.gvk.kind.is_empty() {
            continue;
        }
        let key = (
            crd.gvk.group.clone(),
            crd.gvk.version.clone(),
            crd.gvk.kind.clone(),
        );
        if let Some(first) = seen.get(&key) {
            let first = first.clone();
            cx.crd_error(
                crd,
                None,
                "duplicate-gvk",
                "apiTypes",
                format!(
                    "CRD `{}` declares {} which CRD `{first}` already declares (kind `{}`)",
                    crd.name, crd.gvk, crd.gvk.kind
                ),
                "each group/version/kind may be reconciled by one CRD entry; remove or disable one",
            );
        } else {
            seen.insert(key, crd.name.clone());
        }
    }
}
