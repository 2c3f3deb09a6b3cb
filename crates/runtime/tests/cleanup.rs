//! ork deletes the children of a gone CR itself (`operator_box::cleanup`), on a control plane
//! **without kube-controller-manager**: no garbage collector runs, so whatever disappears was
//! deleted by ork.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use runtime::Metrics;
use runtime::operator_box::cleanup::{Outcome, delete_orphan};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::OnceCell;

use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

/// This module's control plane: etcd and kube-apiserver only (the binary's shared one runs
/// the garbage collector). Stopped by testenv's janitor when the test binary exits.
async fn without_gc() -> &'static testenv::ControlPlane {
    static PLANE: OnceCell<testenv::ControlPlane> = OnceCell::const_new();
    PLANE
        .get_or_init(|| async {
            let config = testenv::Config::new().controller_manager(false);
            testenv::ControlPlane::start(config).await.unwrap()
        })
        .await
}

/// A Katalog of one CRD `web` (Widget of `group`) whose CRs carry no finalizer of ork's and
/// produce a ConfigMap `<name>-cm` and a ServiceAccount `<name>-sa`.
fn katalog(group: &str) -> String {
    format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: cleanup}}
spec:
  crds:
    web:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        runtime: {{removeFinalizers: true}}
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-cm'
              data: {{a: b}}
          serviceAccounts:
            - name: '{{{{ .metadata.name }}}}-sa'
"
    )
}

/// Waits for the ConfigMap `<cr>-cm` and the ServiceAccount `<cr>-sa` to exist (`true`) or
/// to be gone (`false`).
async fn children_exist(client: &kube::Client, ns: &str, cr: &str, exist: bool) {
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let service_accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    let what = format!(
        "{cr}'s children to {}",
        if exist { "exist" } else { "be gone" }
    );
    eventually(&what, WAIT, || {
        let (config_maps, service_accounts) = (config_maps.clone(), service_accounts.clone());
        async move {
            let cm = config_maps.get_opt(&format!("{cr}-cm")).await.unwrap();
            let sa = service_accounts.get_opt(&format!("{cr}-sa")).await.unwrap();
            (cm.is_some() == exist && sa.is_some() == exist).then_some(())
        }
    })
    .await;
}

/// A ConfigMap `name` whose ownerReferences are `owners` (`(uid, controller)`, all of kind
/// Widget named `site`).
fn config_map(name: &str, owners: &[(&str, bool)]) -> ConfigMap {
    let references: Vec<_> = owners
        .iter()
        .map(|(uid, controller)| {
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "name": "site",
                   "uid": uid, "controller": controller})
        })
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": name, "ownerReferences": references},
        "data": {"a": "b"},
    }))
    .unwrap()
}

/// Adds a non-controller ownerReference to a ConfigMap `owner` with `uid` (strategic merge:
/// the other references stay).
async fn add_owner(config_maps: &Api<ConfigMap>, name: &str, owner: &str, uid: &str) {
    let patch = json!({"metadata": {"ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": owner, "uid": uid}
    ]}});
    config_maps
        .patch(name, &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_gone_crs_sole_children_are_deleted_by_ork_and_shared_ones_left() {
    let cp = without_gc().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "cleanup").await;
    let crd = TestCrd::install(&client).await;
    let (_dir, loaded) = crate::support::katalog_file(&katalog(&crd.resource.group));
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let crs = crd.api(&client, &ns);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let service_accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    for name in ["site", "shared"] {
        crs.create(&PostParams::default(), &crd.object(name, json!({})))
            .await
            .unwrap();
    }
    for cr in ["site", "shared"] {
        children_exist(&client, &ns, cr, true).await;
    }
    // `shared-cm` gets a second owner: only the garbage collector may judge it.
    let anchor = config_maps
        .create(&PostParams::default(), &config_map("anchor", &[]))
        .await
        .unwrap();
    let anchor_uid = anchor.metadata.uid.unwrap();
    add_owner(&config_maps, "shared-cm", "anchor", &anchor_uid).await;

    let started = Instant::now();
    for name in ["site", "shared"] {
        crs.delete(name, &DeleteParams::default()).await.unwrap();
        assert!(crs.get_opt(name).await.unwrap().is_none(), "{name} is held");
    }
    children_exist(&client, &ns, "site", false).await;
    eprintln!(
        "a gone CR's two children were deleted {} ms after the CR (polled every 100 ms)",
        started.elapsed().as_millis()
    );
    eventually("shared-cm to be judged", WAIT, || async {
        let text = metrics.encode();
        let line = "orkestra_orphan_cleanup_total{crd=\"web\",result=\"shared\"} 1";
        text.lines().any(|l| l == line).then_some(())
    })
    .await;
    // `shared-sa` has the CR as its only owner: deleted too; `shared-cm` stays.
    eventually("shared-sa to be deleted", WAIT, || {
        let service_accounts = service_accounts.clone();
        async move {
            let sa = service_accounts.get_opt("shared-sa").await.unwrap();
            sa.is_none().then_some(())
        }
    })
    .await;
    assert!(config_maps.get_opt("shared-cm").await.unwrap().is_some());
    crate::support::assert_series(
        &metrics,
        &[
            "orkestra_orphan_cleanup_total{crd=\"web\",result=\"deleted\"} 3",
            "orkestra_orphan_cleanup_total{crd=\"web\",result=\"shared\"} 1",
        ],
    );
    supervisor.stop().await.unwrap();
}

