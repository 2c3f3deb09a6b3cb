//! Pod-running kinds: Deployment, StatefulSet, ReplicaSet, Pod, Job, CronJob (spec §6.3).
//!
//! One container named after the object; the Deployment/StatefulSet/ReplicaSet selector is
//! `{orkestra-owner: <owner>}` and their pod template carries the object's labels, so the
//! owner's Services select its pods. Job and CronJob pods carry the declared labels and
//! the managed label but not the owner label, so Services never route to batch pods.

use serde_json::{Map, Value, json};

use super::context::{Built, Ctx, Fault, Meta, Result};
use super::profiles::ProfileClass;
use super::{ErrorKind, KindSpec};
use crate::labels;
use crate::resources::{
    CronJobDecl, DeploymentDecl, JobDecl, Kind, PodDecl, Probe, ReplicaSetDecl, StatefulSetDecl,
    Workload, WorkloadView,
};

pub(super) const DEPLOYMENT: KindSpec<DeploymentDecl> = KindSpec::new(Kind::Deployment, deployment);
pub(super) const STATEFUL_SET: KindSpec<StatefulSetDecl> =
    KindSpec::new(Kind::StatefulSet, stateful_set);
pub(super) const REPLICA_SET: KindSpec<ReplicaSetDecl> =
    KindSpec::new(Kind::ReplicaSet, replica_set);
pub(super) const POD: KindSpec<PodDecl> = KindSpec::new(Kind::Pod, pod);
pub(super) const JOB: KindSpec<JobDecl> = KindSpec::new(Kind::Job, job);
pub(super) const CRON_JOB: KindSpec<CronJobDecl> = KindSpec::new(Kind::CronJob, cron_job);

/// Inserts `key: value` when the value is present.
pub(super) fn put(m: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        m.insert(key.to_owned(), v);
    }
}

/// Inserts `key: list` when the list is non-empty.
pub(super) fn put_list(m: &mut Map<String, Value>, key: &str, list: Vec<Value>) {
    if !list.is_empty() {
        m.insert(key.to_owned(), Value::Array(list));
    }
}

/// The container port, when one is declared and not `0`.
fn container_port(ctx: &Ctx<'_>, w: &WorkloadView<'_>) -> Result<Option<i64>> {
    Ok(ctx.int("port", w.port)?.filter(|p| *p != 0))
}

/// A probe's timings, from its profile (default `standard`) with explicit overrides.
fn probe(ctx: &Ctx<'_>, which: &str, p: &Probe, port: Option<i64>) -> Result<Value> {
    let field = |f: &str| format!("probes.{which}.{f}");
    let mut out = match &p.profile {
        Some(name) => ctx.profile(&field("profile"), ProfileClass::Probes, name)?,
        None => None,
    }
    .or_else(|| super::profiles::builtin(ProfileClass::Probes, "standard"))
    .and_then(|v| v.as_object().cloned())
    .unwrap_or_default();
    for (key, value) in [
        ("initialDelaySeconds", &p.initial_delay_seconds),
        ("periodSeconds", &p.period_seconds),
        ("timeoutSeconds", &p.timeout_seconds),
        ("failureThreshold", &p.failure_threshold),
        ("successThreshold", &p.success_threshold),
    ] {
        put(
            &mut out,
            key,
            ctx.int(&field(key), value.as_ref())?.map(Value::from),
        );
    }
    let kind = ctx.opt(&field("type"), p.kind.as_ref())?;
    let path = ctx.opt(&field("path"), p.path.as_ref())?;
    let port = match ctx.int_or_string(&field("port"), p.port.as_ref())? {
        Some(v) => Some(v),
        None => port.map(Value::from),
    };
    let kind = kind.unwrap_or_else(|| {
        if !p.command.is_empty() {
            "exec".into()
        } else if path.is_some() {
            "http".into()
        } else {
            "tcp".into()
        }
    });
    match kind.to_ascii_lowercase().as_str() {
        "exec" => {
            out.insert(
                "exec".into(),
                json!({"command": ctx.list(&field("command"), &p.command)?}),
            );
        }
        "http" | "httpget" => {
            let port = port.ok_or_else(|| Fault::at(field("port"), ErrorKind::Missing))?;
            out.insert(
                "httpGet".into(),
                json!({"path": path.unwrap_or_else(|| "/".into()), "port": port}),
            );
        }
        _ => {
            let port = port.ok_or_else(|| Fault::at(field("port"), ErrorKind::Missing))?;
            out.insert("tcpSocket".into(), json!({"port": port}));
        }
    }
    Ok(Value::Object(out))
}

