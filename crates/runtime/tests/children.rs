//! The box's cache of children: once its child watches have listed, reconciles read the
//! children from it instead of listing them, and what they read is current.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use runtime::Metrics;
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn resync_reconciles_read_children_from_the_cache_and_see_drift() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "children").await;
    let crd = TestCrd::install(&client).await;
    let group = &crd.resource.group;
    let (_dir, loaded) = crate::support::katalog_file(&format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: children}}
spec:
  crds:
    web:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        reconciler: {{resync: 1s}}
        status:
          fields:
            - path: seen
              value: '{{{{ index .children.configmap.data \"value\" }}}}'
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-web'
              data: {{value: '{{{{ .spec.value }}}}'}}
"
    ));
    crd.api(&client, &ns)
        .create(
            &PostParams::default(),
            &crd.object("site", json!({"value": "v1"})),
        )
        .await
        .unwrap();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &Metrics::new()).await;
    let web = supervisor.operator_box("web").unwrap();
    let seen = |value: &'static str| {
        let api = crd.api(&client, &ns);
        async move {
            eventually(&format!("status.seen to be {value}"), WAIT, || {
                let api = api.clone();
                async move {
                    let cr = api.get("site").await.ok()?;
                    (cr.data["status"]["seen"] == value).then_some(())
                }
            })
            .await;
        }
    };
    seen("v1").await;

    // Once the child watch has listed, resync passes never fall back to a LIST.
    eventually("a reconcile answered from the cache", WAIT, || async {
        (web.children().lookups().0 > 0).then_some(())
    })
    .await;
    let (answered, declined) = web.children().lookups();
    let total = web.health().snapshot("web").total_reconciles;
    eventually("three more resync reconciles", WAIT, || async {
        (web.health().snapshot("web").total_reconciles >= total + 3).then_some(())
    })
    .await;
    let (answered_after, declined_after) = web.children().lookups();
    assert_eq!(declined_after, declined, "a reconcile listed children");
    assert!(answered_after >= answered + 3);

    // A child edited by someone else is seen through the cache and set back.
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    config_maps
        .patch(
            "site-web",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"value": "tampered"}})),
        )
        .await
        .unwrap();
    eventually("the drift to be corrected", WAIT, || {
        let config_maps = config_maps.clone();
        async move {
            let data = config_maps.get("site-web").await.ok()?.data?;
            (data.get("value")? == "v1").then_some(())
        }
    })
    .await;
    seen("v1").await;
    supervisor.stop().await.unwrap();
}

/// Status fields read each child by name from `.children.<plural>` (spec §8.2), and the
/// singular key is the first child of that kind in plan order.
#[tokio::test]
async fn status_fields_read_children_of_a_kind_by_name() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "children-by-name").await;
    let crd = TestCrd::install(&client).await;
    let group = &crd.resource.group;
    let (_dir, loaded) = crate::support::katalog_file(&format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: children-by-name}}
spec:
  crds:
    web:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        status:
          fields:
            - path: second
              value: '{{{{ index (index .children.configmaps (printf \"%s-b\" .metadata.name)).data \"value\" }}}}'
            - path: first
              value: '{{{{ .children.configmap.metadata.name }}}}'
        onCreate:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-a'
              data: {{value: 'a-{{{{ .spec.value }}}}'}}
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-b'
              data: {{value: 'b-{{{{ .spec.value }}}}'}}
"
    ));
    crd.api(&client, &ns)
        .create(
            &PostParams::default(),
            &crd.object("site", json!({"value": "v1"})),
        )
        .await
        .unwrap();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &Metrics::new()).await;
    let api = crd.api(&client, &ns);
    let cr = eventually("status.second to be b-v1", WAIT, || {
        let api = api.clone();
        async move {
            let cr = api.get("site").await.ok()?;
            (cr.data["status"]["second"] == "b-v1").then_some(cr)
        }
    })
    .await;
    assert_eq!(cr.data["status"]["first"], "site-a");
    supervisor.stop().await.unwrap();
}

/// A converged child whose rendered namespace changes is moved: applied in the new namespace
/// and deleted from the old one by the same reconcile, not left until the CR is deleted.
#[tokio::test]
async fn a_child_whose_namespace_changes_is_moved() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let home = testenv::namespace(&client, "moves").await;
    let first = testenv::namespace(&client, "moves-a").await;
    let second = testenv::namespace(&client, "moves-b").await;
    let crd = TestCrd::install(&client).await;
    let group = &crd.resource.group;
    let (_dir, loaded) = crate::support::katalog_file(&format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: moves}}
spec:
  crds:
    web:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-settings'
              namespace: '{{{{ .spec.value }}}}'
              data: {{target: '{{{{ .spec.value }}}}'}}
