//! External calls, cross reads, watches, preReconcile gates and events
//! (§18.3 #40, #41, #52, #53, #54).

use super::{Cx, is_camel_case};
use crate::model::external::{
    Place, STORE_PROTOCOLS, SUPPORTED_PROTOCOLS, UNSUPPORTED_PROTOCOLS, calls_of,
};
use crate::model::{Crd, External, Gate};

/// The sentinels of spec §11.5.
pub const SENTINELS: &[&str] = &[
    "generationChanged",
    "labelsChanged",
    "annotationsChanged",
    "deletionStarted",
    "finalizersChanged",
    "nameChanged",
    "namespaceChanged",
    "generateNameChanged",
    "uidChanged",
    "resourceVersionChanged",
    "creationTimestampChanged",
    "deletionGracePeriodSecondsChanged",
    "ownerReferenceChanged",
    "managedFieldsChanged",
];

pub fn check(cx: &mut Cx<'_>) {
    for crd in &cx.katalog.crds {
        externals(cx, crd);
        cross(cx, crd);
        watches(cx, crd);
        pre_reconcile(cx, crd);
        events(cx, crd);
    }
}

fn externals(cx: &mut Cx<'_>, crd: &Crd) {
    if let Some(on_delete) = &crd.operator_box().on_delete {
        for (i, group) in on_delete.groups.iter().enumerate() {
            if !group.external.is_empty() {
                cx.crd_error(
                    crd,
                    None,
                    "external-in-delete-group",
                    &format!("operatorBox.onDelete.groups[{i}].external"),
                    "external calls inside an `onDelete` group are not made by ork",
                    "declare them in `onDelete.external`, made before the groups",
                );
            }
        }
    }
    let mut names: Vec<String> = Vec::new();
    for (place, list) in calls_of(crd) {
        for (i, call) in list.iter().enumerate() {
            let rest = format!("{}[{i}]", place.path());
            match call {
                Ok(e) => external(cx, crd, place, &rest, e, &mut names),
                Err(message) => cx.crd_error(
                    crd,
                    None,
                    "invalid-external",
                    &rest,
                    format!("external call does not read: {message}"),
                    "see spec §11.1 for the fields of an external call",
                ),
            }
        }
    }
}

