//! The simulated cluster of one run: a [`MemoryApi`] serving the Katalog's CRDs, the kinds
//! of CRD files given with the run and the `custom:` kinds its children use, seeded with the
//! CRs of the CR file; and the controllers it stands in for (Deployments become Available,
//! Jobs complete).

use katalog::{Crd, Katalog};
use kube::api::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

use crate::api::Api;
use crate::memory_api::Kind;
pub use crate::memory_api::kinds::kinds_of_crd_document;

/// The kind a Katalog CRD is served as (with a status subresource).
pub fn crd_kind(crd: &Crd) -> Kind {
    let gvk = crd.gvk();
    Kind {
        group: gvk.group.clone(),
        version: gvk.version.clone(),
        kind: gvk.kind.clone(),
        plural: crd.plural.clone(),
        namespaced: crd.namespaced,
        status: true,
    }
}

/// A kind named only by apiVersion and kind (a `custom:` child with no CRD file): plural
/// guessed as Kubernetes does for CRDs (lowercase, English plural), namespaced, with status.
pub fn guessed_kind(api_version: &str, kind: &str) -> Kind {
    let (group, version) = crate::memory_api::kinds::split_api_version(api_version);
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
    Kind {
        group: group.to_owned(),
        version: version.to_owned(),
        kind: kind.to_owned(),
        plural: resource.plural,
        namespaced: true,
        status: true,
    }
}

/// The documents of a CRD's `crdFile` (relative to the file that declares the CRD), if it
/// names one that reads.
fn crd_file_documents(crd: &Crd) -> Vec<Value> {
    let Some(file) = &crd.entry.crd_file else {
        return Vec::new();
    };
    let path = crd
        .at
        .file
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join(&file.value);
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_saphyr::from_multiple::<Value>(&text).ok())
        .unwrap_or_default()
}

/// Serves every CRD of the Katalog (as its `crdFile` declares it, when it has one: status
/// subresource or not), then the given CRD documents' kinds (which win); on the control
/// plane, a Katalog CRD no document declares is installed as one that keeps any fields.
///
/// # Errors
/// The control plane refused a CRD.
pub async fn serve_katalog(
    api: &Api,
    katalog: &Katalog,
    crd_documents: &[Value],
) -> Result<(), String> {
    let mut documents: Vec<Value> = katalog.crds.iter().flat_map(crd_file_documents).collect();
    documents.extend(crd_documents.iter().cloned());
    let declared = |kind: &Kind| {
        documents
            .iter()
            .flat_map(kinds_of_crd_document)
            .any(|k| k.group == kind.group && k.version == kind.version && k.kind == kind.kind)
    };
    for crd in &katalog.crds {
        let kind = crd_kind(crd);
        if !declared(&kind) {
            api.add_kind(kind).await?;
        }
    }
    for doc in &documents {
        if doc.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition") {
            api.add_crd_document(doc).await?;
        }
    }
    Ok(())
}

/// The status a Deployment has once its replicas are all available.
fn available_deployment(object: &Value) -> Value {
    let replicas = object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let generation = object
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    json!({
        "observedGeneration": generation,
        "replicas": replicas, "updatedReplicas": replicas,
        "readyReplicas": replicas, "availableReplicas": replicas,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
             "message": "Deployment has minimum availability."},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
             "message": "ReplicaSet has successfully progressed."},
        ],
    })
}

/// The status a Job has once it succeeded.
fn complete_job(object: &Value) -> Value {
    let completions = object
        .pointer("/spec/completions")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    // The API server refuses a Complete Job without start and completion times; the
    // creation time keeps them the same from cycle to cycle.
    let at = object
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .unwrap_or("1970-01-01T00:00:00Z");
    json!({
        "succeeded": completions, "active": 0, "ready": 0,
        "startTime": at, "completionTime": at,
        "conditions": [
            {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached"},
            {"type": "Complete", "status": "True", "reason": "CompletionsReached"},
        ],
    })
}

/// Stands in for the controllers a cluster runs, without recording ops: every Deployment
/// becomes Available with all its replicas, every Job complete. Returns how many objects
/// changed.
pub async fn settle_workloads(api: &Api) -> usize {
    let mut changed = 0;
    for (api_version, kind, status) in [
        (
            "apps/v1",
            "Deployment",
            available_deployment as fn(&Value) -> Value,
        ),
        ("batch/v1", "Job", complete_job),
    ] {
        let Some(kind) = api.kind(api_version, kind) else {
            continue;
        };
        for object in api.list(&kind).await {
            let namespace = object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str);
            let name = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if api
                .set_status(&kind, namespace, name, status(&object))
                .await
            {
                changed += 1;
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crd_document_gives_one_kind_per_version() {
        let doc = json!({"kind": "CustomResourceDefinition", "spec": {
            "group": "cert-manager.io", "scope": "Namespaced",
            "names": {"kind": "Certificate", "plural": "certificates"},
            "versions": [{"name": "v1", "subresources": {"status": {}}}, {"name": "v1beta1"}],
        }});
        let kinds = kinds_of_crd_document(&doc);
        assert_eq!(kinds.len(), 2);
        assert!(kinds[0].status && !kinds[1].status);
        assert_eq!(kinds[0].plural, "certificates");
        assert_eq!(
            guessed_kind("argoproj.io/v1alpha1", "Application").plural,
            "applications"
        );
    }
}
