//! Reconciler configuration: workers, resync, queue, behaviour, retry backoff, requeue,
//! hooks/constructor/remote, profiles, autoscale, onDelete groups
//! (§18.2 #1, #5, #6, #10, #13; §18.3 #6, #50, #51).

use super::{Cx, duration_problem};
use crate::de::Spanned;
use crate::model::{Crd, Hooks, Queue, Reconciler, Remote, duration};
use crate::remote::{ManagedKind, RemoteAuth};
use crate::resolve::{crd_file, settings::is_reconciler_profile};

pub fn check(cx: &mut Cx<'_>) {
    for crd in &cx.katalog.crds {
        let reconciler = crd.operator_box().reconciler.clone().unwrap_or_default();
        workers(cx, crd, &reconciler);
        resync(cx, crd, &reconciler);
        profile(cx, crd, &reconciler);
        if let Some(queue) = &reconciler.queue {
            queue_numbers(cx, crd, queue);
            queue_behaviour(cx, crd, queue);
            retry_backoff(cx, crd, queue);
        }
        requeue(cx, crd, &reconciler);
        extension_points(cx, crd, &reconciler);
        autoscale(cx, crd);
        on_delete_groups(cx, crd);
        stripped_finalizers(cx, crd);
    }
}

/// `removeFinalizers: true` leaves a deleted CR no delete path, so `onDelete` never runs.
fn stripped_finalizers(cx: &mut Cx<'_>, crd: &Crd) {
    if crd.entry.remove_finalizers == Some(true) && crd.operator_box().on_delete.is_some() {
        cx.crd_warning(
            crd,
            None,
            "on-delete-never-runs",
            "operatorBox.onDelete",
            "`onDelete` never runs: `removeFinalizers: true` keeps ork's finalizers off this CRD's CRs, so a deleted CR is gone before ork sees it",
            "drop `removeFinalizers` (a testing aid) or `onDelete`",
        );
    }
}

const PREFIX: &str = "operatorBox.reconciler";

fn workers(cx: &mut Cx<'_>, crd: &Crd, r: &Reconciler) {
    for (value, rest) in [
        (r.workers.as_ref(), format!("{PREFIX}.workers")),
        (crd.entry.workers.as_ref(), "workers".to_string()),
    ] {
        if let Some(w) = value.filter(|w| !(1..=50).contains(&w.value)) {
            cx.crd_error(
                crd,
                Some(&w.at),
                "workers-out-of-range",
                &rest,
                format!("`workers` is {}; it must be between 1 and 50", w.value),
                "set `workers` to a value from 1 to 50 (omit it for the default of 3)",
            );
        }
    }
    if let (Some(a), Some(b)) = (&r.workers, &crd.entry.workers)
        && a.value != b.value
    {
        cx.crd_warning(crd, Some(&b.at), "workers-twice", "workers",
                format!("`workers` is declared on the CRD ({}) and under operatorBox.reconciler ({}); the reconciler's value is used", b.value, a.value),
                "declare it in one place");
    }
}

fn resync(cx: &mut Cx<'_>, crd: &Crd, r: &Reconciler) {
    for (value, rest) in [
        (r.resync.as_ref(), format!("{PREFIX}.resync")),
        (crd.entry.resync.as_ref(), "resync".to_string()),
    ] {
        cx.crd_duration(crd, value, &rest);
    }
}

fn profile(cx: &mut Cx<'_>, crd: &Crd, r: &Reconciler) {
    if let Some(p) = &r.profile
        && !is_reconciler_profile(&cx.katalog.profiles, &p.value)
    {
        cx.crd_error(crd, Some(&p.at), "unknown-profile", &format!("{PREFIX}.profile"),
                format!("unknown reconciler profile `{}`", p.value),
                "use high-throughput, conservative, development, or declare it under profiles.reconciler");
    }
}