/// The explicit fields of a `profile`-or-fields block, serialized, profile key dropped.
fn explicit<T: serde::Serialize>(ctx: &Ctx<'_>, field: &str, v: &T) -> Result<Value> {
    let mut raw = serde_json::to_value(v).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut raw {
        m.remove("profile");
        m.retain(|_, v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()));
    }
    let rendered = ctx.json(field, &raw, true)?;
    Ok(rendered)
}

/// A block that is either `{profile: name}` (expanded) or explicit fields.
fn profiled<T: serde::Serialize>(
    ctx: &Ctx<'_>,
    field: &str,
    class: ProfileClass,
    profile: Option<&crate::render::Text>,
    v: &T,
) -> Result<Option<Value>> {
    if let Some(name) = profile {
        return ctx.profile(&format!("{field}.profile"), class, name);
    }
    let out = explicit(ctx, field, v)?;
    let empty = out.as_object().is_none_or(|m| m.is_empty());
    Ok((!empty).then_some(out))
}

/// The single container of a workload.
fn container(ctx: &Ctx<'_>, meta: &Meta, w: &WorkloadView<'_>) -> Result<Value> {
    let mut c = Map::new();
    c.insert("name".into(), meta.name.clone().into());
    let mut image = ctx.required("image", w.image)?;
    if let Some(tag) = ctx.opt("tag", w.tag)? {
        let last = image.rsplit('/').next().unwrap_or_default();
        if !last.contains(':') && !last.contains('@') {
            image = format!("{image}:{tag}");
        }
    }
    c.insert("image".into(), image.into());
    put_list(&mut c, "command", ctx.list("command", w.command)?);
    put_list(&mut c, "args", ctx.list("args", w.args)?);
    put(
        &mut c,
        "workingDir",
        ctx.opt("workingDirectory", w.working_directory)?
            .map(Value::from),
    );
    let port = container_port(ctx, w)?;
    if let Some(p) = port {
        let protocol = ctx
            .opt("protocol", w.protocol)?
            .unwrap_or_else(|| "TCP".into());
        c.insert(
            "ports".into(),
            json!([{"containerPort": p, "protocol": protocol.to_ascii_uppercase()}]),
        );
    }
    let mut env = Vec::new();
    for (i, e) in w.env.0.iter().enumerate() {
        let mut var = Map::new();
        var.insert("name".into(), e.name.clone().into());
        if let Some(vf) = &e.value_from {
            var.insert(
                "valueFrom".into(),
                ctx.json(&format!("env[{i}].valueFrom"), vf, false)?,
            );
        } else {
            let value = match &e.value {
                Some(v) => ctx.text(&format!("env[{i}].value"), v)?,
                None => String::new(),
            };
            var.insert("value".into(), value.into());
        }
        env.push(Value::Object(var));
    }
    put_list(&mut c, "env", env);
    if let Some(ef) = w.env_from {
        let mut refs = Vec::new();
        for (i, r) in ef.secret_ref.iter().enumerate() {
            let name = ctx.required(&format!("envFrom.secretRef[{i}].name"), Some(&r.name))?;
            refs.push(json!({"secretRef": {"name": name}}));
        }
        for (i, r) in ef.config_map_ref.iter().enumerate() {
            let name = ctx.required(&format!("envFrom.configMapRef[{i}].name"), Some(&r.name))?;
            refs.push(json!({"configMapRef": {"name": name}}));
        }
        put_list(&mut c, "envFrom", refs);
    }
    if let Some(r) = w.resources {
        let value = match &r.profile {
            Some(name) => ctx.profile("resources.profile", ProfileClass::Resources, name)?,
            None => {
                let mut m = Map::new();
                let req = ctx.map("resources.requests", &r.requests)?;
                let lim = ctx.map("resources.limits", &r.limits)?;
                if !req.is_empty() {
                    m.insert("requests".into(), Value::Object(req));
                }
                if !lim.is_empty() {
                    m.insert("limits".into(), Value::Object(lim));
                }
                Some(Value::Object(m))
            }
        };
        put(&mut c, "resources", value);
    }
    if let Some(p) = w.probes {
        for (which, key, probe_decl) in [
            ("liveness", "livenessProbe", &p.liveness),
            ("readiness", "readinessProbe", &p.readiness),
            ("startup", "startupProbe", &p.startup),
        ] {
            if let Some(pd) = probe_decl {
                c.insert(key.into(), probe(ctx, which, pd, port)?);
            }
        }
    }
    if let Some(sc) = w.security_context {
        let v = profiled(
            ctx,
            "securityContext",
            ProfileClass::ContainerSecurity,
            sc.profile.as_ref(),
            sc,
        )?;
        put(&mut c, "securityContext", v);
    }
    let mut mounts = Vec::new();
    for (i, m) in w.volume_mounts.iter().enumerate() {
        let f = |x: &str| format!("volumeMounts[{i}].{x}");
        let mut mount = Map::new();
        mount.insert(
            "name".into(),
            ctx.required(&f("name"), Some(&m.name))?.into(),
        );
        mount.insert(
            "mountPath".into(),
            ctx.required(&f("mountPath"), Some(&m.mount_path))?.into(),
        );
        put(
            &mut mount,
            "subPath",
            ctx.opt(&f("subPath"), m.sub_path.as_ref())?
                .map(Value::from),
        );
        put(&mut mount, "readOnly", m.read_only.map(Value::from));
        mounts.push(Value::Object(mount));
    }
    put_list(&mut c, "volumeMounts", mounts);
    Ok(Value::Object(c))
}