"
    ));
    crd.api(&client, &home)
        .create(
            &PostParams::default(),
            &crd.object("site", json!({"value": first})),
        )
        .await
        .unwrap();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &Metrics::new()).await;
    let in_first: Api<ConfigMap> = Api::namespaced(client.clone(), &first);
    let in_second: Api<ConfigMap> = Api::namespaced(client.clone(), &second);
    eventually("the child in the first namespace", WAIT, || async {
        in_first.get_opt("site-settings").await.ok()?.map(|_| ())
    })
    .await;

    crd.api(&client, &home)
        .patch(
            "site",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"value": second}})),
        )
        .await
        .unwrap();
    eventually(
        "the child in the second namespace and gone from the first",
        WAIT,
        || async {
            let moved = in_second.get_opt("site-settings").await.ok()?.is_some();
            let left = in_first.get_opt("site-settings").await.ok()?;
            (moved && left.is_none_or(|c| c.metadata.deletion_timestamp.is_some())).then_some(())
        },
    )
    .await;
    supervisor.stop().await.unwrap();
}

/// Two CRDs whose CRs (named alike, in one namespace) both produce ConfigMaps share one
/// ConfigMap watch; each box's cache shows only its own CR's child, drift on either child is
/// corrected, and the watch stops with the boxes.
#[tokio::test]
async fn boxes_producing_the_same_kind_share_one_watch_and_see_only_their_own_children() {
    use kube::api::{ApiResource, GroupVersionKind};
    use runtime::operator_box::children::ChildCache as _;

    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "shared-children").await;
    // Both kinds are `Widget`, in different groups: only the ownerReference's apiVersion
    // tells their children apart.
    let (first, second) = (
        TestCrd::install(&client).await,
        TestCrd::install(&client).await,
    );
    let entry = |name: &str, crd: &TestCrd| {
        let group = &crd.resource.group;
        format!(
            "    {name}:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        status:
          fields:
            - path: seen
              value: '{{{{ index .children.configmap.data \"value\" }}}}'
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-{name}'
              data: {{value: '{name}-{{{{ .spec.value }}}}'}}
"
        )
    };
    let (_dir, loaded) = crate::support::katalog_file(&format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: shared-children}}
spec:
  crds:
{}{}",
        entry("one", &first),
        entry("two", &second)
    ));
    for crd in [&first, &second] {
        crd.api(&client, &ns)
            .create(
                &PostParams::default(),
                &crd.object("site", json!({"value": "v1"})),
            )
            .await
            .unwrap();
    }
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &Metrics::new()).await;
    let boxes = [
        supervisor.operator_box("one").unwrap(),
        supervisor.operator_box("two").unwrap(),
    ];
    let registry = boxes[0].config().shared_child_watches().unwrap().clone();
    assert_eq!(registry.running(), 1, "one ConfigMap watch for both boxes");
    assert_eq!(
        registry.subscribers(),
        [("ConfigMap.v1".to_owned(), 2)].into()
    );

    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let value_of = |name: &'static str, value: &'static str| {
        let config_maps = config_maps.clone();
        async move {
            eventually(&format!("{name} to hold {value}"), WAIT, || {
                let config_maps = config_maps.clone();
                async move {
                    let data = config_maps.get(name).await.ok()?.data?;
                    (data.get("value")? == value).then_some(())
                }
            })
            .await;
        }
    };
    value_of("site-one", "one-v1").await;
    value_of("site-two", "two-v1").await;
    // Each CR's status read its own child, not the other CR's of the same name.
    for (crd, value) in [(&first, "one-v1"), (&second, "two-v1")] {
        let api = crd.api(&client, &ns);
        eventually(&format!("status.seen to be {value}"), WAIT, || {
            let api = api.clone();
            async move {
                let cr = api.get("site").await.ok()?;
                (cr.data["status"]["seen"] == value).then_some(())
            }
        })
        .await;
    }
    // Each view holds its own child only.
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"));
    for (operator_box, own) in boxes.iter().zip(["site-one", "site-two"]) {
        let names = eventually("the child cache to have listed", WAIT, || async {
            let objects = operator_box
                .children()
                .objects(&resource, Some(&ns), "site")?;
            let names: Vec<String> = objects
                .into_iter()
                .filter_map(|o| o.metadata.name)
                .collect();
            (!names.is_empty()).then_some(names)
        })
        .await;
        assert_eq!(names, [own], "the view of {}", operator_box.name());
    }

    // Drift on either child is corrected by its own box.
    for name in ["site-one", "site-two"] {
        config_maps
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"value": "tampered"}})),
            )
            .await
            .unwrap();
    }
    value_of("site-one", "one-v1").await;
    value_of("site-two", "two-v1").await;

    supervisor.stop().await.unwrap();
    assert_eq!(registry.running(), 0, "the watch outlived its boxes");
}
