//! Reaching the cluster as kubectl does, and what `ork run` prepares there in local mode.
//!
//! [`connect`] resolves the client configuration in kubectl's order: an explicit kubeconfig
//! file, else `KUBECONFIG` (several paths, merged, first wins, missing files skipped), else
//! `~/.kube/config`, else the in-cluster ServiceAccount; `--context` picks a context of the
//! kubeconfig.
//!
//! Outside a pod ([`Mode::Local`]) [`prepare`] applies, per enabled CRD of the Katalog, its
//! `setup` manifests and its `crdFile`, waits until every applied CRD is `Established`, then
//! applies the `crFiles` — all by server-side apply under the field manager [`SETUP_MANAGER`].
//! In a pod none of this happens: the cluster is expected to be set up already.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{self, Scope};
use kube::{Client, Config};
use serde_json::Value;

/// Where a pod finds its ServiceAccount token; its absence means local mode (spec §13.6).
pub const SERVICE_ACCOUNT_TOKEN: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// The field manager of objects `ork run` applies from files in local mode.
pub const SETUP_MANAGER: &str = "ork-setup";

/// How often a CRD's conditions are read while waiting for it to be established.
const ESTABLISHED_POLL: Duration = Duration::from_millis(200);
/// How long [`apply_file`] waits for a kind to be served before giving up on it.
const SERVED_WAIT: Duration = Duration::from_secs(15);