/// The pod spec of a workload.
fn pod_spec(
    ctx: &Ctx<'_>,
    meta: &Meta,
    w: &WorkloadView<'_>,
    restart_policy: Option<String>,
) -> Result<Map<String, Value>> {
    let mut spec = Map::new();
    spec.insert(
        "containers".into(),
        Value::Array(vec![container(ctx, meta, w)?]),
    );
    put(
        &mut spec,
        "serviceAccountName",
        ctx.opt("serviceAccountName", w.service_account_name)?
            .map(Value::from),
    );
    let selector = ctx.map("nodeSelector", w.node_selector)?;
    if !selector.is_empty() {
        spec.insert("nodeSelector".into(), Value::Object(selector));
    }
    let secrets: Vec<Value> = ctx
        .list("imagePullSecrets", w.image_pull_secrets)?
        .into_iter()
        .map(|n| json!({"name": n}))
        .collect();
    put_list(&mut spec, "imagePullSecrets", secrets);
    if let Some(ps) = w.pod_security {
        let v = profiled(
            ctx,
            "podSecurity",
            ProfileClass::PodSecurity,
            ps.profile.as_ref(),
            ps,
        )?;
        put(&mut spec, "securityContext", v);
    }
    let mut volumes = Vec::new();
    for (i, v) in w.volumes.iter().enumerate() {
        let raw = serde_json::to_value(v).unwrap_or(Value::Null);
        let mut vol = ctx.json(&format!("volumes[{i}]"), &raw, true)?;
        if let Value::Object(m) = &mut vol {
            m.retain(|_, x| !x.is_null());
        }
        volumes.push(vol);
    }
    put_list(&mut spec, "volumes", volumes);
    put(&mut spec, "restartPolicy", restart_policy.map(Value::from));
    Ok(spec)
}

/// `replicas` (default 1).
/// `replicas`, only when declared and non-empty: the API server defaults it to 1, and not
/// sending it leaves the field to an HPA or to `kubectl scale`.
fn replicas(ctx: &Ctx<'_>, t: Option<&crate::render::Text>) -> Result<Option<Value>> {
    Ok(ctx.int("replicas", t)?.map(Value::from))
}

/// A pod template carrying `labels`.
fn template(labels: Value, spec: Map<String, Value>) -> Value {
    json!({"metadata": {"labels": labels}, "spec": spec})
}

