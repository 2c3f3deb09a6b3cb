//! One simulation: one CR of one CRD reconciled by the runtime's own [`Reconciler`] for a
//! number of cycles against a fresh [`Api`]: the in-memory API, or the local control plane
//! (`--envtest`).
//!
//! A cycle reads the CR as stored (as a box's cache would hold it), passes it through the
//! CRD's `preReconcile` gates, reconciles it once, and then lets the stand-in controllers act
//! ([`world::settle_workloads`]). The cycle's ops are the requests the reconcile made.
//! The run is steady at cycle N when cycle N wrote nothing and ended without error, or made
//! the same writes as cycle N−1 and ended the same way ([`Cycle::is_steady_after`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use katalog::{Crd, Katalog};
use kube::api::DynamicObject;
use runtime::operator_box::gate::Gates;
use runtime::reconcile::Error as ReconcileError;
use runtime::{Reconciler, ReconcilerConfig};
use serde_json::Value;

use crate::api::{Api, Backend};
use crate::memory_api::{Kind, Op, Verb};
use crate::{copies, peers, world};

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CR file has no document of the CRD's kind.
    #[error("no CR of kind {kind} (CRD {crd}) in the CR file")]
    NoCr {
        /// The CRD.
        crd: String,
        /// Its kind.
        kind: String,
    },
    /// The API could not be started or set up (the control plane, its CRDs).
    #[error("{0}")]
    Api(String),
    /// A CR document could not be stored.
    #[error("seeding {what}: {message}")]
    Seed {
        /// Which document.
        what: String,
        /// Why.
        message: String,
    },
    /// The runtime refused to build the reconciler.
    #[error("building the reconciler of {crd}: {message}")]
    Reconciler {
        /// The CRD.
        crd: String,
        /// Why.
        message: String,
    },
}

/// What a simulation reads besides the Katalog.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Every document of the CR file, in order.
    pub crs: Vec<Value>,
    /// CustomResourceDefinition documents (`spec.crd`, `spec.crdFiles`), for the kinds they
    /// serve.
    pub crd_documents: Vec<Value>,
    /// Cycles to run.
    pub cycles: u32,
    /// `--skip-external` / `spec.skipExternal`: external calls answered with nothing.
    pub skip_external: bool,
    /// The API to run against.
    pub backend: Backend,
}

/// What makes two cycles the same: writes (verb, resource, subresource, name, created),
/// error, denial, gated.
type Fingerprint<'a> = (
    Vec<(Verb, &'a str, Option<&'a str>, &'a str, bool)>,
    Option<&'a str>,
    Option<&'a str>,
    bool,
);

/// One reconcile cycle.
#[derive(Debug, Clone)]
pub struct Cycle {
    /// 1-based.
    pub number: u32,
    /// Every request the cycle made.
    pub ops: Vec<Op>,
    /// The reconcile's error, with its causes (a validation denial is not one).
    pub error: Option<String>,
    /// A validation rule with `action: deny` refused the CR: its message.
    pub denied: Option<String>,
    /// A `preReconcile` gate held the CR: nothing was reconciled.
    pub gated: bool,
}

impl Cycle {
    /// The writes worth showing: successful writes, Events left out.
    pub fn writes(&self) -> impl Iterator<Item = &Op> {
        self.ops
            .iter()
            .filter(|o| o.is_write() && o.resource != "events")
    }

    /// Whether the run is steady at this cycle, `previous` being the cycle before: it wrote
    /// nothing and ended without error (nothing was left to converge: a steady state of
    /// ork's reconcile makes no write), or it repeated the previous cycle exactly (a loop
    /// that rewrites the same objects every cycle, or fails the same way).
    pub fn is_steady_after(&self, previous: Option<&Cycle>) -> bool {
        let quiet = self.writes().next().is_none() && self.error.is_none();
        quiet || previous.is_some_and(|p| p.fingerprint() == self.fingerprint())
    }

    /// What makes two cycles the same: their writes and how they ended.
    fn fingerprint(&self) -> Fingerprint<'_> {
        let writes = self
            .writes()
            .map(|o| {
                (
                    o.verb,
                    o.resource.as_str(),
                    o.subresource.as_deref(),
                    o.name.as_str(),
                    o.created,
                )
            })
            .collect();
        (
            writes,
            self.error.as_deref(),
            self.denied.as_deref(),
            self.gated,
        )
    }
}