fn non_negative(cx: &mut Cx<'_>, crd: &Crd, value: Option<&Spanned<i64>>, key: &str) {
    if let Some(v) = value.filter(|v| v.value < 0) {
        cx.crd_error(
            crd,
            Some(&v.at),
            "negative-value",
            &format!("{PREFIX}.queue.{key}"),
            format!("`queue.{key}` is {}; it must be 0 or more", v.value),
            "use 0 or a positive number",
        );
    }
}

fn queue_numbers(cx: &mut Cx<'_>, crd: &Crd, q: &Queue) {
    non_negative(cx, crd, q.max_depth.as_ref(), "maxDepth");
    non_negative(cx, crd, q.failure_threshold.as_ref(), "failureThreshold");
    non_negative(cx, crd, q.degrade_threshold.as_ref(), "degradeThreshold");
    if let Some(d) = &q.degrade_threshold {
        cx.crd_warning(
            crd,
            Some(&d.at),
            "deprecated-key",
            &format!("{PREFIX}.queue.degradeThreshold"),
            "`degradeThreshold` is the old name of `failureThreshold`",
            "rename it to `failureThreshold`",
        );
    }
    if q.default.is_some() {
        cx.crd_warning(
            crd,
            None,
            "deprecated-key",
            &format!("{PREFIX}.queue.default"),
            "`queue.default` is the old name of `queue.shared`",
            "rename it to `shared`",
        );
    }
}

fn queue_behaviour(cx: &mut Cx<'_>, crd: &Crd, q: &Queue) {
    let Some(behaviour) = &q.behaviour else {
        if let Some(d) = q.max_depth.as_ref().filter(|d| d.value > 0) {
            cx.crd_warning(
                crd,
                Some(&d.at),
                "depth-without-behaviour",
                &format!("{PREFIX}.queue.maxDepth"),
                format!(
                    "`queue.maxDepth: {}` drops nothing without `queue.behaviour` (as in Orkestra, it is only the reference `onLimit` and `onThreshold` fire against)",
                    d.value
                ),
                "add `behaviour: {onLimit: {drop: true}}` to cap the queue, or remove `maxDepth`",
            );
        }
        return;
    };
    let rest = format!("{PREFIX}.queue.behaviour");
    if q.max_depth.as_ref().is_none_or(|d| d.value <= 0) {
        cx.crd_error(crd, Some(&behaviour.at), "behaviour-without-limit", &rest,
            "`queue.behaviour` only applies when `queue.maxDepth` is above 0 (the queue is unlimited)",
            "set `maxDepth`, or remove `behaviour`");
    }
    if let Some(t) = &behaviour.value.on_threshold {
        match t.value.value {
            Some(v) if (1..=100).contains(&v) => {}
            Some(v) => cx.crd_error(
                crd,
                Some(&t.at),
                "invalid-value",
                &format!("{rest}.onThreshold.value"),
                format!("`onThreshold.value` is {v}; it is a percentage of maxDepth from 1 to 100"),
                "",
            ),
            None => cx.crd_error(
                crd,
                Some(&t.at),
                "missing-field",
                &format!("{rest}.onThreshold.value"),
                "`onThreshold` needs `value` (a percentage of maxDepth)",
                "add `value: 70`",
            ),
        }
        if t.value.drop == Some(false) {
            cx.crd_warning(
                crd,
                Some(&t.at),
                "threshold-always-drops",
                &format!("{rest}.onThreshold.drop"),
                "`onThreshold` always drops items; `drop: false` has no effect",
                "remove `drop: false`",
            );
        }
    }
    if let Some(l) = &behaviour.value.on_limit
        && l.value.drop == Some(false)
    {
        cx.crd_warning(
            crd,
            Some(&l.at),
            "limit-never-drops",
            &format!("{rest}.onLimit.drop"),
            "`onLimit` with `drop: false` never drops: the queue grows past maxDepth",
            "remove `drop: false` (onLimit drops by default), or remove `onLimit`",
        );
    }
    if let Some(l) = &behaviour.value.on_limit
        && l.value.value.is_some()
    {
        cx.crd_error(
            crd,
            Some(&l.at),
            "invalid-value",
            &format!("{rest}.onLimit.value"),
            "`onLimit` may not declare `value` (the limit is maxDepth)",
            "remove `value`",
        );
    }
}