/// Pod labels of batch workloads: the object's labels without the owner label.
fn batch_labels(meta: &Meta) -> Value {
    let mut l = meta.labels.clone();
    l.remove(labels::OWNER);
    Value::Object(l)
}

/// The spec shared by Deployments, StatefulSets and ReplicaSets: replicas when declared,
/// the owner selector, and a pod template carrying the object's labels.
fn replicated_spec(
    ctx: &Ctx<'_>,
    meta: &Meta,
    count: Option<&crate::render::Text>,
    pod: Map<String, Value>,
) -> Result<Map<String, Value>> {
    let mut spec = Map::new();
    put(&mut spec, "replicas", replicas(ctx, count)?);
    spec.insert(
        "selector".into(),
        json!({"matchLabels": meta.owner_selector()}),
    );
    spec.insert(
        "template".into(),
        template(Value::Object(meta.labels.clone()), pod),
    );
    Ok(spec)
}

fn deployment(ctx: &Ctx<'_>, meta: &Meta, d: &DeploymentDecl) -> Result<Built> {
    let w = d.workload();
    let pod = pod_spec(ctx, meta, &w, None)?;
    let mut spec = replicated_spec(ctx, meta, d.replicas.as_ref(), pod)?;
    if let Some(ru) = &d.rolling_update
        && let Some(v) = profiled(
            ctx,
            "rollingUpdate",
            ProfileClass::RollingUpdate,
            ru.profile.as_ref(),
            ru,
        )?
    {
        let mut rolling = Map::new();
        for key in ["maxSurge", "maxUnavailable"] {
            let value = v.get(key).map(|x| match x {
                Value::String(s) => super::context::int_or_string(s),
                other => other.clone(),
            });
            put(&mut rolling, key, value);
        }
        spec.insert(
            "strategy".into(),
            json!({"type": "RollingUpdate", "rollingUpdate": rolling}),
        );
    }
    let mut built = Built::new(meta.object(Kind::Deployment, json!({"spec": spec})));
    if let Some(a) = &d.autoscale {
        let declared = built
            .object
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let plan = super::autoscale::plan(a, &ctx.env(), declared)
            .map_err(|kind| Fault::at("autoscale", kind))?;
        built.scale = Some(plan);
    }
    Ok(built)
}

fn stateful_set(ctx: &Ctx<'_>, meta: &Meta, d: &StatefulSetDecl) -> Result<Built> {
    let w = d.workload();
    let mut pod = pod_spec(ctx, meta, &w, None)?;
    let mut claims = Vec::new();
    let mut mounts = Vec::new();
    for (i, v) in d.volume_claim_templates.iter().enumerate() {
        let f = |x: &str| format!("volumeClaimTemplates[{i}].{x}");
        let name = ctx
            .opt(&f("name"), v.name.as_ref())?
            .unwrap_or_else(|| "data".into());
        let size = ctx.required(&f("storageSize"), v.storage_size.as_ref())?;
        let mut modes = ctx.list(&f("accessModes"), &v.access_modes)?;
        if modes.is_empty() {
            modes.push("ReadWriteOnce".into());
        }
        let mut spec = Map::new();
        spec.insert("accessModes".into(), Value::Array(modes));
        put(
            &mut spec,
            "storageClassName",
            ctx.opt(&f("storageClass"), v.storage_class.as_ref())?
                .map(Value::from),
        );
        spec.insert("resources".into(), json!({"requests": {"storage": size}}));
        claims.push(json!({"metadata": {"name": name}, "spec": spec}));
        let path = ctx
            .opt(&f("mountPath"), v.mount_path.as_ref())?
            .unwrap_or_else(|| "/data".into());
        mounts.push(json!({"name": name, "mountPath": path}));
    }
    if !mounts.is_empty()
        && let Some(Value::Object(c)) = pod.get_mut("containers").and_then(|c| c.get_mut(0))
    {
        let list = c
            .entry("volumeMounts")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(l) = list {
            l.extend(mounts);
        }
    }
    let mut spec = replicated_spec(ctx, meta, d.replicas.as_ref(), pod)?;
    let service = ctx
        .opt("serviceName", d.service_name.as_ref())?
        .unwrap_or_else(|| meta.name.clone());
    spec.insert("serviceName".into(), service.into());
    put_list(&mut spec, "volumeClaimTemplates", claims);
    Ok(Built::new(
        meta.object(Kind::StatefulSet, json!({"spec": spec})),
    ))
}

