//! The Katalog of the idle and failover benchmarks: `crds` CRDs, each CR producing one
//! ConfigMap, and `crs` CRs spread over them round-robin in one namespace.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::{StreamExt as _, TryStreamExt as _};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};

use super::process::{Ork, Spawn};
use super::{Bench, CRD, LEASE_NAMESPACE, MANAGED, create_namespace, is_ready, poll};

/// The namespace of the fleet's CRs and their ConfigMaps.
const NAMESPACE: &str = "fleet";

/// A Katalog of `crds` CRDs, each with one ConfigMap child per CR.
pub struct Fleet {
    /// The Katalog file.
    pub katalog: PathBuf,
    /// The CRD names as the Katalog declares them (`idle0`, `idle1`, …).
    pub crds: Vec<String>,
    /// How many CRs exist.
    pub crs: usize,
}

impl Fleet {
    /// Writes the Katalog and its CRD files under `dir/fleet-<crds>`; creates no CR.
    pub fn write(dir: &Path, crds: usize) -> anyhow::Result<Self> {
        let dir = dir.join(format!("fleet-{crds}"));
        std::fs::create_dir_all(&dir)?;
        let mut katalog = String::from(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: fleet}\nspec:\n  crds:\n",
        );
        for i in 0..crds {
            std::fs::write(dir.join(format!("crd-{i}.yaml")), crd_text(i))?;
            katalog.push_str(&format!(
                "    idle{i}:\n      crdFile: ./crd-{i}.yaml\n      operatorBox:\n        onReconcile:\n          configMaps:\n            - name: \"{{{{ .metadata.name }}}}\"\n              data: {{k: v}}\n"
            ));
        }
        let path = dir.join("katalog.yaml");
        std::fs::write(&path, katalog)?;
        Ok(Self {
            katalog: path,
            crds: (0..crds).map(|i| format!("idle{i}")).collect(),
            crs: 0,
        })
    }

    /// Starts an `ork run` replica of the Katalog with leader election on (default durations),
    /// identity and log named `name`.
    pub fn replica(&self, bench: &Bench, name: &str) -> anyhow::Result<Ork> {
        Ork::start(&Spawn {
            katalog: &self.katalog,
            kubeconfig: &bench.kubeconfig,
            dir: &bench.dir,
            name,
            leader: Some(LEASE_NAMESPACE),
        })
    }

    /// The index of the replica that leads, once every one answers and exactly one leads.
    pub async fn leader(&self, replicas: &[&Ork], timeout: Duration) -> anyhow::Result<usize> {
        let crd = &self.crds[0];
        poll("exactly one leader", timeout, || async {
            let mut leaders = Vec::new();
            for (i, replica) in replicas.iter().enumerate() {
                if replica.is_konductor(crd).await? {
                    leaders.push(i);
                }
            }
            (leaders.len() == 1).then(|| leaders[0])
        })
        .await
    }

    /// Waits until `replica`'s watch caches hold every CR of the fleet (a follower's caches
    /// are warm).
    pub async fn cached(&self, replica: &Ork, timeout: Duration) -> anyhow::Result<()> {
        poll("every CR in the watch caches", timeout, || async {
            let mut cached = 0;
            for crd in &self.crds {
                cached += replica.cached(crd).await?;
            }
            (cached >= self.crs).then_some(())
        })
        .await
    }

    /// The API resource of CRD number `i`.
    fn resource(i: usize) -> ApiResource {
        ApiResource {
            group: "bench.ork.test".into(),
            version: "v1".into(),
            api_version: "bench.ork.test/v1".into(),
            kind: format!("Idle{i}"),
            plural: format!("idle{i}s"),
        }
    }

    /// Creates `crs` CRs (`c0`, `c1`, …; CR `k` of CRD `k mod crds`), `workers` at a time,
    /// once the CRDs are served (an `ork run` process installs them).
    pub async fn populate(
        &mut self,
        bench: &Bench,
        crs: usize,
        workers: usize,
    ) -> anyhow::Result<()> {
        let client = &bench.client;
        for i in 0..self.crds.len() {
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &Self::resource(i));
            poll(
                "the fleet's CRDs served",
                Duration::from_secs(120),
                || async {
                    api.list(&ListParams::default().limit(1))
                        .await
                        .ok()
                        .map(drop)
                },
            )
            .await?;
        }
        create_namespace(client, NAMESPACE).await?;
        let count = self.crds.len();
        futures::stream::iter(0..crs)
            .map(|k| async move {
                let resource = Self::resource(k % count);
                let api: Api<DynamicObject> =
                    Api::namespaced_with(client.clone(), NAMESPACE, &resource);
                let mut cr = DynamicObject::new(&format!("c{k}"), &resource);
                cr.data = serde_json::json!({"spec": {"n": k.to_string()}});
                api.create(&PostParams::default(), &cr).await.map(drop)
            })
            .buffer_unordered(workers.max(1))
            .try_collect::<Vec<()>>()
            .await?;
        self.crs = crs;
        Ok(())
    }

    /// Waits until every CR is `Ready=True` and every ConfigMap exists; how long that took.
    pub async fn converged(&self, client: &Client) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let maps: Api<ConfigMap> = Api::namespaced(client.clone(), NAMESPACE);
        poll("every CR converged", Duration::from_secs(600), || async {
            let children = maps
                .list_metadata(&ListParams::default().labels(MANAGED))
                .await
                .ok()?
                .items
                .len();
            if children < self.crs {
                return None;
            }
            let mut ready = 0;
            for i in 0..self.crds.len() {
                let api: Api<DynamicObject> =
                    Api::namespaced_with(client.clone(), NAMESPACE, &Self::resource(i));
                ready += api
                    .list(&ListParams::default())
                    .await
                    .ok()?
                    .items
                    .iter()
                    .filter(|cr| is_ready(cr))
                    .count();
            }
            (ready >= self.crs).then_some(())
        })
        .await?;
        Ok(started.elapsed())
    }
}

/// The fixture CRD renamed to `idle<i>` (kind `Idle<i>`).
pub fn crd_text(i: usize) -> String {
    CRD.replace("stacks", &format!("idle{i}s"))
        .replace("stack", &format!("idle{i}"))
        .replace("Stack", &format!("Idle{i}"))
}
