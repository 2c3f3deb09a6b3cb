//! Everything the gateway writes to the cluster, and how it takes it back: webhook
//! configurations (server-side apply, deleted by label), CRD `spec.conversion` (original kept
//! in an annotation, restored on exit), namespace labels (which ones recorded in an
//! annotation) and the TLS Secret. All of it is marked with [`labels::INSTANCE`], so a start
//! after a SIGKILL finds what the previous instance left ([`Cluster::adopt`]).

use std::collections::BTreeSet;

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::labels;
use crate::tls::Material;
use crate::webhook_config::WebhookConfig;

/// A failed cluster write or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Applying a webhook configuration failed.
    #[error("applying webhook configuration {0}")]
    ApplyWebhookFailed(String, #[source] kube::Error),
    /// Listing or deleting our webhook configurations failed.
    #[error("removing webhook configurations")]
    DeleteWebhooksFailed(#[source] kube::Error),
    /// Reading or patching a CRD failed.
    #[error("patching the conversion of CRD {0}")]
    PatchCrdFailed(String, #[source] kube::Error),
    /// A patch did not serialize.
    #[error("building a patch")]
    PatchInvalid(#[source] serde_json::Error),
    /// Reading or patching the namespace failed.
    #[error("labelling namespace {0}")]
    LabelNamespaceFailed(String, #[source] kube::Error),
    /// Reading or writing the TLS Secret failed.
    #[error("storing the TLS Secret {0}")]
    SecretFailed(String, #[source] kube::Error),
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The cluster side of one gateway instance.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    instance: String,
    namespace: Option<String>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("instance", &self.instance)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

fn is_forbidden(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 403)
}

fn apply_params() -> PatchParams {
    PatchParams::apply(labels::FIELD_MANAGER).force()
}

impl Cluster {
    /// The cluster side of `instance`; `namespace` holds the Secret and gets the labels.
    pub fn new(
        client: kube::Client,
        instance: impl Into<String>,
        namespace: Option<String>,
    ) -> Self {
        Cluster {
            client,
            instance: instance.into(),
            namespace,
        }
    }

    fn selector(&self) -> ListParams {
        ListParams::default().labels(&labels::selector(&self.instance))
    }

    fn validating(&self) -> Api<ValidatingWebhookConfiguration> {
        Api::all(self.client.clone())
    }

    fn mutating(&self) -> Api<MutatingWebhookConfiguration> {
        Api::all(self.client.clone())
    }

    fn crds(&self) -> Api<CustomResourceDefinition> {
        Api::all(self.client.clone())
    }

    /// Creates or updates every configuration in `desired` (server-side apply, forced: an
    /// edit by someone else is reverted).
    ///
    /// # Errors
    /// The first configuration that could not be applied.
    pub async fn apply_webhooks(&self, desired: &[WebhookConfig]) -> Result<()> {
        for cfg in desired {
            let patch = Patch::Apply(&cfg.object);
            let result = if cfg.is_mutating() {
                self.mutating()
                    .patch(&cfg.name, &apply_params(), &patch)
                    .await
                    .map(drop)
            } else {
                self.validating()
                    .patch(&cfg.name, &apply_params(), &patch)
                    .await
                    .map(drop)
            };
            result.map_err(|e| Error::ApplyWebhookFailed(cfg.name.clone(), e))?;
        }
        Ok(())
    }

    /// Deletes this instance's webhook configurations whose names are not in `keep`.
    ///
    /// # Errors
    /// A list or delete that failed (not-found is fine).
    pub async fn delete_webhooks_except(&self, keep: &BTreeSet<String>) -> Result<usize> {
        let v = delete_except(&self.validating(), &self.selector(), keep).await?;
        let m = delete_except(&self.mutating(), &self.selector(), keep).await?;
        Ok(v + m)
    }

    /// Points CRD `name`'s `spec.conversion` at the gateway, first saving the original in an
    /// annotation (unless a previous instance already saved it). No write when already so.
    ///
    /// # Errors
    /// A read or patch that failed.
    pub async fn patch_conversion(&self, name: &str, conversion: &Value) -> Result<bool> {
        let fail = |e| Error::PatchCrdFailed(name.to_owned(), e);
        let crd = self.crds().get(name).await.map_err(fail)?;
        let current = serde_json::to_value(&crd.spec.conversion).map_err(Error::PatchInvalid)?;
        let annotations = crd.metadata.annotations.clone().unwrap_or_default();
        let mut wrote = false;
        if !annotations.contains_key(labels::ORIGINAL_CONVERSION) {
            let meta = json!({"metadata": {
                "labels": {labels::INSTANCE: self.instance},
                "annotations": {labels::ORIGINAL_CONVERSION: current.to_string()},
            }});
            self.crds()
                .patch(name, &PatchParams::default(), &Patch::Merge(&meta))
                .await
                .map_err(fail)?;
            wrote = true;
        }
        if !same_conversion(&current, conversion) {
            self.replace_conversion(name, conversion).await?;
            wrote = true;
        }
        Ok(wrote)
    }

    async fn replace_conversion(&self, name: &str, conversion: &Value) -> Result<()> {
        let patch: json_patch::Patch = serde_json::from_value(json!([
            {"op": "add", "path": "/spec/conversion", "value": conversion}
        ]))
        .map_err(Error::PatchInvalid)?;
        self.crds()
            .patch(name, &PatchParams::default(), &Patch::Json::<()>(patch))
            .await
            .map_err(|e| Error::PatchCrdFailed(name.to_owned(), e))?;
        Ok(())
    }

    /// Restores every CRD this instance patched whose name is not in `keep`: the saved
    /// `spec.conversion` comes back, the annotation and label go.
    ///
    /// # Errors
    /// A read or patch that failed.
    pub async fn restore_conversions_except(&self, keep: &BTreeSet<String>) -> Result<usize> {
        let list = self
            .crds()
            .list(&self.selector())
            .await
            .map_err(|e| Error::PatchCrdFailed("(list)".into(), e))?;
        let mut restored = 0;
        for crd in list.items {
            let name = crd.metadata.name.clone().unwrap_or_default();
            if keep.contains(&name) {
                continue;
            }
            let original = crd
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(labels::ORIGINAL_CONVERSION))
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .filter(|v| !v.is_null())
                .unwrap_or_else(|| json!({"strategy": "None"}));
            self.replace_conversion(&name, &original).await?;
            let meta = json!({"metadata": {
                "labels": {labels::INSTANCE: null},
                "annotations": {labels::ORIGINAL_CONVERSION: null},
            }});
            self.crds()
                .patch(&name, &PatchParams::default(), &Patch::Merge(&meta))
                .await
                .map_err(|e| Error::PatchCrdFailed(name.clone(), e))?;
            restored += 1;
        }
        Ok(restored)
    }

    /// Labels the gateway's namespace `orkestra.io/deletion-protection: "true"` (spec
    /// §16.6), recording that it did so when the label was not already there.
    ///
    /// # Errors
    /// A read or patch that failed.
    pub async fn label_namespace(&self) -> Result<bool> {
        let Some(ns) = &self.namespace else {
            return Ok(false);
        };
        let api: Api<Namespace> = Api::all(self.client.clone());
        let fail = |e| Error::LabelNamespaceFailed(ns.clone(), e);
        let current = api.get(ns).await.map_err(fail)?;
        let has = current
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(katalog::labels::DELETION_PROTECTION))
            .is_some_and(|v| v == katalog::labels::TRUE);
        if has {
            return Ok(false);
        }
        let marked = current
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(labels::ADDED_LABELS));
        let mut meta = json!({"metadata": {"labels": {katalog::labels::DELETION_PROTECTION: katalog::labels::TRUE}}});
        if !marked {
            meta["metadata"]["annotations"] = json!({labels::ADDED_LABELS: format!("{}={}", katalog::labels::DELETION_PROTECTION, self.instance)});
        }
        api.patch(ns, &PatchParams::default(), &Patch::Merge(&meta))
            .await
            .map_err(fail)?;
        Ok(true)
    }

    /// Removes the namespace label this instance added (none if it was there before).
    ///
    /// # Errors
    /// A read or patch that failed.
    pub async fn unlabel_namespace(&self) -> Result<()> {
        let Some(ns) = &self.namespace else {
            return Ok(());
        };
        let api: Api<Namespace> = Api::all(self.client.clone());
        let fail = |e| Error::LabelNamespaceFailed(ns.clone(), e);
        let current = match api.get(ns).await {
            Ok(n) => n,
            Err(e) if is_not_found(&e) => return Ok(()),
            // The role of a gateway without deletion protection grants nothing on namespaces
            // (§19.3), and such a gateway labelled none.
            Err(e) if is_forbidden(&e) => {
                tracing::info!(
                    namespace = %ns,
                    "no right to read the namespace: a deletion-protection label an earlier \
                     version of this Katalog set there stays"
                );
                return Ok(());
            }
            Err(e) => return Err(fail(e)),
        };
        let ours = current
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(labels::ADDED_LABELS))
            .is_some_and(|v| v.ends_with(&format!("={}", self.instance)));
        if !ours {
            return Ok(());
        }
        let meta = json!({"metadata": {
            "labels": {katalog::labels::DELETION_PROTECTION: null},
            "annotations": {labels::ADDED_LABELS: null},
        }});
        api.patch(ns, &PatchParams::default(), &Patch::Merge(&meta))
            .await
            .map_err(fail)?;
        Ok(())
    }

    /// The Secret name of this instance's TLS material.
    pub fn secret_name(&self) -> String {
        format!("{}-tls", self.instance)
    }

    /// The stored TLS material, when a Secret of ours holds a complete set.
    ///
    /// # Errors
    /// A read that failed for another reason than not-found.
    pub async fn load_tls(&self) -> Result<Option<Material>> {
        let Some(ns) = &self.namespace else {
            return Ok(None);
        };
        let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        let name = self.secret_name();
        let secret = match api.get(&name).await {
            Ok(s) => s,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(Error::SecretFailed(name, e)),
        };
        let data = secret.data.unwrap_or_default();
        let text = |k: &str| {
            data.get(k)
                .and_then(|b| String::from_utf8(b.0.clone()).ok())
        };
        Ok(match (text("ca.crt"), text("tls.crt"), text("tls.key")) {
            (Some(ca_bundle), Some(cert), Some(key)) => Some(Material {
                ca_bundle,
                ca_key: None,
                cert,
                key,
            }),
            _ => None,
        })
    }

    /// Stores TLS material in this instance's Secret (`kubernetes.io/tls`).
    ///
    /// # Errors
    /// A write that failed.
    pub async fn store_tls(&self, m: &Material) -> Result<()> {
        let Some(ns) = &self.namespace else {
            return Ok(());
        };
        let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        let name = self.secret_name();
        let mut secret_labels = labels::owned(&self.instance);
        secret_labels.insert(katalog::labels::APP_COMPONENT.into(), "tls".into());
        let body = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": secret_labels,
                "annotations": {katalog::labels::GENERATED_AT: time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339).unwrap_or_default()},
            },
            "type": "kubernetes.io/tls",
            "stringData": {"tls.crt": m.cert, "tls.key": m.key, "ca.crt": m.ca_bundle},
        });
        let secret: Secret = serde_json::from_value(body).map_err(Error::PatchInvalid)?;
        match api.create(&PostParams::default(), &secret).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => {
                let mut existing = api
                    .get(&name)
                    .await
                    .map_err(|e| Error::SecretFailed(name.clone(), e))?;
                existing.data = None;
                existing.string_data = secret.string_data;
                existing.metadata.labels = secret.metadata.labels;
                existing.metadata.annotations = secret.metadata.annotations;
                api.replace(&name, &PostParams::default(), &existing)
                    .await
                    .map_err(|e| Error::SecretFailed(name.clone(), e))?;
                Ok(())
            }
            Err(e) => Err(Error::SecretFailed(name, e)),
        }
    }

    /// Deletes this instance's TLS Secret.
    ///
    /// # Errors
    /// A delete that failed (not-found is fine).
    pub async fn delete_tls(&self) -> Result<()> {
        let Some(ns) = &self.namespace else {
            return Ok(());
        };
        let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        let name = self.secret_name();
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(Error::SecretFailed(name, e)),
        }
    }

    /// Removes everything this instance put in the cluster: webhook configurations first (so
    /// nothing calls a gateway that is going away), then CRD conversions, the namespace label
    /// and the Secret. Every step is attempted; the first error is returned.
    ///
    /// # Errors
    /// The first step that failed.
    pub async fn remove_all(&self) -> Result<()> {
        let none = BTreeSet::new();
        let results = [
            self.delete_webhooks_except(&none).await.map(drop),
            self.restore_conversions_except(&none).await.map(drop),
            self.unlabel_namespace().await,
            self.delete_tls().await,
        ];
        results.into_iter().collect()
    }
}

