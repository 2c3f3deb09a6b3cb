//! One key of a Secret, read with one GET, for the credentials of outbound calls. The value
//! is returned to the caller only; it is never logged.

use k8s_openapi::api::core::v1::Secret;

/// The value (trimmed) of `key` in the Secret `namespace/name`.
///
/// # Errors
/// The Secret cannot be read, or has no such key; the message names the Secret, never a value.
pub async fn value(
    kube: &kube::Client,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<String, String> {
    let api: kube::Api<Secret> = kube::Api::namespaced(kube.clone(), namespace);
    let secret = api.get(name).await.map_err(|e| {
        format!(
            "reading Secret {namespace}/{name}: {}",
            crate::error_chain(&e)
        )
    })?;
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| String::from_utf8_lossy(&b.0).trim().to_string())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|s| s.trim().to_string())
        })
        .ok_or_else(|| format!("Secret {namespace}/{name} has no key `{key}`"))
}
