//! [`gateway::run`]: keep-on-exit leaves the configurations for the next start to adopt, and
//! without it a stop removes them.

use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use kube::api::Api;

use crate::util::{cluster, config, katalog, platform_katalog};

/// Runs the gateway until it is ready and stops it at once (within 30 s), as `ork gateway`
/// followed by SIGTERM does.
async fn run_and_stop(client: &kube::Client, text: &str, config: gateway::Config) {
    let run = gateway::run(katalog(text), client.clone(), config, async {});
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the gateway did not stop within 30 s")
        .expect("the gateway did not run and stop cleanly");
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_on_exit_leaves_the_configurations_for_the_next_start_to_adopt() {
    let client = cluster().await;
    let group = format!("{}.ork.test", testenv::unique_name("keep"));
    testenv::install_crd(&client, &group, "Platform", &["v1alpha1"]).await;
    let katalog = platform_katalog(&group, "Ignore");
    let instance = testenv::unique_name("gw-keep");
    let vwc: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let name = format!("{instance}-admission-validation");
    run_and_stop(&client, &katalog, config(&instance).keep_on_exit(true)).await;
    assert!(vwc.get_opt(&name).await.unwrap().is_some());
    run_and_stop(&client, &katalog, config(&instance)).await;
    assert!(vwc.get_opt(&name).await.unwrap().is_none());
}
