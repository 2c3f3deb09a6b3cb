//! A multi-version CRD converts both ways through the gateway, and its conversion stanza is
//! restored when the gateway stops.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::json;
use testenv::eventually;

use crate::util::{SETTLE, cluster, config, cr, resource, start, stop, with_header};

fn conversion_katalog(group: &str) -> String {
    with_header(
        "conversion",
        &format!(
            r#"  conversion: {{enabled: true}}
spec:
  crds:
    database:
      apiTypes: {{group: {group}, version: v1, kind: Database, plural: databases}}
      conversion:
        storageVersion: v1
        updateCRD: true
        paths:
          - from: v1alpha1
            to: v1
            spec:
              engine: "{{{{ .spec.databaseEngine }}}}"
              replicas: "{{{{ .spec.size }}}}"
          - from: v1
            to: v1alpha1
            spec:
              databaseEngine: "{{{{ .spec.engine }}}}"
              size: "{{{{ .spec.replicas }}}}"
"#
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_multi_version_crd_converts_both_ways_and_its_conversion_is_restored() {
    let client = cluster().await;
    let ns = testenv::namespace(&client, "gw-conv").await;
    let group = format!("{}.ork.test", testenv::unique_name("conv"));
    let crd_name = testenv::install_crd(&client, &group, "Database", &["v1alpha1", "v1"]).await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let before = serde_json::to_value(crds.get(&crd_name).await.unwrap().spec.conversion).unwrap();
    let gw = start(
        &client,
        &conversion_katalog(&group),
        config(&testenv::unique_name("gw-conv")),
    )
    .await;

    let alpha: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &ns,
        &resource(&group, "v1alpha1", "Database"),
    );
    let v1: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &resource(&group, "v1", "Database"));
    let obj = cr(
        "Database",
        &format!("{group}/v1alpha1"),
        "db",
        json!({"databaseEngine": "postgres", "size": 3}),
    );
    eventually("the conversion webhook to be in use", SETTLE, || async {
        match alpha.create(&PostParams::default(), &obj).await {
            Ok(_) => Some(()),
            Err(e) => {
                eprintln!("create as v1alpha1 not yet possible: {e}");
                None
            }
        }
    })
    .await;
    let as_v1 = v1.get("db").await.unwrap();
    assert_eq!(
        as_v1.data["spec"],
        json!({"engine": "postgres", "replicas": 3})
    );
    let back = alpha.get("db").await.unwrap();
    assert_eq!(
        back.data["spec"],
        json!({"databaseEngine": "postgres", "size": 3})
    );
    assert_eq!(back.metadata.uid, as_v1.metadata.uid);

    stop(gw).await;
    let after = crds.get(&crd_name).await.unwrap();
    assert_eq!(serde_json::to_value(after.spec.conversion).unwrap(), before);
    let annotations = after.metadata.annotations.unwrap_or_default();
    assert!(
        annotations
            .keys()
            .all(|k| !k.starts_with("gateway.ork.orkspace.io")),
        "{annotations:?}"
    );
}
