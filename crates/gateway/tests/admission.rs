//! Admission rules deny, warn and default through the API server; the housekeeper restores a
//! deleted configuration; failure policy `Ignore` admits while an abandoned gateway no longer
//! answers, and the next start adopts what it left.

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use serde_json::{Value, json};
use testenv::eventually;

use crate::util::{
    SETTLE, cluster, config, cr, denied_eventually, platform_katalog, resource, start, stop,
};

/// POSTs a CR through the raw client and returns the `Warning` headers.
async fn create_with_warnings(
    client: &kube::Client,
    ns: &str,
    group: &str,
    obj: &Value,
) -> (u16, Vec<String>) {
    let req = http::Request::post(format!("/apis/{group}/v1alpha1/namespaces/{ns}/platforms"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(obj).unwrap())
        .unwrap();
    let resp = client
        .send(req.map(kube::client::Body::from))
        .await
        .unwrap();
    let warnings = resp
        .headers()
        .get_all("warning")
        .iter()
        .map(|h| h.to_str().unwrap_or_default().to_owned())
        .collect();
    (resp.status().as_u16(), warnings)
}

#[tokio::test(flavor = "multi_thread")]
async fn admission_rules_deny_warn_and_default_and_ignore_admits_when_the_gateway_is_gone() {
    let client = cluster().await;
    let ns = testenv::namespace(&client, "gw-admit").await;
    let group = format!("{}.ork.test", testenv::unique_name("adm"));
    testenv::install_crd(&client, &group, "Platform", &["v1alpha1"]).await;
    let katalog = platform_katalog(&group, "Ignore");
    let instance = testenv::unique_name("gw-admit");
    let gw = start(&client, &katalog, config(&instance)).await;
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &ns,
        &resource(&group, "v1alpha1", "Platform"),
    );
    let av = format!("{group}/v1alpha1");

    // Deny: every violated rule's rendered message.
    let bad = cr(
        "Platform",
        &av,
        "bad",
        json!({"image": "docker.io/x", "replicas": 0, "rateLimit": 1}),
    );
    let message = denied_eventually(&api, &bad).await;
    assert!(
        message.contains(
            "images must come from the internal registry (registry.internal/), not docker.io/x"
        ),
        "{message}"
    );
    assert!(message.contains("replicas must be at least 1"), "{message}");

    // Warn: admitted, with the warning; mutation filled the defaults first.
    let (status, warnings) = create_with_warnings(
        &client,
        &ns,
        &group,
        &json!({
            "apiVersion": av, "kind": "Platform", "metadata": {"name": "minimal"},
            "spec": {"image": "registry.internal/app:1"},
        }),
    )
    .await;
    assert_eq!(status, 201);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("declare spec.rateLimit for production readiness")),
        "{warnings:?}"
    );
    let created = api.get("minimal").await.unwrap();
    assert_eq!(created.data["spec"]["replicas"], json!(2));
    assert_eq!(created.data["spec"]["environment"], json!("development"));

    // /katalog counts what it answered: the denial (with any retried before the webhook was
    // registered, which the API server never sent) and the admitted warning.
    let (status, body) = crate::util::exchange(
        tokio::net::TcpStream::connect(gw.http_addr())
            .await
            .unwrap(),
        b"GET /katalog/platform HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let info: Value = serde_json::from_str(&body).unwrap();
    let admission = &info["admission"];
    assert!(admission["validationDenied"].as_u64() >= Some(1), "{info}");
    assert!(
        admission["validationTotal"].as_u64() > admission["validationDenied"].as_u64(),
        "the admitted CR is counted too: {info}"
    );
    assert!(admission["valP95LatencyMs"].as_f64() > Some(0.0), "{info}");

    // Deleted while running: the housekeeper puts it back.
    let vwc: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let config_name = format!("{instance}-admission-validation");
    vwc.delete(&config_name, &DeleteParams::default())
        .await
        .unwrap();
    eventually(
        "the deleted configuration to be re-created",
        SETTLE,
        || async { vwc.get_opt(&config_name).await.unwrap().map(drop) },
    )
    .await;

    // Abandoned as a crash would (configurations left behind, nobody answering): Ignore
    // admits.
    drop(gw);
    assert!(
        vwc.get_opt(&format!("{instance}-admission-validation"))
            .await
            .unwrap()
            .is_some()
    );
    let admitted = api
        .create(
            &PostParams::default(),
            &cr(
                "Platform",
                &av,
                "while-down",
                json!({"image": "docker.io/x"}),
            ),
        )
        .await;
    assert!(
        admitted.is_ok(),
        "failurePolicy Ignore must admit while the gateway is down: {admitted:?}"
    );

    // The next start adopts what the abandoned one left; a stop removes it.
    let gw = start(&client, &katalog, config(&instance)).await;
    stop(gw).await;
    assert!(
        vwc.get_opt(&format!("{instance}-admission-validation"))
            .await
            .unwrap()
            .is_none()
    );
    let mwc: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    assert!(
        mwc.get_opt(&format!("{instance}-admission-mutation"))
            .await
            .unwrap()
            .is_none()
    );
}
