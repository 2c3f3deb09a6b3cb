use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::api::PostParams;
use kube::runtime::{WatchStreamExt, watcher};

use crate::util::TestCrd;

#[tokio::test]
async fn a_cr_of_a_new_crd_arrives_on_a_watch() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "watch").await;
    let crd = TestCrd::install(&client).await;
    let api = crd.api(&client, &ns);

    let mut events = watcher(api.clone(), watcher::Config::default())
        .default_backoff()
        .boxed();
    api.create(
        &PostParams::default(),
        &crd.object("w1", serde_json::json!({"size": 3})),
    )
    .await
    .unwrap();

    let seen = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(event) = events.try_next().await.unwrap() {
            if let watcher::Event::Apply(obj) | watcher::Event::InitApply(obj) = event
                && obj.metadata.name.as_deref() == Some("w1")
            {
                return obj;
            }
        }
        panic!("watch ended before the CR arrived");
    })
    .await
    .expect("the CR did not arrive on the watch within 30 s");
    assert_eq!(seen.data["spec"]["size"], 3);
}
