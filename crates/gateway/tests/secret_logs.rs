//! No secret reaches a log line at any level: a gateway run at TRACE that stores and reloads
//! its TLS material in a Secret, serves TLS handshakes and takes `/notify` with a token, and
//! whose captured logs must hold none of those values (nor their base64 forms).

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util::{cluster, config, exchange, start, stop, tls_connect};

/// Every log line written, whatever its level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const KATALOG: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: secret-logs}
gateway: {enabled: true}
notification:
  teams:
    - name: ops
      email: ops@example.test
security:
  deletionProtection: {enabled: true}
spec:
  crds:
    site:
      apiTypes: {group: logs.ork.test, version: v1, kind: Site, plural: sites}
"#;

/// The forms a secret value could take in a log line: as is, base64 (Secret data), and for a
/// PEM block each line of its body.
fn forms(secret: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = vec![secret.to_owned(), b64.encode(secret)];
    out.extend(
        secret
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
            .map(str::to_owned),
    );
    out
}

// current_thread: every task the gateway spawns runs on this thread, under this subscriber.
#[tokio::test]
async fn no_token_key_or_secret_data_reaches_the_logs_at_trace_level() {
    // `log` records (rustls, hyper) become tracing events too.
    let _ = tracing_log::LogTracer::init();
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer({
            let c = captured.clone();
            move || c.clone()
        })
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let client = cluster().await;
    let ns = testenv::namespace(&client, "gw-logs").await;
    let token = format!("tok-{}", testenv::unique_name("s3cr3t"));
    let instance = testenv::unique_name("gw-logs");
    let gw_config = || {
        config(&instance)
            .namespace(&ns)
            .notify(gateway::NotifyConfig {
                token: gateway::notify_access::Token::new(token.clone()),
                ..gateway::Config::new().notify
            })
    };
    // First start generates TLS material and stores it in a Secret; the second reloads it.
    let gw = start(&client, KATALOG, gw_config().keep_on_exit(true)).await;
    let material = gw.material();
    stop(gw).await;
    let gw = start(&client, KATALOG, gw_config()).await;
    let reloaded = gw.material();
    assert!(
        reloaded.cert == material.cert && reloaded.key == material.key,
        "the stored material was not reloaded"
    );
    tracing::debug!(gateway = ?gw, material = ?gw.material(), "what Debug shows");

    let http = gw.http_addr();
    let event = json!({"team": "ops", "crd": "site", "name": "web", "namespace": "prod",
                       "condition": "Ready", "status": "False"});
    for bearer in [token.clone(), format!("{token}-wrong")] {
        let body = event.to_string();
        let req = format!(
            "POST /notify HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {bearer}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let tcp = tokio::net::TcpStream::connect(http).await.unwrap();
        let (status, answer) = exchange(tcp, req.as_bytes()).await;
        assert!(status == 202 || status == 401, "{status} {answer}");
    }
    let mut tls = tls_connect(&gw, &[&rustls::version::TLS12]).await.unwrap();
    tls.write_all(b"GET /x HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let _ = tls.read_to_end(&mut Vec::new()).await;
    stop(gw).await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.lines().count() > 50 && log.contains("TRACE") && log.contains("DEBUG"),
        "the capture saw too little to prove anything:\n{log}"
    );
    let ca_key = material.ca_key.clone().expect("a generated CA has a key");
    for (what, secret) in [
        ("notify token", token.as_str()),
        ("serving key", material.key.as_str()),
        ("CA key", ca_key.as_str()),
    ] {
        for form in forms(secret) {
            assert!(
                !log.contains(&form),
                "the {what} appears in the logs (as {form:?})"
            );
        }
    }
}
