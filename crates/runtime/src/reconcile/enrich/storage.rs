//! Storage enrichment: `_pvcs` on StatefulSets, `_pv` and `_storageClass` on
//! PersistentVolumeClaims, `_pvc` on PersistentVolumes (full objects).

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::Api;
use serde_json::Value;

use super::{json, namespace_of};

/// The claims of a StatefulSet's `volumeClaimTemplates`, `<template>-<name>-<ordinal>` for
/// each replica, those that exist.
pub(super) async fn stateful_set_claims(
    client: &kube::Client,
    object: &Value,
) -> Result<Value, kube::Error> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let replicas = object["spec"]["replicas"].as_i64().unwrap_or(1).max(0);
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace_of(object));
    let mut out = Vec::new();
    for template in object["spec"]["volumeClaimTemplates"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(t) = template["metadata"]["name"].as_str() else {
            continue;
        };
        for i in 0..replicas {
            if let Some(pvc) = api.get_opt(&format!("{t}-{name}-{i}")).await? {
                out.push(json(&pvc));
            }
        }
    }
    Ok(Value::Array(out))
}

/// The PersistentVolume a claim is bound to (`spec.volumeName`).
pub(super) async fn bound_volume(
    client: &kube::Client,
    object: &Value,
) -> Result<Option<Value>, kube::Error> {
    let Some(name) = object["spec"]["volumeName"]
        .as_str()
        .filter(|n| !n.is_empty())
    else {
        return Ok(None);
    };
    let api: Api<PersistentVolume> = Api::all(client.clone());
    Ok(api.get_opt(name).await?.as_ref().map(json))
}

/// The claim a PersistentVolume is bound to (`spec.claimRef`).
pub(super) async fn bound_claim(
    client: &kube::Client,
    object: &Value,
) -> Result<Option<Value>, kube::Error> {
    let claim = &object["spec"]["claimRef"];
    let (Some(ns), Some(name)) = (claim["namespace"].as_str(), claim["name"].as_str()) else {
        return Ok(None);
    };
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    Ok(api.get_opt(name).await?.as_ref().map(json))
}

/// The StorageClass a claim names (`spec.storageClassName`).
pub(super) async fn storage_class(
    client: &kube::Client,
    object: &Value,
) -> Result<Option<Value>, kube::Error> {
    let Some(name) = object["spec"]["storageClassName"]
        .as_str()
        .filter(|n| !n.is_empty())
    else {
        return Ok(None);
    };
    let api: Api<StorageClass> = Api::all(client.clone());
    Ok(api.get_opt(name).await?.as_ref().map(json))
}