/// One call: its name, url, protocol, method, auth, durations.
fn external(
    cx: &mut Cx<'_>,
    crd: &Crd,
    place: Place,
    rest: &str,
    e: &External,
    names: &mut Vec<String>,
) {
    let at = e.name.as_ref().map(|n| n.at.clone());
    let label = e
        .name
        .as_ref()
        .map_or("?", |n| n.value.as_str())
        .to_string();
    match &e.name {
        None => cx.crd_error(
            crd,
            None,
            "missing-field",
            &format!("{rest}.name"),
            "an external call needs a `name`",
            "add a camelCase `name`",
        ),
        Some(n) if !is_camel_case(&n.value) => cx.crd_error(
            crd,
            Some(&n.at),
            "invalid-external-name",
            &format!("{rest}.name"),
            format!(
                "external call name `{}` must be camelCase (it is read as `.external.{}`)",
                n.value, n.value
            ),
            "",
        ),
        Some(n) if names.contains(&n.value) => cx.crd_error(
            crd,
            Some(&n.at),
            "duplicate-external",
            &format!("{rest}.name"),
            format!("external call `{}` is declared twice", n.value),
            "give each call its own name",
        ),
        Some(n) => names.push(n.value.clone()),
    }
    let protocol = e.protocol_name();
    if UNSUPPORTED_PROTOCOLS.contains(&protocol) {
        cx.crd_error(
            crd,
            at.as_ref(),
            "unsupported-external-protocol",
            &format!("{rest}.protocol"),
            format!("external call `{label}` uses protocol `{protocol}`, which ork does not support (only {})", SUPPORTED_PROTOCOLS.join(", ")),
            "call an HTTP endpoint in front of the service, or run this CRD with Orkestra",
        );
    } else if !SUPPORTED_PROTOCOLS.contains(&protocol) {
        cx.crd_error(
            crd,
            at.as_ref(),
            "invalid-value",
            &format!("{rest}.protocol"),
            format!(
                "external call `{label}`: protocol `{protocol}` is not one of {}",
                SUPPORTED_PROTOCOLS.join(", ")
            ),
            "",
        );
    }
    if e.url.as_deref().is_none_or(|u| u.trim().is_empty()) {
        cx.crd_error(
            crd,
            at.as_ref(),
            "missing-field",
            &format!("{rest}.url"),
            format!("external call `{label}` needs a `url`"),
            "",
        );
    }
    if protocol == "prometheus" && e.query.as_deref().is_none_or(|q| q.trim().is_empty()) {
        cx.crd_error(
            crd,
            at.as_ref(),
            "missing-field",
            &format!("{rest}.query"),
            format!("prometheus call `{label}` needs a `query` (PromQL, templated)"),
            "",
        );
    }
    if STORE_PROTOCOLS.contains(&protocol) {
        store_fields(cx, crd, rest, e, &label, at.as_ref());
    }
    if let Some(m) = e
        .method
        .as_deref()
        .filter(|m| !METHODS.contains(&m.trim().to_ascii_uppercase().as_str()))
    {
        cx.crd_error(
            crd,
            at.as_ref(),
            "invalid-value",
            &format!("{rest}.method"),
            format!("external call `{label}`: method `{m}` is not GET, POST, PUT, PATCH or DELETE"),
            "",
        );
    }
    if let Some(problem) = e.auth.as_ref().and_then(auth_problem) {
        cx.crd_error(
            crd,
            at.as_ref(),
            "invalid-external-auth",
            &format!("{rest}.auth"),
            format!("external call `{label}`: {problem}"),
            "write `auth: {secretRef: {name: <secret>, key: <key>}}`",
        );
    }
    if e.auth.is_some() && e.token.as_deref().is_some_and(|t| !t.is_empty()) {
        cx.crd_error(
            crd,
            at.as_ref(),
            "external-auth-exclusive",
            rest,
            format!("external call `{label}` sets both `token` and `auth`; they are exclusive"),
            "keep one of them",
        );
    }
    if place == Place::EnqueueGate {
        cx.crd_error(crd, at.as_ref(), "external-in-enqueue-gate", rest,
            format!("external call `{label}` is in the enqueue gate, which runs inside the watch where ork makes no network call"),
            "move it to `preReconcile.reconcileGate.external`");
    }
    admission_only(cx, crd, place, rest, e, &label, at.as_ref());
    for (key, value) in [("timeout", &e.timeout), ("sleep", &e.sleep)] {
        cx.crd_duration(crd, value.as_ref(), &format!("{rest}.{key}"));
    }
}

/// Calls of `validation`/`mutation` are made at reconcile time and, by the gateway, at
/// admission. A call made at admission only (`fires.reconcile: false`) where no admission
/// webhook runs for the CRD would never run: an error.
fn admission_only(
    cx: &mut Cx<'_>,
    crd: &Crd,
    place: Place,
    rest: &str,
    e: &External,
    label: &str,
    at: Option<&crate::Location>,
) {
    if !matches!(place, Place::Validation | Place::Mutation) || e.fires_at_reconcile() {
        return;
    }
    if admission_webhook_runs(cx, crd, place) {
        return;
    }
    cx.crd_error(crd, at, "external-admission-only", &format!("{rest}.fires"),
        format!("external call `{label}` is admission-only (`fires.reconcile: false`), but no admission webhook runs for this CRD: it would never run"),
        "enable `security.webhooks.admission` with rules in this block, or remove `fires.reconcile: false`");
}

/// Whether the gateway answers admission for `crd` where calls of `place` are made: the
/// validating webhook makes validation and mutation calls, the mutating one mutation calls;
/// each is registered when admission webhooks are on, the CRD does not turn it off, and it
/// has rules.
fn admission_webhook_runs(cx: &Cx<'_>, crd: &Crd, place: Place) -> bool {
    let admission_on = cx
        .katalog
        .document
        .security
        .as_ref()
        .and_then(|s| s.webhooks.as_ref())
        .and_then(|w| w.admission.as_ref())
        .is_some_and(|a| a.enabled == Some(true));
    let hooks = crd.entry.webhooks.clone().unwrap_or_default();
    let validate = hooks.validation != Some(false)
        && crd
            .entry
            .validation
            .as_ref()
            .is_some_and(|v| !v.rules.is_empty());
    let mutate = hooks.mutation != Some(false)
        && crd
            .entry
            .mutation
            .as_ref()
            .is_some_and(|m| !m.rules.is_empty());
    admission_on && (validate || (place == Place::Mutation && mutate))
}

