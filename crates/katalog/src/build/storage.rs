//! Storage kinds: PersistentVolumeClaim and PersistentVolume (spec §6.4).

use serde_json::{Map, Value, json};

use super::KindSpec;
use super::context::{Built, Ctx, Meta, Result};
use super::workloads::put;
use crate::render::Text;
use crate::resources::{Kind, PvDecl, PvcDecl};

pub(super) const PVC: KindSpec<PvcDecl> = KindSpec::new(Kind::PersistentVolumeClaim, pvc);
pub(super) const PV: KindSpec<PvDecl> = KindSpec::new(Kind::PersistentVolume, pv);

/// Access modes, `ReadWriteOnce` when none is declared.
fn access_modes(ctx: &Ctx<'_>, modes: &[Text]) -> Result<Value> {
    let mut list = ctx.list("accessModes", modes)?;
    if list.is_empty() {
        list.push("ReadWriteOnce".into());
    }
    Ok(Value::Array(list))
}

fn pvc(ctx: &Ctx<'_>, meta: &Meta, d: &PvcDecl) -> Result<Built> {
    let mut spec = Map::new();
    spec.insert("accessModes".into(), access_modes(ctx, &d.access_modes)?);
    put(
        &mut spec,
        "storageClassName",
        ctx.opt("storageClassName", d.storage_class_name.as_ref())?
            .map(Value::from),
    );
    let size = ctx.required("storage", d.storage.as_ref())?;
    spec.insert("resources".into(), json!({"requests": {"storage": size}}));
    put(
        &mut spec,
        "volumeMode",
        ctx.opt("volumeMode", d.volume_mode.as_ref())?
            .map(Value::from),
    );
    put(
        &mut spec,
        "volumeName",
        ctx.opt("volumeName", d.volume_name.as_ref())?
            .map(Value::from),
    );
    Ok(Built::new(meta.object(
        Kind::PersistentVolumeClaim,
        json!({"spec": spec}),
    )))
}

fn pv(ctx: &Ctx<'_>, meta: &Meta, d: &PvDecl) -> Result<Built> {
    let mut spec = Map::new();
    let size = ctx.required("storage", d.storage.as_ref())?;
    spec.insert("capacity".into(), json!({"storage": size}));
    spec.insert("accessModes".into(), access_modes(ctx, &d.access_modes)?);
    let reclaim = ctx
        .opt("reclaimPolicy", d.reclaim_policy.as_ref())?
        .unwrap_or_else(|| "Retain".into());
    spec.insert("persistentVolumeReclaimPolicy".into(), reclaim.into());
    put(
        &mut spec,
        "storageClassName",
        ctx.opt("storageClassName", d.storage_class_name.as_ref())?
            .map(Value::from),
    );
    put(
        &mut spec,
        "volumeMode",
        ctx.opt("volumeMode", d.volume_mode.as_ref())?
            .map(Value::from),
    );
    for (key, source) in [
        ("hostPath", &d.host_path),
        ("nfs", &d.nfs),
        ("csi", &d.csi),
        ("local", &d.local),
    ] {
        if let Some(v) = source {
            spec.insert(key.into(), ctx.json(key, v, true)?);
        }
    }
    Ok(Built::new(
        meta.object(Kind::PersistentVolume, json!({"spec": spec})),
    ))
}
