//! The operator autoscaler against a real control plane: a box raises its workers while its
//! conditions hold, returns to its baseline after the cooldown, and templates see both
//! through `.metrics`.

use std::time::Duration;

use kube::api::{DeleteParams, PostParams};
use runtime::Metrics;
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn workers_rise_while_the_condition_holds_and_return_after_the_cooldown() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "autoscale").await;
    let crd = TestCrd::install(&client).await;
    let group = &crd.resource.group;
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: autoscale}}
spec:
  crds:
    scaled:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        reconciler: {{workers: 1, resync: 1s}}
        autoscale:
          interval: 200ms
          cooldown: 1s
          conditions:
            when: [{{field: metrics.resourceCount, greaterThan: '2'}}]
          do: {{workers: 4, queueDepth: 50}}
        status:
          fields:
            - path: workers
              value: '{{{{ .metrics.workers }}}}'
            - path: autoscaleActive
              value: '{{{{ .metrics.autoscaleActive }}}}'
"
    );
    let (_dir, loaded) = crate::support::katalog_file(&text);
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let scaled = supervisor.operator_box("scaled").unwrap();
    let api = crd.api(&client, &ns);
    let status_of = |name: &'static str| {
        let api = api.clone();
        async move {
            let cr = api.get(name).await.ok()?;
            let status = cr.data.get("status")?;
            Some((
                status.get("workers")?.as_str()?.to_owned(),
                status.get("autoscaleActive")?.as_str()?.to_owned(),
            ))
        }
    };
    let shows = |name: &'static str, workers: &'static str, active: &'static str| async move {
        eventually(
            &format!("{name} to show {workers} workers, active {active}"),
            WAIT,
            || async move {
                let (w, a) = status_of(name).await?;
                (w == workers && a == active).then_some(())
            },
        )
        .await;
    };

    api.create(&PostParams::default(), &crd.object("one", json!({})))
        .await
        .unwrap();
    shows("one", "1", "false").await;
    assert!(!scaled.stats().scale_active());

    for name in ["two", "three"] {
        api.create(&PostParams::default(), &crd.object(name, json!({})))
            .await
            .unwrap();
    }
    shows("one", "4", "true").await;
    assert_eq!(scaled.stats().snapshot()["workers"], 4);
    assert_eq!(scaled.intake().current().unwrap().max_depth(), 50);

    for name in ["two", "three"] {
        api.delete(name, &DeleteParams::default()).await.unwrap();
    }
    shows("one", "1", "false").await;
    assert_eq!(scaled.intake().current().unwrap().max_depth(), 0);
    crate::support::assert_series(
        &metrics,
        &[
            r#"orkestra_autoscale_overrides_total{crd="scaled"} 1"#,
            r#"orkestra_autoscale_restores_total{crd="scaled"} 1"#,
        ],
    );
    supervisor.stop().await.unwrap();
}

/// `cross.<crd>.metrics.*` in a condition reads the named sibling's numbers, not the box's
/// own (advanced/12-autoscale/03-sibling-in-binary): the auditor scales up once the loader
/// holds a CR, though the auditor's own resource count never changes.
#[tokio::test]
async fn a_cross_condition_reads_the_named_siblings_metrics() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "autoscale-cross").await;
    let loader = TestCrd::install(&client).await;
    let auditor = TestCrd::install(&client).await;
    let (loader_group, auditor_group) = (&loader.resource.group, &auditor.resource.group);
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: autoscale-cross}}
spec:
  crds:
    loader:
      apiTypes: {{group: {loader_group}, version: v1, kind: Widget, plural: widgets}}
    auditor:
      apiTypes: {{group: {auditor_group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        reconciler: {{workers: 1, resync: 1s}}
        autoscale:
          interval: 200ms
          cooldown: 1s
          conditions:
            when: [{{field: cross.loader.metrics.resourceCount, greaterThan: '0'}}]
          do: {{workers: 3}}
        status:
          fields:
            - path: autoscaleActive
              value: '{{{{ .metrics.autoscaleActive }}}}'
"
    );
    let (_dir, loaded) = crate::support::katalog_file(&text);
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let boxed = supervisor.operator_box("auditor").unwrap();
    let audits = auditor.api(&client, &ns);
    let active = |want: &'static str| {
        let audits = audits.clone();
        async move {
            eventually(
                &format!("the auditor's CR to show autoscaleActive {want}"),
                WAIT,
                || {
                    let audits = audits.clone();
                    async move {
                        let cr = audits.get("audit").await.ok()?;
                        let shown = cr.data.pointer("/status/autoscaleActive")?.as_str()?;
                        (shown == want).then_some(())
                    }
                },
            )
            .await;
        }
    };

    audits
        .create(&PostParams::default(), &auditor.object("audit", json!({})))
        .await
        .unwrap();
    active("false").await;
    assert!(!boxed.stats().scale_active());

    loader
        .api(&client, &ns)
        .create(&PostParams::default(), &loader.object("load", json!({})))
        .await
        .unwrap();
    active("true").await;
    assert_eq!(boxed.stats().snapshot()["workers"], 3);
    supervisor.stop().await.unwrap();
}
