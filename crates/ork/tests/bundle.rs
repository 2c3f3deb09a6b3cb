//! `ork generate bundle`: byte-identical output, and least privilege proven by mutation: the
//! real `ork run` as the bundle's ServiceAccount (bound only by the generated ClusterRole)
//! completes the [`Run::missing`] scenario; for every rule of that role, a run whose role lacks
//! exactly that rule is refused (Forbidden, naming the rule's resource and group) and does not
//! complete it. [`NEEDED_BY`] says what each rule is needed for (docs/rbac.md lists it too).

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event, ServiceAccount};
use k8s_openapi::api::events::v1::Event as CrEvent;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule};
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::Value;
use testenv::eventually;

use crate::util::{
    Ork, STACK_GROUP, install_stack_crd, ork, stack_katalog as katalog, stack_katalog_in,
};

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

/// A rule of the generated role, by API group and resource (the generator gives each rule one
/// of each).
type RuleKey = (String, String);

fn key_of(rule: &PolicyRule) -> RuleKey {
    let one = |v: &Option<Vec<String>>| match v.as_deref() {
        Some([x]) => x.clone(),
        other => panic!("a generated rule has exactly one group and resource: {other:?}"),
    };
    (one(&rule.api_groups), one(&rule.resources))
}

/// The bundle's ClusterRole and Binding for namespace `ns`, renamed after `ns` so parallel
/// tests do not share them, optionally without the rule `drop`.
fn rbac_of_bundle(
    katalog: &Path,
    ns: &str,
    drop: Option<&RuleKey>,
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
    if let Some(drop) = drop {
        let rules = role.rules.as_mut().unwrap();
        let before = rules.len();
        rules.retain(|r| key_of(r) != *drop);
        assert_eq!(
            rules.len() + 1,
            before,
            "the bundle has one rule for {drop:?}"
        );
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
        // The Lease's Events are recorded in the background and a failure is logged at debug.
        .env("ORK_LOG", "info,runtime::leader=debug");
    Ork::spawn(&mut command, &dir.join("ork.log"))
}

/// `ork run` of the fixture as the bundle's ServiceAccount (bound by the bundle's role, less
/// `drop`), with one CR `s1` created.
struct Run {
    ns: String,
    admin: kube::Client,
    resource: kube::api::ApiResource,
    ork: Ork,
    _dir: tempfile::TempDir,
}

impl Run {
    async fn start(prefix: &str, drop: Option<&RuleKey>) -> Self {
        let cp = testenv::shared().await;
        let admin = cp.client().await.unwrap();
        let ns = testenv::namespace(&admin, prefix).await;
        let resource = install_stack_crd(&admin).await;
        let dir = tempfile::tempdir().unwrap();
        let katalog = stack_katalog_in(dir.path(), &ns);
        let (role, binding) = rbac_of_bundle(&katalog, &ns, drop);
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
            resource,
            ork,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        self.ork.log()
    }

    /// What of the scenario is not (yet) done: `s1`'s three children, its Ready condition, a
    /// held Lease, the `KonductorElected` Event on the Lease (core Events) and `s1`'s
    /// `Reconciled` Event (events.k8s.io). Empty: the scenario is complete.
    async fn missing(&self) -> Vec<&'static str> {
        let ns = &self.ns;
        let admin = &self.admin;
        let mut missing = Vec::new();
        let configmaps: Api<ConfigMap> = Api::namespaced(admin.clone(), ns);
        for (name, what) in [("s1-a", "ConfigMap s1-a"), ("s1-b", "ConfigMap s1-b")] {
            if !matches!(configmaps.get_opt(name).await, Ok(Some(_))) {
                missing.push(what);
            }
        }
        let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), ns);
        if !matches!(accounts.get_opt("s1-sa").await, Ok(Some(_))) {
            missing.push("ServiceAccount s1-sa");
        }
        let crs: Api<DynamicObject> = Api::namespaced_with(admin.clone(), ns, &self.resource);
        let ready = crs.get("s1").await.ok().is_some_and(|cr| {
            cr.data["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
        });
        if !ready {
            missing.push("s1 Ready");
        }
        let leases: Api<Lease> = Api::namespaced(admin.clone(), ns);
        let held = leases
            .get_opt("orkestra-konductor")
            .await
            .ok()
            .flatten()
            .and_then(|l| l.spec?.holder_identity)
            .is_some();
        if !held {
            missing.push("a held Lease");
        }
        let events: Api<Event> = Api::namespaced(admin.clone(), ns);
        let elected = events
            .list(&Default::default())
            .await
            .ok()
            .is_some_and(|l| {
                l.items
                    .iter()
                    .any(|e| e.reason.as_deref() == Some("KonductorElected"))
            });
        if !elected {
            missing.push("KonductorElected Event");
        }
        let cr_events: Api<CrEvent> = Api::namespaced(admin.clone(), ns);
        let reconciled = cr_events
            .list(&Default::default())
            .await
            .ok()
            .is_some_and(|l| {
                l.items.iter().any(|e| {
                    e.reason.as_deref() == Some("Reconciled")
                        && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("s1")
                })
            });
        if !reconciled {
            missing.push("s1 Reconciled Event");
        }
        missing
    }

    /// The first log line (within `timeout`) refusing the rule `key`: Forbidden, naming its
    /// resource and API group as the API server's authorizer words it.
    async fn forbidden(&self, (group, resource): &RuleKey, timeout: Duration) -> String {
        let naming = format!(r#"resource "{resource}" in API group "{group}""#);
        let what = format!("a Forbidden error naming {naming}");
        eventually(&what, timeout, || async {
            self.log()
                .lines()
                .map(|l| l.replace('\\', ""))
                .find(|l| l.to_lowercase().contains("forbidden") && l.contains(&naming))
        })
        .await
    }
}

