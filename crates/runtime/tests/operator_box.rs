//! OperatorBox and Supervisor through real watches, with a stand-in reconcile (one ConfigMap
//! child per CR, a finalizer, a Ready condition) so that the box's own behaviour is what is
//! tested: drift through child watches, deletion, isolation between boxes, failing watches.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use runtime::operator_box::autoscale::Stats;
use runtime::{Action, BoxConfig, Metrics, OperatorBox, Reconcile, State, Supervisor};
use serde_json::{Value, json};

use crate::wait::eventually;

const FINALIZER: &str = "orkestra.orkspace.io/cleanup";

/// Installs a namespaced CRD `kind` (status subresource, any content) in a group unique to
/// this test.
async fn install_crd(client: &Client, kind: &str) -> ApiResource {
    let group = format!("{}.box.test", testenv::unique_name("g"));
    install_crd_in(client, &group, kind).await
}

/// The stand-in reconcile: mirrors `spec.message` into the ConfigMap `<cr>-child`.
struct Mirror {
    client: Client,
    resource: ApiResource,
    panics: bool,
    reconciles: AtomicUsize,
    forgotten: std::sync::Mutex<Vec<String>>,
}

impl Mirror {
    fn new(client: &Client, resource: &ApiResource) -> Arc<Self> {
        Arc::new(Self {
            client: client.clone(),
            resource: resource.clone(),
            panics: false,
            reconciles: AtomicUsize::new(0),
            forgotten: std::sync::Mutex::default(),
        })
    }

    fn panicking(client: &Client, resource: &ApiResource) -> Arc<Self> {
        Arc::new(Self {
            panics: true,
            ..Arc::into_inner(Self::new(client, resource)).unwrap()
        })
    }
}

impl Reconcile for Mirror {
    type Error = kube::Error;

    fn child_kinds(&self) -> Vec<(String, String)> {
        vec![("v1".into(), "ConfigMap".into())]
    }

    fn forget(&self, uid: &str) -> Vec<katalog::build::ObjectRef> {
        self.forgotten.lock().unwrap().push(uid.to_owned());
        Vec::new()
    }

    async fn reconcile(&self, cr: Arc<DynamicObject>, _: &Stats) -> Result<Action, kube::Error> {
        self.reconciles.fetch_add(1, Ordering::SeqCst);
        assert!(!self.panics, "this reconcile always panics");
        let namespace = cr.namespace().unwrap();
        let name = cr.name_any();
        let crs: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &namespace, &self.resource);
        let has_finalizer = cr.finalizers().iter().any(|f| f == FINALIZER);
        if cr.metadata.deletion_timestamp.is_some() {
            if has_finalizer {
                let rest: Vec<&String> =
                    cr.finalizers().iter().filter(|f| *f != FINALIZER).collect();
                let patch = json!({"metadata": {"finalizers": rest, "resourceVersion": cr.resource_version()}});
                crs.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                    .await?;
            }
            return Ok(Action::Done);
        }
        if !has_finalizer {
            let mut finalizers = cr.finalizers().to_vec();
            finalizers.push(FINALIZER.into());
            let patch = json!({"metadata": {"finalizers": finalizers}});
            crs.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await?;
        }
        let child = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": format!("{name}-child"),
                "namespace": namespace,
                "labels": {"orkestra.orkspace.io/managed": "true", "orkestra-owner": name},
                "ownerReferences": [{
                    "apiVersion": self.resource.api_version,
                    "kind": self.resource.kind,
                    "name": name,
                    "uid": cr.uid().unwrap(),
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "data": {"message": cr.data["spec"]["message"].as_str().unwrap_or_default()},
        });
        let children: Api<ConfigMap> = Api::namespaced(self.client.clone(), &namespace);
        children
            .patch(
                &format!("{name}-child"),
                &PatchParams::apply("orkestra").force(),
                &Patch::Apply(child),
            )
            .await?;
        if !is_ready(&cr) {
            let status = json!({"status": {"conditions": [
                {"type": "Ready", "status": "True", "reason": "Reconciled", "message": ""}]}});
            crs.patch_status(&name, &PatchParams::default(), &Patch::Merge(status))
                .await?;
        }
        Ok(Action::Done)
    }
}

