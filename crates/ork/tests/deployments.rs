//! Every Deployment of `ork generate bundle` starts: each one's exact container arguments and
//! environment, run with the `ork` binary, authenticated as the Deployment's ServiceAccount
//! (bound only by the bundle's own ClusterRole), against the local control plane, answers the
//! paths its probes name, and does its job (the runtime reconciles a CR; the gateway registers
//! its webhooks for the bundle's Service).
//!
//! What a pod would provide is substituted, and nothing else: the ConfigMap mount (a
//! temporary directory holding the ConfigMap's files), the pod's namespace (`fieldRef`), the
//! in-cluster credentials (a kubeconfig with the ServiceAccount's identity, in `KUBECONFIG`;
//! none for the Control Center, whose ServiceAccount mounts no token), the container ports
//! (free host ports, as every process shares this host) and the cluster DNS names of the
//! bundle's Services (the host ports of the processes behind them).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::authorization::v1::{SelfSubjectRulesReview, SelfSubjectRulesReviewSpec};
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use serde_json::{Value, json};
use testenv::eventually;

use crate::util::{Ork, free_port, http_get, ork};

/// Where the bundle mounts the Katalog ConfigMap.
const MOUNT: &str = "/etc/orkestra/katalog";

/// A Katalog that needs both processes: a box producing a ConfigMap, and a validation rule
/// served by the gateway. `failurePolicy: Ignore`, as nothing routes the bundle's Service on
/// this host, and the group is the test's own, so no other test's objects are intercepted.
fn katalog(name: &str, group: &str, ns: &str) -> String {
    format!(
        r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: {name}}}
gateway: {{enabled: true}}
security:
  webhooks:
    admission: {{enabled: true}}
    failurePolicy: Ignore
spec:
  crds:
    thing:
      apiTypes: {{group: {group}, version: v1, kind: Thing, plural: things}}
      namespace: {ns}
      validation:
        rules: [{{field: spec.a, exists: true, action: warn}}]
      operatorBox:
        onReconcile:
          configMaps:
            - name: "{{{{ .metadata.name }}}}-made"
              data: {{by: bundle}}
"#
    )
}