/// The result of one simulation.
#[derive(Debug, Clone)]
pub struct Run {
    /// The CRD simulated.
    pub crd: String,
    /// The CR reconciled.
    pub cr: String,
    /// Every cycle, in order.
    pub cycles: Vec<Cycle>,
    /// The first cycle identical to the one before it.
    pub steady_at: Option<u32>,
    /// What the run could not do as a cluster would, and what it assumed.
    pub notes: Vec<String>,
    /// Wall time of the cycles.
    pub elapsed: Duration,
}

impl Run {
    /// Every op of every cycle, in order.
    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        self.cycles.iter().flat_map(|c| c.ops.iter())
    }
}

/// The places a CRD declares `external:` calls.
pub fn external_calls(crd: &Crd) -> Vec<&'static str> {
    let mut at = Vec::new();
    let b = crd.operator_box();
    if let Some(p) = &b.pre_reconcile {
        if !p.external.is_empty() {
            at.push("operatorBox.preReconcile.external");
        }
        if p.enqueue_gate
            .as_ref()
            .is_some_and(|g| !g.external.is_empty())
        {
            at.push("operatorBox.preReconcile.enqueueGate.external");
        }
        if p.reconcile_gate
            .as_ref()
            .is_some_and(|g| !g.external.is_empty())
        {
            at.push("operatorBox.preReconcile.reconcileGate.external");
        }
    }
    for (phase, hooks) in [
        ("operatorBox.onCreate.external", &b.on_create),
        ("operatorBox.onReconcile.external", &b.on_reconcile),
        ("operatorBox.onDelete.external", &b.on_delete),
    ] {
        if hooks.as_ref().is_some_and(|h| !h.external.is_empty()) {
            at.push(phase);
        }
    }
    if crd
        .entry
        .validation
        .as_ref()
        .is_some_and(|v| !v.external.is_empty())
    {
        at.push("validation.external");
    }
    if crd
        .entry
        .mutation
        .as_ref()
        .is_some_and(|m| !m.external.is_empty())
    {
        at.push("mutation.external");
    }
    at
}

