//! `ork generate bundle`: everything a cluster needs to run a Katalog, least-privilege, as one
//! multi-document YAML (spec §19.3).
//!
//! Output, in this order: the Namespace; per process (runtime, then gateway) its
//! ServiceAccount, ClusterRole with the minimal rules of §19 (from `katalog::rbac`),
//! ClusterRoleBinding; the ConfigMap holding the Katalog; per process its Deployment, with
//! probes on the HTTP API; the gateway's Service (webhooks on 443, HTTP API on 8080); with the
//! Control Center, Services for the runtime's API and the UI. Every process runs the same image
//! (`deploy/Containerfile`: `run`, `gateway` and `control` compiled in). The same input gives byte-identical output: objects and keys are
//! written in a fixed order and nothing depends on time or the machine.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use katalog::Loaded;
use katalog::rbac::{self, Needs, PolicyRule};
use serde_json::{Value, json};

use super::{BundleArgs, GenerateArgs, GenerateCommand};

/// Where the Deployments mount the ConfigMap (the Orkestra Helm chart's path).
const KATALOG_DIR: &str = "/etc/orkestra/katalog";
/// The HTTP API port of every process (probes, `/metrics`, `/katalog`).
const HTTP_PORT: u16 = 8080;
/// The gateway's HTTPS (webhook) port in its container.
const WEBHOOK_PORT: u16 = 9443;
/// The gateway's Service port the API server dials (`clientConfig.service.port`).
const WEBHOOK_SERVICE_PORT: u16 = 443;
/// The Control Center's Service port (Orkestra's).
const CONTROL_SERVICE_PORT: u16 = 8081;

/// A process the bundle can deploy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Process {
    Runtime,
    Gateway,
    /// The Control Center: reads the others' HTTP APIs, nothing of the cluster.
    Control,
}

impl Process {
    /// Parses one `--for` value (with Orkestra's aliases).
    fn parse(text: &str) -> anyhow::Result<Self> {
        match text.trim() {
            "runtime" | "run" => Ok(Self::Runtime),
            "gateway" | "gw" => Ok(Self::Gateway),
            "cc" | "control" | "controlcenter" | "control-center" => Ok(Self::Control),
            other => bail!(
                "--for {other}: unknown process; valid: runtime (run), gateway (gw), control (cc)"
            ),
        }
    }

    /// Its ServiceAccount name (Orkestra's).
    fn service_account(self) -> &'static str {
        match self {
            Self::Runtime => "orkestra",
            Self::Gateway => "orkestra-gateway",
            Self::Control => "orkestra-control",
        }
    }

    /// Its ClusterRole, ClusterRoleBinding and Deployment name.
    fn name(self) -> &'static str {
        match self {
            Self::Runtime => "orkestra-runtime",
            Self::Gateway => "orkestra-gateway",
            Self::Control => "orkestra-control",
        }
    }

    /// The base URL of its HTTP API inside the cluster (its Service).
    fn service_url(self, ns: &str) -> String {
        format!("http://{}.{ns}.svc:{HTTP_PORT}", self.name())
    }

    /// `ork` arguments of its container; the Control Center reads the APIs of `others`.
    fn args(self, ns: &str, others: &[Process]) -> Vec<String> {
        let katalog = format!("{KATALOG_DIR}/katalog.yaml");
        match self {
            Self::Runtime => vec!["run".into(), "-f".into(), katalog],
            Self::Gateway => vec!["gateway".into(), "-f".into(), katalog],
            Self::Control => {
                let urls: Vec<String> = others
                    .iter()
                    .filter(|p| **p != Self::Control)
                    .map(|p| p.service_url(ns))
                    .collect();
                vec!["control".into(), "--urls".into(), urls.join(",")]
            }
        }
    }

    /// The paths of its startup, liveness and readiness probes.
    fn probe_paths(self) -> [&'static str; 3] {
        match self {
            Self::Runtime | Self::Gateway => ["/startup", "/health", "/ready"],
            Self::Control => ["/healthz", "/healthz", "/healthz"],
        }
    }

    /// Environment of its container: where it listens and which namespace it lives in.
    fn env(self) -> Value {
        let namespace = json!({"fieldRef": {"fieldPath": "metadata.namespace"}});
        match self {
            Self::Runtime => json!([
                {"name": "ORK_NAMESPACE", "valueFrom": namespace},
                {"name": "ORK_HTTP_ADDR", "value": format!("0.0.0.0:{HTTP_PORT}")},
            ]),
            Self::Gateway => json!([
                {"name": "POD_NAMESPACE", "valueFrom": namespace},
                {"name": "ORK_SERVICE_NAME", "value": self.name()},
                {"name": "ORK_GATEWAY_BIND", "value": "0.0.0.0"},
                {"name": "ORK_GATEWAY_PORT", "value": WEBHOOK_PORT.to_string()},
                {"name": "ORK_GATEWAY_HTTP_PORT", "value": HTTP_PORT.to_string()},
            ]),
            Self::Control => json!([
                {"name": "ORK_CONTROL_BIND", "value": "0.0.0.0"},
                {"name": "ORK_CONTROL_PORT", "value": HTTP_PORT.to_string()},
            ]),
        }
    }

    /// Named container ports: `http` (probed) for all, `https` (webhooks) for the gateway.
    fn ports(self) -> Value {
        match self {
            Self::Runtime | Self::Control => {
                json!([{"name": "http", "containerPort": HTTP_PORT}])
            }
            Self::Gateway => json!([
                {"name": "http", "containerPort": HTTP_PORT},
                {"name": "https", "containerPort": WEBHOOK_PORT},
            ]),
        }
    }

    /// Replicas: two, so a follower is warm (runtime) or requests keep flowing (gateway); one
    /// Control Center (it holds only the history of its plots).
    fn replicas(self) -> u32 {
        match self {
            Self::Runtime | Self::Gateway => 2,
            Self::Control => 1,
        }
    }
}

