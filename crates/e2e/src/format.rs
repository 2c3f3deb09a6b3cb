//! The E2E file format (spec §22.2), as typed structs decoded strictly by `katalog::de`: every
//! unknown key is an error with file:line:col and its key path.
//!
//! A file is either a test (`spec:`) or an aggregator (`imports:`). Keys that take more than
//! one form (`setup`, `setup.apply[]`, `imports[]`) have hand-written `Deserialize` impls that
//! accept each form and nothing else.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// Declares a check struct with the assertion keys of [`OutputAssertions`] inlined (the file
/// writes them next to the check's own keys) and `assertions()` to read them together.
macro_rules! with_assertions {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident : $t:ty,)* }) => {
        $(#[$m])*
        pub struct $name {
            $($(#[$fm])* pub $f: $t,)*
            /// The trimmed output equals this.
            pub equals: Option<String>,
            /// The trimmed output differs from this.
            pub not_equals: Option<String>,
            /// The trimmed output is one of these.
            pub one_of: Option<Vec<String>>,
            /// The output contains this.
            pub output_contains: Option<String>,
            /// The output does not contain this.
            pub output_not_contains: Option<String>,
            /// The trimmed output is a number above this.
            pub greater_than: Option<String>,
            /// The trimmed output is a number below this.
            pub less_than: Option<String>,
        }

        impl $name {
            /// The assertions written on this check.
            pub fn assertions(&self) -> OutputAssertions {
                OutputAssertions {
                    equals: self.equals.clone(),
                    not_equals: self.not_equals.clone(),
                    one_of: self.one_of.clone(),
                    output_contains: self.output_contains.clone(),
                    output_not_contains: self.output_not_contains.clone(),
                    greater_than: self.greater_than.clone(),
                    less_than: self.less_than.clone(),
                }
            }
        }
    };
}

/// The root of an E2E file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct E2eFile {
    /// `orkestra.orkspace.io/v1`.
    pub api_version: String,
    /// `E2E`.
    pub kind: String,
    /// Name and description.
    pub metadata: Metadata,
    /// The test (absent in an aggregator).
    pub spec: Option<Spec>,
    /// Other E2E files run in order (an aggregator).
    #[serde(default)]
    pub imports: Vec<Import>,
}

/// `metadata`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The test's name (the JUnit test suite's name).
    pub name: String,
    /// What it proves.
    pub description: Option<String>,
}

/// `spec`: one test.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    /// The Katalog or Komposer the operator runs (optional with `custom`).
    pub katalog: Option<String>,
    /// The CRD manifest.
    pub crd: Option<String>,
    /// More CRD manifests.
    #[serde(default)]
    pub crd_files: Vec<String>,
    /// The CR applied at `cr-applied` and deleted at `cr-deleted`.
    pub cr: Option<String>,
    /// More CRs applied and deleted with it.
    #[serde(default)]
    pub cr_files: Vec<String>,
    /// Helm values of the operator's chart (upstream installs the operator with Helm; ork
    /// runs it in-process, so these are refused when given).
    #[serde(default)]
    pub values_files: Vec<String>,
    /// Where the test runs.
    pub cluster: Option<Cluster>,
    /// Test a non-Orkestra operator: no operator is started.
    pub custom: Option<Custom>,
    /// Same as `custom`: the CR is handled by an operator the setup installs.
    #[serde(default)]
    pub custom_operator: bool,
    /// Manifests, charts and waits before the operator starts.
    pub setup: Option<Setup>,
    /// The expectations, in order.
    #[serde(default)]
    pub expect: Vec<Expectation>,
    /// Diagnostics printed when an expectation fails.
    pub on_failure: Option<OnFailure>,
}

/// `spec.cluster`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// `kind` (ork's own local control plane) or `existing` (the current context).
    #[serde(default)]
    pub provider: Provider,
    /// The cluster's name (upstream's kind cluster; shown in the report).
    pub name: Option<String>,
    /// Reuse a cluster left by an earlier run (refused: ork's local control plane always
    /// starts fresh).
    #[serde(default)]
    pub reuse: bool,
}