fn replica_set(ctx: &Ctx<'_>, meta: &Meta, d: &ReplicaSetDecl) -> Result<Built> {
    let pod = pod_spec(ctx, meta, &d.workload(), None)?;
    let spec = replicated_spec(ctx, meta, d.replicas.as_ref(), pod)?;
    Ok(Built::new(
        meta.object(Kind::ReplicaSet, json!({"spec": spec})),
    ))
}

fn pod(ctx: &Ctx<'_>, meta: &Meta, d: &PodDecl) -> Result<Built> {
    let restart = ctx.opt("restartPolicy", d.restart_policy.as_ref())?;
    let spec = pod_spec(ctx, meta, &d.workload(), restart)?;
    Ok(Built::new(meta.object(Kind::Pod, json!({"spec": spec}))))
}

/// The Job spec shared by Jobs and CronJob job templates.
fn job_spec(
    ctx: &Ctx<'_>,
    meta: &Meta,
    w: &WorkloadView<'_>,
    restart: Option<&crate::render::Text>,
    default_restart: &str,
    backoff: Option<&crate::render::Text>,
) -> Result<Map<String, Value>> {
    let restart = ctx
        .opt("restartPolicy", restart)?
        .unwrap_or_else(|| default_restart.into());
    let pod = pod_spec(ctx, meta, w, Some(restart))?;
    let mut spec = Map::new();
    put(
        &mut spec,
        "backoffLimit",
        ctx.int("backoffLimit", backoff)?.map(Value::from),
    );
    spec.insert("template".into(), template(batch_labels(meta), pod));
    Ok(spec)
}

fn job(ctx: &Ctx<'_>, meta: &Meta, d: &JobDecl) -> Result<Built> {
    let w = d.workload();
    let mut spec = job_spec(
        ctx,
        meta,
        &w,
        d.restart_policy.as_ref(),
        "Never",
        d.backoff_limit.as_ref(),
    )?;
    spec.entry("backoffLimit").or_insert(Value::from(3));
    for (key, v) in [
        ("ttlSecondsAfterFinished", &d.ttl_seconds_after_finished),
        ("activeDeadlineSeconds", &d.active_deadline_seconds),
        ("completions", &d.completions),
        ("parallelism", &d.parallelism),
    ] {
        put(&mut spec, key, ctx.int(key, v.as_ref())?.map(Value::from));
    }
    Ok(Built::new(meta.object(Kind::Job, json!({"spec": spec}))))
}

fn cron_job(ctx: &Ctx<'_>, meta: &Meta, d: &CronJobDecl) -> Result<Built> {
    let w = d.workload();
    let job = job_spec(
        ctx,
        meta,
        &w,
        d.restart_policy.as_ref(),
        "OnFailure",
        d.backoff_limit.as_ref(),
    )?;
    let mut spec = Map::new();
    spec.insert(
        "schedule".into(),
        ctx.required("schedule", d.schedule.as_ref())?.into(),
    );
    put(
        &mut spec,
        "timeZone",
        ctx.opt("timeZone", d.time_zone.as_ref())?.map(Value::from),
    );
    put(
        &mut spec,
        "suspend",
        ctx.boolean("suspend", d.suspend.as_ref())?.map(Value::from),
    );
    put(
        &mut spec,
        "concurrencyPolicy",
        ctx.opt("concurrencyPolicy", d.concurrency_policy.as_ref())?
            .map(Value::from),
    );
    for (key, v) in [
        (
            "successfulJobsHistoryLimit",
            &d.successful_jobs_history_limit,
        ),
        ("failedJobsHistoryLimit", &d.failed_jobs_history_limit),
        ("startingDeadlineSeconds", &d.starting_deadline_seconds),
    ] {
        put(&mut spec, key, ctx.int(key, v.as_ref())?.map(Value::from));
    }
    spec.insert(
        "jobTemplate".into(),
        json!({"metadata": {"labels": batch_labels(meta)}, "spec": job}),
    );
    Ok(Built::new(
        meta.object(Kind::CronJob, json!({"spec": spec})),
    ))
}