/// A redis or postgres call needs a `query` and takes none of the HTTP fields.
fn store_fields(
    cx: &mut Cx<'_>,
    crd: &Crd,
    rest: &str,
    e: &External,
    label: &str,
    at: Option<&crate::Location>,
) {
    let protocol = e.protocol_name();
    if e.query.as_deref().is_none_or(|q| q.trim().is_empty()) {
        let example = if protocol == "redis" {
            "GET mykey"
        } else {
            "SELECT 1"
        };
        cx.crd_error(
            crd,
            at,
            "missing-field",
            &format!("{rest}.query"),
            format!("{protocol} call `{label}` needs a `query` (templated, e.g. `{example}`)"),
            "",
        );
    }
    let header = e.auth.as_ref().is_some_and(|a| a.get("header").is_some());
    for (key, set) in [
        ("method", e.method.is_some()),
        ("body", e.body.is_some()),
        ("headers", e.headers.is_some()),
        ("expectedStatus", e.expected_status.is_some()),
        ("auth.header", header),
    ] {
        if set {
            cx.crd_error(
                crd,
                at,
                "external-field-not-for-protocol",
                &format!("{rest}.{key}"),
                format!("external call `{label}`: `{key}` has no effect on a {protocol} call"),
                "remove it (the credential of `token` or `auth.secretRef` is the password)",
            );
        }
    }
}

/// The methods of an external call.
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// What is wrong with an `auth:` block, which must be `{secretRef: {name, key, namespace?},
/// header?}`.
fn auth_problem(auth: &serde_json::Value) -> Option<String> {
    let Some(map) = auth.as_object() else {
        return Some("`auth` must be a map".into());
    };
    if let Some(k) = map
        .keys()
        .find(|k| !["secretRef", "header"].contains(&k.as_str()))
    {
        return Some(format!(
            "`auth.{k}` is not supported (only `secretRef` and `header`)"
        ));
    }
    let Some(secret) = map.get("secretRef").and_then(|s| s.as_object()) else {
        return Some("`auth` needs a `secretRef`".into());
    };
    for key in ["name", "key"] {
        if secret
            .get(key)
            .and_then(|v| v.as_str())
            .is_none_or(str::is_empty)
        {
            return Some(format!("`auth.secretRef.{key}` is required"));
        }
    }
    secret
        .keys()
        .find(|k| !["name", "key", "namespace"].contains(&k.as_str()))
        .map(|k| format!("`auth.secretRef.{k}` is not one of name, key, namespace"))
}

fn cross(cx: &mut Cx<'_>, crd: &Crd) {
    let names: Vec<&str> = cx.katalog.crds.iter().map(|c| c.name.as_str()).collect();
    for (i, c) in crd.operator_box().cross.iter().enumerate() {
        let rest = format!("operatorBox.cross[{i}]");
        let by_label = c
            .value
            .label_selector
            .as_ref()
            .is_some_and(|l| !l.0.is_empty());
        match (&c.value.crd, by_label) {
            (Some(_), true) | (None, false) => cx.crd_error(
                crd,
                Some(&c.at),
                "cross-target",
                &rest,
                "a cross declaration needs exactly one of `crd` and `labelSelector`",
                "name the CRD with `crd:`",
            ),
            (Some(target), false) => {
                let remote = c
                    .value
                    .source
                    .as_ref()
                    .is_some_and(|s| s.host.is_some() || s.endpoint.is_some());
                if !remote && !names.contains(&target.value.as_str()) {
                    cx.crd_error(crd, Some(&target.at), "cross-unknown-crd", &format!("{rest}.crd"),
                        format!("cross reads `{}`, which is not declared in spec.crds (and no remote `source` is given)", target.value),
                        crate::de::did_you_mean(&target.value, &names).map(|n| format!("did you mean `{n}`?")).unwrap_or_default());
                }
            }
            (None, true) => {}
        }
        if let Some(source) = &c.value.source {
            if let Some(p) = source
                .protocol
                .as_deref()
                .filter(|p| !["cr", "health", "metrics", "info", "events"].contains(p))
            {
                cx.crd_error(
                    crd,
                    Some(&c.at),
                    "invalid-value",
                    &format!("{rest}.source.protocol"),
                    format!(
                        "cross source protocol `{p}` is not cr, health, metrics, info or events"
                    ),
                    "",
                );
            }
            if let Some(auth) = &source.auth
                && auth.value.token.is_some() == auth.value.secret_ref.is_some()
            {
                cx.crd_error(
                    crd,
                    Some(&auth.at),
                    "cross-auth",
                    &format!("{rest}.source.auth"),
                    "cross source auth needs exactly one of `token` and `secretRef`",
                    "",
                );
            }
            cx.crd_duration(
                crd,
                source.cache_for.as_ref(),
                &format!("{rest}.source.cacheFor"),
            );
        }
        if let Some(s) = c
            .value
            .strategy
            .as_deref()
            .filter(|s| !["first", "all"].contains(s))
        {
            cx.crd_error(
                crd,
                Some(&c.at),
                "invalid-value",
                &format!("{rest}.strategy"),
                format!("cross strategy `{s}` is not `first` or `all`"),
                "",
            );
        }
    }
}