fn is_ready(cr: &DynamicObject) -> bool {
    cr.data["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// A box that stops quickly and knows the stand-in's field manager (so its own child writes
/// queue nothing, while anyone else's do).
fn fast(config: BoxConfig) -> BoxConfig {
    config
        .workers(runtime::WorkersConfig::default().stop_timeout(Duration::from_secs(10)))
        .field_manager("orkestra")
}

async fn child_message(children: &Api<ConfigMap>, name: &str) -> Option<String> {
    let child = children.get_opt(&format!("{name}-child")).await.ok()??;
    child.data?.get("message").cloned()
}

fn cr(resource: &ApiResource, name: &str, message: &str) -> DynamicObject {
    let mut cr = DynamicObject::new(name, resource);
    cr.data = json!({"spec": {"message": message}});
    cr
}

#[tokio::test]
async fn a_cr_converges_through_the_watch_and_drift_is_corrected_within_two_seconds() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let namespace = testenv::namespace(&client, "box-drift").await;
    let resource = install_crd(&client, "Mirror").await;
    let mirror = Mirror::new(&client, &resource);
    let operator_box = OperatorBox::start(
        client.clone(),
        fast(BoxConfig::new("mirror", resource.clone(), true)),
        Arc::clone(&mirror),
        Metrics::new().crd("mirror"),
    );
    let crs: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &resource);
    let children: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    crs.create(&PostParams::default(), &cr(&resource, "web", "hello"))
        .await
        .unwrap();

    // Created: the child with its owner reference, and Ready=True on the CR.
    let child = eventually("the child", Duration::from_secs(10), || async {
        children.get_opt("web-child").await.ok()?
    })
    .await;
    let owner = &child.owner_references()[0];
    assert_eq!((owner.name.as_str(), owner.controller), ("web", Some(true)));
    eventually("Ready=True", Duration::from_secs(10), || async {
        is_ready(&crs.get("web").await.ok()?).then_some(())
    })
    .await;

    // A child changed by hand is reverted through the child watch, well before any resync.
    let edit = json!({"data": {"message": "changed by hand"}});
    children
        .patch("web-child", &PatchParams::default(), &Patch::Merge(edit))
        .await
        .unwrap();
    eventually("the edit reverted", Duration::from_secs(2), || async {
        (child_message(&children, "web").await? == "hello").then_some(())
    })
    .await;

    // A deleted child is recreated.
    children
        .delete("web-child", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the child recreated", Duration::from_secs(2), || async {
        let child = children.get_opt("web-child").await.ok()??;
        (child.uid() != Some(owner.uid.clone()) && child.metadata.deletion_timestamp.is_none())
            .then_some(())
    })
    .await;

    // A spec change updates the child.
    let update = json!({"spec": {"message": "bonjour"}});
    crs.patch("web", &PatchParams::default(), &Patch::Merge(update))
        .await
        .unwrap();
    eventually("the child updated", Duration::from_secs(5), || async {
        (child_message(&children, "web").await? == "bonjour").then_some(())
    })
    .await;

    // The steady state: no reconcile without a change (status writes are not changes).
    let settled = mirror.reconciles.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(mirror.reconciles.load(Ordering::SeqCst), settled);

    // Deleted: the finalizer goes, the CR goes (and the reconcile is told to forget it),
    // the child is garbage-collected.
    let uid = crs.get("web").await.unwrap().uid().unwrap();
    crs.delete("web", &DeleteParams::default()).await.unwrap();
    eventually("the CR gone", Duration::from_secs(10), || async {
        crs.get_opt("web").await.ok()?.is_none().then_some(())
    })
    .await;
    eventually("the CR forgotten", Duration::from_secs(5), || async {
        mirror
            .forgotten
            .lock()
            .unwrap()
            .contains(&uid)
            .then_some(())
    })
    .await;
    eventually("the child collected", Duration::from_secs(60), || async {
        children
            .get_opt("web-child")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    operator_box.stop().await.unwrap();
}

#[tokio::test]
async fn a_box_that_always_panics_does_not_keep_another_from_converging() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let namespace = testenv::namespace(&client, "box-isolation").await;
    let good = install_crd(&client, "Good").await;
    let bad = install_crd(&client, "Bad").await;
    let metrics = Metrics::new();
    let supervisor = Supervisor::from_boxes(vec![
        OperatorBox::start(
            client.clone(),
            fast(BoxConfig::new("bad", bad.clone(), true)),
            Mirror::panicking(&client, &bad),
            metrics.crd("bad"),
        ),
        OperatorBox::start(
            client.clone(),
            fast(BoxConfig::new("good", good.clone(), true)),
            Mirror::new(&client, &good),
            metrics.crd("good"),
        ),
    ]);
    let count = 20;
    for (resource, prefix) in [(&bad, "bad"), (&good, "good")] {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, resource);
        for i in 0..count {
            api.create(
                &PostParams::default(),
                &cr(resource, &format!("{prefix}-{i}"), "x"),
            )
            .await
            .unwrap();
        }
    }
    let children: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    eventually("every good CR's child", Duration::from_secs(30), || async {
        let list = children.list(&Default::default()).await.ok()?;
        let made = list
            .items
            .iter()
            .filter(|c| c.name_any().starts_with("good-"))
            .count();
        (made == count).then_some(())
    })
    .await;
    let list = children.list(&Default::default()).await.unwrap();
    assert!(!list.items.iter().any(|c| c.name_any().starts_with("bad-")));
    let bad_box = supervisor.operator_box("bad").unwrap();
    eventually(
        "the panicking box degraded",
        Duration::from_secs(10),
        || async { (bad_box.health().state() == State::Degraded).then_some(()) },
    )
    .await;
    assert!(
        bad_box
            .health()
            .snapshot("bad")
            .last_error
            .contains("reconciler panic")
    );
    assert_eq!(
        supervisor.operator_box("good").unwrap().health().state(),
        State::Healthy
    );
    let text = metrics.encode();
    assert!(text.contains(r#"controller_reconcile_total{crd="bad",result="error"}"#));
    supervisor.stop().await.unwrap();
}

/// Two boxes share one ConfigMap watch: when one stops, its route goes while the other's drift
/// is still corrected through the watch (well before a resync); the watch stops with the last.
#[tokio::test]
async fn a_shared_child_watch_outlives_a_stopped_box_and_stops_with_the_last() {
    use runtime::operator_box::child_watches::ChildWatches;

    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let namespace = testenv::namespace(&client, "box-shared").await;
    let first = install_crd(&client, "First").await;
    let second = install_crd(&client, "Second").await;
    let watches = ChildWatches::default();
    let metrics = Metrics::new();
    let start = |name: &str, resource: &ApiResource| {
        OperatorBox::start(
            client.clone(),
            fast(BoxConfig::new(name, resource.clone(), true)).child_watches(watches.clone()),
            Mirror::new(&client, resource),
            metrics.crd(name),
        )
    };
    let (one, two) = (start("first", &first), start("second", &second));
    assert_eq!(
        watches.subscribers(),
        [("ConfigMap.v1".to_owned(), 2)].into()
    );
    for (resource, name) in [(&first, "a"), (&second, "b")] {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, resource);
        api.create(&PostParams::default(), &cr(resource, name, "x"))
            .await
            .unwrap();
    }
    let children: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    for name in ["a", "b"] {
        eventually("both children", Duration::from_secs(30), || async {
            (child_message(&children, name).await? == "x").then_some(())
        })
        .await;
    }

    one.stop().await.unwrap();
    assert_eq!(
        watches.subscribers(),
        [("ConfigMap.v1".to_owned(), 1)].into()
    );
    let tamper = json!({"data": {"message": "tampered"}});
    children
        .patch("b-child", &PatchParams::default(), &Patch::Merge(&tamper))
        .await
        .unwrap();
    // The default resync is 30 s: only the child watch can set it back this soon.
    eventually(
        "the remaining box to correct its drift",
        Duration::from_secs(10),
        || async { (child_message(&children, "b").await? == "x").then_some(()) },
    )
    .await;

    two.stop().await.unwrap();
    assert_eq!(watches.running(), 0, "the watch outlived its last box");
}

