//! Shared setup: the control plane's client, a gateway started the way `ork gateway --port 0
//! --http-port 0 --reassert-every 1s` starts it, throw-away CRDs and Katalogs.

use std::net::SocketAddr;
use std::time::Duration;

use gateway::{Config, Gateway};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, PostParams};
use serde_json::{Value, json};
use testenv::eventually;

/// Longest wait for anything the API server does on its own (informers picking up a
/// webhook configuration or a CRD change).
pub const SETTLE: Duration = Duration::from_secs(60);

/// The shared control plane's admin client.
pub async fn cluster() -> kube::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cp = testenv::shared().await;
    cp.client().await.unwrap()
}

/// What `ork gateway --port 0 --http-port 0 --reassert-every 1s --instance <instance>` runs
/// with.
pub fn config(instance: &str) -> Config {
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    Config::new()
        .https_addr(any_port)
        .http_addr(any_port)
        .reassert_every(Duration::from_secs(1))
        .instance(instance)
}

/// The Katalog `text`, loaded and validated as `ork gateway` loads it.
pub fn katalog(text: &str) -> katalog::Katalog {
    katalog::load_text("katalog.yaml", text)
        .unwrap_or_else(|d| panic!("invalid Katalog:\n{}", d.render()))
        .katalog
}

/// Starts a gateway serving the Katalog `text`.
pub async fn start(client: &kube::Client, text: &str, config: Config) -> Gateway {
    Gateway::start(katalog(text), client.clone(), config)
        .await
        .unwrap()
}

/// Stops `gw` as SIGTERM stops `ork gateway`: cleanly, within 30 s.
pub async fn stop(gw: Gateway) {
    tokio::time::timeout(Duration::from_secs(30), gw.stop())
        .await
        .expect("the gateway did not stop within 30 s")
        .expect("the gateway did not stop cleanly");
}

/// The resource `<kind>s` of `group/version`.
pub fn resource(group: &str, version: &str, kind: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: format!("{}s", kind.to_lowercase()),
    }
}

/// A CR `name` of `kind` with `spec`.
pub fn cr(kind: &str, api_version: &str, name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": spec,
    }))
    .unwrap()
}

/// A Katalog `name` with a gateway; `rest` continues under `security:` and holds `spec:`.
pub fn with_header(name: &str, rest: &str) -> String {
    format!(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: {name}}}\ngateway: {{enabled: true}}\nsecurity:\n{rest}"
    )
}

/// A `Platform` CRD in `group` with validation (two denying rules, one warning) and mutation
/// (two defaults), under failure policy `policy`.
pub fn platform_katalog(group: &str, policy: &str) -> String {
    with_header(
        "admission",
        &format!(
            r#"  webhooks:
    admission: {{enabled: true}}
    failurePolicy: {policy}
spec:
  crds:
    platform:
      apiTypes: {{group: {group}, version: v1alpha1, kind: Platform, plural: platforms}}
      validation:
        rules:
          - field: spec.image
            prefix: "registry.internal/"
            message: "images must come from the internal registry (registry.internal/), not {{{{ .spec.image }}}}"
          - field: spec.replicas
            greaterThan: 0
            message: "replicas must be at least 1"
          - field: spec.rateLimit
            operator: exists
            message: "declare spec.rateLimit for production readiness"
            action: warn
      mutation:
        rules:
          - {{field: spec.replicas, default: "2", valueType: int}}
          - {{field: spec.environment, default: development}}
"#
        ),
    )
}

/// Creates `obj` until the API server denies it (the webhook configuration has reached the
/// API server); returns the denial message.
pub async fn denied_eventually(api: &Api<DynamicObject>, obj: &DynamicObject) -> String {
    eventually("the webhook to deny", SETTLE, || async {
        match api.create(&PostParams::default(), obj).await {
            Err(kube::Error::Api(s)) => Some(s.message),
            Err(e) => panic!("unexpected error: {e}"),
            Ok(created) => {
                let _ = api
                    .delete(&created.metadata.name.unwrap(), &DeleteParams::default())
                    .await;
                None
            }
        }
    })
    .await
}

/// A TLS client trusting the gateway's CA (`ca_bundle`, PEM), speaking only `versions`.
pub fn tls_client(
    ca_bundle: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_bundle.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
}

/// Opens a TLS connection to the gateway's webhook port, speaking only `versions`.
pub async fn tls_connect(
    gw: &Gateway,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let tcp = tokio::net::TcpStream::connect(gw.https_addr()).await?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    tls_client(&gw.material().ca_bundle, versions)
        .connect(name, tcp)
        .await
}

/// Writes `request` (a whole HTTP/1.1 request) on `stream` and reads the answer until the
/// server closes: the status and the body.
pub async fn exchange<S>(mut stream: S, request: &[u8]) -> (u16, String)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The server may answer (and close) before the whole request is written.
    let _ = stream.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(SETTLE, stream.read_to_end(&mut out))
        .await
        .expect("the server did not answer and close within 60 s");
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