fn watches(cx: &mut Cx<'_>, crd: &Crd) {
    let mut seen: Vec<(String, String, String)> = Vec::new();
    for (i, w) in crd.operator_box().watch.iter().enumerate() {
        let rest = format!("operatorBox.observe.watch[{i}]");
        for (key, value) in [
            ("apiVersion", &w.value.api_version),
            ("kind", &w.value.kind),
        ] {
            if value.as_deref().is_none_or(str::is_empty) {
                cx.crd_error(
                    crd,
                    Some(&w.at),
                    "missing-field",
                    &format!("{rest}.{key}"),
                    format!("a watch entry needs `{key}`"),
                    "",
                );
            }
        }
        for on in &w.value.on {
            if !["create", "update", "delete"].contains(&on.value.as_str()) {
                cx.crd_error(
                    crd,
                    Some(&on.at),
                    "invalid-value",
                    &format!("{rest}.on"),
                    format!("watch event `{}` is not create, update or delete", on.value),
                    "",
                );
            }
        }
        if let Some(k) = &w.value.key_from
            && k.value.label.is_some() == k.value.name.is_some()
        {
            cx.crd_error(
                crd,
                Some(&k.at),
                "watch-key-from",
                &format!("{rest}.keyFrom"),
                "`keyFrom` needs exactly one of `label` and `name`",
                "",
            );
        }
        let key = (
            w.value.api_version.clone().unwrap_or_default(),
            w.value.kind.clone().unwrap_or_default(),
            w.value.namespace.clone().unwrap_or_default(),
        );
        if seen.contains(&key) {
            cx.crd_error(
                crd,
                Some(&w.at),
                "duplicate-watch",
                &rest,
                format!(
                    "`{} {}` is watched twice in the same namespace",
                    key.0, key.1
                ),
                "merge the two entries",
            );
        }
        seen.push(key);
        if let Some(gate) = &w.value.enqueue_gate {
            let rest = format!("{rest}.enqueueGate");
            gate_check(cx, crd, &rest, gate, None);
            if !gate.external.is_empty() {
                cx.crd_error(
                    crd,
                    Some(&w.at),
                    "external-in-enqueue-gate",
                    &format!("{rest}.external"),
                    "a watch's enqueueGate runs inside the watch, where ork makes no network call",
                    "move the call to `preReconcile.reconcileGate.external`",
                );
            }
        }
    }
}

fn pre_reconcile(cx: &mut Cx<'_>, crd: &Crd) {
    let Some(p) = &crd.operator_box().pre_reconcile else {
        return;
    };
    let declared: Vec<&str> = p.sentinels.iter().map(|s| s.value.as_str()).collect();
    for s in &p.sentinels {
        if !SENTINELS.contains(&s.value.as_str()) {
            cx.crd_error(
                crd,
                Some(&s.at),
                "unknown-sentinel",
                "operatorBox.preReconcile.sentinels",
                format!("unknown sentinel `{}`", s.value),
                crate::de::did_you_mean(&s.value, SENTINELS)
                    .map(|n| format!("did you mean `{n}`?"))
                    .unwrap_or_default(),
            );
        }
    }
    for (key, gate) in [
        ("enqueueGate", &p.enqueue_gate),
        ("reconcileGate", &p.reconcile_gate),
    ] {
        let Some(gate) = gate else { continue };
        gate_check(
            cx,
            crd,
            &format!("operatorBox.preReconcile.{key}"),
            gate,
            Some(&declared),
        );
    }
}

