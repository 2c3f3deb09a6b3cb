//! Rules from `validation.include` and `mutation.include` files, and from an imported Motif's
//! `admission:`, are enforced by the gateway's webhooks as the inline rules are.

use gateway::Gateway;
use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use serde_json::json;
use testenv::eventually;

use crate::util::{SETTLE, cluster, config, cr, denied_eventually, resource, stop, with_header};

#[tokio::test(flavor = "multi_thread")]
async fn include_file_and_motif_rules_deny_and_default_through_the_gateway() {
    let client = cluster().await;
    let ns = testenv::namespace(&client, "gw-include").await;
    let group = format!("{}.ork.test", testenv::unique_name("inc"));
    testenv::install_crd(&client, &group, "Platform", &["v1alpha1"]).await;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "rules.yaml",
        "rules:\n  - {field: spec.image, prefix: registry.internal/, message: 'images must come from registry.internal/'}\n",
    );
    write(
        "defaults.yaml",
        "rules:\n  - {field: spec.environment, default: development}\n",
    );
    write(
        "motif.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Motif\nmetadata: {name: guard}\nadmission:\n  validation:\n    rules:\n      - {field: spec.replicas, lessThan: 10, message: 'at most 9 replicas'}\n",
    );
    let text = with_header(
        "includes",
        &format!(
            r#"  webhooks:
    admission: {{enabled: true}}
    failurePolicy: Fail
spec:
  crds:
    platform:
      apiTypes: {{group: {group}, version: v1alpha1, kind: Platform, plural: platforms}}
      imports: [{{motif: ./motif.yaml}}]
      validation:
        include: ./rules.yaml
      mutation:
        include: ./defaults.yaml
"#
        ),
    );
    let path = dir.path().join("katalog.yaml");
    std::fs::write(&path, text).unwrap();
    let katalog = katalog::load(&path)
        .unwrap_or_else(|d| panic!("{}", d.render()))
        .katalog;
    let instance = testenv::unique_name("gw-include");
    let gw = Gateway::start(katalog, client.clone(), config(&instance))
        .await
        .unwrap();
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &ns,
        &resource(&group, "v1alpha1", "Platform"),
    );
    let av = format!("{group}/v1alpha1");

    let bad = cr(
        "Platform",
        &av,
        "bad",
        json!({"image": "docker.io/x", "replicas": 20}),
    );
    let message = denied_eventually(&api, &bad).await;
    assert!(
        message.contains("images must come from registry.internal/"),
        "{message}"
    );
    assert!(message.contains("at most 9 replicas"), "{message}");

    let good = cr(
        "Platform",
        &av,
        "good",
        json!({"image": "registry.internal/app:1", "replicas": 2}),
    );
    // The mutating configuration may reach the API server after the validating one.
    let environment = eventually("the include default to be applied", SETTLE, || async {
        let created = api.create(&PostParams::default(), &good).await.unwrap();
        let environment = created.data["spec"]["environment"].clone();
        if environment.is_null() {
            api.delete("good", &DeleteParams::default()).await.unwrap();
            eventually("good to be gone", SETTLE, || async {
                api.get_opt("good").await.unwrap().is_none().then_some(())
            })
            .await;
            return None;
        }
        Some(environment)
    })
    .await;
    assert_eq!(environment, json!("development"));
    stop(gw).await;
}
