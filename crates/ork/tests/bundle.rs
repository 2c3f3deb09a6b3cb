//! `ork generate bundle`: byte-identical output, and least privilege proven by running the real
//! `ork run` as the bundle's ServiceAccount (bound only by the generated ClusterRole) — it
//! converges a CR; without one generated rule it fails with a Forbidden error naming the
//! resource.

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::Value;
use testenv::eventually;

use crate::util::{Ork, install_stack_crd, ork, stack_katalog as katalog, stack_katalog_in};

fn generate(args: &[&str]) -> std::process::Output {
    generate_from(&katalog(), args)
}

fn generate_from(katalog: &Path, args: &[&str]) -> std::process::Output {
    ork()
        .args(["generate", "bundle", "-f"])
        .arg(katalog)
        .args(args)
        .output()
        .unwrap()
}

fn documents(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(yaml).unwrap()
}

#[test]
fn the_same_katalog_gives_a_byte_identical_bundle_on_stdout_and_in_a_file() {
    let first = generate(&[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = generate(&[]);
    assert_eq!(first.stdout, second.stdout);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.yaml");
    let written = generate(&["-o", file.to_str().unwrap()]);
    assert!(written.status.success());
    assert_eq!(std::fs::read(&file).unwrap(), first.stdout);
    let kinds: Vec<String> = documents(&String::from_utf8(first.stdout).unwrap())
        .iter()
        .map(|d| d["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "ConfigMap",
            "Deployment"
        ]
    );
}

#[test]
fn an_unknown_process_is_refused_with_the_valid_ones() {
    let output = generate(&["--for", "runtime,web"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("valid: runtime"), "{stderr}");
}

/// The bundle's ClusterRole and Binding for namespace `ns`, renamed after `ns` so parallel
/// tests do not share them, optionally without the rules for `drop_resource`.
fn rbac_of_bundle(
    katalog: &Path,
    ns: &str,
    drop_resource: Option<&str>,
) -> (ClusterRole, ClusterRoleBinding) {
    let output = generate_from(katalog, &["-n", ns, "--for", "runtime"]);
    assert!(output.status.success());
    let docs = documents(&String::from_utf8(output.stdout).unwrap());
    let find = |kind: &str| docs.iter().find(|d| d["kind"] == kind).unwrap().clone();
    let mut role: ClusterRole = serde_json::from_value(find("ClusterRole")).unwrap();
    let mut binding: ClusterRoleBinding =
        serde_json::from_value(find("ClusterRoleBinding")).unwrap();
    let name = format!("{ns}-runtime");
    role.metadata.name = Some(name.clone());
    binding.metadata.name = Some(name.clone());
    binding.role_ref.name = name;
    if let Some(resource) = drop_resource {
        let rules = role.rules.as_mut().unwrap();
        let before = rules.len();
        rules.retain(|r| !r.resources.iter().flatten().any(|x| x == resource));
        assert!(rules.len() < before, "the bundle has a rule for {resource}");
    }
    (role, binding)
}

/// `ork run` of the fixture, authenticated as `orkestra` of `ns`, with its log in `dir`.
fn run_as_service_account(cp: &testenv::ControlPlane, katalog: &Path, ns: &str, dir: &Path) -> Ork {
    let kubeconfig = dir.join("kubeconfig");
    let identity = testenv::Identity::service_account(ns, "orkestra");
    std::fs::write(&kubeconfig, cp.kubeconfig_as(&identity).unwrap()).unwrap();
    let mut command = ork();
    command
        .arg("run")
        .arg(katalog)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args([
            "--no-setup",
            "--leader-elect",
            "true",
            "--retry-period",
            "250ms",
        ])
        .env("ORK_NAMESPACE", ns)
        .env("ORK_HTTP_ADDR", "127.0.0.1:0")
        .env("ORK_LOG", "info");
    Ork::spawn(&mut command, &dir.join("ork.log"))
}

/// `ork run` of the fixture as the bundle's ServiceAccount (bound by the bundle's role, less
/// `drop_resource`), with one CR `s1` created.
struct Run {
    ns: String,
    admin: kube::Client,
    ork: Ork,
    _dir: tempfile::TempDir,
}

impl Run {
    async fn start(prefix: &str, drop_resource: Option<&str>) -> Self {
        let cp = testenv::shared().await;
        let admin = cp.client().await.unwrap();
        let ns = testenv::namespace(&admin, prefix).await;
        let resource = install_stack_crd(&admin).await;
        let dir = tempfile::tempdir().unwrap();
        let katalog = stack_katalog_in(dir.path(), &ns);
        let (role, binding) = rbac_of_bundle(&katalog, &ns, drop_resource);
        Api::<ClusterRole>::all(admin.clone())
            .create(&PostParams::default(), &role)
            .await
            .unwrap();
        Api::<ClusterRoleBinding>::all(admin.clone())
            .create(&PostParams::default(), &binding)
            .await
            .unwrap();
        let crs: Api<DynamicObject> = Api::namespaced_with(admin.clone(), &ns, &resource);
        let ork = run_as_service_account(cp, &katalog, &ns, dir.path());
        let mut cr = DynamicObject::new("s1", &resource);
        cr.data = serde_json::json!({"spec": {"n": "1"}});
        crs.create(&PostParams::default(), &cr).await.unwrap();
        Self {
            ns,
            admin,
            ork,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        self.ork.log()
    }

    async fn has_service_account(&self) -> bool {
        let accounts: Api<ServiceAccount> = Api::namespaced(self.admin.clone(), &self.ns);
        accounts.get_opt("s1-sa").await.ok().flatten().is_some()
    }

    async fn has_configmap(&self) -> bool {
        let configmaps: Api<ConfigMap> = Api::namespaced(self.admin.clone(), &self.ns);
        configmaps.get_opt("s1-a").await.ok().flatten().is_some()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ork_run_as_the_bundle_service_account_converges_a_cr() {
    let run = Run::start("bundle-ok", None).await;
    eventually(
        "the children, created with the bundle's rules",
        Duration::from_secs(30),
        || async { (run.has_configmap().await && run.has_service_account().await).then_some(()) },
    )
    .await;
    let log = run.log();
    assert!(!log.to_lowercase().contains("forbidden"), "log:\n{log}");
    // It elected itself on a Lease and recorded that on the Lease, as the ServiceAccount.
    let leases: Api<Lease> = Api::namespaced(run.admin.clone(), &run.ns);
    let lease = leases.get("orkestra-konductor").await.unwrap();
    assert!(lease.spec.unwrap().holder_identity.is_some());
    let events: Api<Event> = Api::namespaced(run.admin.clone(), &run.ns);
    eventually(
        "a KonductorElected Event",
        Duration::from_secs(10),
        || async {
            let list = events.list(&Default::default()).await.ok()?;
            list.items
                .into_iter()
                .find(|e| e.reason.as_deref() == Some("KonductorElected"))
        },
    )
    .await;
    assert!(
        !run.log().contains("not published"),
        "an Event was refused; log:\n{}",
        run.log()
    );
}

impl Run {
    /// The first log line (within 30 s) with a Forbidden error naming `resource`.
    async fn forbidden(&self, resource: &str) -> String {
        let what = format!("a Forbidden error naming {resource}");
        eventually(&what, Duration::from_secs(30), || async {
            self.log()
                .lines()
                .find(|l| {
                    let l = l.to_lowercase();
                    l.contains("forbidden") && l.contains(resource)
                })
                .map(str::to_owned)
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_leases_rule_ork_run_never_leads_and_reports_forbidden_leases() {
    let run = Run::start("bundle-nolease", Some("leases")).await;
    run.forbidden("leases").await;
    assert!(
        !run.has_configmap().await,
        "reconciled without holding the Lease"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_serviceaccounts_rule_ork_run_reports_forbidden_naming_serviceaccounts() {
    let run = Run::start("bundle-less", Some("serviceaccounts")).await;
    run.forbidden("serviceaccounts").await;
    assert!(!run.has_service_account().await);
}
