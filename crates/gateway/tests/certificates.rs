//! Generated certificates rotate before they expire, and admission keeps working past the old
//! certificate's expiry.

use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::json;
use testenv::eventually;

use crate::util::{
    SETTLE, cluster, config, cr, denied_eventually, platform_katalog, resource, start, stop,
};

#[tokio::test(flavor = "multi_thread")]
async fn certificates_rotate_and_admission_keeps_working() {
    let client = cluster().await;
    let ns = testenv::namespace(&client, "gw-rot").await;
    let group = format!("{}.ork.test", testenv::unique_name("rot"));
    testenv::install_crd(&client, &group, "Platform", &["v1alpha1"]).await;
    let instance = testenv::unique_name("gw-rot");
    // 30 s certificates rotate 10 s before expiry.
    let mut config = config(&instance);
    config.cert_validity = Some(Duration::from_secs(30));
    let gw = start(&client, &platform_katalog(&group, "Fail"), config).await;
    let vwc: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let name = format!("{instance}-admission-validation");
    let bundle = |c: ValidatingWebhookConfiguration| {
        c.webhooks.unwrap()[0]
            .client_config
            .ca_bundle
            .clone()
            .unwrap()
            .0
    };
    let mut last = bundle(vwc.get(&name).await.unwrap());
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &ns,
        &resource(&group, "v1alpha1", "Platform"),
    );
    let bad = cr(
        "Platform",
        &format!("{group}/v1alpha1"),
        "bad",
        json!({"image": "x"}),
    );
    denied_eventually(&api, &bad).await;
    for round in 0..2 {
        let rotated = eventually("a rotated caBundle", SETTLE, || async {
            let b = bundle(vwc.get(&name).await.ok()?);
            (b != last).then_some(b)
        })
        .await;
        assert!(
            String::from_utf8_lossy(&rotated)
                .matches("BEGIN CERTIFICATE")
                .count()
                == 2,
            "round {round}"
        );
        // Past the old certificate's expiry, admission still answers (Fail would reject
        // every create if the API server could not verify the gateway).
        tokio::time::sleep(Duration::from_secs(12)).await;
        let message = match api.create(&PostParams::default(), &bad).await {
            Err(kube::Error::Api(s)) => s.message,
            other => panic!("expected a denial, got {other:?}"),
        };
        assert!(
            message.contains("images must come from the internal registry"),
            "{message}"
        );
        last = rotated;
    }
    stop(gw).await;
}