/// The bundle for `katalog` in namespace `ns`, as documents.
fn bundle(katalog: &Path, ns: &str) -> Vec<Value> {
    let output = ork()
        .args(["generate", "bundle", "-f"])
        .arg(katalog)
        .args(["-n", ns, "--for", "runtime,gateway,cc"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_saphyr::from_multiple(&String::from_utf8(output.stdout).unwrap()).unwrap()
}

/// Creates the bundle's ServiceAccounts and its RBAC, each ClusterRole and Binding renamed
/// after `ns` so that parallel tests do not share them.
async fn create_identities(admin: &kube::Client, docs: &[Value], ns: &str) {
    for doc in docs {
        match doc["kind"].as_str() {
            Some("ServiceAccount") => {
                let sa: ServiceAccount = serde_json::from_value(doc.clone()).unwrap();
                Api::<ServiceAccount>::namespaced(admin.clone(), ns)
                    .create(&PostParams::default(), &sa)
                    .await
                    .unwrap();
            }
            Some("ClusterRole") => {
                let mut role: ClusterRole = serde_json::from_value(doc.clone()).unwrap();
                role.metadata.name = Some(format!("{ns}-{}", role.metadata.name.unwrap()));
                Api::<ClusterRole>::all(admin.clone())
                    .create(&PostParams::default(), &role)
                    .await
                    .unwrap();
            }
            Some("ClusterRoleBinding") => {
                let mut binding: ClusterRoleBinding = serde_json::from_value(doc.clone()).unwrap();
                binding.metadata.name = Some(format!("{ns}-{}", binding.metadata.name.unwrap()));
                binding.role_ref.name = format!("{ns}-{}", binding.role_ref.name);
                Api::<ClusterRoleBinding>::all(admin.clone())
                    .create(&PostParams::default(), &binding)
                    .await
                    .unwrap();
            }
            _ => {}
        }
    }
}

/// Writes the ConfigMap's files into `dir`, as the volume mount would.
fn mount_configmap(docs: &[Value], dir: &Path) {
    let cm = docs.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    let cm: ConfigMap = serde_json::from_value(cm.clone()).unwrap();
    for (file, text) in cm.data.unwrap() {
        std::fs::write(dir.join(file), text).unwrap();
    }
}

/// One Deployment's container as a process on this host.
struct Container {
    /// The Deployment's name.
    name: String,
    /// Its ServiceAccount.
    service_account: String,
    /// Its arguments, the mount directory substituted.
    args: Vec<String>,
    /// Its environment, the pod's namespace and the ports substituted.
    env: Vec<(String, String)>,
    /// Host port of each named container port.
    ports: BTreeMap<String, u16>,
    /// `(probe, path, port name)` of its startup, liveness and readiness probes.
    probes: Vec<(String, String, String)>,
    /// Whether its ServiceAccount's token is mounted (the Control Center's is not).
    token: bool,
}

impl Container {
    /// The single container of `deployment`, with the substitutions of the module docs.
    fn of(deployment: &Value, docs: &[Value], ns: &str, mount: &Path) -> Self {
        let pod = &deployment["spec"]["template"]["spec"];
        let containers = pod["containers"].as_array().unwrap();
        assert_eq!(containers.len(), 1, "one container per Deployment");
        let c = &containers[0];
        let mut ports = BTreeMap::new();
        let mut host_port = BTreeMap::new();
        for p in c["ports"].as_array().unwrap() {
            let port = free_port();
            ports.insert(p["name"].as_str().unwrap().to_owned(), port);
            host_port.insert(p["containerPort"].as_u64().unwrap().to_string(), port);
        }
        let mount = mount.to_str().unwrap();
        let args = c["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().replace(MOUNT, mount))
            .collect();
        let env = c["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let name = e["name"].as_str().unwrap().to_owned();
                let value = match e["value"].as_str() {
                    Some(v) => with_host_port(v, &host_port),
                    None => {
                        let field = &e["valueFrom"]["fieldRef"]["fieldPath"];
                        assert_eq!(field, "metadata.namespace", "{name}: only the namespace");
                        ns.to_owned()
                    }
                };
                (name, value)
            })
            .collect();
        let probes = ["startupProbe", "livenessProbe", "readinessProbe"]
            .iter()
            .map(|probe| {
                let get = &c[*probe]["httpGet"];
                let path = get["path"].as_str().unwrap_or_else(|| panic!("{probe}"));
                let port = get["port"].as_str().unwrap();
                ((*probe).to_owned(), path.to_owned(), port.to_owned())
            })
            .collect();
        let service_account = pod["serviceAccountName"].as_str().unwrap().to_owned();
        let account = docs
            .iter()
            .find(|d| d["kind"] == "ServiceAccount" && d["metadata"]["name"] == *service_account)
            .unwrap_or_else(|| panic!("the bundle has ServiceAccount {service_account}"));
        Self {
            name: deployment["metadata"]["name"].as_str().unwrap().to_owned(),
            token: account["automountServiceAccountToken"] != false,
            service_account,
            args,
            env,
            ports,
            probes,
        }
    }

    /// Replaces the cluster DNS name of each Service in its arguments (`http://NAME.NS.svc:PORT`
    /// of the Deployment behind it) with that Deployment's host port.
    fn reach_services(&mut self, services: &BTreeMap<String, u16>, ns: &str) {
        for arg in &mut self.args {
            for (name, port) in services {
                *arg = arg.replace(
                    &format!("http://{name}.{ns}.svc:8080"),
                    &format!("http://127.0.0.1:{port}"),
                );
            }
            assert!(!arg.contains(".svc"), "a Service the bundle lacks: {arg}");
        }
    }

    /// Starts it as its ServiceAccount, its log in `dir`, once the API server authorizes that
    /// identity by its new role (a pod would be restarted until then; a test waits instead).
    async fn start(&self, cp: &testenv::ControlPlane, ns: &str, dir: &Path) -> Ork {
        if !self.token {
            let mut command = ork();
            command
                .args(&self.args)
                .env_clear()
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .env("ORK_LOG", "info");
            return Ork::spawn(&mut command, &dir.join(format!("{}.log", self.name)));
        }
        let kubeconfig = dir.join(format!("{}.kubeconfig", self.name));
        let identity = testenv::Identity::service_account(ns, &self.service_account);
        let text = cp.kubeconfig_as(&identity).unwrap();
        std::fs::write(&kubeconfig, &text).unwrap();
        let config = kube::Config::from_custom_kubeconfig(
            kube::config::Kubeconfig::from_yaml(&text).unwrap(),
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .unwrap();
        let reviews: Api<SelfSubjectRulesReview> =
            Api::all(kube::Client::try_from(config).unwrap());
        let review = SelfSubjectRulesReview {
            spec: SelfSubjectRulesReviewSpec {
                namespace: Some(ns.to_owned()),
            },
            ..SelfSubjectRulesReview::default()
        };
        eventually(
            &format!("{} to be authorized by its role", self.service_account),
            Duration::from_secs(30),
            || async {
                let answer = reviews.create(&PostParams::default(), &review).await.ok()?;
                // A rule beyond those every authenticated user has (the self reviews).
                let granted = answer.status?.resource_rules.iter().any(|rule| {
                    rule.resources
                        .iter()
                        .flatten()
                        .any(|r| !r.starts_with("self"))
                });
                granted.then_some(())
            },
        )
        .await;
        let mut command = ork();
        command
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("KUBECONFIG", &kubeconfig)
            .env("ORK_LOG", "info");
        Ork::spawn(&mut command, &dir.join(format!("{}.log", self.name)))
    }

    /// Waits until the startup probe answers 200, then asks the liveness and readiness probes.
    async fn probe(&self, process: &Ork) {
        for (probe, path, port) in &self.probes {
            let port = self.ports[port];
            let within = if probe == "startupProbe" { 90 } else { 10 };
            eventually(
                &format!("{} {probe} GET {path} to answer 200", self.name),
                Duration::from_secs(within),
                || async {
                    assert!(
                        process.is_running(),
                        "{} exited:\n{}",
                        self.name,
                        process.log()
                    );
                    matches!(http_get(port, path).await, Some((200, _))).then_some(())
                },
            )
            .await;
        }
    }
}

/// `value` with a container port (alone or after a colon) replaced by its host port.
fn with_host_port(value: &str, host_port: &BTreeMap<String, u16>) -> String {
    let (head, last) = match value.rsplit_once(':') {
        Some((head, port)) => (format!("{head}:"), port),
        None => (String::new(), value),
    };
    match host_port.get(last) {
        Some(port) => format!("{head}{port}"),
        None => value.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_deployment_of_the_bundle_starts_as_its_service_account_and_does_its_job() {
    let cp = testenv::shared().await;
    let admin = cp.client().await.unwrap();
    let ns = testenv::namespace(&admin, "bundle-run").await;
    let name = testenv::unique_name("bundled");
    let group = format!("{name}.ork.test");
    testenv::install_crd(&admin, &group, "Thing", &["v1"]).await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.yaml");
    std::fs::write(&source, katalog(&name, &group, &ns)).unwrap();
    let docs = bundle(&source, &ns);
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "Deployment").count(),
        3,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"Service"), "{kinds:?}");
    create_identities(&admin, &docs, &ns).await;
    let mount = dir.path().join("mount");
    std::fs::create_dir(&mount).unwrap();
    mount_configmap(&docs, &mount);

    let mut containers: Vec<Container> = docs
        .iter()
        .filter(|d| d["kind"] == "Deployment")
        .map(|d| Container::of(d, &docs, &ns, &mount))
        .collect();
    let services: BTreeMap<String, u16> = containers
        .iter()
        .filter(|c| {
            docs.iter()
                .any(|d| d["kind"] == "Service" && d["metadata"]["name"] == *c.name)
        })
        .map(|c| (c.name.clone(), c.ports["http"]))
        .collect();
    for c in &mut containers {
        c.reach_services(&services, &ns);
    }
    let processes = containers.iter().map(|c| c.start(cp, &ns, dir.path()));
    let processes: Vec<Ork> = futures::future::join_all(processes).await;
    for (container, process) in containers.iter().zip(&processes) {
        container.probe(process).await;
    }

    // The gateway registered its webhook for the bundle's Service, as the API server dials it
    // in a cluster.
    let service = docs
        .iter()
        .find(|d| d["kind"] == "Service" && d["metadata"]["name"] == "orkestra-gateway")
        .unwrap();
    let https = service["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "https")
        .unwrap();
    let configs: Api<ValidatingWebhookConfiguration> = Api::all(admin.clone());
    let instance = format!("ork-{name}");
    let registered = eventually(
        "the gateway's validating webhook",
        Duration::from_secs(30),
        || async {
            configs
                .list(&ListParams::default())
                .await
                .ok()?
                .items
                .into_iter()
                .find(|c| {
                    c.metadata
                        .name
                        .as_deref()
                        .is_some_and(|n| n.starts_with(&instance))
                })
        },
    )
    .await;
    let client_config =
        serde_json::to_value(&registered.webhooks.unwrap()[0].client_config).unwrap();
    assert_eq!(
        client_config["service"],
        json!({"name": service["metadata"]["name"], "namespace": ns,
               "port": https["port"], "path": client_config["service"]["path"]}),
        "{client_config}"
    );

    // The runtime, with only its bundle role, reconciles a CR.
    let resource = kube::api::ApiResource {
        group: group.clone(),
        version: "v1".into(),
        api_version: format!("{group}/v1"),
        kind: "Thing".into(),
        plural: "things".into(),
    };
    let mut cr = DynamicObject::new("t1", &resource);
    cr.data = json!({"spec": {"a": "1"}});
    Api::<DynamicObject>::namespaced_with(admin.clone(), &ns, &resource)
        .create(&PostParams::default(), &cr)
        .await
        .unwrap();
    let configmaps: Api<ConfigMap> = Api::namespaced(admin.clone(), &ns);
    eventually(
        "the runtime to create t1-made",
        Duration::from_secs(60),
        || async { configmaps.get_opt("t1-made").await.ok().flatten() },
    )
    .await;

    // The Control Center, with no credentials, reads both through their Services.
    let control = containers
        .iter()
        .find(|c| c.name == "orkestra-control")
        .unwrap();
    let port = control.ports["http"];
    eventually(
        "the Control Center to reach the runtime and the gateway",
        Duration::from_secs(60),
        || async {
            let (_, body) = http_get(port, "/api/state").await?;
            let state: Value = serde_json::from_str(&body).ok()?;
            let endpoints = state["endpoints"].as_array()?;
            (endpoints.len() == 2 && endpoints.iter().all(|e| e["reachable"] == true)).then_some(())
        },
    )
    .await;

    for process in processes {
        process.terminate(Duration::from_secs(30)).await;
    }
    let left = configs.list(&ListParams::default()).await.unwrap().items;
    assert!(
        !left.iter().any(|c| c
            .metadata
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with(&instance))),
        "the gateway leaves no webhook configuration after SIGTERM"
    );
}