fn retry_backoff(cx: &mut Cx<'_>, crd: &Crd, q: &Queue) {
    let Some(b) = &q.retry_backoff else {
        return;
    };
    let rest = format!("{PREFIX}.queue.retryBackoff");
    let initial = b.value.initial.as_deref().map(duration::parse);
    let max = b.value.max.as_deref().map(duration::parse);
    for (key, parsed) in [("initial", &initial), ("max", &max)] {
        if let Some(Err(e)) = parsed {
            cx.crd_error(
                crd,
                Some(&b.at),
                "invalid-duration",
                &format!("{rest}.{key}"),
                format!("`retryBackoff.{key}`: {e}"),
                "use a duration such as 500ms or 1m",
            );
        }
    }
    if let (Some(Ok(i)), Some(Ok(m))) = (&initial, &max)
        && m < i
    {
        cx.crd_error(
            crd,
            Some(&b.at),
            "retry-max-below-initial",
            &rest,
            "`retryBackoff.max` is shorter than its initial delay",
            "make `max` at least the initial delay",
        );
    }
    if b.value.multiplier.is_some_and(|m| m < 0.0) {
        cx.crd_error(
            crd,
            Some(&b.at),
            "negative-value",
            &format!("{rest}.multiplier"),
            "`retryBackoff.multiplier` must be 0 or more",
            "",
        );
    }
    if b.value.max_attempts.is_some_and(|a| a < 0) {
        cx.crd_error(
            crd,
            Some(&b.at),
            "negative-value",
            &format!("{rest}.maxAttempts"),
            "`retryBackoff.maxAttempts` must be 0 or more",
            "",
        );
    }
    if let (Some(Ok(m)), Some(attempts)) = (&max, b.value.max_attempts.filter(|a| *a > 0)) {
        let worst = m.saturating_mul(u32::try_from(attempts).unwrap_or(u32::MAX));
        if worst > crd.settings.resync {
            cx.crd_warning(
                crd,
                Some(&b.at),
                "retry-window-exceeds-resync",
                &rest,
                format!(
                    "the worst-case retry window ({}s) is longer than resync ({}s)",
                    worst.as_secs(),
                    crd.settings.resync.as_secs()
                ),
                "lower maxAttempts or max, or raise resync",
            );
        }
    }
}

fn requeue(cx: &mut Cx<'_>, crd: &Crd, r: &Reconciler) {
    if let Some(after) = r.requeue.as_ref().and_then(|q| q.after.as_ref())
        && let Some(problem) = duration_problem(&after.value)
    {
        cx.crd_error(
            crd,
            Some(&after.at),
            "invalid-requeue",
            &format!("{PREFIX}.requeue.after"),
            format!("`requeue.after` must be a duration or a template: {problem}"),
            "use e.g. `after: 5m`",
        );
    }
}