/// The judging and the preconditions of one DELETE, on children as a stale cache saw them.
#[tokio::test]
async fn a_child_recreated_or_given_another_owner_since_it_was_seen_is_not_deleted() {
    let cp = without_gc().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "cleanup-stale").await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"));
    let dynamic: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource);
    let create = |name: &'static str, owner: &'static str| {
        let config_maps = config_maps.clone();
        async move {
            config_maps
                .create(&PostParams::default(), &config_map(name, &[(owner, true)]))
                .await
                .unwrap()
        }
    };
    let seen = |name: &'static str| {
        let dynamic = dynamic.clone();
        async move { dynamic.get(name).await.unwrap() }
    };

    // Deleted and recreated for a new CR of the same name (another CR uid, another uid).
    create("recreated", "u-old").await;
    let stale = seen("recreated").await;
    config_maps
        .delete("recreated", &DeleteParams::default())
        .await
        .unwrap();
    let new = create("recreated", "u-new").await;
    let outcome = delete_orphan(&client, &resource, &stale, "u-old").await;
    assert_eq!(outcome.unwrap(), Outcome::Gone);
    let live = config_maps.get("recreated").await.unwrap();
    assert_eq!(live.metadata.uid, new.metadata.uid);

    // Given a second owner after it was seen: the resourceVersion precondition fails, the
    // child is read again and left alone.
    create("reowned", "u-old").await;
    let stale = seen("reowned").await;
    add_owner(&config_maps, "reowned", "someone", "u-someone").await;
    let outcome = delete_orphan(&client, &resource, &stale, "u-old").await;
    assert_eq!(outcome.unwrap(), Outcome::Shared);
    assert!(config_maps.get_opt("reowned").await.unwrap().is_some());

    // Controlled by another CR: never deleted.
    create("stranger", "u-other").await;
    let outcome = delete_orphan(&client, &resource, &seen("stranger").await, "u-old").await;
    assert_eq!(outcome.unwrap(), Outcome::Gone);
    assert!(config_maps.get_opt("stranger").await.unwrap().is_some());

    // The CR's alone: deleted; asked again, it is gone already (404).
    create("sole", "u-old").await;
    let stale = seen("sole").await;
    let outcome = delete_orphan(&client, &resource, &stale, "u-old").await;
    assert_eq!(outcome.unwrap(), Outcome::Deleted);
    let outcome = delete_orphan(&client, &resource, &stale, "u-old").await;
    assert_eq!(outcome.unwrap(), Outcome::Gone);
    assert!(config_maps.get_opt("sole").await.unwrap().is_none());
}

/// A follower's box sees the CR go too, but deletes nothing: only the leader's box does.
#[tokio::test]
async fn a_follower_leaves_a_gone_crs_children_alone() {
    let cp = without_gc().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "cleanup-follower").await;
    let crd = TestCrd::install(&client).await;
    let (_dir, loaded) = crate::support::katalog_file(&katalog(&crd.resource.group));
    let metrics = Metrics::new();
    let (leading, receiver) = tokio::sync::watch::channel(true);
    let supervisor = runtime::Supervisor::start_katalog(
        &client,
        &loaded.katalog,
        &metrics,
        Duration::from_secs(10),
        receiver,
    )
    .await
    .unwrap();
    let web = supervisor.operator_box("web").unwrap();
    let crs = crd.api(&client, &ns);
    for cr in ["left", "probe"] {
        crs.create(&PostParams::default(), &crd.object(cr, json!({})))
            .await
            .unwrap();
        children_exist(&client, &ns, cr, true).await;
    }

    leading.send_replace(false);
    eventually("the box to follow", WAIT, || async {
        (!web.is_active()).then_some(())
    })
    .await;
    crs.delete("left", &DeleteParams::default()).await.unwrap();
    eventually("the follower's cache to lose `left`", WAIT, || async {
        (web.store().len() == 1).then_some(())
    })
    .await;

    // Leading again, a CR deleted now loses its children: `left`'s were never queued.
    leading.send_replace(true);
    eventually("the box to lead", WAIT, || async {
        web.is_active().then_some(())
    })
    .await;
    crs.delete("probe", &DeleteParams::default()).await.unwrap();
    children_exist(&client, &ns, "probe", false).await;
    children_exist(&client, &ns, "left", true).await;
    crate::support::assert_series(
        &metrics,
        &["orkestra_orphan_cleanup_total{crd=\"web\",result=\"deleted\"} 2"],
    );
    supervisor.stop().await.unwrap();
}

