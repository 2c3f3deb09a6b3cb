//! `ork run` as a process against the shared control plane: an invalid Katalog exits 1 before
//! touching the cluster, SIGTERM exits 0, and SIGKILL at random moments while 200 CRs are
//! created still converges with no duplicate and no orphaned child.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use kube::{Client, ResourceExt};
use nix::sys::signal::Signal;
use testenv::eventually;

use crate::util::{Ork, ork, stack_katalog};

/// The Katalog of `fixtures/stack` (one CRD from a crdFile; each CR produces two ConfigMaps and
/// a ServiceAccount), run by `ork run` under its own user so that its writes can be told apart in
/// the audit log.
struct Fixture {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    resource: ApiResource,
}

/// The user `ork run` authenticates as.
const ORK_USER: &str = "ork-crash-test";

impl Fixture {
    fn new(cp: &testenv::ControlPlane) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let identity = testenv::Identity::user(ORK_USER, &["system:masters"]);
        std::fs::write(&kubeconfig, cp.kubeconfig_as(&identity).unwrap()).unwrap();
        Self {
            dir,
            kubeconfig,
            resource: Self::stack(),
        }
    }

    /// The resource of `fixtures/stack/crd.yaml`.
    fn stack() -> ApiResource {
        ApiResource {
            group: "bench.ork.test".into(),
            version: "v1".into(),
            api_version: "bench.ork.test/v1".into(),
            kind: "Stack".into(),
            plural: "stacks".into(),
        }
    }

    /// Starts `ork run` with its log in `ork-<n>.log`.
    fn start(&self, n: usize) -> Ork {
        let log = self.dir.path().join(format!("ork-{n}.log"));
        Ork::spawn(
            ork()
                .arg("run")
                .arg(stack_katalog())
                .arg("--kubeconfig")
                .arg(&self.kubeconfig)
                .env("ORK_LOG", "info"),
            &log,
        )
    }
}

/// A random number below `bound` (the std hasher's random keys are enough for kill points).
fn random_below(bound: u64) -> u64 {
    RandomState::new().hash_one(Instant::now()) % bound.max(1)
}