/// `spec.cluster.provider`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// A throwaway local control plane with simulated workloads (no kind, no Docker).
    #[default]
    Kind,
    /// The current kubeconfig context.
    Existing,
}

/// `spec.custom`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Custom {
    /// What runs the CRs (e.g. `kubernetes`); informative.
    pub target: Option<String>,
}

/// `spec.setup`: a list of manifests, or the long form.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// Manifests applied in order.
    pub apply: Vec<ApplyItem>,
    /// Helm charts installed in order.
    pub helm: Vec<HelmRelease>,
    /// Objects to wait for once everything is applied.
    pub wait: Vec<WaitFor>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupLong {
    #[serde(default)]
    apply: Vec<ApplyItem>,
    #[serde(default)]
    helm: Vec<HelmRelease>,
    #[serde(default)]
    wait: Vec<WaitFor>,
}

impl<'de> Deserialize<'de> for Setup {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Setup;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of manifest paths or a map of apply, helm and wait")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Setup, A::Error> {
                let apply = Vec::<ApplyItem>::deserialize(SeqAccessDeserializer::new(seq))?;
                Ok(Setup {
                    apply,
                    ..Setup::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Setup, A::Error> {
                let long = SetupLong::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Setup {
                    apply: long.apply,
                    helm: long.helm,
                    wait: long.wait,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// One `setup.apply` entry: a path, or `{path, wait}`.
#[derive(Debug, Clone)]
pub struct ApplyItem {
    /// The manifest, relative to the E2E file.
    pub path: String,
    /// Objects to wait for after applying it.
    pub wait: Vec<WaitFor>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyLong {
    path: String,
    #[serde(default)]
    wait: Vec<WaitFor>,
}

impl<'de> Deserialize<'de> for ApplyItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ApplyItem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a manifest path or {path, wait}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ApplyItem, E> {
                Ok(ApplyItem {
                    path: v.to_owned(),
                    wait: Vec::new(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ApplyItem, A::Error> {
                let long = ApplyLong::deserialize(MapAccessDeserializer::new(map))?;
                Ok(ApplyItem {
                    path: long.path,
                    wait: long.wait,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A `wait` entry: an object that must exist (and be ready) within `timeout`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitFor {
    /// Its kind (any form kubectl accepts).
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its namespace (default `default`).
    pub namespace: Option<String>,
    /// Also wait until it is ready (the readiness of [`ResourceCheck::ready`]).
    #[serde(default)]
    pub ready: bool,
    /// How long (default 60 s).
    pub timeout: Option<String>,
}

/// A `setup.helm` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HelmRelease {
    /// Chart repository URL.
    pub repo: Option<String>,
    /// Chart name or local path.
    pub chart: String,
    /// Release name.
    pub release: Option<String>,
    /// Release namespace.
    pub namespace: Option<String>,
    /// Create the namespace.
    #[serde(default)]
    pub create_namespace: bool,
    /// Chart version.
    pub version: Option<String>,
    /// Values.
    pub values: Option<serde_json::Value>,
    /// Objects to wait for after the install.
    #[serde(default)]
    pub wait: Vec<WaitFor>,
}

/// An `imports` entry: a path, or `{path, wait, freshCluster}`.
#[derive(Debug, Clone)]
pub struct Import {
    /// The imported E2E file, relative to the importing one.
    pub path: String,
    /// Pause before running it.
    pub wait: Option<String>,
    /// Run it on a cluster of its own instead of the shared one.
    pub fresh_cluster: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ImportLong {
    path: String,
    wait: Option<String>,
    #[serde(default)]
    fresh_cluster: bool,
}

impl<'de> Deserialize<'de> for Import {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Import;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an E2E file path or {path, wait, freshCluster}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Import, E> {
                Ok(Import {
                    path: v.to_owned(),
                    wait: None,
                    fresh_cluster: false,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Import, A::Error> {
                let long = ImportLong::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Import {
                    path: long.path,
                    wait: long.wait,
                    fresh_cluster: long.fresh_cluster,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// When an expectation runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Once setup is done and the operator runs, before the CR is applied.
    SetupComplete,
    /// After the CR is applied (the default).
    #[default]
    CrApplied,
    /// After the CR is deleted.
    CrDeleted,
}

impl Phase {
    /// The phase as written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::SetupComplete => "setup-complete",
            Phase::CrApplied => "cr-applied",
            Phase::CrDeleted => "cr-deleted",
        }
    }
}

/// One `expect` entry: checks that must all pass within `timeout`; or an `include` of a file
/// whose root is `expect: [...]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Its name in the report.
    #[serde(default)]
    pub name: String,
    /// When it runs (default `cr-applied`).
    #[serde(default)]
    pub after: Phase,
    /// How long it may take (default 60 s).
    pub timeout: Option<String>,
    /// Pause before the first check.
    pub wait: Option<String>,
    /// A file of more expectations, replacing this entry.
    pub include: Option<String>,
    /// Objects that must exist (ready, counted) or be absent.
    #[serde(default)]
    pub resources: Vec<ResourceCheck>,
    /// Shell commands (kubectl on PATH) and what they must print.
    #[serde(default)]
    pub commands: Vec<CommandCheck>,
    /// kubectl operations and what they must return.
    pub kubectl: Option<KubectlChecks>,
}

/// The root of a file named by `include`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncludeFile {
    /// Its expectations.
    pub expect: Vec<Expectation>,
}

/// A `resources` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceCheck {
    /// Kind (any form kubectl accepts).
    pub kind: String,
    /// Name; without it, any object of the kind.
    pub name: Option<String>,
    /// Namespace (default `default`).
    pub namespace: Option<String>,
    /// Also ready: Available/Ready/Complete conditions, ready replicas, a Running Pod.
    #[serde(default)]
    pub ready: bool,
    /// Exactly this many (`0`: absent).
    pub count: Option<usize>,
}

with_assertions! {
/// A `commands` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CommandCheck {
    /// The shell command.
    pub run: String,
    /// Its exit code (default 0).
    #[serde(default)]
    pub exit_code: i32,
}
}

/// What an output must satisfy; every one given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputAssertions {
    /// The trimmed output equals this.
    pub equals: Option<String>,
    /// The trimmed output differs from this.
    pub not_equals: Option<String>,
    /// The trimmed output is one of these.
    pub one_of: Option<Vec<String>>,
    /// The output contains this.
    pub output_contains: Option<String>,
    /// The output does not contain this.
    pub output_not_contains: Option<String>,
    /// The trimmed output is a number above this.
    pub greater_than: Option<String>,
    /// The trimmed output is a number below this.
    pub less_than: Option<String>,
}

/// `kubectl`: operations run in this order: apply, delete, patch, restart, get, logs,
/// describe, events, exec, port-forward.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubectlChecks {
    /// `kubectl apply`.
    #[serde(default)]
    pub apply: Vec<KubectlApply>,
    /// `kubectl delete`.
    #[serde(default)]
    pub delete: Vec<KubectlDelete>,
    /// `kubectl patch`.
    #[serde(default)]
    pub patch: Vec<KubectlPatch>,
    /// `kubectl rollout restart`.
    #[serde(default)]
    pub restart: Vec<ObjectRef>,
    /// `kubectl get` with a field or the whole object.
    #[serde(default)]
    pub get: Vec<KubectlGet>,
    /// `kubectl logs`.
    #[serde(default)]
    pub logs: Vec<KubectlLogs>,
    /// `kubectl describe`.
    #[serde(default)]
    pub describe: Vec<KubectlRead>,
    /// `kubectl events`.
    #[serde(default)]
    pub events: Vec<KubectlRead>,
    /// `kubectl exec`.
    #[serde(default)]
    pub exec: Vec<KubectlExec>,
    /// An HTTP call to a Service's pod or to the leader of a Lease.
    #[serde(default, rename = "port-forward")]
    pub port_forward: Vec<PortForward>,
}

/// A kind, name and namespace.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectRef {
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: Option<String>,
    /// Namespace (default `default`).
    pub namespace: Option<String>,
    /// Label selector instead of a name.
    pub label_selector: Option<String>,
}

/// `kubectl.apply[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubectlApply {
    /// A manifest, relative to the E2E file.
    pub file: Option<String>,
    /// An inline manifest.
    pub inline: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
}

/// `kubectl.delete[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubectlDelete {
    /// Kind.
    pub kind: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Namespace (default `default`).
    pub namespace: Option<String>,
    /// A manifest whose objects are deleted.
    pub file: Option<String>,
    /// Delete the Pod holding this Lease.
    pub leader_election: Option<LeaderElection>,
    /// A missing object is not an error.
    #[serde(default)]
    pub ignore_not_found: bool,
}

/// `kubectl.patch[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubectlPatch {
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace (default `default`).
    pub namespace: Option<String>,
    /// The patch (JSON or YAML).
    pub patch: String,
    /// `merge` (default), `json` or `strategic`.
    #[serde(rename = "type")]
    pub patch_type: Option<String>,
}

with_assertions! {
/// `kubectl.get[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubectlGet {
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace (default `default`).
    pub namespace: Option<String>,
    /// A JSONPath field, e.g. `.status.readyReplicas`; without it, the object as JSON.
    pub field: Option<String>,
    /// A path into the JSON output (`.a.b[0]`).
    pub jq: Option<String>,
}
}

with_assertions! {
/// `kubectl.logs[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubectlLogs {
    /// Pod name.
    pub name: Option<String>,
    /// Namespace (default `default`).
    pub namespace: Option<String>,
    /// Pods by label.
    pub label_selector: Option<String>,
    /// The Pod holding this Lease.
    pub leader_election: Option<LeaderElection>,
    /// Container.
    pub container: Option<String>,
    /// Only lines newer than this.
    pub since: Option<String>,
}
}

with_assertions! {
/// `kubectl.describe[]` and `kubectl.events[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubectlRead {
    /// Kind (for events: of the involved object).
    pub kind: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Namespace (default `default`).
    pub namespace: Option<String>,
    /// Objects by label (describe).
    pub label_selector: Option<String>,
}
}

with_assertions! {
/// `kubectl.exec[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubectlExec {
    /// Pod name.
    pub name: Option<String>,
    /// Namespace (default `default`).
    pub namespace: Option<String>,
    /// The Pod holding this Lease.
    pub leader_election: Option<LeaderElection>,
    /// The command.
    #[serde(default)]
    pub command: Vec<String>,
}
}

/// `leaderElection`: the current holder of a Lease.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaderElection {
    /// The Lease.
    pub lease: String,
    /// Its namespace (default: the entry's namespace).
    pub namespace: Option<String>,
}

with_assertions! {
/// `kubectl.port-forward[]`: an HTTP call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PortForward {
    /// The Service whose pod is called.
    pub service: Option<String>,
    /// Or the pod holding this Lease.
    pub leader_election: Option<LeaderElection>,
    /// Namespace.
    pub namespace: Option<String>,
    /// Port.
    pub port: u16,
    /// Request path.
    #[serde(default)]
    pub path: String,
    /// Method (default GET).
    pub method: Option<String>,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body.
    pub body: Option<String>,
    /// A path into the JSON response (`.a.b`).
    pub jq: Option<String>,
    /// Expected status code.
    pub status_code: Option<u16>,
}
}

/// `onFailure`: what to print when an expectation fails.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnFailure {
    /// kubectl reads.
    pub kubectl: Option<OnFailureKubectl>,
    /// Shell commands.
    #[serde(default)]
    pub commands: Vec<String>,
}

/// `onFailure.kubectl`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnFailureKubectl {
    /// `kubectl logs`.
    #[serde(default)]
    pub logs: Vec<ObjectRef>,
    /// `kubectl describe`.
    #[serde(default)]
    pub describe: Vec<ObjectRef>,
    /// `kubectl get -o yaml`.
    #[serde(default)]
    pub get: Vec<ObjectRef>,
    /// `kubectl events`.
    #[serde(default)]
    pub events: Vec<ObjectRef>,
}
