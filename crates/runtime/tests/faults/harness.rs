//! One runtime process (`runtime::run` in a task, as `ork run` runs it) on a dedicated control
//! plane, the CRs it converges, and the checks that say it converged.
//!
//! The runtime authenticates as an ordinary user bound to `cluster-admin` (never
//! `system:masters`, which the API server exempts from its in-flight limits), so a starved API
//! server throttles it and the audit log tells its writes apart.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, ObjectMeta, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use testenv::{Config, ControlPlane, FaultProxy, Identity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The namespace every test's CRs live in (each test has its own control plane).
pub const NAMESPACE: &str = "faults";
/// The label every child carries.
const MANAGED: &str = "orkestra.orkspace.io/managed=true";
/// The children each CR gets, by name suffix: two ConfigMaps and a ServiceAccount.
const CONFIG_MAPS: [&str; 2] = ["-a", "-b"];
const SERVICE_ACCOUNT: &str = "-sa";

const KATALOG: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: faults}
spec:
  crds:
    stack:
      apiTypes: {group: faults.ork.test, version: v1, kind: Stack, plural: stacks}
      workers: 8
      resync: 10s
      operatorBox:
        onReconcile:
          configMaps:
            - name: "{{ .metadata.name }}-a"
              data: {n: "{{ .spec.n }}"}
            - name: "{{ .metadata.name }}-b"
              data: {n: "{{ .spec.n }}"}
          serviceAccounts:
            - name: "{{ .metadata.name }}-sa"
"#;

/// The CRs' API.
pub fn resource() -> ApiResource {
    ApiResource {
        group: "faults.ork.test".into(),
        version: "v1".into(),
        api_version: "faults.ork.test/v1".into(),
        kind: "Stack".into(),
        plural: "stacks".into(),
    }
}

/// A dedicated control plane with the Stack CRD installed and the namespace created.
pub struct Harness {
    /// The control plane; tests kill and restart its processes.
    pub cp: ControlPlane,
    /// An admin client (`system:masters`: never throttled).
    pub admin: Client,
    /// The Stack CRs of [`NAMESPACE`].
    pub crs: Api<DynamicObject>,
    dir: tempfile::TempDir,
    katalog: katalog::Loaded,
}

