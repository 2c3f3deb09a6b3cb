//! `_endpoints` on Services (their EndpointSlices flattened to `{ip, port, ready}`) and
//! `_loadBalancerIPs`/`_tlsSecrets` on Ingresses.

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};

use super::{json, namespace_of};

/// Every address × port of the Service's EndpointSlices (label
/// `kubernetes.io/service-name`), ready ones first.
pub(super) async fn endpoints(client: &kube::Client, object: &Value) -> Result<Value, kube::Error> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), namespace_of(object));
    let slices = api
        .list(&ListParams::default().labels(&format!("kubernetes.io/service-name={name}")))
        .await?
        .items;
    let mut out = Vec::new();
    for slice in &slices {
        let ports: Vec<i32> = slice
            .ports
            .iter()
            .flatten()
            .filter_map(|p| p.port)
            .collect();
        for endpoint in slice.endpoints.iter().flatten() {
            // Ready unless the slice says otherwise (the API's own reading of a missing value).
            let ready = endpoint
                .conditions
                .as_ref()
                .and_then(|c| c.ready)
                .unwrap_or(true);
            for ip in &endpoint.addresses {
                if ports.is_empty() {
                    out.push(json!({"ip": ip, "port": 0, "ready": ready}));
                }
                for port in &ports {
                    out.push(json!({"ip": ip, "port": port, "ready": ready}));
                }
            }
        }
    }
    out.sort_by_key(|e| !e["ready"].as_bool().unwrap_or(false));
    Ok(Value::Array(out))
}

/// `_loadBalancerIPs` (IPs and hostnames of `status.loadBalancer.ingress`) and `_tlsSecrets`
/// (each Secret `spec.tls[*].secretName` names that exists).
pub(super) async fn ingress(
    client: &kube::Client,
    object: &Value,
) -> Result<Vec<(&'static str, Value)>, kube::Error> {
    let ips: Vec<Value> = object["status"]["loadBalancer"]["ingress"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["ip"].as_str().or_else(|| i["hostname"].as_str()))
        .map(|s| Value::String(s.to_owned()))
        .collect();
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace_of(object));
    let mut secrets = Vec::new();
    for tls in object["spec"]["tls"].as_array().into_iter().flatten() {
        if let Some(name) = tls["secretName"].as_str()
            && let Some(secret) = api.get_opt(name).await?
        {
            secrets.push(json(&secret));
        }
    }
    Ok(vec![
        ("_loadBalancerIPs", Value::Array(ips)),
        ("_tlsSecrets", Value::Array(secrets)),
    ])
}