/// Runs `ork generate …`.
pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        GenerateCommand::Bundle(args) => bundle_command(&args),
    }
}

fn bundle_command(args: &BundleArgs) -> anyhow::Result<ExitCode> {
    let loaded = match katalog::load(&args.file) {
        Ok(loaded) => loaded,
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render());
            return Ok(ExitCode::from(1));
        }
    };
    let processes = args
        .for_
        .iter()
        .flat_map(|v| v.split(','))
        .map(Process::parse)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let options = Options {
        namespace: args.namespace.clone(),
        image: args.image.clone(),
        processes,
    };
    let text = render(&bundle(&loaded, &options)?)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// What to generate.
struct Options {
    namespace: String,
    image: String,
    processes: Vec<Process>,
}

/// The bundle's objects, in output order.
fn bundle(loaded: &Loaded, options: &Options) -> anyhow::Result<Vec<Value>> {
    let needs = Needs::from_katalog(&loaded.katalog);
    let mut processes = options.processes.clone();
    processes.sort();
    processes.dedup();
    // The gateway is dropped when the Katalog gives it nothing to do (§19.3).
    let gateway_rules = rbac::gateway_rules(&needs);
    processes.retain(|p| *p != Process::Gateway || !gateway_rules.is_empty());
    let files = katalog_files(loaded)?;
    let ns = options.namespace.as_str();
    let labels = |component: &str| {
        json!({
            "app.kubernetes.io/name": "orkestra",
            "app.kubernetes.io/component": component,
            "app.kubernetes.io/instance": loaded.katalog.name,
            "app.kubernetes.io/managed-by": "ork",
        })
    };
    let mut objects = vec![json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns, "labels": labels("namespace")},
    })];
    for &process in &processes {
        let rules = match process {
            Process::Runtime => rbac::runtime_rules(&needs),
            Process::Gateway => gateway_rules.clone(),
            Process::Control => {
                // It reads only the HTTP APIs: no token, no role.
                objects.push(json!({
                    "apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": process.service_account(), "namespace": ns,
                                 "labels": labels(process.name())},
                    "automountServiceAccountToken": false,
                }));
                continue;
            }
        };
        objects.push(json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": process.service_account(), "namespace": ns,
                         "labels": labels(process.name())},
        }));
        objects.push(cluster_role(process, &rules, labels(process.name())));
        objects.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": process.name(), "labels": labels(process.name())},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": process.name()},
            "subjects": [{"kind": "ServiceAccount", "name": process.service_account(),
                          "namespace": ns}],
        }));
    }
    objects.push(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "orkestra-katalog", "namespace": ns, "labels": labels("katalog")},
        "data": files,
    }));
    for &process in &processes {
        objects.push(deployment(
            process,
            ns,
            &options.image,
            labels(process.name()),
            &processes,
        ));
    }
    for &process in &processes {
        let read_by_control = processes.contains(&Process::Control);
        let ports = match process {
            Process::Gateway => json!([
                {"name": "https", "port": WEBHOOK_SERVICE_PORT, "targetPort": "https"},
                {"name": "http", "port": HTTP_PORT, "targetPort": "http"},
            ]),
            Process::Runtime if read_by_control => {
                json!([{"name": "http", "port": HTTP_PORT, "targetPort": "http"}])
            }
            Process::Control => {
                json!([{"name": "http", "port": CONTROL_SERVICE_PORT, "targetPort": "http"}])
            }
            Process::Runtime => continue,
        };
        objects.push(service(process, ns, labels(process.name()), ports));
    }
    Ok(objects)
}

