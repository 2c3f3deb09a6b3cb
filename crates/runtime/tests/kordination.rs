//! Which boxes work, and when: `dependsOn` conditions, CRDs that appear after the start, and
//! leadership (followers watch with warm caches, and only a leader's boxes work).

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use runtime::{Metrics, State, Supervisor};
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

/// A Katalog file of `crds` (YAML for `spec.crds`, indented 4), kept alive with its directory.
fn katalog(crds: &str) -> (tempfile::TempDir, katalog::Loaded) {
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: kordination}}\nspec:\n  crds:\n{crds}"
    );
    crate::support::katalog_file(&text)
}

/// A CRD entry `name` of `Widget`s in `group` whose CRs each produce one ConfigMap, named by
/// `child` (a template) and holding the CR's `spec.value`; `extra` adds entry keys.
fn entry(name: &str, group: &str, child: &str, extra: &str) -> String {
    format!(
        "    {name}:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
{extra}      operatorBox:
        onReconcile:
          configMaps:
            - name: '{child}'
              data: {{value: '{{{{ .spec.value }}}}'}}
"
    )
}

async fn create(
    client: &kube::Client,
    crd: &TestCrd,
    ns: &str,
    name: &str,
    spec: serde_json::Value,
) {
    crd.api(client, ns)
        .create(&PostParams::default(), &crd.object(name, spec))
        .await
        .unwrap();
}

async fn set_spec(
    client: &kube::Client,
    crd: &TestCrd,
    ns: &str,
    name: &str,
    spec: serde_json::Value,
) {
    crd.api(client, ns)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(&json!({ "spec": spec })),
        )
        .await
        .unwrap();
}

/// Waits until ConfigMap `name` exists with `data.value == value`.
async fn child_holds(client: &kube::Client, ns: &str, name: &str, value: &str) {
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    eventually(&format!("ConfigMap {name} to hold {value}"), WAIT, || {
        let config_maps = config_maps.clone();
        async move {
            let found = config_maps.get_opt(name).await.ok()??;
            (found.data?.get("value")? == value).then_some(())
        }
    })
    .await;
}

async fn exists(client: &kube::Client, ns: &str, name: &str) -> bool {
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    config_maps.get_opt(name).await.unwrap().is_some()
}

#[tokio::test]
async fn a_dependent_box_starts_only_once_its_dependency_reconciled_healthily() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "depends").await;
    let (alpha, beta) = (
        TestCrd::install(&client).await,
        TestCrd::install(&client).await,
    );
    let (_dir, loaded) = katalog(&format!(
        "{}{}",
        entry("alpha", &alpha.resource.group, "{{ .spec.child }}", ""),
        entry(
            "beta",
            &beta.resource.group,
            "{{ .metadata.name }}-beta",
            "      dependsOn: {alpha: healthy}\n"
        ),
    ));
    // An invalid ConfigMap name: every reconcile of alpha fails until the spec is fixed.
    create(
        &client,
        &alpha,
        &ns,
        "one",
        json!({"child": "Not_A_Name", "value": "a"}),
    )
    .await;
    create(&client, &beta, &ns, "two", json!({"value": "b"})).await;
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &Metrics::new()).await;
    let (alpha_box, beta_box) = (
        supervisor.operator_box("alpha").unwrap(),
        supervisor.operator_box("beta").unwrap(),
    );

    eventually("alpha to fail a reconcile", WAIT, || async {
        (alpha_box.health().snapshot("alpha").consecutive_fails > 0).then_some(())
    })
    .await;
    eventually("beta to be synced and waiting on alpha", WAIT, || async {
        (beta_box.is_synced() && beta_box.health().waiting_on() == ["alpha (healthy)"])
            .then_some(())
    })
    .await;
    let beta_health = beta_box.health().snapshot("beta");
    assert!(!beta_box.is_active());
    assert_eq!(beta_health.state, State::Pending);
    assert!(beta_health.has_unhealthy_dependencies);
    assert_eq!(beta_health.total_reconciles, 0);
    assert!(!exists(&client, &ns, "two-beta").await);

    set_spec(&client, &alpha, &ns, "one", json!({"child": "one-alpha"})).await;
    child_holds(&client, &ns, "one-alpha", "a").await;
    child_holds(&client, &ns, "two-beta", "b").await;
    assert!(beta_box.is_active());
    assert!(beta_box.health().waiting_on().is_empty());
    supervisor.stop().await.unwrap();
}

