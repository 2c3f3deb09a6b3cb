//! The reconcile of one CR against a real control plane: each test installs a CRD of its own
//! group, loads a small Katalog, and calls `Reconciler::reconcile` directly with the CR as read
//! from the API server (the watch-driven flow is the OperatorBox's to test).

mod apply;
mod budget;
mod delete;
mod emit;
mod gone;
mod invalid;
mod packs;
mod restart;
mod rollback;
mod secrets;
mod status;
mod template_parity;

use std::future::Future;
use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use runtime::reconcile::{Action, Error, Reconciler, ReconcilerConfig, Surroundings};

// The CRD installer and `eventually` of testenv's own tests, shared rather than copied.
#[path = "../../../testenv/tests/util.rs"]
#[allow(dead_code)]
pub mod util;

pub use util::eventually;

/// One test's world: a namespace, a CRD `Widget` of a unique group, a Katalog for it, a
/// Reconciler writing as a user of its own (so its writes can be counted in the audit log).
pub struct World {
    pub cp: &'static testenv::ControlPlane,
    /// Admin client, for the test's own actions.
    pub admin: kube::Client,
    /// The identity the Reconciler writes as, and a client of it.
    pub user: String,
    pub ork: kube::Client,
    pub ns: String,
    pub resource: ApiResource,
    pub reconciler: Reconciler,
    katalog: katalog::Katalog,
    config: ReconcilerConfig,
    _dir: tempfile::TempDir,
}

impl World {
    /// Installs the CRD and builds a Reconciler from `operator_box` (YAML, indented for
    /// `spec.crds.widget.operatorBox`) and `entry` (extra YAML keys of the CRD entry,
    /// indented the same as `operatorBox`).
    pub async fn new(prefix: &str, entry: &str, operator_box: &str) -> World {
        Self::new_with(prefix, entry, operator_box, ReconcilerConfig::default()).await
    }

    pub async fn new_with(
        prefix: &str,
        entry: &str,
        operator_box: &str,
        config: ReconcilerConfig,
    ) -> World {
        Self::new_in_document(prefix, "", entry, operator_box, config).await
    }