/// A shared child watch caches no child of a kind no subscriber serves; a box of that kind
/// subscribing later makes it list again, so the box's view holds its children after all.
#[tokio::test]
async fn a_shared_child_watch_lists_again_for_a_later_box_whose_children_it_left_out() {
    use runtime::operator_box::child_watches::ChildWatches;
    use runtime::operator_box::children::ChildCache as _;

    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let namespace = testenv::namespace(&client, "box-late-kind").await;
    let first = install_crd(&client, "Early").await;
    let second = install_crd(&client, "Later").await;
    // A child of a `Later` CR before any box of that kind runs (not one its reconcile
    // declares, so nothing rewrites it).
    let crs: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &second);
    let b = crs
        .create(&PostParams::default(), &cr(&second, "b", "x"))
        .await
        .unwrap();
    let extra: ConfigMap = serde_json::from_value(json!({
        "metadata": {
            "name": "b-extra",
            "labels": {"orkestra.orkspace.io/managed": "true", "orkestra-owner": "b"},
            "ownerReferences": [{
                "apiVersion": second.api_version, "kind": second.kind, "name": "b",
                "uid": b.uid().unwrap(), "controller": true
            }]
        },
        "data": {"message": "x"}
    }))
    .unwrap();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    config_maps
        .create(&PostParams::default(), &extra)
        .await
        .unwrap();

    let watches = ChildWatches::default();
    let metrics = Metrics::new();
    let start = |name: &str, resource: &ApiResource| {
        OperatorBox::start(
            client.clone(),
            fast(BoxConfig::new(name, resource.clone(), true)).child_watches(watches.clone()),
            Mirror::new(&client, resource),
            metrics.crd(name),
        )
    };
    let cm = ApiResource::erase::<ConfigMap>(&());
    let one = start("early", &first);
    eventually(
        "the first box's view to be listed",
        Duration::from_secs(30),
        || async {
            one.children()
                .objects(&cm, Some(&namespace), "b")
                .map(|_| ())
        },
    )
    .await;
    let two = start("later", &second);
    let names = eventually(
        "the later box to see its child b-extra",
        Duration::from_secs(30),
        || async {
            let objects = two.children().objects(&cm, Some(&namespace), "b")?;
            let names: Vec<String> = objects
                .into_iter()
                .filter_map(|o| o.metadata.name)
                .collect();
            names.contains(&"b-extra".to_owned()).then_some(names)
        },
    )
    .await;
    assert!(names.iter().all(|n| n.starts_with("b-")), "{names:?}");
    one.stop().await.unwrap();
    two.stop().await.unwrap();
}