/// Every rule the runtime's generated role holds for the stack fixture, and what fails
/// without it (the same table is in docs/rbac.md). A rule the generator adds without an entry
/// here, or an entry the generator no longer gives, fails
/// [`every_rule_of_the_runtime_role_is_needed`].
const NEEDED_BY: &[(&str, &str, &str)] = &[
    (
        "",
        "configmaps",
        "the CR's ConfigMap children are never created",
    ),
    (
        "",
        "events",
        "the KonductorElected Event on the Lease is not recorded",
    ),
    (
        "",
        "serviceaccounts",
        "the CR's ServiceAccount child is never created",
    ),
    (
        "coordination.k8s.io",
        "leases",
        "the process never leads, so nothing is reconciled",
    ),
    (
        "events.k8s.io",
        "events",
        "the CR's Events (Reconciled) are not recorded",
    ),
    (
        STACK_GROUP,
        "stacks",
        "the CRs are never listed or watched, so nothing is reconciled",
    ),
    (
        STACK_GROUP,
        "stacks/status",
        "the CR's status (Ready) is never written",
    ),
];

/// How long a run may take to show its scenario or its refusal (eight `ork run`s share the
/// control plane and two cores).
const WITHIN: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ork_run_as_the_bundle_service_account_completes_the_scenario() {
    let run = Run::start("bundle-ok", None).await;
    eventually(
        "the whole scenario with the bundle's rules",
        WITHIN,
        || async { run.missing().await.is_empty().then_some(()) },
    )
    .await;
    let log = run.log();
    assert!(!log.to_lowercase().contains("forbidden"), "log:\n{log}");
    assert!(
        !log.contains("not published"),
        "an Event was refused; log:\n{log}"
    );
    assert!(
        !log.contains("not recorded"),
        "a Lease Event was refused; log:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_of_the_runtime_role_is_needed() {
    let probe = tempfile::tempdir().unwrap();
    let (role, _) = rbac_of_bundle(&stack_katalog_in(probe.path(), "probe"), "probe", None);
    let generated: Vec<RuleKey> = role.rules.unwrap().iter().map(key_of).collect();
    let table: Vec<RuleKey> = NEEDED_BY
        .iter()
        .map(|(g, r, _)| ((*g).to_owned(), (*r).to_owned()))
        .collect();
    assert_eq!(generated, table, "the generated rules and NEEDED_BY differ");
    // One run per rule, all at once on the shared control plane.
    let runs = NEEDED_BY
        .iter()
        .enumerate()
        .map(|(i, (group, resource, why))| async move {
            let key = ((*group).to_owned(), (*resource).to_owned());
            let run = Run::start(&format!("rbac-less-{i}"), Some(&key)).await;
            let line = run.forbidden(&key, WITHIN).await;
            let missing = run.missing().await;
            assert!(
                !missing.is_empty(),
                "without {key:?} ({why}) the scenario still completed; refusal: {line}"
            );
            (key, missing)
        });
    for (key, missing) in futures::future::join_all(runs).await {
        eprintln!("without {key:?}: refused, and missing {missing:?}");
    }
}
