//! Cross-CRD reads and secondary watches through the Supervisor, as `ork run` starts a
//! Katalog: a template reading `.cross.db.status.host` follows the other CRD's CR as it
//! changes and reads the other box's `.health` and `.metrics`, a CRD closed with
//! `crossAccess: false` reads as not found (and shows no health), and a `watch:` entry on
//! a ConfigMap queues the CR its label names.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use runtime::{Metrics, Supervisor};
use serde_json::{Value, json};

use crate::operator_box::install_crd_in;
use crate::wait::eventually;

const WAIT: Duration = Duration::from_secs(30);

/// The Katalog: `database` publishes `spec.host` as `status.host`; `closed` refuses cross
/// reads; `app` reads both and writes what it sees into the ConfigMap `<name>-conn`;
/// `watcher` reacts to the ConfigMaps labelled with its CRs' keys. `app` and `watcher` resync
/// only hourly, so what queues them within the test is what is tested.
fn katalog(group: &str, label: &str) -> katalog::Katalog {
    let text = format!(
        r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: cross-test}}
spec:
  crds:
    database:
      apiTypes: {{group: {group}, version: v1, kind: Database, plural: databases}}
      operatorBox:
        status:
          fields:
            - path: host
              value: "{{{{ .spec.host }}}}"
    closed:
      crossAccess: false
      apiTypes: {{group: {group}, version: v1, kind: Closed, plural: closeds}}
    app:
      resync: 1h
      apiTypes: {{group: {group}, version: v1, kind: App, plural: apps}}
      operatorBox:
        cross:
          - crd: database
            selector: {{name: "{{{{ .metadata.name }}}}-db"}}
            as: db
          - crd: closed
            selector: {{name: "{{{{ .metadata.name }}}}"}}
        onReconcile:
          configMaps:
            - name: "{{{{ .metadata.name }}}}-conn"
              data:
                host: "{{{{ .cross.db.status.host }}}}"
                found: "{{{{ .cross.db.found }}}}"
                closed: "{{{{ .cross.closed.found }}}}"
                dbHealthy: "{{{{ .cross.db.health.healthy }}}}"
                dbCount: "{{{{ .cross.db.metrics.resourceCount }}}}"
                closedVitals: "{{{{ if .cross.closed.health }}}}shown{{{{ else }}}}hidden{{{{ end }}}}"
    watcher:
      resync: 1h
      apiTypes: {{group: {group}, version: v1, kind: Watcher, plural: watchers}}
      operatorBox:
        observe:
          watch:
            - apiVersion: v1
              kind: ConfigMap
              on: [update]
              keyFrom: {{label: {label}}}
"#
    );
    katalog::load_text("/nonexistent/katalog.yaml", &text)
        .unwrap_or_else(|d| panic!("{}", d.render()))
        .katalog
}

async fn create(
    api: &Api<DynamicObject>,
    resource: &kube::api::ApiResource,
    name: &str,
    spec: Value,
) {
    let mut cr = DynamicObject::new(name, resource);
    cr.data = json!({ "spec": spec });
    api.create(&PostParams::default(), &cr).await.unwrap();
}

/// The data of the ConfigMap `name`, once it exists.
async fn data(config_maps: &Api<ConfigMap>, name: &str) -> Option<Value> {
    let cm = config_maps.get_opt(name).await.ok()??;
    serde_json::to_value(cm.data?).ok()
}

/// `controller_reconcile_total{crd="<crd>",result="success"}`.
fn reconciles(metrics: &Metrics, crd: &str) -> u64 {
    let prefix = format!(r#"controller_reconcile_total{{crd="{crd}",result="success"}} "#);
    metrics
        .encode()
        .lines()
        .find_map(|l| l.strip_prefix(&prefix)?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn cross_reads_follow_the_source_cr_and_watch_entries_queue_their_crs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("runtime=debug")
        .with_test_writer()
        .try_init();
    let cp = testenv::shared().await;
    let client: Client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "cross").await;
    let group = format!("{}.cross.test", testenv::unique_name("g"));
    let mut resources = std::collections::BTreeMap::new();
    for kind in ["Database", "Closed", "App", "Watcher"] {
        resources.insert(kind, install_crd_in(&client, &group, kind).await);
    }
    let api = |kind: &str| -> Api<DynamicObject> {
        Api::namespaced_with(client.clone(), &ns, &resources[kind])
    };
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let label = "cross.test/watcher";
    let trigger: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "trigger", "labels": {label: "w"}},
        "data": {"n": "0"}
    }))
    .unwrap();
    config_maps
        .create(&PostParams::default(), &trigger)
        .await
        .unwrap();

    let katalog = katalog(&group, label);
    let metrics = Metrics::new();
    let supervisor = Supervisor::start_katalog(
        &client,
        &katalog,
        &metrics,
        Duration::from_secs(10),
        runtime::kordinator::always_leading(),
    )
    .await
    .unwrap();

    // The app reads a database that does not exist yet, and a closed CR that does.
    create(&api("Closed"), &resources["Closed"], "shop", json!({})).await;
    create(&api("App"), &resources["App"], "shop", json!({})).await;
    eventually("the app to see no database", WAIT, || async {
        let d = data(&config_maps, "shop-conn").await?;
        let want = json!({"host": "", "found": "false", "closed": "false",
            "dbHealthy": "true", "dbCount": "0", "closedVitals": "hidden"});
        (d == want).then_some(())
    })
    .await;

    // The database appears and publishes its host: the app is queued again and reads it.
    create(
        &api("Database"),
        &resources["Database"],
        "shop-db",
        json!({"host": "10.0.0.1"}),
    )
    .await;
    eventually(
        "the app to read the database's status.host",
        WAIT,
        || async {
            let d = data(&config_maps, "shop-conn").await?;
            let want = json!({"host": "10.0.0.1", "found": "true", "closed": "false",
                "dbHealthy": "true", "dbCount": "1", "closedVitals": "hidden"});
            (d == want).then_some(())
        },
    )
    .await;

    // The host changes: the change of the database's status reaches the app.
    api("Database")
        .patch(
            "shop-db",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"host": "10.0.0.2"}})),
        )
        .await
        .unwrap();
    eventually("the app to read the new host", WAIT, || async {
        let d = data(&config_maps, "shop-conn").await?;
        (d["host"] == "10.0.0.2").then_some(())
    })
    .await;

    // The watcher CR is reconciled once (its resync is an hour away, its own writes queue
    // nothing); an update of the ConfigMap its label names queues it again.
    create(&api("Watcher"), &resources["Watcher"], "w", json!({})).await;
    let before = eventually("the watcher's first reconcile", WAIT, || async {
        let cr = api("Watcher").get("w").await.ok()?;
        let ready = cr.data["status"]["conditions"]
            .as_array()?
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        let count = reconciles(&metrics, "watcher");
        (ready && count >= 1).then_some(count)
    })
    .await;
    config_maps
        .patch(
            "trigger",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"n": "1"}})),
        )
        .await
        .unwrap();
    eventually(
        "the ConfigMap's update to queue the watcher",
        WAIT,
        || async { (reconciles(&metrics, "watcher") > before).then_some(()) },
    )
    .await;
    let watcher = supervisor.operator_box("watcher").unwrap();
    assert_eq!(watcher.health().watch_error(), None);

    supervisor.stop().await.unwrap();
}