    /// [`World::new_with`], with `document` (top-level keys such as `notification:`) written
    /// before `spec:`.
    pub async fn new_in_document(
        prefix: &str,
        document: &str,
        entry: &str,
        operator_box: &str,
        config: ReconcilerConfig,
    ) -> World {
        let cp = testenv::shared().await;
        let admin = cp.client().await.unwrap();
        let ns = testenv::namespace(&admin, prefix).await;
        let widgets = util::TestCrd::install(&admin).await;
        let group = widgets.resource.group.clone();
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: {prefix}-katalog}}
{document}
spec:
  crds:
    widget:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
{entry}
      operatorBox:
{operator_box}
"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("katalog.yaml");
        std::fs::write(&path, &text).unwrap();
        let loaded = katalog::load(&path)
            .unwrap_or_else(|d| panic!("the test Katalog is invalid: {d:?}\n{text}"));
        let user = testenv::unique_name("ork-test");
        let client = cp
            .client_as(&testenv::Identity::user(&user, &["system:masters"]))
            .await
            .unwrap();
        let crd = loaded.katalog.crd("widget").unwrap();
        let reconciler =
            Reconciler::new(&loaded.katalog, crd, client.clone(), config.clone()).unwrap();
        World {
            cp,
            admin,
            user,
            ork: client,
            ns,
            resource: widgets.resource,
            reconciler,
            katalog: loaded.katalog,
            config,
            _dir: dir,
        }
    }

    /// Replaces the Reconciler by a new one, as a restarted ork has: nothing remembered.
    pub fn restart(&mut self) {
        let crd = self.katalog.crd("widget").unwrap();
        self.reconciler =
            Reconciler::new(&self.katalog, crd, self.ork.clone(), self.config.clone()).unwrap();
    }

    pub fn crs(&self) -> Api<DynamicObject> {
        Api::namespaced_with(self.admin.clone(), &self.ns, &self.resource)
    }

    pub fn config_maps(&self) -> Api<ConfigMap> {
        Api::namespaced(self.admin.clone(), &self.ns)
    }

    /// Creates a CR with this spec.
    pub async fn create(&self, name: &str, spec: serde_json::Value) -> DynamicObject {
        let obj = util::TestCrd {
            resource: self.resource.clone(),
        }
        .object(name, spec);
        self.crs()
            .create(&PostParams::default(), &obj)
            .await
            .unwrap()
    }

    /// The CR as the API server has it now.
    pub async fn get(&self, name: &str) -> Arc<DynamicObject> {
        Arc::new(self.crs().get(name).await.unwrap())
    }

    /// Reads the CR and reconciles it once.
    pub async fn reconcile(&self, name: &str) -> Result<Action, Error> {
        let cr = self.get(name).await;
        self.reconciler
            .reconcile(cr, &Surroundings::default())
            .await
    }

    /// Replaces the CR's spec (merge patch).
    pub async fn set_spec(&self, name: &str, spec: serde_json::Value) {
        let patch = serde_json::json!({ "spec": spec });
        self.crs()
            .patch(
                name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(&patch),
            )
            .await
            .unwrap();
    }

    /// Reasons of the Events about the CR `name`.
    pub async fn event_reasons(&self, name: &str) -> Vec<String> {
        let events: Api<Event> = Api::namespaced(self.admin.clone(), &self.ns);
        events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| {
                e.regarding
                    .as_ref()
                    .is_some_and(|r| r.name.as_deref() == Some(name))
            })
            .filter_map(|e| e.reason)
            .collect()
    }

    /// The write requests the Reconciler's identity makes while `f` runs, from the audit
    /// log. Marker writes by the same identity before and after fence the window, so audit
    /// events still being written cannot be missed or miscounted.
    pub async fn writes_during<F: Future<Output = T>, T>(&self, f: F) -> (T, Vec<String>) {
        let markers: Api<ConfigMap> = Api::namespaced(self.ork.clone(), &self.ns);
        let before = testenv::unique_name("marker-before");
        markers
            .create(&PostParams::default(), &marker(&before))
            .await
            .unwrap();
        let out = f.await;
        let after = testenv::unique_name("marker-after");
        markers
            .create(&PostParams::default(), &marker(&after))
            .await
            .unwrap();
        let path = self.cp.audit_log_path();
        let user = self.user.clone();
        let writes = eventually(
            "the marker in the audit log",
            Duration::from_secs(20),
            || {
                let path = path.clone();
                let (user, before, after) = (user.clone(), before.clone(), after.clone());
                async move { audit_window(&path, &user, &before, &after) }
            },
        )
        .await;
        (out, writes)
    }
}

fn marker(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_owned()),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The writes of `user` between the creation of `before` and of `after` (as `verb resource
/// name`, `verb resource/subresource name` for a subresource), or `None` while `after` is
/// not logged yet.
fn audit_window(
    path: &std::path::Path,
    user: &str,
    before: &str,
    after: &str,
) -> Option<Vec<String>> {
    let file = std::fs::File::open(path).ok()?;
    let mut inside = false;
    let mut writes = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let Ok(line) = line else { continue };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if v["user"]["username"] != user || v["stage"] != "ResponseComplete" {
            continue;
        }
        let name = v["objectRef"]["name"].as_str().unwrap_or_default();
        if name == before {
            inside = true;
            continue;
        }
        if name == after {
            return Some(writes);
        }
        if inside {
            let resource = v["objectRef"]["resource"].as_str().unwrap_or_default();
            let resource = match v["objectRef"]["subresource"].as_str() {
                Some(sub) => format!("{resource}/{sub}"),
                None => resource.to_owned(),
            };
            writes.push(format!(
                "{} {resource} {name}",
                v["verb"].as_str().unwrap_or_default(),
            ));
        }
    }
    None
}

/// The condition of `type_` in the CR's status.
pub fn condition(cr: &DynamicObject, type_: &str) -> serde_json::Value {
    cr.data["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
        .cloned()
        .unwrap_or_else(|| panic!("no {type_} condition in {:?}", cr.data.get("status")))
}