/// A stand-in reconcile that writes nothing: it records the `spec.message` of every CR it is
/// handed, with the instant, and asks to run again in 50 ms.
#[derive(Default)]
struct Witness {
    seen: std::sync::Mutex<Vec<(tokio::time::Instant, String)>>,
}

impl Witness {
    fn seen_since(&self, since: tokio::time::Instant) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|(at, _)| *at >= since)
            .map(|(_, message)| message.clone())
            .collect()
    }
}

impl Reconcile for Witness {
    type Error = kube::Error;

    async fn reconcile(&self, cr: Arc<DynamicObject>, _: &Stats) -> Result<Action, kube::Error> {
        let message = cr.data["spec"]["message"].as_str().unwrap_or_default();
        let now = tokio::time::Instant::now();
        self.seen.lock().unwrap().push((now, message.to_owned()));
        Ok(Action::RequeueAfter(Duration::from_millis(50)))
    }
}

/// The box's connections are cut and refused for 4 s while the CR changes: once the API
/// server is reachable again, no reconcile is handed the CR as it was before the cut. (kube's
/// watcher alone watches again from where it was, after its backoff, and until then the
/// cache still holds the old CR: a reconcile then rewrote what it had written before the cut.)
#[tokio::test]
async fn after_a_cut_connection_no_reconcile_sees_the_cr_as_it_was_before() {
    const OUTAGE: Duration = Duration::from_secs(4);
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let namespace = testenv::namespace(&client, "box-stale").await;
    let resource = install_crd(&client, "Stale").await;
    let proxy = cp.proxy().await.unwrap();
    let through_proxy = cp.client_through(&proxy).await.unwrap();
    let witness = Arc::new(Witness::default());
    let operator_box = OperatorBox::start(
        through_proxy,
        fast(BoxConfig::new("stale", resource.clone(), true)),
        Arc::clone(&witness),
        Metrics::new().crd("stale"),
    );
    let crs: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &resource);
    crs.create(&PostParams::default(), &cr(&resource, "web", "before"))
        .await
        .unwrap();
    let start = tokio::time::Instant::now();
    eventually("a reconcile of the CR", Duration::from_secs(10), || async {
        witness.seen_since(start).first().cloned()
    })
    .await;

    proxy.refuse_for(OUTAGE);
    let reset = proxy.cut();
    let back = tokio::time::Instant::now() + OUTAGE;
    assert!(reset > 0, "the box had no connection to cut");
    let patch = json!({"spec": {"message": "after"}});
    crs.patch("web", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap();
    eventually(
        "a reconcile of the changed CR",
        Duration::from_secs(40),
        || async {
            let seen = witness.seen_since(back);
            seen.iter().any(|m| m == "after").then_some(())
        },
    )
    .await;
    let stale: Vec<String> = witness
        .seen_since(back)
        .into_iter()
        .filter(|m| m != "after")
        .collect();
    assert!(
        stale.is_empty(),
        "{} reconciles after the API server was reachable again saw the CR as it was before the cut",
        stale.len()
    );
    operator_box.stop().await.unwrap();
}