impl Harness {
    /// Starts a control plane as `config` says and prepares it.
    pub async fn start(config: Config) -> Self {
        let cp = ControlPlane::start(config.controller_manager(false))
            .await
            .unwrap();
        let admin = cp.client().await.unwrap();
        install_crd(&admin).await;
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(NAMESPACE.into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(admin.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("katalog.yaml");
        std::fs::write(&path, KATALOG).unwrap();
        let katalog = katalog::load(&path).unwrap_or_else(|d| panic!("{}", d.render()));
        let crs = Api::namespaced_with(admin.clone(), NAMESPACE, &resource());
        Self {
            cp,
            admin,
            crs,
            dir,
            katalog,
        }
    }

    /// A kubeconfig file for `user` (bound to `cluster-admin`, not `system:masters`), through
    /// `proxy` when given.
    pub async fn kubeconfig(&self, user: &str, proxy: Option<&FaultProxy>) -> PathBuf {
        let binding: ClusterRoleBinding = serde_json::from_value(json!({
            "metadata": {"name": user},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        }))
        .unwrap();
        match Api::<ClusterRoleBinding>::all(self.admin.clone())
            .create(&PostParams::default(), &binding)
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => panic!("binding {user}: {e}"),
        }
        let identity = Identity::user(user, &[]);
        let text = match proxy {
            Some(proxy) => self.cp.kubeconfig_through(proxy, &identity).unwrap(),
            None => self.cp.kubeconfig_as(&identity).unwrap(),
        };
        let path = self
            .dir
            .path()
            .join(format!("{user}-{}.kubeconfig", proxy.is_some()));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Starts a runtime process with `kubeconfig`; with `leader` (an identity), it elects on
    /// a Lease in [`NAMESPACE`] with short durations (lease 4 s, renew deadline 3 s, retry
    /// 500 ms).
    pub fn run(&self, kubeconfig: PathBuf, leader: Option<&str>) -> Ork {
        let http = free_addr();
        let config = runtime::Config {
            connect: runtime::cluster::ConnectOptions {
                kubeconfig: Some(kubeconfig),
                context: None,
            },
            setup: false,
            stop_timeout: Duration::from_secs(5),
            leader_elect: Some(leader.is_some()),
            namespace: NAMESPACE.into(),
            identity: leader.map(str::to_owned),
            lease_duration: Duration::from_secs(4),
            renew_deadline: Duration::from_secs(3),
            retry_period: Duration::from_millis(500),
            http_addr: Some(http),
            ..runtime::Config::default()
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(runtime::run(self.katalog.clone(), config, async {
            let _ = stopped.await;
        }));
        Ork {
            http,
            task,
            stop: Some(stop),
        }
    }

    /// Creates CRs `<prefix>-0` … `<prefix>-<n-1>`, 16 at a time.
    pub async fn create_crs(&self, prefix: &str, n: usize) {
        use futures::StreamExt;
        futures::stream::iter(0..n)
            .map(|i| {
                let crs = self.crs.clone();
                let name = format!("{prefix}-{i}");
                async move {
                    let mut cr = DynamicObject::new(&name, &resource());
                    cr.data = json!({"spec": {"n": i.to_string()}});
                    crs.create(&PostParams::default(), &cr)
                        .await
                        .unwrap_or_else(|e| panic!("creating {name}: {e}"));
                }
            })
            .buffer_unordered(16)
            .collect::<()>()
            .await;
    }

    /// How many ConfigMaps the runtime has made so far.
    pub async fn config_map_count(&self) -> usize {
        Api::<ConfigMap>::namespaced(self.admin.clone(), NAMESPACE)
            .list_metadata(&ListParams::default().labels(MANAGED))
            .await
            .map_or(0, |l| l.items.len())
    }

    /// Whether every one of `expected` CRs is Ready with each child once, owned by it, and no
    /// child is left without its CR; `Err` says what is not so yet.
    pub async fn converged(&self, expected: usize) -> Result<(), String> {
        let crs = self.crs.list(&ListParams::default()).await.map_err(err)?;
        let maps = Api::<ConfigMap>::namespaced(self.admin.clone(), NAMESPACE)
            .list_metadata(&ListParams::default().labels(MANAGED))
            .await
            .map_err(err)?;
        let accounts = Api::<ServiceAccount>::namespaced(self.admin.clone(), NAMESPACE)
            .list_metadata(&ListParams::default().labels(MANAGED))
            .await
            .map_err(err)?;
        let check = Children {
            maps: owners(maps.items.iter().map(|m| &m.metadata)),
            accounts: owners(accounts.items.iter().map(|m| &m.metadata)),
        };
        if crs.items.len() != expected {
            return Err(format!("{} CRs, expected {expected}", crs.items.len()));
        }
        let mut uids = BTreeSet::new();
        let mut not_ready = 0;
        for cr in &crs.items {
            if !is_ready(cr) {
                not_ready += 1;
            }
            let (name, uid) = (cr.name_any(), cr.uid().unwrap_or_default());
            for suffix in CONFIG_MAPS {
                check.owned(&check.maps, &format!("{name}{suffix}"), &uid)?;
            }
            check.owned(&check.accounts, &format!("{name}{SERVICE_ACCOUNT}"), &uid)?;
            uids.insert(uid);
        }
        if not_ready > 0 {
            return Err(format!("{not_ready} CRs not Ready"));
        }
        for (child, owner) in check.maps.iter().chain(&check.accounts) {
            if !owner.iter().all(|o| uids.contains(o)) || owner.is_empty() {
                return Err(format!("orphan child {child} (owners {owner:?})"));
            }
        }
        Ok(())
    }

    /// Waits until [`Harness::converged`] holds, at most `timeout`.
    pub async fn wait_converged(&self, expected: usize, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let state = self.converged(expected).await;
            if state.is_ok() {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not converged after {timeout:?}: {}",
                state.unwrap_err()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Per child name, the UIDs of its owners.
struct Children {
    maps: BTreeMap<String, Vec<String>>,
    accounts: BTreeMap<String, Vec<String>>,
}

impl Children {
    fn owned(
        &self,
        kind: &BTreeMap<String, Vec<String>>,
        name: &str,
        uid: &str,
    ) -> Result<(), String> {
        match kind.get(name) {
            None => Err(format!("child {name} missing")),
            Some(owners) if owners == &[uid.to_owned()] => Ok(()),
            Some(owners) => Err(format!("child {name} owned by {owners:?}, not {uid}")),
        }
    }
}

fn owners<'a>(metas: impl Iterator<Item = &'a ObjectMeta>) -> BTreeMap<String, Vec<String>> {
    metas
        .map(|m| {
            let owners = m
                .owner_references
                .iter()
                .flatten()
                .map(|o| o.uid.clone())
                .collect();
            (m.name.clone().unwrap_or_default(), owners)
        })
        .collect()
}

fn err(e: kube::Error) -> String {
    e.to_string()
}

/// Whether a CR's status has `Ready=True`.
fn is_ready(cr: &DynamicObject) -> bool {
    cr.data["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

async fn install_crd(admin: &Client) {
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "metadata": {"name": "stacks.faults.ork.test"},
        "spec": {
            "group": "faults.ork.test", "scope": "Namespaced",
            "names": {"plural": "stacks", "singular": "stack", "kind": "Stack"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
            }],
        },
    }))
    .unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
    crds.create(&PostParams::default(), &crd).await.unwrap();
    let stacks: Api<DynamicObject> = Api::namespaced_with(admin.clone(), "default", &resource());
    testenv::eventually("the CRD to serve", Duration::from_secs(60), || {
        let stacks = stacks.clone();
        async move { stacks.list(&ListParams::default()).await.ok().map(|_| ()) }
    })
    .await;
}

/// A free address on loopback for the runtime's HTTP API.
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A running runtime process. Dropped, it is aborted (as a crash would).
pub struct Ork {
    http: SocketAddr,
    task: JoinHandle<runtime::run::Result<()>>,
    stop: Option<oneshot::Sender<()>>,
}

impl Ork {
    /// Panics if the process has ended (it never should under faults).
    pub fn assert_running(&self) {
        assert!(!self.task.is_finished(), "the runtime process exited");
    }

    /// `GET path` on the runtime's HTTP API: the status and body, or `None` while it does not
    /// answer.
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut stream = tokio::net::TcpStream::connect(self.http).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.ok()?;
        let (head, body) = reply.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, body.to_owned()))
    }