/// What the cluster holds for the CRs of `namespace`: problems found, as readable lines.
async fn problems(
    client: &Client,
    resource: &ApiResource,
    namespace: &str,
    expected: usize,
) -> Vec<String> {
    let crs: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, resource);
    let managed = ListParams::default().labels("orkestra.orkspace.io/managed=true");
    let (Ok(crs), Ok(maps), Ok(accounts)) = (
        crs.list(&ListParams::default()).await,
        Api::<ConfigMap>::namespaced(client.clone(), namespace)
            .list(&managed)
            .await,
        Api::<ServiceAccount>::namespaced(client.clone(), namespace)
            .list(&managed)
            .await,
    ) else {
        return vec!["listing failed".into()];
    };
    let mut problems = Vec::new();
    if crs.items.len() != expected {
        problems.push(format!("{} CRs, expected {expected}", crs.items.len()));
    }
    let owners: BTreeMap<String, String> = crs
        .items
        .iter()
        .map(|cr| (cr.uid().unwrap(), cr.name_any()))
        .collect();
    for cr in &crs.items {
        let ready = cr.data["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        });
        if !ready {
            problems.push(format!("{} not Ready", cr.name_any()));
        }
    }
    let mut seen = BTreeSet::new();
    let children = maps
        .items
        .iter()
        .map(|c| (c.name_any(), c.owner_references().to_vec()))
        .chain(
            accounts
                .items
                .iter()
                .map(|s| (s.name_any(), s.owner_references().to_vec())),
        );
    for (name, references) in children {
        let controllers: Vec<_> = references
            .iter()
            .filter(|r| r.controller == Some(true))
            .collect();
        match controllers.as_slice() {
            [owner] if owners.get(&owner.uid) == Some(&owner.name) => {
                if !seen.insert(name.clone()) {
                    problems.push(format!("{name} twice"));
                }
            }
            _ => problems.push(format!("{name} orphaned ({references:?})")),
        }
    }
    if seen.len() != expected * 3 {
        problems.push(format!(
            "{} children, expected {}",
            seen.len(),
            expected * 3
        ));
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_still_converges_without_duplicates_or_orphans() {
    const CRS: usize = 200;
    const KILLS: usize = 4;
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let namespace = testenv::namespace(&client, "crash").await;
    let fixture = Fixture::new(cp);
    let crs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &namespace, &fixture.resource);

    // The first run applies the CRD file (local mode).
    let mut ork = fixture.start(0);
    eventually(
        "ork to install the CRD",
        Duration::from_secs(60),
        || async { crs.list(&ListParams::default().limit(1)).await.ok() },
    )
    .await;

    // Create the CRs in the background while ork is killed and restarted at random moments.
    let creator = {
        let (crs, resource) = (crs.clone(), fixture.resource.clone());
        tokio::spawn(async move {
            for i in 0..CRS {
                let mut cr = DynamicObject::new(&format!("s{i}"), &resource);
                cr.data = serde_json::json!({"spec": {"n": i.to_string()}});
                crs.create(&PostParams::default(), &cr).await.unwrap();
            }
        })
    };
    let mut kill_points = Vec::new();
    for run in 1..=KILLS {
        let after = Duration::from_millis(300 + random_below(2500));
        tokio::time::sleep(after).await;
        ork.kill();
        let children = Api::<ConfigMap>::namespaced(client.clone(), &namespace)
            .list(&ListParams::default().labels("orkestra.orkspace.io/managed=true"))
            .await
            .map(|l| l.items.len())
            .unwrap_or_default();
        kill_points.push((after, children));
        ork = fixture.start(run);
    }
    creator.await.unwrap();
    eprintln!("killed ork {KILLS} times: (ms after (re)start, ConfigMaps then) {kill_points:?}");

    let started = Instant::now();
    let last = std::cell::RefCell::new(Vec::new());
    eventually("convergence", Duration::from_secs(120), || async {
        let found = problems(&client, &fixture.resource, &namespace, CRS).await;
        let converged = found.is_empty();
        if found != *last.borrow() {
            // Shown with the test's output when it times out.
            eprintln!("not converged: {:?}…", &found[..found.len().min(10)]);
            last.replace(found);
        }
        converged.then_some(())
    })
    .await;
    eprintln!("converged {:?} after the last restart", started.elapsed());

    // The steady state: once the restarted ork has been through every CR (its first pass
    // re-applies only what a killed process left half-written), it writes nothing over a
    // resync period (10 s) and more.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let before = writes_by(&cp.audit_log_path(), ORK_USER);
    assert!(
        before >= CRS * 3,
        "the audit log shows only {before} writes by ork"
    );
    tokio::time::sleep(Duration::from_secs(13)).await;
    let after = writes_by(&cp.audit_log_path(), ORK_USER);
    assert_eq!(after - before, 0, "ork wrote in a steady state");
    eprintln!("{before} writes by ork in all, none in the steady state");

    // SIGTERM: stop taking work, finish, exit 0.
    ork.terminate(Duration::from_secs(40)).await;
}

/// How many write requests the audit log holds from `user` (the policy audits only writes).
fn writes_by(audit_log: &Path, user: &str) -> usize {
    let needle = format!("\"username\":\"{user}\"");
    std::fs::read_to_string(audit_log)
        .unwrap()
        .lines()
        .filter(|line| line.contains(&needle) && line.contains("\"stage\":\"ResponseComplete\""))
        .count()
}

#[tokio::test]
async fn an_unreachable_api_server_is_waited_for_and_sigterm_still_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    // A port that was free a moment ago: nothing answers there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
             clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n\
             users: [{{name: u, user: {{token: t}}}}]\n\
             contexts: [{{name: c, context: {{cluster: c, user: u}}}}]\n"
        ),
    )
    .unwrap();
    let ork = Ork::spawn(
        ork()
            .arg("run")
            .arg(stack_katalog())
            .arg("--kubeconfig")
            .arg(&kubeconfig),
        &dir.path().join("ork.log"),
    );
    ork.said("API server unreachable; retrying", Duration::from_secs(20))
        .await;
    ork.terminate(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn ork_dev_runs_a_katalog_on_its_control_plane_and_stops_with_it() {
    let state = tempfile::tempdir().unwrap();
    let dev = Ork::spawn(
        ork()
            .arg("dev")
            .arg(stack_katalog())
            .arg("--state-dir")
            .arg(state.path().join("dev")),
        &state.path().join("ork.log"),
    )
    .on_drop(Signal::SIGTERM);
    let line = dev.line(Duration::from_secs(180)).await;
    let path = line
        .trim()
        .strip_prefix("export KUBECONFIG=")
        .unwrap()
        .to_owned();
    dev.said(
        "ork dev: Control Center at http://127.0.0.1:",
        Duration::from_secs(60),
    )
    .await;
    let text = std::fs::read_to_string(path).unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&text).unwrap(),
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    let client = Client::try_from(config).unwrap();
    let resource = Fixture::stack();
    let crs: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
    let mut cr = DynamicObject::new("dev", &resource);
    cr.data = serde_json::json!({"spec": {"n": "1"}});
    eventually(
        "the Katalog's CRD on the dev cluster",
        Duration::from_secs(60),
        || async { crs.create(&PostParams::default(), &cr).await.ok() },
    )
    .await;
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
    eventually(
        "the CR's ServiceAccount",
        Duration::from_secs(30),
        || async { accounts.get_opt("dev-sa").await.ok()? },
    )
    .await;
    dev.terminate(Duration::from_secs(15)).await;
}

#[test]
fn an_invalid_katalog_exits_1_before_touching_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let katalog = dir.path().join("katalog.yaml");
    std::fs::write(
        &katalog,
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: bad}\n\
         spec:\n  crds:\n    web:\n      apiTypes: {group: x.io, version: v1, kind: Web, plural: webs}\n\
         \x20     workerz: 3\n",
    )
    .unwrap();
    // The kubeconfig does not exist: reaching for the cluster would fail differently (exit 2).
    let output = ork()
        .arg("run")
        .arg(&katalog)
        .arg("--kubeconfig")
        .arg(Path::new("/nonexistent/kubeconfig"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("workerz"), "{stderr}");
}
