//! Throw-away CRDs for tests: any kind, any versions, no schema beyond "keep what you get".

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

use crate::eventually;

/// Installs a namespaced CRD `<kind>s.<group>` serving `versions` (the last one is the storage
/// version), whose `spec` and `status` keep any fields, and waits until it is Established.
/// Returns the CRD's name.
///
/// # Panics
/// When the CRD cannot be created or is not Established within 60 s.
pub async fn install_crd(
    client: &kube::Client,
    group: &str,
    kind: &str,
    versions: &[&str],
) -> String {
    let plural = format!("{}s", kind.to_lowercase());
    let name = format!("{plural}.{group}");
    let n = versions.len();
    let versions: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({
                "name": v, "served": true, "storage": i + 1 == n,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                }}},
            })
        })
        .collect();
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": name},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": plural, "singular": kind.to_lowercase(), "kind": kind},
                 "versions": versions},
    }))
    .expect("a valid CRD");
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    api.create(&PostParams::default(), &crd)
        .await
        .unwrap_or_else(|e| panic!("creating CRD {name}: {e}"));
    eventually(
        "the CRD to be established",
        Duration::from_secs(60),
        || async {
            let c = api.get(&name).await.ok()?;
            let ok = c
                .status?
                .conditions?
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            ok.then_some(())
        },
    )
    .await;
    name
}
