//! What a Secret or ConfigMap child needs beyond its rendered body (spec §6.4): data copied
//! from another object (`fromSecret`, `fromConfigMap`), self-signed TLS material (`tls:`),
//! and rotation (`rotateAfter`, clocked by the `orkestra.orkspace.io/generated-at`
//! annotation).
//!
//! Generated data must not change on every reconcile: while a Secret exists and is not due for
//! rotation, its live data and `generated-at` are carried into the object ork writes (so an
//! apply neither replaces nor drops them). When it is due, fresh data is written even for a
//! create-if-absent (`once`) Secret.

use std::time::Duration;

use base64::Engine as _;
use katalog::build::{Child, ObjectRef, TlsRequest};
use katalog::labels;
use kube::api::{Api, ApiResource, DynamicObject};
use rcgen::{CertificateParams, DnType, KeyPair};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Errors preparing a Secret or ConfigMap.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object to copy from could not be read.
    #[error("{path}: reading {source_object} to copy")]
    CopyFailed {
        /// The declaration.
        path: String,
        /// The object copied from.
        source_object: ObjectRef,
        /// The API failure.
        #[source]
        source: kube::Error,
    },
    /// The object to copy from does not exist.
    #[error("{path}: {0} to copy from does not exist", .source_object)]
    CopySourceMissing {
        /// The declaration.
        path: String,
        /// The object copied from.
        source_object: ObjectRef,
    },
    /// TLS material could not be generated.
    #[error("{path}: generating TLS material")]
    TlsFailed {
        /// The declaration.
        path: String,
        /// The generator's failure.
        #[source]
        source: rcgen::Error,
    },
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// When `live` was generated, from its `generated-at` annotation.
fn generated_at(live: &DynamicObject) -> Option<OffsetDateTime> {
    let text = live
        .metadata
        .annotations
        .as_ref()?
        .get(labels::GENERATED_AT)?;
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Whether `live` is due for rotation at `now`.
pub fn is_due(live: &DynamicObject, rotate_after: Option<Duration>, now: OffsetDateTime) -> bool {
    match (rotate_after, generated_at(live)) {
        (Some(every), Some(at)) => now - at >= every,
        _ => false,
    }
}

/// A self-signed certificate for `request`: `tls.crt`, `tls.key` and `ca.crt` (the
/// certificate itself), base64-encoded as Secret data.
pub fn tls_material(
    request: &TlsRequest,
    now: OffsetDateTime,
) -> std::result::Result<Map<String, Value>, rcgen::Error> {
    let mut names = request.dns_names.clone();
    if names.is_empty() {
        names.push(request.common_name.clone());
    }
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, request.common_name.clone());
    params.not_before = now - time::Duration::minutes(1);
    params.not_after = now + request.valid_for;
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let pem = cert.pem();
    let mut data = Map::new();
    data.insert("tls.crt".into(), b64.encode(&pem).into());
    data.insert("tls.key".into(), b64.encode(key.serialize_pem()).into());
    data.insert("ca.crt".into(), b64.encode(&pem).into());
    Ok(data)
}

/// Completes a Secret/ConfigMap child's `object` (already prepared) against its live
/// version. Returns whether it must be written now even if it is create-if-absent
/// (rotation due).
///
/// # Errors
/// The object to copy from is missing or unreadable, or TLS generation failed.
pub async fn complete(
    client: &kube::Client,
    child: &Child,
    object: &mut Value,
    live: Option<&DynamicObject>,
    now: OffsetDateTime,
) -> Result<bool> {
    let Some(flags) = &child.secret else {
        return Ok(false);
    };
    if let Some(from) = &flags.copy_from {
        copy(client, child, object, from).await?;
    }
    let generated = flags.once || flags.rotate_after.is_some() || flags.tls.is_some();
    if !generated {
        return Ok(false);
    }
    let due = live.is_some_and(|l| is_due(l, flags.rotate_after, now));
    let stamp = match live {
        Some(live) if !due => {
            // Keep what was generated: data and its clock.
            if let Some(data) = live.data.get("data") {
                object["data"] = data.clone();
            }
            generated_at(live).map_or_else(|| now_text(now), now_text)
        }
        _ => {
            if let Some(request) = &flags.tls {
                let data = tls_material(request, now).map_err(|source| Error::TlsFailed {
                    path: child.path.clone(),
                    source,
                })?;
                object["data"] = Value::Object(data);
            }
            now_text(now)
        }
    };
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Value::Object(a) = annotations {
            a.insert(labels::GENERATED_AT.into(), stamp.into());
        }
    }
    Ok(due)
}

fn now_text(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Copies `data` (and a ConfigMap's `binaryData`) of `from` under the declared keys.
async fn copy(
    client: &kube::Client,
    child: &Child,
    object: &mut Value,
    from: &ObjectRef,
) -> Result<()> {
    let resource = ApiResource {
        group: String::new(),
        version: "v1".into(),
        api_version: "v1".into(),
        kind: from.kind.clone(),
        plural: format!("{}s", from.kind.to_lowercase()),
    };
    let api: Api<DynamicObject> = match &from.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::default_namespaced_with(client.clone(), &resource),
    };
    let source = api
        .get_opt(&from.name)
        .await
        .map_err(|source| Error::CopyFailed {
            path: child.path.clone(),
            source_object: from.clone(),
            source,
        })?
        .ok_or_else(|| Error::CopySourceMissing {
            path: child.path.clone(),
            source_object: from.clone(),
        })?;
    for key in ["data", "binaryData"] {
        let Some(Value::Object(copied)) = source.data.get(key) else {
            continue;
        };
        let mut merged = copied.clone();
        if let Some(Value::Object(declared)) = object.get(key) {
            merged.extend(declared.clone());
        }
        object[key] = Value::Object(merged);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(annotation: Option<&str>) -> DynamicObject {
        let mut meta = json!({"name": "s"});
        if let Some(a) = annotation {
            meta["annotations"] = json!({ labels::GENERATED_AT: a });
        }
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta}))
            .unwrap()
    }

    #[test]
    fn a_secret_is_due_once_its_generated_at_is_older_than_rotate_after() {
        let now = OffsetDateTime::parse("2026-04-01T00:00:00Z", &Rfc3339).unwrap();
        let day = Duration::from_secs(86_400);
        let old = live(Some("2026-01-01T00:00:00Z"));
        assert!(is_due(&old, Some(day * 90), now));
        assert!(!is_due(&old, Some(day * 100), now));
        assert!(!is_due(&old, None, now));
        assert!(
            !is_due(&live(None), Some(day), now),
            "no clock, no rotation"
        );
    }

    #[test]
    fn tls_material_is_a_self_signed_pem_pair_valid_for_the_request() {
        let request = TlsRequest {
            common_name: "web".into(),
            dns_names: vec!["web.team.svc".into()],
            valid_for: Duration::from_secs(86_400),
        };
        let data = tls_material(&request, OffsetDateTime::now_utc()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        let cert =
            String::from_utf8(b64.decode(data["tls.crt"].as_str().unwrap()).unwrap()).unwrap();
        let key =
            String::from_utf8(b64.decode(data["tls.key"].as_str().unwrap()).unwrap()).unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(key.contains("PRIVATE KEY"));
        assert_eq!(data["ca.crt"], data["tls.crt"]);
    }
}