#[tokio::test]
async fn a_box_waits_for_its_crd_and_says_so_in_health() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let namespace = testenv::namespace(&client, "box-missing").await;
    let group = format!("{}.box.test", testenv::unique_name("late"));
    let resource = ApiResource {
        group: group.clone(),
        version: "v1".into(),
        api_version: format!("{group}/v1"),
        kind: "Late".into(),
        plural: "lates".into(),
    };
    let operator_box = OperatorBox::start(
        client.clone(),
        fast(BoxConfig::new("late", resource.clone(), true)),
        Mirror::new(&client, &resource),
        Metrics::new().crd("late"),
    );
    eventually(
        "the watch error in health",
        Duration::from_secs(10),
        || async { operator_box.health().watch_error() },
    )
    .await;
    assert_eq!(operator_box.health().state(), State::Degraded);

    // The CRD appears: the box recovers on its own (the watch backs off up to 30 s).
    let installed = install_crd_in(&client, &group, "Late").await;
    assert_eq!(installed, resource);
    let crs: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &resource);
    crs.create(&PostParams::default(), &cr(&resource, "late", "at last"))
        .await
        .unwrap();
    let children: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    eventually("the child", Duration::from_secs(60), || async {
        (child_message(&children, "late").await? == "at last").then_some(())
    })
    .await;
    assert_eq!(operator_box.health().watch_error(), None);
    operator_box.stop().await.unwrap();
}

/// Installs a CRD through the runtime's own apply (JSON is YAML) and Established wait.
pub(crate) async fn install_crd_in(client: &Client, group: &str, kind: &str) -> ApiResource {
    let plural = format!("{}s", kind.to_lowercase());
    let crd: Value = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": plural, "kind": kind},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object",
                    "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crd.yaml");
    std::fs::write(&path, serde_json::to_string(&crd).unwrap()).unwrap();
    runtime::cluster::apply_file(client, &path).await.unwrap();
    runtime::cluster::wait_established(
        client,
        &format!("{plural}.{group}"),
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    ApiResource {
        group: group.into(),
        version: "v1".into(),
        api_version: format!("{group}/v1"),
        kind: kind.into(),
        plural,
    }
}