/// Checks a gate at `rest`. Its sentinels must be among `declared` (the `preReconcile`
/// gates); `None` (a watch's own gate, which computes what it lists) takes any known one.
fn gate_check(cx: &mut Cx<'_>, crd: &Crd, rest: &str, gate: &Gate, declared: Option<&[&str]>) {
    for s in &gate.sentinels {
        if declared.is_none() && !SENTINELS.contains(&s.value.as_str()) {
            cx.crd_error(
                crd,
                Some(&s.at),
                "unknown-sentinel",
                &format!("{rest}.sentinels"),
                format!("unknown sentinel `{}`", s.value),
                crate::de::did_you_mean(&s.value, SENTINELS)
                    .map(|n| format!("did you mean `{n}`?"))
                    .unwrap_or_default(),
            );
        }
        if let Some(declared) = declared
            && !declared.contains(&s.value.as_str())
        {
            cx.crd_error(
                crd,
                Some(&s.at),
                "undeclared-sentinel",
                &format!("{rest}.sentinels"),
                format!(
                    "gate uses sentinel `{}`, which preReconcile.sentinels does not declare",
                    s.value
                ),
                format!("add `{}` to operatorBox.preReconcile.sentinels", s.value),
            );
        }
    }
    if let Some(e) = gate.event_aware.as_ref().filter(|e| e.value)
        && !rest.ends_with("reconcileGate")
    {
        cx.crd_warning(
            crd,
            Some(&e.at),
            "event-aware-enqueue-gate",
            &format!("{rest}.eventAware"),
            "`eventAware` has no effect here: only `preReconcile.reconcileGate` is event-aware (an enqueue gate runs before the queue, on each event already)",
            "move `eventAware: true` to `preReconcile.reconcileGate`",
        );
    }
    if let Some(f) = &gate.fail_policy
        && !["open", "closed"].contains(&f.value.as_str())
    {
        cx.crd_error(
            crd,
            Some(&f.at),
            "invalid-value",
            &format!("{rest}.failPolicy"),
            format!("failPolicy `{}` is not `open` or `closed`", f.value),
            "",
        );
    }
}

fn events(cx: &mut Cx<'_>, crd: &Crd) {
    let Some(events) = crd
        .operator_box()
        .observe
        .as_ref()
        .and_then(|o| o.events.as_ref())
    else {
        return;
    };
    cx.crd_warning(
        crd,
        Some(&events.at),
        "experimental",
        "operatorBox.observe.events",
        "`observe.events` is experimental",
        "",
    );
    for (name, matcher) in &events.value {
        let rest = format!("operatorBox.observe.events.{name}");
        if !is_camel_case(name) {
            cx.crd_error(
                crd,
                Some(&matcher.at),
                "invalid-event-name",
                "operatorBox.observe.events",
                format!("event declaration name `{name}` must be camelCase"),
                "",
            );
        }
        if matcher.value.is_empty() {
            cx.crd_error(
                crd,
                Some(&matcher.at),
                "empty-event-matcher",
                &rest,
                format!(
                    "event declaration `{name}` matches nothing; declare reason, type, regarding, …"
                ),
                "",
            );
        }
        for on in &matcher.value.on {
            if !["create", "update", "delete"].contains(&on.value.as_str()) {
                cx.crd_error(
                    crd,
                    Some(&on.at),
                    "invalid-watch-on",
                    &format!("{rest}.on"),
                    format!("`{}` is not create, update or delete", on.value),
                    "",
                );
            }
        }
        if let Some(gate) = &matcher.value.enqueue_gate
            && !gate.external.is_empty()
        {
            cx.crd_error(
                crd,
                Some(&matcher.at),
                "external-in-event-gate",
                &format!("{rest}.enqueueGate.external"),
                "an `observe.events` enqueueGate makes no calls",
                "move the call to `preReconcile.external`",
            );
        }
    }
}
