//! Shared setup: a unique CRD per test, waiting on conditions with a deadline.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};

pub use testenv::eventually;

/// Asserts that none of `pids` is still running (zombies count as gone).
pub fn assert_all_gone(pids: &[u32]) {
    let alive: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|&p| testenv::is_alive(p))
        .collect();
    assert!(alive.is_empty(), "still running: {alive:?}");
}

/// A namespaced CRD `Widget` in a group unique to this test, with a status subresource.
pub struct TestCrd {
    pub resource: ApiResource,
}

impl TestCrd {
    pub async fn install(client: &kube::Client) -> Self {
        Self::install_in(client, &Self::unique_group()).await
    }

    /// A group name no other test uses.
    pub fn unique_group() -> String {
        format!("{}.ork.test", testenv::unique_name("g"))
    }

    /// Installs `Widget` in `group` and waits for it to be Established.
    pub async fn install_in(client: &kube::Client, group: &str) -> Self {
        let group = group.to_owned();
        let name = format!("widgets.{group}");
        let crd: CustomResourceDefinition = serde_json::from_value(serde_json::json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "spec": {
                "group": group,
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "versions": [{
                    "name": "v1", "served": true, "storage": true,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                        }
                    }}
                }]
            }
        }))
        .unwrap();
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        crds.create(&PostParams::default(), &crd).await.unwrap();
        eventually("the CRD to be Established", Duration::from_secs(30), || {
            let crds = crds.clone();
            let name = name.clone();
            async move {
                let crd = crds.get(&name).await.ok()?;
                let established = crd
                    .status?
                    .conditions?
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True");
                established.then_some(())
            }
        })
        .await;
        let gvk = GroupVersionKind::gvk(&group, "v1", "Widget");
        Self {
            resource: ApiResource::from_gvk_with_plural(&gvk, "widgets"),
        }
    }

    pub fn api(&self, client: &kube::Client, ns: &str) -> Api<DynamicObject> {
        Api::namespaced_with(client.clone(), ns, &self.resource)
    }

    pub fn object(&self, name: &str, spec: serde_json::Value) -> DynamicObject {
        let mut obj = DynamicObject::new(name, &self.resource);
        obj.data = serde_json::json!({ "spec": spec });
        obj
    }
}