/// Errors of connecting and of the local-mode setup.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig could not be read or has no usable context.
    #[error("loading the kubeconfig")]
    KubeconfigFailed(#[source] kube::config::KubeconfigError),
    /// Neither a kubeconfig nor an in-cluster ServiceAccount was found.
    #[error("finding a kubeconfig or in-cluster ServiceAccount")]
    ConfigNotFound(#[source] kube::config::InferConfigError),
    /// The client could not be built from the configuration.
    #[error("building the Kubernetes client")]
    ClientFailed(#[source] Box<kube::Error>),
    /// A manifest file could not be read.
    #[error("reading {path}")]
    ManifestUnreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A manifest file is not YAML of Kubernetes objects.
    #[error("{path}: {message}")]
    ManifestInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The API server does not serve an object's kind.
    #[error("{path}: kind {kind} of {api_version} is not served by the API server")]
    KindNotServed {
        /// The file.
        path: PathBuf,
        /// The object's apiVersion.
        api_version: String,
        /// The object's kind.
        kind: String,
        /// The discovery error.
        #[source]
        source: Box<kube::Error>,
    },
    /// Applying an object failed.
    #[error("applying {object} from {path}")]
    ApplyFailed {
        /// The file.
        path: PathBuf,
        /// `Kind/namespace/name`.
        object: String,
        /// The API error.
        #[source]
        source: Box<kube::Error>,
    },
    /// A `setup.wait` entry was not satisfied.
    #[error(transparent)]
    SetupWait(#[from] crate::setup_wait::Error),
    /// A CRD did not become established in time.
    #[error("CRD {crd} was not Established after {waited:?}")]
    CrdNotEstablished {
        /// The CRD's name (`plural.group`).
        crd: String,
        /// How long ork waited.
        waited: Duration,
    },
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where the runtime runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// In a pod: the cluster is already set up.
    InCluster,
    /// Anywhere else: `ork run` applies setup manifests, CRD files and CR files first.
    Local,
}

impl Mode {
    /// In a pod when the ServiceAccount token is mounted, local otherwise.
    pub fn detect() -> Self {
        if Path::new(SERVICE_ACCOUNT_TOKEN).is_file() {
            Self::InCluster
        } else {
            Self::Local
        }
    }
}

/// How to reach the cluster: kubectl's `--kubeconfig` and `--context`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// A kubeconfig file that overrides `KUBECONFIG` and `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use instead of the current one.
    pub context: Option<String>,
}

/// The client configuration, resolved as kubectl resolves it (see the module docs).
///
/// # Errors
///
/// [`Error::KubeconfigFailed`] for an unreadable kubeconfig or unknown context,
/// [`Error::ConfigNotFound`] when there is neither a kubeconfig nor a ServiceAccount.
pub async fn config(options: &ConnectOptions) -> Result<Config> {
    let kube_options = KubeConfigOptions {
        context: options.context.clone(),
        ..KubeConfigOptions::default()
    };
    if let Some(path) = &options.kubeconfig {
        let file = Kubeconfig::read_from(path).map_err(Error::KubeconfigFailed)?;
        return Config::from_custom_kubeconfig(file, &kube_options)
            .await
            .map_err(Error::KubeconfigFailed);
    }
    if let Some(paths) = std::env::var_os("KUBECONFIG")
        && let Some(file) = merged_kubeconfig(&paths).map_err(Error::KubeconfigFailed)?
    {
        return Config::from_custom_kubeconfig(file, &kube_options)
            .await
            .map_err(Error::KubeconfigFailed);
    }
    if options.context.is_some() {
        return Config::from_kubeconfig(&kube_options)
            .await
            .map_err(Error::KubeconfigFailed);
    }
    Config::infer().await.map_err(Error::ConfigNotFound)
}

/// The files of a `KUBECONFIG` value merged as kubectl merges them: empty entries and files
/// that do not exist are skipped, the first file to set a value wins. `None` when no listed
/// file exists.
///
/// # Errors
///
/// A listed file that exists but cannot be read or parsed.
pub fn merged_kubeconfig(
    paths: &std::ffi::OsStr,
) -> Result<Option<Kubeconfig>, kube::config::KubeconfigError> {
    let mut merged: Option<Kubeconfig> = None;
    for path in std::env::split_paths(paths).filter(|p| p.is_file()) {
        let file = Kubeconfig::read_from(&path)?;
        merged = Some(match merged {
            Some(first) => first.merge(file)?,
            None => file,
        });
    }
    Ok(merged)
}

/// A client for the cluster [`config`] resolves.
///
/// # Errors
///
/// As [`config`], and [`Error::ClientFailed`].
pub async fn connect(options: &ConnectOptions) -> Result<Client> {
    Client::try_from(config(options).await?).map_err(|e| Error::ClientFailed(Box::new(e)))
}

/// As [`connect`], counting the client's retries of throttled and unavailable answers in
/// `metrics` ([`crate::api_retry`]).
///
/// # Errors
///
/// As [`connect`].
pub async fn connect_counted(options: &ConnectOptions, metrics: &crate::Metrics) -> Result<Client> {
    crate::api_retry::client(config(options).await?, metrics)
        .map_err(|e| Error::ClientFailed(Box::new(e)))
}

/// Waits until the API server answers `/version`, retrying with backoff (0.5 s doubling to
/// 30 s) and logging each failure; returns the server's version. Never gives up: the caller
/// races it with its shutdown signal.
pub async fn wait_reachable(client: &Client) -> String {
    let mut delay = Duration::from_millis(500);
    loop {
        match client.apiserver_version().await {
            Ok(info) => return info.git_version,
            Err(error) => {
                tracing::warn!(%error, retry_in = ?delay, "API server unreachable; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Applies what a Katalog declares for local runs: per enabled CRD its `setup` manifests and
/// `crdFile`, then waits for those CRDs to be `Established` (at most `timeout` each) and for
/// the objects of `setup.wait` (see [`crate::setup_wait`]), then applies the `crFiles`. Progress goes to the log.
///
/// # Errors
///
/// The first file that cannot be read or applied, or the first CRD not established in time.
pub async fn prepare(client: &Client, katalog: &katalog::Katalog, timeout: Duration) -> Result<()> {
    let mut crds = Vec::new();
    for crd in katalog.enabled_crds() {
        let entry = &crd.entry;
        if let Some(setup) = &entry.setup {
            for file in &setup.value.apply {
                apply_file(client, &relative(&setup.at.file, file)).await?;
            }
        }
        if let Some(file) = &entry.crd_file {
            let applied = apply_file(client, &relative(&file.at.file, &file.value)).await?;
            crds.extend(
                applied
                    .into_iter()
                    .filter(|(kind, _)| kind == "CustomResourceDefinition")
                    .map(|(_, name)| name),
            );
        }
    }
    for crd in &crds {
        wait_established(client, crd, timeout).await?;
    }
    for crd in katalog.enabled_crds() {
        if let Some(setup) = &crd.entry.setup {
            crate::setup_wait::wait_all(client, &setup.value.wait).await?;
        }
    }
    for crd in katalog.enabled_crds() {
        for file in &crd.entry.cr_files {
            apply_file(client, &relative(&file.at.file, &file.value)).await?;
        }
    }
    Ok(())
}

/// `reference` read relative to the Katalog file `from` that names it.
fn relative(from: &Path, reference: &str) -> PathBuf {
    katalog::resolve::resolve_path(from, reference)
        .unwrap_or_else(|_| from.parent().unwrap_or(Path::new("")).join(reference))
}

/// Server-side applies every object of a manifest file, in order; returns each `(kind, name)`.
///
/// # Errors
///
/// The first object that cannot be read, discovered or applied.
pub async fn apply_file(client: &Client, path: &Path) -> Result<Vec<(String, String)>> {
    let objects = read_manifests(path)?;
    let mut applied = Vec::with_capacity(objects.len());
    for object in objects {
        let (kind, name) = apply_object(client, path, object).await?;
        tracing::info!(file = %path.display(), "applied {kind} {name}");
        applied.push((kind, name));
    }
    Ok(applied)
}

/// The objects of a YAML file with one or more documents (empty documents skipped).
///
/// # Errors
///
/// [`Error::ManifestUnreadable`], or [`Error::ManifestInvalid`] for bad YAML or a document
/// without `apiVersion`, `kind` and `metadata.name`.
pub fn read_manifests(path: &Path) -> Result<Vec<Value>> {
    katalog::manifest::read_manifests(path).map_err(|error| match error {
        katalog::manifest::ManifestError::Unreadable { path, source } => {
            Error::ManifestUnreadable { path, source }
        }
        katalog::manifest::ManifestError::Invalid { path, message } => {
            Error::ManifestInvalid { path, message }
        }
    })
}

/// The resource serving `gvk`, asking discovery again for up to [`SERVED_WAIT`]: a CRD that
/// was just created (or just turned `Established`) reaches discovery a moment later.
async fn served_kind(
    client: &Client,
    gvk: &GroupVersionKind,
) -> std::result::Result<(kube::api::ApiResource, kube::discovery::ApiCapabilities), kube::Error> {
    let deadline = tokio::time::Instant::now() + SERVED_WAIT;
    loop {
        match discovery::pinned_kind(client, gvk).await {
            Ok(found) => return Ok(found),
            Err(error) if tokio::time::Instant::now() >= deadline => return Err(error),
            Err(error) => {
                tracing::debug!(kind = %gvk.kind, %error, "kind not served yet; asking again");
                tokio::time::sleep(ESTABLISHED_POLL).await;
            }
        }
    }
}

/// Server-side applies one object (force, [`SETUP_MANAGER`]); namespaced objects without a
/// namespace go to `default`, as kubectl does.
async fn apply_object(client: &Client, path: &Path, object: Value) -> Result<(String, String)> {
    let text = |field: &str| {
        object
            .pointer(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (api_version, kind, name) = (text("/apiVersion"), text("/kind"), text("/metadata/name"));
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
    let gvk = GroupVersionKind::gvk(group, version, &kind);
    let (resource, capabilities) =
        served_kind(client, &gvk)
            .await
            .map_err(|source| Error::KindNotServed {
                path: path.to_owned(),
                api_version: api_version.clone(),
                kind: kind.clone(),
                source: Box::new(source),
            })?;
    let (api, shown): (Api<DynamicObject>, String) = if capabilities.scope == Scope::Namespaced {
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        (
            Api::namespaced_with(client.clone(), namespace, &resource),
            format!("{namespace}/{name}"),
        )
    } else {
        (Api::all_with(client.clone(), &resource), name.clone())
    };
    let params = PatchParams::apply(SETUP_MANAGER).force();
    let applied = match api.patch(&name, &params, &Patch::Apply(&object)).await {
        Err(kube::Error::Api(status))
            if status.message.contains("field not declared in schema") =>
        {
            // Server-side apply refuses fields the CRD's schema does not declare; `kubectl
            // apply` of these files has always dropped them (with a warning) instead, and
            // upstream packs rely on that. Write the object the way kubectl does.
            tracing::warn!(
                file = %path.display(),
                "{kind} {shown}: {}; writing it without the undeclared fields",
                status.message
            );
            create_or_replace(&api, &name, &object).await
        }
        other => other.map(|_| ()),
    };
    applied.map_err(|source| Error::ApplyFailed {
        path: path.to_owned(),
        object: format!("{kind}/{shown}"),
        source: Box::new(source),
    })?;
    Ok((kind, shown))
}

/// Creates `object`, or replaces the existing object of that name (keeping its
/// resourceVersion), letting the API server prune fields its schema does not declare.
async fn create_or_replace(
    api: &Api<DynamicObject>,
    name: &str,
    object: &Value,
) -> std::result::Result<(), kube::Error> {
    let mut desired: DynamicObject =
        serde_json::from_value(object.clone()).map_err(kube::Error::SerdeError)?;
    match api
        .create(&kube::api::PostParams::default(), &desired)
        .await
    {
        Err(kube::Error::Api(status)) if status.code == 409 => {
            let existing = api.get(name).await?;
            desired.metadata.resource_version = existing.metadata.resource_version;
            api.replace(name, &kube::api::PostParams::default(), &desired)
                .await
                .map(|_| ())
        }
        other => other.map(|_| ()),
    }
}

/// Waits until the CRD `name` has the condition `Established=True`, logging progress.
///
/// # Errors
///
/// [`Error::CrdNotEstablished`] after `timeout`.
pub async fn wait_established(client: &Client, name: &str, timeout: Duration) -> Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    tracing::info!("waiting for CRD {name} to be Established (up to {timeout:?})");
    let started = tokio::time::Instant::now();
    let established = tokio::time::timeout(timeout, async {
        loop {
            if let Ok(Some(crd)) = api.get_opt(name).await
                && is_established(&crd)
            {
                return;
            }
            tokio::time::sleep(ESTABLISHED_POLL).await;
        }
    })
    .await;
    match established {
        Ok(()) => {
            tracing::info!("CRD {name} Established after {:?}", started.elapsed());
            Ok(())
        }
        Err(_) => Err(Error::CrdNotEstablished {
            crd: name.to_owned(),
            waited: timeout,
        }),
    }
}

fn is_established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.yaml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn manifests_read_every_non_empty_document_in_order() {
        let (_dir, path) = write(
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: a\ndata: {k: '1'}\n",
        );
        let objects = read_manifests(&path).unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0]["kind"], "Namespace");
        assert_eq!(objects[1]["data"]["k"], "1");
    }

    #[test]
    fn a_document_without_a_name_is_rejected_with_the_file() {
        let (_dir, path) = write("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n");
        let error = read_manifests(&path).unwrap_err();
        assert!(matches!(error, Error::ManifestInvalid { .. }), "{error:?}");
        assert!(error.to_string().contains("metadata/name"), "{error}");
        assert!(error.to_string().contains("m.yaml"), "{error}");
    }

    #[test]
    fn a_missing_file_names_itself() {
        let error = read_manifests(Path::new("/nonexistent/x.yaml")).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/x.yaml"), "{error}");
    }

    #[tokio::test]
    async fn an_explicit_kubeconfig_and_context_are_used() {
        let (_dir, path) = write(
            "apiVersion: v1\nkind: Config\ncurrent-context: one\n\
             clusters:\n- name: c1\n  cluster: {server: 'https://one.invalid:6443'}\n\
             - name: c2\n  cluster: {server: 'https://two.invalid:6443'}\n\
             users:\n- name: u\n  user: {token: t}\n\
             contexts:\n- name: one\n  context: {cluster: c1, user: u}\n\
             - name: two\n  context: {cluster: c2, user: u, namespace: ns2}\n",
        );
        let mut options = ConnectOptions {
            kubeconfig: Some(path),
            context: None,
        };
        let current = config(&options).await.unwrap();
        assert_eq!(current.cluster_url.host(), Some("one.invalid"));
        options.context = Some("two".into());
        let two = config(&options).await.unwrap();
        assert_eq!(two.cluster_url.host(), Some("two.invalid"));
        assert_eq!(two.default_namespace, "ns2");
        options.context = Some("three".into());
        assert!(matches!(
            config(&options).await,
            Err(Error::KubeconfigFailed(_))
        ));
    }

    #[tokio::test]
    async fn kubeconfig_paths_merge_as_kubectl_does() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first");
        let second = dir.path().join("second");
        std::fs::write(
            &first,
            "apiVersion: v1\nkind: Config\ncurrent-context: a\n\
             contexts:\n- name: a\n  context: {cluster: ca, user: u}\n",
        )
        .unwrap();
        std::fs::write(
            &second,
            "apiVersion: v1\nkind: Config\ncurrent-context: b\n\
             clusters:\n- name: ca\n  cluster: {server: 'https://merged.invalid'}\n\
             users:\n- name: u\n  user: {token: t}\n",
        )
        .unwrap();
        let paths = std::env::join_paths([
            dir.path().join("missing"),
            first.clone(),
            PathBuf::new(),
            second,
        ])
        .unwrap();
        let merged = merged_kubeconfig(&paths).unwrap().unwrap();
        assert_eq!(merged.current_context.as_deref(), Some("a"));
        let config = Config::from_custom_kubeconfig(merged, &KubeConfigOptions::default())
            .await
            .unwrap();
        assert_eq!(config.cluster_url.host(), Some("merged.invalid"));
        let none = std::env::join_paths([dir.path().join("missing")]).unwrap();
        assert!(merged_kubeconfig(&none).unwrap().is_none());
    }

    #[test]
    fn conditions_decide_establishment() {
        let crd: CustomResourceDefinition = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "webs.example.com"},
            "spec": {"group": "example.com", "names": {"kind": "Web", "plural": "webs"},
                     "scope": "Namespaced", "versions": []},
            "status": {"conditions": [
                {"type": "NamesAccepted", "status": "True"},
                {"type": "Established", "status": "False"}]}
        }))
        .unwrap();
        assert!(!is_established(&crd));
        let mut ready = crd;
        ready.status.as_mut().unwrap().conditions.as_mut().unwrap()[1].status = "True".into();
        assert!(is_established(&ready));
    }
}