    /// The `/katalog` summary.
    pub async fn katalog(&self) -> Option<Value> {
        let (_, body) = self.get("/katalog").await?;
        serde_json::from_str(&body).ok()
    }

    /// Whether `/katalog` reports the Katalog degraded (`healthy: false`, a degraded CRD).
    pub async fn degraded(&self) -> Option<bool> {
        let summary = self.katalog().await?;
        Some(summary["healthy"] == false && summary["totalDegraded"].as_u64() >= Some(1))
    }

    /// Whether this process holds the Lease, as `/katalog` says.
    pub async fn is_konductor(&self) -> Option<bool> {
        Some(self.katalog().await?["isKonductor"] == true)
    }

    /// The value of the series `line_start` (the whole name with labels) in `/metrics`.
    pub async fn metric(&self, series: &str) -> Option<f64> {
        let (_, body) = self.get("/metrics").await?;
        body.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
    }

    /// Stops the process as SIGTERM would and waits for it to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = tokio::time::timeout(Duration::from_secs(30), &mut self.task)
            .await
            .expect("the runtime stopped within 30 s")
            .expect("the runtime task did not panic");
        result.expect("the runtime ended without error");
    }
}

impl Drop for Ork {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits until `check` gives `Some`, at most `timeout`, polling every 100 ms.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    testenv::eventually(what, timeout, check).await
}
