use kube::api::{Patch, PatchParams, PostParams};

use crate::util::TestCrd;

#[tokio::test]
async fn a_status_patch_is_visible_and_does_not_bump_generation() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "status").await;
    let crd = TestCrd::install(&client).await;
    let api = crd.api(&client, &ns);
    let created = api
        .create(
            &PostParams::default(),
            &crd.object("s1", serde_json::json!({"a": 1})),
        )
        .await
        .unwrap();
    let generation = created.metadata.generation.unwrap();

    let patch = serde_json::json!({"status": {"phase": "Ready"}});
    api.patch_status("s1", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let after_status = api.get("s1").await.unwrap();
    assert_eq!(after_status.data["status"]["phase"], "Ready");
    assert_eq!(after_status.metadata.generation, Some(generation));

    // A spec change does bump it, so the comparison above could have failed.
    let spec = serde_json::json!({"spec": {"a": 2}});
    api.patch("s1", &PatchParams::default(), &Patch::Merge(&spec))
        .await
        .unwrap();
    let after_spec = api.get("s1").await.unwrap();
    assert_eq!(after_spec.metadata.generation, Some(generation + 1));
}
