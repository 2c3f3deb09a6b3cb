//! Deletion protection and strict mode deny through the API server, and a protected CRD
//! cannot be deleted while the gateway runs.

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::json;
use testenv::eventually;

use crate::util::{SETTLE, cluster, config, cr, resource, start, stop, with_header};

fn protection_katalog(group: &str) -> String {
    with_header(
        "protection",
        &format!(
            r#"  deletionProtection: {{strictMode: true}}
spec:
  crds:
    vault:
      apiTypes: {{group: {group}, version: v1, kind: Vault, plural: vaults}}
"#
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn deletion_protection_and_strict_mode_deny_and_a_protected_crd_stays() {
    let client = cluster().await;
    let ns = testenv::namespace(&client, "gw-prot").await;
    let group = format!("{}.ork.test", testenv::unique_name("prot"));
    let crd_name = testenv::install_crd(&client, &group, "Vault", &["v1"]).await;
    let gw = start(
        &client,
        &protection_katalog(&group),
        config(&testenv::unique_name("gw-prot")),
    )
    .await;
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &resource(&group, "v1", "Vault"));
    let mut obj = cr("Vault", &format!("{group}/v1"), "keep", json!({}));
    obj.metadata.labels = Some(BTreeMap::from([(
        "orkestra.io/deletion-protection".into(),
        "true".into(),
    )]));
    api.create(&PostParams::default(), &obj).await.unwrap();

    let denied = eventually("deletion to be denied", SETTLE, || async {
        match api.delete("keep", &DeleteParams::default()).await {
            Err(kube::Error::Api(s)) => Some(s.message),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("a protected CR was deleted"),
        }
    })
    .await;
    assert!(denied.contains("is protected"), "{denied}");

    let unlabel = json!({"metadata": {"labels": {"orkestra.io/deletion-protection": null}}});
    let strict = api
        .patch("keep", &PatchParams::default(), &Patch::Merge(&unlabel))
        .await
        .unwrap_err();
    assert!(strict.to_string().contains("strict mode"), "{strict}");
    let exempt = json!({"metadata": {"labels": {"orkestra.io/strict-mode-exempt": "true"}}});
    api.patch("keep", &PatchParams::default(), &Patch::Merge(&exempt))
        .await
        .unwrap();
    api.patch("keep", &PatchParams::default(), &Patch::Merge(&unlabel))
        .await
        .unwrap();
    api.delete("keep", &DeleteParams::default()).await.unwrap();

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd_denied = crds
        .delete(&crd_name, &DeleteParams::default())
        .await
        .unwrap_err();
    assert!(
        crd_denied
            .to_string()
            .contains("is protected by the Katalog"),
        "{crd_denied}"
    );

    stop(gw).await;
    crds.delete(&crd_name, &DeleteParams::default())
        .await
        .unwrap();
}