/// Deletes the objects `api` lists under `selector` whose names are not in `keep`.
async fn delete_except<K>(
    api: &Api<K>,
    selector: &ListParams,
    keep: &BTreeSet<String>,
) -> Result<usize>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut deleted = 0;
    let list = api
        .list_metadata(selector)
        .await
        .map_err(Error::DeleteWebhooksFailed)?;
    for item in list.items {
        let name = item.metadata.name.unwrap_or_default();
        if keep.contains(&name) {
            continue;
        }
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => deleted += 1,
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(Error::DeleteWebhooksFailed(e)),
        }
    }
    Ok(deleted)
}

/// Whether the CRD's current conversion already is the desired one (the API server adds
/// defaults, so only the fields we set are compared).
fn same_conversion(current: &Value, desired: &Value) -> bool {
    let pick = |v: &Value| {
        json!({
            "strategy": v.get("strategy"),
            "clientConfig": v.pointer("/webhook/clientConfig"),
            "versions": v.pointer("/webhook/conversionReviewVersions"),
        })
    };
    pick(current) == pick(desired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_compare_on_the_fields_the_gateway_sets() {
        let ours = json!({"strategy": "Webhook", "webhook": {"clientConfig": {"url": "u", "caBundle": "c"}, "conversionReviewVersions": ["v1"]}});
        assert!(same_conversion(&ours, &ours));
        assert!(!same_conversion(&json!({"strategy": "None"}), &ours));
        let mut rotated = ours.clone();
        rotated["webhook"]["clientConfig"]["caBundle"] = json!("d");
        assert!(!same_conversion(&rotated, &ours));
    }
}