/// The ClusterRole of `process` with `rules`.
fn cluster_role(process: Process, rules: &[PolicyRule], labels: Value) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": process.name(), "labels": labels},
        "rules": rules,
    })
}

/// The files of the Katalog, keyed by file name: the entry file as `katalog.yaml` and every
/// file it references (crdFile, includes…), which must sit next to it so that its relative
/// references still resolve under the mount.
fn katalog_files(loaded: &Loaded) -> anyhow::Result<BTreeMap<String, String>> {
    let entry_dir = loaded.path.parent().unwrap_or(Path::new(""));
    let mut files = BTreeMap::from([("katalog.yaml".to_owned(), loaded.raw.clone())]);
    for id in 0.. {
        let path = loaded.sources.path(id);
        if path.as_os_str().is_empty() {
            break;
        }
        if path == loaded.path {
            continue;
        }
        let name = path
            .strip_prefix(entry_dir)
            .ok()
            .and_then(|p| p.to_str())
            .map(|p| p.trim_start_matches("./").to_owned())
            .filter(|p| !p.contains('/') && p != "katalog.yaml");
        let Some(name) = name else {
            bail!(
                "{} is referenced by the Katalog but does not sit next to it as a plain file; \
                 the bundle's ConfigMap can only carry files of one directory",
                path.display()
            );
        };
        let text = loaded.sources.text(path).unwrap_or_default();
        files.insert(name, text.to_owned());
    }
    Ok(files)
}

/// The Deployment of `process`: the HTTP API on 8080 with the three probes of §14.1, the
/// Katalog mounted read-only, a locked-down container.
fn deployment(
    process: Process,
    ns: &str,
    image: &str,
    labels: Value,
    processes: &[Process],
) -> Value {
    let probe = |path: &str, period: u32, failures: u32| {
        json!({"httpGet": {"path": path, "port": "http"},
               "periodSeconds": period, "failureThreshold": failures})
    };
    let selector = selector(process);
    let [startup, liveness, readiness] = process.probe_paths();
    let mut deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": process.name(), "namespace": ns, "labels": labels},
        "spec": {
            "replicas": process.replicas(),
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": process.service_account(),
                    "securityContext": {"runAsNonRoot": true,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "ork",
                        "image": image,
                        "args": process.args(ns, processes),
                        "env": process.env(),
                        "ports": process.ports(),
                        "startupProbe": probe(startup, 2, 60),
                        "livenessProbe": probe(liveness, 10, 3),
                        "readinessProbe": probe(readiness, 5, 2),
                        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                      "limits": {"memory": "256Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": false,
                                            "readOnlyRootFilesystem": true,
                                            "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [{"name": "katalog", "mountPath": KATALOG_DIR,
                                          "readOnly": true}],
                    }],
                    "volumes": [{"name": "katalog",
                                 "configMap": {"name": "orkestra-katalog"}}],
                },
            },
        },
    });
    if process == Process::Control {
        // Nothing of the Katalog is read: no mount.
        let pod = &mut deployment["spec"]["template"]["spec"];
        pod["containers"][0]
            .as_object_mut()
            .map(|c| c.remove("volumeMounts"));
        pod.as_object_mut().map(|p| p.remove("volumes"));
    }
    deployment
}

/// The labels selecting the pods of `process`.
fn selector(process: Process) -> Value {
    json!({
        "app.kubernetes.io/name": "orkestra",
        "app.kubernetes.io/component": process.name(),
    })
}

/// The Service of `process`: the gateway's carries the webhooks (443, the `--service` mode of
/// `ork gateway`, named by `ORK_SERVICE_NAME`) and its HTTP API; the runtime's HTTP API and the
/// Control Center's UI have one when the Control Center is deployed.
fn service(process: Process, ns: &str, labels: Value, ports: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": process.name(), "namespace": ns, "labels": labels},
        "spec": {"selector": selector(process), "ports": ports},
    })
}

