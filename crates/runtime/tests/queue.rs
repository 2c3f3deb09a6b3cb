//! The queue settings of a CRD against a real control plane: `queue.behaviour` drops new items
//! past its threshold and resync brings them back, `retryBackoff.maxAttempts` stops the
//! retries of a failing CR, and `reconcileGate.eventAware` keeps an event that coalescing
//! would hide.
//!
//! The reconcile is a stand-in that records what it sees, and holds the box's only worker
//! while it reconciles the CR `blocker`: so what waits in the queue, and hence what is
//! dropped or merged, is known exactly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::ResourceExt;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use runtime::operator_box::autoscale::Stats;
use runtime::{Action, BoxConfig, Metrics, OperatorBox, Reconcile};
use serde_json::json;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

/// The stand-in reconcile: records `(name, generation)` of each reconcile; `blocker` waits
/// until released; names starting with `failing` always fail, with `flaky` the first time.
struct Recorder {
    seen: Mutex<Vec<(String, i64)>>,
    release: tokio::sync::watch::Receiver<bool>,
}

impl Recorder {
    fn new() -> (Arc<Self>, tokio::sync::watch::Sender<bool>) {
        let (release, receiver) = tokio::sync::watch::channel(false);
        let recorder = Arc::new(Self {
            seen: Mutex::default(),
            release: receiver,
        });
        (recorder, release)
    }

    fn count(&self, name: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _)| n == name)
            .count()
    }

    fn saw(&self, name: &str, generation: i64) -> bool {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .any(|(n, g)| n == name && *g == generation)
    }

    async fn wait_for(&self, name: &str) {
        eventually(&format!("{name} to be reconciled"), WAIT, || async {
            (self.count(name) > 0).then_some(())
        })
        .await;
    }
}

impl Reconcile for Recorder {
    type Error = String;

    async fn reconcile(&self, cr: Arc<DynamicObject>, _: &Stats) -> Result<Action, String> {
        let name = cr.name_any();
        let generation = cr.metadata.generation.unwrap_or_default();
        self.seen.lock().unwrap().push((name.clone(), generation));
        if name == "blocker" {
            let _ = self.release.clone().wait_for(|released| *released).await;
        }
        if name.starts_with("failing") {
            return Err(format!("{name} always fails"));
        }
        if name.starts_with("flaky") && self.count(&name) == 1 {
            return Err(format!("{name} fails its first attempt"));
        }
        Ok(Action::Done)
    }
}

/// A box for the CRD `web` of a Katalog whose `operatorBox` holds `operator_box` (flow-style
/// keys, one per line, indented for `operatorBox:`), on a fresh CRD in a fresh namespace.
struct Setup {
    client: kube::Client,
    crd: TestCrd,
    ns: String,
    metrics: Metrics,
    web: OperatorBox,
    recorder: Arc<Recorder>,
    release: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl Setup {
    async fn start(prefix: &str, operator_box: &str) -> Self {
        let cp = testenv::shared().await;
        let client = cp.client().await.unwrap();
        let ns = testenv::namespace(&client, prefix).await;
        let crd = TestCrd::install(&client).await;
        let (dir, loaded) = crate::support::katalog_file(&format!(
            "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: queue}}
spec:
  crds:
    web:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
{operator_box}
",
            group = crd.resource.group,
        ));
        let config = BoxConfig::from_crd(loaded.katalog.crd("web").unwrap())
            .namespace(Some(ns.clone()))
            .stop_timeout(Duration::from_secs(5));
        let (recorder, release) = Recorder::new();
        let metrics = Metrics::new();
        let web = OperatorBox::start(
            client.clone(),
            config,
            Arc::clone(&recorder),
            metrics.crd("web"),
        );
        web.wait_synced().await;
        Self {
            client,
            crd,
            ns,
            metrics,
            web,
            recorder,
            release,
            _dir: dir,
        }
    }

    async fn create(&self, name: &str) {
        self.crd
            .api(&self.client, &self.ns)
            .create(
                &PostParams::default(),
                &self.crd.object(name, json!({"value": name})),
            )
            .await
            .unwrap();
    }

    /// Creates `blocker` and waits until the only worker is inside its reconcile.
    async fn block(&self) {
        self.create("blocker").await;
        self.recorder.wait_for("blocker").await;
    }

    fn waiting(&self) -> usize {
        self.web.intake().len()
    }

    /// The value of the series `series` (name and labels), 0 when it is not printed.
    fn series(&self, series: &str) -> u64 {
        let text = self.metrics.encode();
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0)
    }
}

#[tokio::test]
async fn a_threshold_drops_event_bursts_and_resync_brings_the_crs_back() {
    // Items dropped at 50 % of 4 (two waiting) when their event changed the generation;
    // resync events change nothing, so they are never dropped.
    let setup = Setup::start(
        "qdrop",
        "        reconciler:
          workers: 1
          resync: 2s
          queue:
            maxDepth: 4
            behaviour:
              onThreshold:
                value: 50
                when: [{field: sentinels.generationChanged, equals: 'true'}]
        preReconcile: {sentinels: [generationChanged]}",
    )
    .await;
    setup.block().await;
    for name in ["c1", "c2", "c3", "c4", "c5"] {
        setup.create(name).await;
    }
    let dropped = r#"controller_queue_dropped_total{crd="web",rule="onThreshold"}"#;
    eventually("c3, c4 and c5 to be dropped", WAIT, || async {
        (setup.series(dropped) == 3).then_some(())
    })
    .await;
    assert_eq!(
        setup.waiting(),
        2,
        "c1 and c2 wait; the queue holds no more"
    );
    assert_eq!(setup.recorder.count("c3"), 0);

    setup.release.send_replace(true);
    for name in ["c1", "c2", "c3", "c4", "c5"] {
        setup.recorder.wait_for(name).await;
    }
    assert_eq!(setup.series(dropped), 3, "resync items are not dropped");
    setup.web.stop().await.unwrap();
}

