//! `ork diff KATALOG --cr CR`: what applying a CR's children would change in the live
//! cluster, the `kubectl diff` habit for Katalogs.
//!
//! The objects are the runtime's own rendering of the CR ([`katalog::build::preview`], as
//! `ork template`), with the live CR's uid in their ownerReferences. Each is sent as a
//! server-side apply **dry run** with the runtime's field manager, so defaulting, admission
//! webhooks and field ownership are the API server's own; the answer is compared with the
//! live object. Output is a unified diff per object (coloured on a terminal); exit 0 when
//! nothing would change, 1 when something would.
//!
//! Children whose templates read `.children`, `.cross` or `.external` render as they would
//! on a CR's first reconcile (those are empty here).

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::Context;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{Scope, pinned_kind};
use serde_json::Value;

use katalog::build::{PLACEHOLDER_UID, crd_for, preview};
use runtime::cluster::{ConnectOptions, connect};
use runtime::reconcile::DEFAULT_FIELD_MANAGER;

use super::DiffArgs;

mod unified;

/// Runs `ork diff`.
pub fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let loaded = match katalog::load(&args.katalog) {
        Ok(l) => l,
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render());
            return Ok(ExitCode::from(2));
        }
    };
    let text = std::fs::read_to_string(&args.cr)
        .with_context(|| format!("cannot read {}", args.cr.display()))?;
    let crs: Vec<Value> = serde_saphyr::from_multiple(&text)
        .with_context(|| format!("{} is not YAML", args.cr.display()))?;
    let colour = std::io::stdout().is_terminal();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let changed = runtime.block_on(async {
        let client = connect(&ConnectOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
        })
        .await
        .context("cannot connect to the cluster")?;
        let mut changed = false;
        for cr in crs.iter().filter(|v| v.is_object()) {
            let crd = crd_for(&loaded.katalog, cr, args.crd.as_deref())?;
            let uid = live_uid(&client, crd, cr).await?;
            let objects = preview(&loaded.katalog, cr, Some(&crd.name))
                .map_err(|e| anyhow::anyhow!(katalog::admission::chain(&e)))?;
            for mut object in objects {
                if let Some(uid) = &uid {
                    set_owner_uid(&mut object, uid);
                }
                let (live, applied) = dry_run(&client, &object).await?;
                let name = describe(&object);
                let before = live
                    .as_ref()
                    .map(comparable)
                    .map(|v| yaml(&v))
                    .transpose()?;
                let after = yaml(&comparable(&applied))?;
                if before.as_deref() != Some(after.as_str()) {
                    changed = true;
                    print!(
                        "{}",
                        unified::render(&name, before.as_deref().unwrap_or(""), &after, colour)
                    );
                }
            }
        }
        anyhow::Ok(changed)
    })?;
    if !changed {
        eprintln!("no changes");
    }
    Ok(if changed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The live CR's uid, `None` when it is not in the cluster yet (its children then carry the
/// placeholder uid of `ork template`).
async fn live_uid(
    client: &kube::Client,
    crd: &katalog::Crd,
    cr: &Value,
) -> anyhow::Result<Option<String>> {
    let gvk = crd.gvk();
    let gvk = GroupVersionKind::gvk(&gvk.group, &gvk.version, &gvk.kind);
    let (resource, caps) = pinned_kind(client, &gvk)
        .await
        .with_context(|| format!("the cluster does not serve {}", gvk.kind))?;
    let name = cr["metadata"]["name"].as_str().unwrap_or_default();
    let api: Api<DynamicObject> = match (caps.scope, cr["metadata"]["namespace"].as_str()) {
        (Scope::Namespaced, Some(ns)) => Api::namespaced_with(client.clone(), ns, &resource),
        (Scope::Namespaced, None) => Api::default_namespaced_with(client.clone(), &resource),
        (Scope::Cluster, _) => Api::all_with(client.clone(), &resource),
    };
    Ok(api
        .get_opt(name)
        .await
        .with_context(|| format!("cannot read {} {name}", gvk.kind))?
        .and_then(|o| o.metadata.uid))
}

/// Replaces the placeholder uid of the ownerReferences.
fn set_owner_uid(object: &mut Value, uid: &str) {
    if let Some(refs) = object["metadata"]["ownerReferences"].as_array_mut() {
        for r in refs {
            if r["uid"] == PLACEHOLDER_UID {
                r["uid"] = Value::String(uid.to_owned());
            }
        }
    }
}

/// The live object (if any) and what a server-side apply of `object` would make of it.
async fn dry_run(client: &kube::Client, object: &Value) -> anyhow::Result<(Option<Value>, Value)> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().unwrap_or_default();
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (resource, caps) = pinned_kind(client, &gvk)
        .await
        .with_context(|| format!("the cluster does not serve {api_version} {kind}"))?;
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let api: Api<DynamicObject> = match caps.scope {
        Scope::Namespaced => Api::namespaced_with(
            client.clone(),
            object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default"),
            &resource,
        ),
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    let live = api
        .get_opt(name)
        .await
        .with_context(|| format!("cannot read {kind} {name}"))?
        .map(serde_json::to_value)
        .transpose()?;
    let params = PatchParams::apply(DEFAULT_FIELD_MANAGER).force().dry_run();
    let applied = api
        .patch(name, &params, &Patch::Apply(object))
        .await
        .with_context(|| format!("the API server refused {kind} {name} (dry run)"))?;
    Ok((live, serde_json::to_value(applied)?))
}

/// The object without what changes on every write or belongs to the server's bookkeeping.
fn comparable(object: &Value) -> Value {
    let mut o = object.clone();
    if let Some(meta) = o["metadata"].as_object_mut() {
        for key in [
            "managedFields",
            "resourceVersion",
            "generation",
            "uid",
            "creationTimestamp",
        ] {
            meta.remove(key);
        }
    }
    // The runtime's record of what it last applied (a digest, written with every apply) is
    // bookkeeping, not content: the dry run, which does not carry it, would show it removed.
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut)
        && let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut)
    {
        annotations.remove(runtime::reconcile::apply::APPLIED);
        if annotations.is_empty() {
            meta.remove("annotations");
        }
    }
    if let Some(map) = o.as_object_mut() {
        map.remove("status");
    }
    o
}

fn yaml(v: &Value) -> anyhow::Result<String> {
    serde_saphyr::to_string(v).context("cannot print YAML")
}

/// `Kind namespace/name` of an object.
fn describe(object: &Value) -> String {
    let kind = object["kind"].as_str().unwrap_or("?");
    let name = object["metadata"]["name"].as_str().unwrap_or("?");
    match object["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}
