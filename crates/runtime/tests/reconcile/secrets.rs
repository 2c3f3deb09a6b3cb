//! Secrets beyond their rendered body: copied data, generated TLS material, rotation.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use runtime::reconcile::ReconcilerConfig;
use serde_json::json;

use super::World;

#[tokio::test]
async fn secrets_are_copied_generated_once_kept_stable_and_rotated_when_due() {
    let offset = Arc::new(AtomicI64::new(0));
    let clock_offset = offset.clone();
    let clock: runtime::reconcile::Clock = Arc::new(move || {
        time::OffsetDateTime::now_utc()
            + time::Duration::seconds(clock_offset.load(Ordering::Relaxed))
    });
    let w = World::new_with(
        "secrets",
        "",
        r#"
        onCreate:
          secrets:
            - name: '{{ .metadata.name }}-copy'
              fromSecret: source
              reconcile: true
            - name: '{{ .metadata.name }}-tls'
              tls: {commonName: web, dnsNames: [web.svc]}
              reconcile: true
            - name: '{{ .metadata.name }}-token'
              once: true
              rotateAfter: 1d
              data: {token: '{{ randAlphaNum 16 }}'}
"#,
        ReconcilerConfig::default().clock(clock),
    )
    .await;
    let secrets: Api<Secret> = Api::namespaced(w.admin.clone(), &w.ns);
    let source = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some("source".into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            "user".to_owned(),
            ByteString(b"admin".to_vec()),
        )])),
        ..Default::default()
    };
    secrets
        .create(&PostParams::default(), &source)
        .await
        .unwrap();
    w.create("s", json!({})).await;
    w.reconcile("s").await.unwrap();

    let copy = secrets.get("s-copy").await.unwrap();
    assert_eq!(copy.data.unwrap()["user"].0, b"admin");
    let tls = secrets.get("s-tls").await.unwrap();
    assert_eq!(tls.type_.as_deref(), Some("kubernetes.io/tls"));
    let cert = tls.data.clone().unwrap()["tls.crt"].0.clone();
    assert!(
        String::from_utf8(cert.clone())
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let token = secrets.get("s-token").await.unwrap();
    let first_token = token.data.clone().unwrap()["token"].0.clone();
    assert_eq!(first_token.len(), 16);
    assert!(
        token
            .metadata
            .annotations
            .unwrap()
            .contains_key("orkestra.orkspace.io/generated-at")
    );

    // Generated material is stable: nothing is regenerated or written.
    let (result, writes) = w.writes_during(w.reconcile("s")).await;
    result.unwrap();
    assert!(writes.is_empty(), "{writes:?}");
    let tls = secrets.get("s-tls").await.unwrap();
    assert_eq!(tls.data.unwrap()["tls.crt"].0, cert);

    // Two days later the token is due: new data, new clock.
    offset.store(2 * 86_400, Ordering::Relaxed);
    w.reconcile("s").await.unwrap();
    let token = secrets.get("s-token").await.unwrap();
    assert_ne!(token.data.unwrap()["token"].0, first_token);
    let tls = secrets.get("s-tls").await.unwrap();
    assert_eq!(
        tls.data.unwrap()["tls.crt"].0,
        cert,
        "TLS has no rotateAfter"
    );
}

/// Regression (upstream `beginner/03-secret-copy`): `toNamespaces: ["{{ .spec.targets }}"]`
/// over a list field rendered as one "namespace" `[a b]`, and listing the CR's Secrets there
/// failed before any request was sent ("invalid uri character"). Each listed namespace now
/// gets its copy, and the next reconcile finds them owned and writes nothing.
#[tokio::test]
async fn a_secret_is_copied_into_each_namespace_a_list_field_names() {
    let w = World::new(
        "copies",
        "",
        r#"
        onCreate:
          secrets:
            - name: shared
              fromSecret: source
              fromNamespace: '{{ .metadata.namespace }}'
              toNamespaces: ['{{ .spec.targets }}']
              reconcile: true
"#,
    )
    .await;
    let targets = [
        testenv::namespace(&w.admin, "copy-a").await,
        testenv::namespace(&w.admin, "copy-b").await,
    ];
    let source = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some("source".into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            "user".to_owned(),
            ByteString(b"admin".to_vec()),
        )])),
        ..Default::default()
    };
    Api::<Secret>::namespaced(w.admin.clone(), &w.ns)
        .create(&PostParams::default(), &source)
        .await
        .unwrap();
    w.create("dist", json!({"targets": targets})).await;
    w.reconcile("dist").await.unwrap();
    for ns in &targets {
        let copy = Api::<Secret>::namespaced(w.admin.clone(), ns)
            .get("shared")
            .await
            .unwrap_or_else(|e| panic!("no copy in {ns}: {e}"));
        assert_eq!(copy.data.unwrap()["user"].0, b"admin", "{ns}");
    }
    let (result, writes) = w.writes_during(w.reconcile("dist")).await;
    result.unwrap();
    assert!(writes.is_empty(), "{writes:?}");
}
