use kube::api::{ListParams, PostParams};

use crate::util::TestCrd;

/// Two tasks work in parallel in their own namespaces on the same CRD; each sees exactly its
/// own objects.
#[tokio::test]
async fn parallel_tests_in_different_namespaces_do_not_interfere() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let crd = TestCrd::install(&client).await;

    let work = |tag: &'static str| {
        let client = client.clone();
        let crd = &crd;
        async move {
            let ns = testenv::namespace(&client, tag).await;
            let api = crd.api(&client, &ns);
            for i in 0..5 {
                api.create(
                    &PostParams::default(),
                    &crd.object(&format!("{tag}-{i}"), serde_json::json!({"owner": tag})),
                )
                .await
                .unwrap();
            }
            let list = api.list(&ListParams::default()).await.unwrap();
            (ns, list.items)
        }
    };
    let ((ns_a, a), (ns_b, b)) = tokio::join!(work("iso-a"), work("iso-b"));
    assert_ne!(ns_a, ns_b);
    assert_eq!(a.len(), 5);
    assert_eq!(b.len(), 5);
    assert!(a.iter().all(|o| o.data["spec"]["owner"] == "iso-a"));
    assert!(b.iter().all(|o| o.data["spec"]["owner"] == "iso-b"));
}