#[tokio::test]
async fn max_attempts_stops_the_retries_of_a_failing_cr_until_it_changes() {
    let setup = Setup::start(
        "qattempts",
        "        reconciler:
          workers: 1
          resync: 1h
          queue:
            retryBackoff: {initial: 10ms, max: 10ms, multiplier: 1, maxAttempts: 3}",
    )
    .await;
    setup.create("failing").await;
    let errors = r#"controller_reconcile_total{crd="web",result="error"}"#;
    eventually("three failed attempts", WAIT, || async {
        (setup.recorder.count("failing") == 3 && setup.series(errors) == 3).then_some(())
    })
    .await;
    // A fourth attempt would be due 10 ms after the third. Each barrier is queued behind it
    // (one worker, first in first out) and takes longer than that to arrive: once both are
    // reconciled, a fourth attempt would have run.
    for barrier in ["barrier-1", "barrier-2"] {
        setup.create(barrier).await;
        setup.recorder.wait_for(barrier).await;
    }
    assert_eq!(setup.recorder.count("failing"), 3, "no fourth attempt");
    assert_eq!(setup.series(errors), 3);

    // A change queues it again, with a fresh budget of attempts.
    setup
        .crd
        .api(&setup.client, &setup.ns)
        .patch(
            "failing",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"value": "changed"}})),
        )
        .await
        .unwrap();
    eventually("three more attempts", WAIT, || async {
        (setup.recorder.count("failing") == 6).then_some(())
    })
    .await;
    setup.web.stop().await.unwrap();
}

/// Reconciles `site`, then, while the only worker is held, changes its spec and then only
/// its labels, and releases the worker. Returns whether the spec change (generation 2) was
/// reconciled, and how many items `site` had in the queue meanwhile.
async fn spec_then_label_edit(event_aware: bool) -> (bool, usize) {
    let setup = Setup::start(
        if event_aware { "qevents" } else { "qmerged" },
        &format!(
            "        reconciler: {{workers: 1, resync: 1h}}
        preReconcile:
          sentinels: [generationChanged, labelsChanged]
          reconcileGate: {{sentinels: [generationChanged], eventAware: {event_aware}}}"
        ),
    )
    .await;
    setup.create("site").await;
    setup.recorder.wait_for("site").await;
    setup.block().await;
    let api = setup.crd.api(&setup.client, &setup.ns);
    for patch in [
        json!({"spec": {"value": "v2"}}),
        json!({"metadata": {"labels": {"tier": "gold"}}}),
    ] {
        api.patch("site", &PatchParams::default(), &Patch::Merge(patch))
            .await
            .unwrap();
    }
    let expected = if event_aware { 2 } else { 1 };
    eventually("both edits to be queued", WAIT, || async {
        let labelled = setup
            .web
            .store()
            .state()
            .iter()
            .any(|o| o.name_any() == "site" && o.labels().contains_key("tier"));
        (labelled && setup.waiting() == expected).then_some(())
    })
    .await;
    let waiting = setup.waiting();
    setup.release.send_replace(true);
    // Queued behind every item of `site`: once it is reconciled, they were all taken.
    setup.create("barrier").await;
    setup.recorder.wait_for("barrier").await;
    let reconciled = setup.recorder.saw("site", 2);
    setup.web.stop().await.unwrap();
    (reconciled, waiting)
}

#[tokio::test]
async fn coalescing_hides_a_spec_change_behind_a_label_edit() {
    // Without eventAware the label edit's sentinels (generation unchanged) replace the spec
    // change's: the gate holds the one merged item.
    assert_eq!(spec_then_label_edit(false).await, (false, 1));
}

#[tokio::test]
async fn an_event_aware_reconcile_gate_sees_every_event() {
    assert_eq!(spec_then_label_edit(true).await, (true, 2));
}

#[tokio::test]
async fn the_retry_of_a_failed_reconcile_keeps_the_sentinels_of_its_event() {
    // Had the retry lost the create's sentinels, it would be judged as a resync (nothing
    // changed) and held by the gate.
    let setup = Setup::start(
        "qretry",
        "        reconciler:
          workers: 1
          resync: 1h
          queue:
            retryBackoff: {initial: 10ms, max: 10ms}
        preReconcile:
          sentinels: [generationChanged]
          reconcileGate: {sentinels: [generationChanged]}",
    )
    .await;
    setup.create("flaky").await;
    eventually("the retry to be reconciled", WAIT, || async {
        (setup.recorder.count("flaky") == 2).then_some(())
    })
    .await;
    setup.web.stop().await.unwrap();
}
