//! The webhook port speaks TLS 1.3 and TLS 1.2 with ECDHE + AEAD suites only; TLS 1.1 and
//! 1.0 handshakes fail (checked with the `openssl` CLI, since rustls cannot speak them).

use std::process::Stdio;

use gateway::tls::CIPHER_SUITES;
use rustls::{CipherSuite, ProtocolVersion};

use crate::util::{cluster, config, exchange, start, stop, tls_connect};

const KATALOG: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: tls-policy}
gateway: {enabled: true}
security:
  deletionProtection: {enabled: true}
spec:
  crds:
    site:
      apiTypes: {group: tls.ork.test, version: v1, kind: Site, plural: sites}
"#;

/// Runs `openssl s_client` with `args` against `port`; returns whether the handshake
/// succeeded and what openssl printed.
async fn s_client(port: u16, args: &[&str]) -> (bool, String) {
    let which = std::process::Command::new("sh")
        .args(["-c", "command -v openssl"])
        .output()
        .expect("running sh");
    assert!(
        which.status.success(),
        "the openssl CLI is needed to prove TLS 1.0/1.1 are refused: apt-get install openssl"
    );
    let out = tokio::process::Command::new("openssl")
        .arg("s_client")
        .args([
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            "localhost",
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("running openssl s_client");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // s_client exits 0 after a completed handshake (stdin at EOF), non-zero when it failed.
    (out.status.success() && text.contains("Cipher is "), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_port_speaks_tls_1_2_and_1_3_with_aead_suites_only() {
    let client = cluster().await;
    let gw = start(&client, KATALOG, config(&testenv::unique_name("gw-tls"))).await;

    let tls13 = tls_connect(&gw, &[&rustls::version::TLS13]).await.unwrap();
    let (_, conn) = tls13.get_ref();
    assert_eq!(conn.protocol_version(), Some(ProtocolVersion::TLSv1_3));
    let (status, _) = exchange(
        tls13,
        b"GET /nothing HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 404, "HTTP over TLS 1.3 is served");

    let tls12 = tls_connect(&gw, &[&rustls::version::TLS12]).await.unwrap();
    let (_, conn) = tls12.get_ref();
    assert_eq!(conn.protocol_version(), Some(ProtocolVersion::TLSv1_2));
    let suite = conn.negotiated_cipher_suite().unwrap().suite();
    assert!(
        [
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ]
        .contains(&suite),
        "TLS 1.2 negotiated {suite:?}"
    );
    // Every suite the server offers is TLS 1.3 or TLS 1.2 ECDHE with an AEAD.
    for s in CIPHER_SUITES {
        let name = format!("{:?}", s.suite());
        assert!(
            name.starts_with("TLS13_")
                || (name.starts_with("TLS_ECDHE_")
                    && (name.contains("_GCM_") || name.contains("CHACHA20_POLY1305"))),
            "{name}"
        );
    }

    let port = gw.https_addr().port();
    // The rig works: openssl completes TLS 1.2 and 1.3 handshakes…
    for ok in ["-tls1_2", "-tls1_3"] {
        let (done, text) = s_client(port, &[ok]).await;
        assert!(done, "openssl {ok} failed:\n{text}");
    }
    // …and a TLS 1.1 or 1.0 ClientHello is answered with a fatal alert from the server.
    // SECLEVEL=0 lets OpenSSL 3 offer them at all (otherwise the client would refuse to
    // send, and the test would prove nothing).
    for (old, protocol) in [("-tls1_1", "TLSv1.1"), ("-tls1", "TLSv1\n")] {
        let (done, text) = s_client(port, &[old, "-cipher", "DEFAULT@SECLEVEL=0"]).await;
        assert!(!done, "openssl {old} completed a handshake:\n{text}");
        assert!(
            text.contains(&format!("Protocol  : {protocol}"))
                && text.contains("SSL alert number")
                && text.contains("Cipher is (NONE)"),
            "openssl {old} did not send a {protocol} hello refused by the server:\n{text}"
        );
    }
    stop(gw).await;
}