fn extension_points(cx: &mut Cx<'_>, crd: &Crd, r: &Reconciler) {
    let declared: Vec<&str> = [
        ("hooks", r.hooks.is_some()),
        ("constructor", r.constructor.is_some()),
        ("remote", r.remote.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if declared.len() > 1 {
        cx.crd_error(
            crd,
            None,
            "reconciler-exclusive",
            PREFIX,
            format!("`{}` are mutually exclusive", declared.join("`, `")),
            "keep one of them",
        );
    }
    let typed_location = crd
        .entry
        .api_types
        .as_ref()
        .and_then(|a| a.value.location.as_ref());
    for (key, hooks) in [("hooks", &r.hooks), ("constructor", &r.constructor)] {
        let Some(h) = hooks else { continue };
        go_extension(cx, crd, key, h, typed_location.is_some());
    }
    if r.constructor.is_some() && r.default != Some(false) {
        cx.crd_error(
            crd,
            None,
            "constructor-needs-default-false",
            &format!("{PREFIX}.default"),
            "a `constructor` replaces the generic reconciler and needs `default: false`",
            "add `default: false`",
        );
    }
    if r.default == Some(false) && r.constructor.is_none() && r.remote.is_none() {
        cx.crd_error(crd, None, "no-reconciler", &format!("{PREFIX}.default"),
            "`default: false` turns the templates off but no `constructor` or `remote` reconciler replaces them",
            "declare `remote:` or remove `default: false`");
    }
    if let Some(remote) = &r.remote {
        if remote.value.endpoint.as_deref().is_none_or(str::is_empty) {
            cx.crd_error(
                crd,
                Some(&remote.at),
                "missing-field",
                &format!("{PREFIX}.remote.endpoint"),
                "a remote reconciler needs an `endpoint`",
                "add `endpoint: http://svc/reconcile`",
            );
        }
        if let Some(p) = remote.value.protocol.as_deref().filter(|p| *p != "http") {
            cx.crd_error(
                crd,
                Some(&remote.at),
                "unsupported-protocol",
                &format!("{PREFIX}.remote.protocol"),
                format!("remote protocol `{p}` is not supported (only `http`)"),
                "use `protocol: http`",
            );
        }
        cx.crd_duration(
            crd,
            remote.value.timeout.as_ref(),
            &format!("{PREFIX}.remote.timeout"),
        );
        remote_details(cx, crd, remote);
    }
}

/// `managedResources`, `auth` and `payload` of a remote reconciler.
fn remote_details(cx: &mut Cx<'_>, crd: &Crd, remote: &Spanned<Remote>) {
    let rest = format!("{PREFIX}.remote");
    let r = &remote.value;
    if r.managed_resources.is_empty() {
        cx.crd_warning(crd, Some(&remote.at), "remote-without-managed-resources", &rest,
            "the remote reconciler declares no `managedResources`: every resource it returns is refused", "list the kinds it manages");
    }
    for (i, m) in r.managed_resources.iter().enumerate() {
        let kind = ManagedKind::of(m);
        if kind.as_ref().is_none_or(|k| k.version.is_none()) {
            cx.crd_error(crd, Some(&remote.at), "missing-field", &format!("{rest}.managedResources[{i}]"),
                "a managed resource needs `kind`, and `apiVersion` (or `group` and `version`) unless it is a built-in kind",
                "e.g. `{kind: Deployment}` or `{apiVersion: example.com/v1, kind: Gadget}`");
        }
    }
    if r.payload.is_some() {
        cx.crd_error(crd, Some(&remote.at), "unsupported-field", &format!("{rest}.payload"),
            "`payload` shaping is not supported by ork: the request always carries key, gvk, object, prepared and args",
            "remove `payload`");
    }
    if let Some(auth) = &r.auth
        && let Err(problem) = RemoteAuth::parse(auth)
    {
        cx.crd_error(
            crd,
            Some(&remote.at),
            "invalid-auth",
            &format!("{rest}.auth"),
            problem,
            "use `auth: {secretRef: {name, key}}` or `auth: {env: VAR}`, optionally with `header`",
        );
    }
}

fn go_extension(cx: &mut Cx<'_>, crd: &Crd, key: &str, h: &Spanned<Hooks>, typed: bool) {
    let rest = format!("{PREFIX}.{key}");
    if !typed {
        cx.crd_error(
            crd,
            Some(&h.at),
            "typed-mode-required",
            &rest,
            format!("`{key}` needs typed mode (`apiTypes.location`)"),
            "set `apiTypes.location`, or use a `remote` reconciler",
        );
    }
    for (field, value) in [
        ("location", &h.value.location),
        ("function", &h.value.function),
    ] {
        if value.as_deref().is_none_or(str::is_empty) {
            cx.crd_error(
                crd,
                Some(&h.at),
                "missing-field",
                &format!("{rest}.{field}"),
                format!("`{key}` needs `{field}`"),
                "",
            );
        }
    }
    if h.value.managed_resources.is_empty() {
        cx.crd_error(
            crd,
            Some(&h.at),
            "missing-field",
            &format!("{rest}.managedResources"),
            format!("`{key}` needs a non-empty `managedResources`"),
            "list the kinds it manages, e.g. `[{kind: Deployment}]`",
        );
    }
    for m in &h.value.managed_resources {
        let known = m
            .kind
            .as_deref()
            .is_some_and(|k| crd_file::built_in(k, None).is_some());
        if m.kind.is_none() && !known {
            cx.crd_error(
                crd,
                Some(&h.at),
                "missing-field",
                &format!("{rest}.managedResources"),
                "a managed resource that is not a built-in kind must declare `kind`",
                "",
            );
        }
    }
}

fn autoscale(cx: &mut Cx<'_>, crd: &Crd) {
    let Some(a) = &crd.operator_box().autoscale else {
        return;
    };
    let rest = "operatorBox.autoscale";
    if let Some(p) = &a.value.profile
        && !["aggressive", "balanced", "conservative"].contains(&p.value.as_str())
    {
        cx.crd_error(
            crd,
            Some(&p.at),
            "unknown-profile",
            &format!("{rest}.profile"),
            format!("unknown autoscale profile `{}`", p.value),
            "use aggressive, balanced or conservative",
        );
    }
    for (key, value) in [
        ("interval", &a.value.interval),
        ("cooldown", &a.value.cooldown),
    ] {
        cx.crd_duration(crd, value.as_ref(), &format!("{rest}.{key}"));
    }
    if let Some(action) = &a.value.action
        && let Some(w) = action
            .workers
            .as_ref()
            .filter(|w| !(1..=50).contains(&w.value))
    {
        cx.crd_error(
            crd,
            Some(&w.at),
            "workers-out-of-range",
            &format!("{rest}.do.workers"),
            format!(
                "autoscale `workers` is {}; it must be between 1 and 50",
                w.value
            ),
            "",
        );
    }
    const METRICS: &[&str] = &[
        "queueDepth",
        "workers",
        "reconcileCount",
        "errorCount",
        "errorRate",
        "reconcileRate",
        "latency",
        "latencyP99",
        "consecutiveFailures",
        "autoscaleActive",
        "successRate",
        "activeWorkers",
        "resourceCount",
    ];
    let conditions = a
        .value
        .conditions
        .iter()
        .flat_map(|c| c.when.iter().chain(&c.or));
    for condition in conditions {
        let Some(field) = condition.field.as_ref().map(|f| f.as_str().to_string()) else {
            continue;
        };
        if let Some(metric) = field.strip_prefix("metrics.")
            && !METRICS.contains(&metric)
        {
            cx.crd_error(
                crd,
                Some(&a.at),
                "unknown-metric",
                &format!("{rest}.conditions"),
                format!("autoscale condition reads `{field}`, which is not a supported metric"),
                format!(
                    "supported: {}",
                    METRICS
                        .iter()
                        .map(|m| format!("metrics.{m}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
}

fn on_delete_groups(cx: &mut Cx<'_>, crd: &Crd) {
    let Some(on_delete) = &crd.operator_box().on_delete else {
        return;
    };
    let mut names: Vec<&str> = Vec::new();
    for group in &on_delete.groups {
        let Some(name) = group.name.as_ref().map(|n| n.as_str()) else {
            continue;
        };
        if names.contains(&name) {
            cx.crd_error(
                crd,
                None,
                "duplicate-group",
                "operatorBox.onDelete.groups",
                format!("onDelete group `{name}` is declared twice"),
                "give each group its own name",
            );
        }
        names.push(name);
    }
    if let Some(t) = &on_delete.timeout
        && let Some(problem) = duration_problem(t.as_str())
    {
        cx.crd_error(
            crd,
            None,
            "invalid-duration",
            "operatorBox.onDelete.timeout",
            problem,
            "",
        );
    }
}