/// The objects as one multi-document YAML, each document starting with `---`.
fn render(objects: &[Value]) -> anyhow::Result<String> {
    let mut text = String::new();
    for object in objects {
        text.push_str("---\n");
        text.push_str(&serde_saphyr::to_string(object).context("writing YAML")?);
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KATALOG: &str = "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata:
  name: shop
spec:
  crds:
    website:
      apiTypes: {group: example.com, version: v1, kind: Website, plural: websites}
      operatorBox:
        onCreate:
          deployments:
            - name: \"{{ .metadata.name }}\"
              image: nginx
";

    fn load() -> Loaded {
        match katalog::load_text("katalog.yaml", KATALOG) {
            Ok(loaded) => loaded,
            Err(d) => panic!("{}", d.render()),
        }
    }

    fn options(processes: Vec<Process>) -> Options {
        Options {
            namespace: "orkestra-system".into(),
            image: "ork-runtime:test".into(),
            processes,
        }
    }

    fn kinds(objects: &[Value]) -> Vec<String> {
        objects
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["metadata"]["name"].as_str().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn for_accepts_orkestra_aliases_and_names_valid_values_otherwise() {
        assert_eq!(Process::parse("run").unwrap(), Process::Runtime);
        assert_eq!(Process::parse("gw").unwrap(), Process::Gateway);
        assert_eq!(Process::parse("cc").unwrap(), Process::Control);
        let error = Process::parse("web").unwrap_err().to_string();
        assert!(error.contains("valid: runtime"), "{error}");
    }

    #[test]
    fn a_katalog_without_gateway_features_gets_a_runtime_only_bundle() {
        let objects = bundle(&load(), &options(vec![Process::Gateway, Process::Runtime])).unwrap();
        assert_eq!(
            kinds(&objects),
            [
                "Namespace/orkestra-system",
                "ServiceAccount/orkestra",
                "ClusterRole/orkestra-runtime",
                "ClusterRoleBinding/orkestra-runtime",
                "ConfigMap/orkestra-katalog",
                "Deployment/orkestra-runtime",
            ]
        );
    }

    #[test]
    fn the_cluster_role_carries_the_katalog_rules() {
        let objects = bundle(&load(), &options(vec![Process::Runtime])).unwrap();
        let role = &objects[2];
        let rules = role["rules"].as_array().unwrap();
        let has = |group: &str, resource: &str| {
            rules.iter().any(|r| {
                r["apiGroups"][0] == group
                    && r["resources"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|x| x == resource)
            })
        };
        assert!(has("example.com", "websites"));
        assert!(has("example.com", "websites/status"));
        assert!(has("apps", "deployments"));
        assert!(has("coordination.k8s.io", "leases"));
        assert!(!has("", "secrets"), "no secret access without secretRefs");
    }

    #[test]
    fn the_deployment_probes_the_http_api_and_mounts_the_katalog() {
        let objects = bundle(&load(), &options(vec![Process::Runtime])).unwrap();
        let container = &objects[5]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["startupProbe"]["httpGet"]["path"], "/startup");
        assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/health");
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/ready");
        assert_eq!(container["image"], "ork-runtime:test");
        assert_eq!(
            container["args"],
            json!(["run", "-f", "/etc/orkestra/katalog/katalog.yaml"])
        );
        assert_eq!(objects[4]["data"]["katalog.yaml"], KATALOG);
    }

    #[test]
    fn the_control_center_reads_the_others_through_services_with_no_token_or_role() {
        let objects = bundle(&load(), &options(vec![Process::Control, Process::Runtime])).unwrap();
        let of = |kind: &str, name: &str| {
            objects
                .iter()
                .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
                .cloned()
        };
        let account = of("ServiceAccount", "orkestra-control").unwrap();
        assert_eq!(account["automountServiceAccountToken"], false);
        assert!(of("ClusterRole", "orkestra-control").is_none());
        let deployment = of("Deployment", "orkestra-control").unwrap();
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(
            pod["containers"][0]["args"],
            json!([
                "control",
                "--urls",
                "http://orkestra-runtime.orkestra-system.svc:8080"
            ])
        );
        assert!(pod.get("volumes").is_none(), "it reads no Katalog");
        let runtime = of("Service", "orkestra-runtime").expect("the runtime's API has a Service");
        assert_eq!(runtime["spec"]["ports"][0]["port"], 8080);
        assert!(of("Service", "orkestra-control").is_some());
    }

    #[test]
    fn the_same_katalog_renders_byte_identical_bundles() {
        let first = render(&bundle(&load(), &options(vec![Process::Runtime])).unwrap()).unwrap();
        let second = render(&bundle(&load(), &options(vec![Process::Runtime])).unwrap()).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.matches("\n---\n").count() + 1, 6);
    }
}
