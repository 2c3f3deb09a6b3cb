//! Scaling kinds: HorizontalPodAutoscaler and PodDisruptionBudget (spec §6.4).

use serde_json::{Map, Value, json};

use super::ErrorKind;
use super::KindSpec;
use super::context::{Built, Ctx, Fault, Meta, Result, int_or_string};
use super::profiles::ProfileClass;
use super::workloads::put;
use crate::resources::{HpaDecl, Kind, PdbDecl};

pub(super) const HPA: KindSpec<HpaDecl> = KindSpec::new(Kind::HorizontalPodAutoscaler, hpa);
pub(super) const PDB: KindSpec<PdbDecl> = KindSpec::new(Kind::PodDisruptionBudget, pdb);

/// A resource utilisation metric.
fn utilization(resource: &str, percent: i64) -> Value {
    json!({"type": "Resource", "resource": {
        "name": resource,
        "target": {"type": "Utilization", "averageUtilization": percent},
    }})
}

fn hpa(ctx: &Ctx<'_>, meta: &Meta, d: &HpaDecl) -> Result<Built> {
    let target = &d.scale_target_ref;
    let kind = ctx
        .opt("scaleTargetRef.kind", target.kind.as_ref())?
        .unwrap_or_else(|| "Deployment".into());
    let api_version = match ctx.opt("scaleTargetRef.apiVersion", target.api_version.as_ref())? {
        Some(a) => a,
        None if matches!(kind.as_str(), "Deployment" | "StatefulSet" | "ReplicaSet") => {
            "apps/v1".into()
        }
        None => return Err(Fault::at("scaleTargetRef.apiVersion", ErrorKind::Missing)),
    };
    let name = match ctx.opt("scaleTargetRef.name", target.name.as_ref())? {
        Some(n) => n,
        None => ctx.required("deploymentRef", d.deployment_ref.as_ref())?,
    };
    let profile = match d.behavior.as_ref().and_then(|b| b.profile.as_ref()) {
        Some(name) => ctx.profile("behavior.profile", ProfileClass::Hpa, name)?,
        None => None,
    };
    let mut spec = Map::new();
    spec.insert(
        "scaleTargetRef".into(),
        json!({"apiVersion": api_version, "kind": kind, "name": name}),
    );
    spec.insert(
        "minReplicas".into(),
        ctx.int("minReplicas", d.min_replicas.as_ref())?
            .unwrap_or(1)
            .into(),
    );
    let max = ctx
        .int("maxReplicas", d.max_replicas.as_ref())?
        .ok_or_else(|| Fault::at("maxReplicas", ErrorKind::Missing))?;
    spec.insert("maxReplicas".into(), max.into());
    let cpu = match ctx.int(
        "targetCPUUtilizationPercentage",
        d.target_cpu_utilization_percentage.as_ref(),
    )? {
        Some(c) => Some(c),
        None => profile
            .as_ref()
            .and_then(|p| p.get("targetCPUUtilizationPercentage"))
            .and_then(Value::as_i64),
    };
    let memory = ctx.int(
        "targetMemoryUtilizationPercentage",
        d.target_memory_utilization_percentage.as_ref(),
    )?;
    let mut metrics = Vec::new();
    if let Some(c) = cpu {
        metrics.push(utilization("cpu", c));
    }
    if let Some(m) = memory {
        metrics.push(utilization("memory", m));
    }
    if !metrics.is_empty() {
        spec.insert("metrics".into(), Value::Array(metrics));
    }
    let behavior = match (&profile, &d.behavior) {
        (Some(p), _) => p.get("behavior").cloned(),
        (None, Some(b)) => {
            let mut m = Map::new();
            if let Some(up) = &b.scale_up {
                m.insert("scaleUp".into(), ctx.json("behavior.scaleUp", up, true)?);
            }
            if let Some(down) = &b.scale_down {
                m.insert(
                    "scaleDown".into(),
                    ctx.json("behavior.scaleDown", down, true)?,
                );
            }
            (!m.is_empty()).then_some(Value::Object(m))
        }
        (None, None) => None,
    };
    put(&mut spec, "behavior", behavior);
    Ok(Built::new(meta.object(
        Kind::HorizontalPodAutoscaler,
        json!({"spec": spec}),
    )))
}

fn pdb(ctx: &Ctx<'_>, meta: &Meta, d: &PdbDecl) -> Result<Built> {
    let (mut min, mut max) = (
        ctx.int_or_string("minAvailable", d.min_available.as_ref())?,
        ctx.int_or_string("maxUnavailable", d.max_unavailable.as_ref())?,
    );
    if let Some(b) = &d.behavior {
        match &b.profile {
            Some(name) => {
                if let Some(p) = ctx.profile("behavior.profile", ProfileClass::Pdb, name)? {
                    let typed = |v: &Value| match v {
                        Value::String(s) => int_or_string(s),
                        other => other.clone(),
                    };
                    min = p.get("minAvailable").map(typed);
                    max = p.get("maxUnavailable").map(typed);
                }
            }
            None => {
                min = min.or(ctx.int_or_string("behavior.minAvailable", b.min_available.as_ref())?);
                max = max
                    .or(ctx.int_or_string("behavior.maxUnavailable", b.max_unavailable.as_ref())?);
            }
        }
    }
    let selector = ctx.map("selector", &d.selector)?;
    let mut spec = Map::new();
    put(&mut spec, "minAvailable", min);
    put(&mut spec, "maxUnavailable", max);
    let labels = if selector.is_empty() {
        meta.owner_selector()
    } else {
        Value::Object(selector)
    };
    spec.insert("selector".into(), json!({"matchLabels": labels}));
    Ok(Built::new(
        meta.object(Kind::PodDisruptionBudget, json!({"spec": spec})),
    ))
}