fn name_of(doc: &Value) -> String {
    doc.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

async fn seed(api: &Api, kind: &Kind, doc: &Value) -> Result<Value, Error> {
    api.seed(kind, doc.clone())
        .await
        .map_err(|message| Error::Seed {
            what: format!("{} {:?}", kind.kind, name_of(doc)),
            message,
        })
}

/// Simulates `crd` of `katalog`: the first CR of its kind in `inputs.crs` is reconciled;
/// further CRs of that kind and CRs of the Katalog's other kinds are stored beside it (for
/// `unique` rules and lists) but not reconciled.
///
/// `inputs.backend` is the API: a fresh one for this run.
///
/// # Errors
/// No CR of the kind, a CR that cannot be stored, a reconciler the runtime refuses, an API
/// that does not start.
pub async fn simulate(katalog: &Katalog, crd: &Crd, inputs: &Inputs) -> Result<Run, Error> {
    let (crd, mut notes) = match inputs.backend {
        Backend::Memory => copies::without_cross_namespace_copies(crd),
        Backend::Envtest => (crd.clone(), Vec::new()),
    };
    let crd = &crd;
    let api = Api::start(inputs.backend).await.map_err(Error::Api)?;
    world::serve_katalog(&api, katalog, &inputs.crd_documents)
        .await
        .map_err(Error::Api)?;
    let own = world::crd_kind(crd);
    let own = api.kind(&own.api_version(), &own.kind).unwrap_or(own);
    let mut under_test = None;
    for doc in &inputs.crs {
        let (Some(api_version), Some(kind)) = (
            doc.get("apiVersion").and_then(Value::as_str),
            doc.get("kind").and_then(Value::as_str),
        ) else {
            continue;
        };
        if kind == own.kind && under_test.is_none() {
            under_test = Some(seed(&api, &own, doc).await?);
            continue;
        }
        match api.kind(api_version, kind) {
            Some(k) => {
                seed(&api, &k, doc).await?;
            }
            None => notes.push(format!(
                "{kind} {:?} in the CR file is not a kind of this Katalog; not stored",
                name_of(doc)
            )),
        }
    }
    let Some(cr) = under_test else {
        return Err(Error::NoCr {
            crd: crd.name.clone(),
            kind: own.kind.clone(),
        });
    };
    let config = ReconcilerConfig::default().stub_external(inputs.skip_external);
    let reconciler =
        Reconciler::new(katalog, crd, api.client(), config).map_err(|e| Error::Reconciler {
            crd: crd.name.clone(),
            message: e.message(),
        })?;
    for (api_version, kind) in reconciler.child_kinds() {
        if api.kind(&api_version, &kind).is_none() {
            let guessed = world::guessed_kind(&api_version, &kind);
            notes.push(format!(
                "{kind} ({api_version}) is served as `{}`, namespaced: no CRD file declares it \
                 (list it in spec.crdFiles for its real plural and scope)",
                guessed.plural
            ));
            api.add_kind(guessed).await.map_err(Error::Api)?;
        }
    }
    if let Some(cross) = reconciler.cross() {
        cross.bind(&peers::sources(&api, katalog).await);
        for read in &crd.operator_box().cross {
            let Some(source) = read.value.crd.as_ref().and_then(|c| katalog.crd(&c.value)) else {
                continue;
            };
            let kind = world::crd_kind(source);
            if api.list(&kind).await.is_empty() {
                notes.push(format!(
                    "cross: no {} in the CR file: `.cross.{}` reads find nothing (add one to the CR file)",
                    kind.kind,
                    read.value.alias.as_deref().unwrap_or(&source.name)
                ));
            }
        }
    }
    let calls = external_calls(crd);
    if !calls.is_empty() {
        notes.push(if inputs.skip_external {
            format!(
                "external: calls ({}) stubbed: each answers 200 (or its expectedStatus) with an empty body",
                calls.join(", ")
            )
        } else {
            format!(
                "external: calls ({}) are made for real (--skip-external stubs them)",
                calls.join(", ")
            )
        });
    }
    if crd
        .operator_box()
        .reconciler
        .as_ref()
        .is_some_and(|r| r.remote.is_some())
    {
        notes.push(if inputs.skip_external {
            "remote reconciler: stubbed: it answers `ok` with no resources and no status".to_owned()
        } else {
            "remote reconciler: called for real (--skip-external stubs it)".to_owned()
        });
    }
    let gates = Gates::of(crd);
    let namespace = cr
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let name = name_of(&cr);
    let started = Instant::now();
    let mut cycles: Vec<Cycle> = Vec::new();
    let mut previous: Option<DynamicObject> = None;
    let mut steady_at = None;
    for number in 1..=inputs.cycles {
        api.set_cycle(number);
        let before = api.ops().len();
        let Some(stored) = api.get(&own, namespace.as_deref(), &name).await else {
            notes.push(format!("the CR is gone after cycle {}", number - 1));
            break;
        };
        let object: DynamicObject = match serde_json::from_value(stored) {
            Ok(o) => o,
            Err(e) => {
                notes.push(format!("the stored CR does not read as an object: {e}"));
                break;
            }
        };
        let sentinels = gates.sentinels(previous.as_ref(), &object);
        let json = serde_json::to_value(&object).unwrap_or_default();
        let render = reconciler.render();
        let gated = [&gates.enqueue, &gates.reconcile]
            .into_iter()
            .flatten()
            .any(|gate| !gate.passes(&json, &sentinels, render));
        previous = Some(object.clone());
        let (error, denied) = if gated {
            (None, None)
        } else {
            let cr = Arc::new(object);
            let surroundings = reconciler.surroundings(&cr);
            match reconciler.reconcile(cr, &surroundings).await {
                Ok(_) => (None, None),
                Err(ReconcileError::ValidationDenied(why)) => (None, Some(why)),
                Err(e) => (Some(e.message()), None),
            }
        };
        world::settle_workloads(&api).await;
        let ops = api.ops().split_off(before);
        let cycle = Cycle {
            number,
            ops,
            error,
            denied,
            gated,
        };
        if steady_at.is_none() && cycle.is_steady_after(cycles.last()) {
            steady_at = Some(number);
        }
        cycles.push(cycle);
    }
    Ok(Run {
        crd: crd.name.clone(),
        cr: name,
        cycles,
        steady_at,
        notes,
        elapsed: started.elapsed(),
    })
}