/// A loopback HTTP server answering `200 ok` at once, except a request for `held` (a path),
/// answered only once the test [`Hold::release`]s it; it records every request line.
struct Hold {
    url: String,
    release: tokio::sync::watch::Sender<bool>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Hold {
    async fn start(held: &'static str) -> Hold {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (release, released) = tokio::sync::watch::channel(false);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let (mut released, recorded) = (released.clone(), Arc::clone(&recorded));
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16384];
                    while let Ok(n) = conn.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                        let line = text.lines().next().unwrap_or_default().to_owned();
                        recorded.lock().unwrap().push(line.clone());
                        if line.contains(held) && released.wait_for(|r| *r).await.is_err() {
                            return;
                        }
                        let reply = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if conn.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Hold { url, release, seen }
    }

    fn has_seen(&self, path: &str) -> bool {
        self.seen.lock().unwrap().iter().any(|l| l.contains(path))
    }

    fn release(&self) {
        self.release.send_replace(true);
    }
}

/// The gap the cleanup once admitted: a reconcile already running when its CR went wrote a
/// child after the cleanup had deleted the CR's children. Held in an `external:` call (the
/// test's server answers only when told), the reconcile of a spec change is in flight while
/// the CR is deleted and its first child deleted by ork; released, it re-creates the child,
/// and the box deletes it once that reconcile ends. No garbage collector runs here: without
/// that second cleanup, the child would stay forever.
#[tokio::test]
async fn a_child_written_by_a_reconcile_running_when_its_cr_went_is_deleted_too() {
    let cp = without_gc().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "cleanup-late").await;
    let crd = TestCrd::install(&client).await;
    let hold = Hold::start("/hold/two").await;
    let group = &crd.resource.group;
    let url = &hold.url;
    let (_dir, loaded) = crate::support::katalog_file(&format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: cleanup-late}}
spec:
  crds:
    web:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        runtime: {{removeFinalizers: true}}
        onReconcile:
          external:
            - {{name: hold, url: '{url}/hold/{{{{ .spec.v }}}}', timeout: 60s}}
          configMaps:
            - name: '{{{{ .metadata.name }}}}-cm'
              data: {{v: '{{{{ .spec.v }}}}'}}
"
    ));
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let web = supervisor.operator_box("web").unwrap();
    let crs = crd.api(&client, &ns);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let cm_holds = |v: Option<&'static str>| {
        let config_maps = config_maps.clone();
        async move {
            let cm = config_maps.get_opt("late-cm").await.unwrap();
            let value = cm.and_then(|cm| cm.data?.get("v").cloned());
            (value.as_deref() == v).then_some(())
        }
    };
    crs.create(
        &PostParams::default(),
        &crd.object("late", json!({"v": "one"})),
    )
    .await
    .unwrap();
    eventually("late-cm to hold one", WAIT, || cm_holds(Some("one"))).await;

    // The reconcile of `two` waits in its call.
    let two = json!({"spec": {"v": "two"}});
    crs.patch("late", &PatchParams::default(), &Patch::Merge(&two))
        .await
        .unwrap();
    eventually("the reconcile of two to be in its call", WAIT, || async {
        hold.has_seen("/hold/two").then_some(())
    })
    .await;
    assert_eq!(web.active().get(), 1);

    // The CR goes (no finalizer of ork's); ork deletes its child at once.
    crs.delete("late", &DeleteParams::default()).await.unwrap();
    assert!(crs.get_opt("late").await.unwrap().is_none(), "late is held");
    eventually("late-cm to be deleted", WAIT, || cm_holds(None)).await;
    assert_eq!(web.active().get(), 1, "the reconcile of two ended early");

    // Released, the reconcile writes `late-cm` again, for a CR that is gone; once it ends,
    // the box deletes that child too.
    hold.release();
    eventually("the second late-cm to be deleted", WAIT, || async {
        let text = metrics.encode();
        let line = "orkestra_orphan_cleanup_total{crd=\"web\",result=\"deleted\"} 2";
        (text.lines().any(|l| l == line) && web.active().get() == 0).then_some(())
    })
    .await;
    // Nothing runs any more that could write it: it stays gone.
    assert!(config_maps.get_opt("late-cm").await.unwrap().is_none());
    supervisor.stop().await.unwrap();
}