#[tokio::test]
async fn a_crd_created_after_the_start_is_activated_without_a_restart() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "late").await;
    let group = TestCrd::unique_group();
    let (_dir, loaded) = katalog(&entry("late", &group, "{{ .metadata.name }}-late", ""));
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let late = supervisor.operator_box("late").unwrap();
    eventually("the missing CRD to be reported", WAIT, || async {
        late.health().watch_error().map(|_| ())
    })
    .await;
    assert!(!late.is_synced());
    assert!(!late.is_active());
    assert_eq!(late.health().state(), State::Pending);

    let crd = TestCrd::install_in(&client, &group).await;
    create(&client, &crd, &ns, "tardy", json!({"value": "here"})).await;
    child_holds(&client, &ns, "tardy-late", "here").await;
    assert!(late.is_active());
    assert!(late.health().watch_error().is_none());
    crate::support::assert_series(
        &metrics,
        &[
            r#"controller_crd_activation_total{crd="late",result="error"} 1"#,
            r#"controller_crd_activation_total{crd="late",result="success"} 1"#,
            r#"controller_crd_activation_latency_seconds_count{crd="late"} 2"#,
        ],
    );
    supervisor.stop().await.unwrap();
}

#[tokio::test]
async fn a_follower_keeps_its_cache_warm_and_works_only_while_leading() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "follow").await;
    let crd = TestCrd::install(&client).await;
    let (_dir, loaded) = katalog(&entry(
        "web",
        &crd.resource.group,
        "{{ .metadata.name }}-web",
        "",
    ));
    create(&client, &crd, &ns, "site", json!({"value": "v1"})).await;
    let (leading, following) = tokio::sync::watch::channel(false);
    let supervisor = Supervisor::start_katalog(
        &client,
        &loaded.katalog,
        &Metrics::new(),
        Duration::from_secs(10),
        following,
    )
    .await
    .unwrap();
    let web = supervisor.operator_box("web").unwrap();

    // Following: the cache fills, nothing is reconciled.
    eventually("the follower's cache to hold the CR", WAIT, || async {
        (web.is_synced() && web.store().len() == 1).then_some(())
    })
    .await;
    assert!(!web.is_active());
    assert_eq!(web.health().state(), State::Pending);
    assert!(!exists(&client, &ns, "site-web").await);

    // Leading: the cached CR is reconciled.
    leading.send_replace(true);
    child_holds(&client, &ns, "site-web", "v1").await;

    // Following again: the work stops at once, the cache stays warm and current.
    leading.send_replace(false);
    eventually("the box to stop working", WAIT, || async {
        (!web.is_active()).then_some(())
    })
    .await;
    assert_eq!(web.health().state(), State::Pending);
    set_spec(&client, &crd, &ns, "site", json!({"value": "v2"})).await;
    eventually("the follower's cache to see the change", WAIT, || async {
        let cached = web.store().state().into_iter().next()?;
        (cached.data["spec"]["value"] == "v2").then_some(())
    })
    .await;
    assert!(web.intake().current().is_none());
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let child = config_maps.get("site-web").await.unwrap();
    assert_eq!(child.data.unwrap()["value"], "v1", "a follower wrote");

    // Leading again: the change made while following is reconciled.
    leading.send_replace(true);
    child_holds(&client, &ns, "site-web", "v2").await;
    supervisor.stop().await.unwrap();
}
