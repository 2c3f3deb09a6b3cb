//! The API a simulation runs against: the [`MemoryApi`] (the default, no cluster) or the
//! real local control plane ([`EnvtestApi`], `--envtest`). [`crate::run::simulate`] takes it
//! as the [`Backend`] of its inputs; everything else of a run is the same code for both.

use serde_json::Value;

use crate::envtest::EnvtestApi;
use crate::memory_api::{Kind, MemoryApi, Op};

/// Which API a simulation runs against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Backend {
    /// The in-memory API.
    #[default]
    Memory,
    /// A local control plane (etcd and kube-apiserver) started for the run.
    Envtest,
}

/// The API of one run.
#[derive(Debug)]
pub enum Api {
    /// In memory.
    Memory(MemoryApi),
    /// On the local control plane.
    Envtest(Box<EnvtestApi>),
}

impl Api {
    /// A fresh API of `backend`.
    ///
    /// # Errors
    /// The control plane did not start.
    pub async fn start(backend: Backend) -> Result<Self, String> {
        Ok(match backend {
            Backend::Memory => Api::Memory(MemoryApi::new()),
            Backend::Envtest => Api::Envtest(Box::new(EnvtestApi::start().await?)),
        })
    }

    /// The kind named `kind` in `api_version`, if served.
    pub fn kind(&self, api_version: &str, kind: &str) -> Option<Kind> {
        match self {
            Api::Memory(m) => m.kind(api_version, kind),
            Api::Envtest(e) => e.kind(api_version, kind),
        }
    }

    /// Serves `kind` too.
    ///
    /// # Errors
    /// The control plane refused its CRD.
    pub async fn add_kind(&self, kind: Kind) -> Result<(), String> {
        match self {
            Api::Memory(m) => {
                m.add_kind(kind);
                Ok(())
            }
            Api::Envtest(e) => e.add_kind(kind).await,
        }
    }

    /// Serves the kinds of a CustomResourceDefinition document (in memory: with the plural,
    /// scope and status subresource it declares; on the control plane: the document
    /// installed as it is).
    ///
    /// # Errors
    /// The control plane refused it.
    pub async fn add_crd_document(&self, document: &Value) -> Result<(), String> {
        match self {
            Api::Memory(m) => {
                for kind in crate::memory_api::kinds::kinds_of_crd_document(document) {
                    m.add_kind(kind);
                }
                Ok(())
            }
            Api::Envtest(e) => e.install_crd(document.clone()).await,
        }
    }

    /// A client whose requests the API answers and records.
    pub fn client(&self) -> kube::Client {
        match self {
            Api::Memory(m) => m.client(),
            Api::Envtest(e) => e.client(),
        }
    }

    /// Ops from now on are tagged with `cycle`.
    pub fn set_cycle(&self, cycle: u32) {
        match self {
            Api::Memory(m) => m.set_cycle(cycle),
            Api::Envtest(e) => e.set_cycle(cycle),
        }
    }

    /// Every op so far, in order.
    pub fn ops(&self) -> Vec<Op> {
        match self {
            Api::Memory(m) => m.ops(),
            Api::Envtest(e) => e.ops(),
        }
    }

    /// The object of `kind` named `name`, if any.
    pub async fn get(&self, kind: &Kind, namespace: Option<&str>, name: &str) -> Option<Value> {
        match self {
            Api::Memory(m) => m.get(kind, namespace, name),
            Api::Envtest(e) => e.get(kind, namespace, name).await,
        }
    }

    /// Every object of `kind`.
    pub async fn list(&self, kind: &Kind) -> Vec<Value> {
        match self {
            Api::Memory(m) => m.list(kind),
            Api::Envtest(e) => e.list(kind).await,
        }
    }

    /// Stores an object without recording an op.
    ///
    /// # Errors
    /// As a create would fail.
    pub async fn seed(&self, kind: &Kind, object: Value) -> Result<Value, String> {
        match self {
            Api::Memory(m) => m.seed(kind, object).map_err(|e| e.message),
            Api::Envtest(e) => e.seed(kind, object).await,
        }
    }

    /// Sets an object's status without recording an op; returns whether it changed.
    pub async fn set_status(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
        status: Value,
    ) -> bool {
        match self {
            Api::Memory(m) => m.set_status(kind, namespace, name, status),
            Api::Envtest(e) => e.set_status(kind, namespace, name, status).await,
        }
    }
}
