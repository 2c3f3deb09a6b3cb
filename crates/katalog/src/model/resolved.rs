//! The resolved Katalog: what the runtime and gateway consume.
//!
//! Resolution has read every referenced file, merged Komposer imports and Motifs, mapped the
//! newest layout onto one shape, filled `apiTypes` from `crdFile` or the built-in kinds, and
//! applied profiles and defaults (see docs/katalog-decisions.md for each default).

use std::collections::BTreeMap;
use std::time::Duration;

use super::{
    Behaviour, CrdEntry, Dependency, Document, NoteFunction, OperatorBox, Profiles, Requeue,
};
use crate::Location;

/// Default workers per CRD (spec §12.2; Orkestra's konfig and docs, not the Helm chart's 2).
pub const DEFAULT_WORKERS: u32 = 3;
/// Default informer resync (spec §12.5; the CRD entry docs and Helm, not konfig's 15s).
pub const DEFAULT_RESYNC: Duration = Duration::from_secs(30);
/// Default consecutive failures before a CRD counts as degraded (konfig, not Helm's 10).
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 5;
/// Default per-item retry delay: client-go's controller rate limiter starts at 5 ms …
pub const DEFAULT_RETRY_INITIAL: Duration = Duration::from_millis(5);
/// … and doubles up to 1000 s.
pub const DEFAULT_RETRY_MAX: Duration = Duration::from_secs(1000);
/// Finalizer every CRD gets unless its Katalog declares others.
pub const DEFAULT_FINALIZER: &str = "orkestra.orkspace.io/cleanup";

/// Group, version and kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Gvk {
    /// API group; empty for the core group.
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind.
    pub kind: String,
}

impl Gvk {
    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

impl std::fmt::Display for Gvk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, Kind={}", self.api_version(), self.kind)
    }
}

/// Where a worker count came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Nothing declared; the default.
    Default,
    /// Declared on the CRD (or its operatorBox).
    Configured,
    /// From a reconciler profile.
    Profile,
}

/// Retry backoff of failed reconciles, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Longest delay.
    pub max: Duration,
    /// Growth per attempt.
    pub multiplier: f64,
    /// Attempts before giving up (0 = never).
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: DEFAULT_RETRY_INITIAL,
            max: DEFAULT_RETRY_MAX,
            multiplier: 2.0,
            max_attempts: 0,
        }
    }
}

/// Reconciler tuning with defaults and profiles applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconcilerSettings {
    /// Templates run (false = constructor or remote reconciler).
    pub default: bool,
    /// Worker count.
    pub workers: u32,
    /// Where `workers` came from.
    pub workers_source: Source,
    /// Informer resync.
    pub resync: Duration,
    /// Queue depth limit (0 = unlimited).
    pub max_depth: u32,
    /// Consecutive failures before degraded.
    pub failure_threshold: u32,
    /// Use the shared queue.
    pub shared_queue: bool,
    /// What a bounded queue drops (`queue.behaviour`); `None`: nothing is dropped, whatever
    /// the depth (as in Orkestra, `maxDepth` alone only sets the reference).
    pub behaviour: Option<Behaviour>,
    /// Backoff of failed reconciles.
    pub retry: Backoff,
    /// Requeue after success, when declared.
    pub requeue: Option<Requeue>,
    /// The reconciler profile applied, if any.
    pub profile: Option<String>,
}

impl Default for ReconcilerSettings {
    fn default() -> Self {
        ReconcilerSettings {
            default: true,
            workers: DEFAULT_WORKERS,
            workers_source: Source::Default,
            resync: DEFAULT_RESYNC,
            max_depth: 0,
            failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            shared_queue: false,
            behaviour: None,
            retry: Backoff::default(),
            requeue: None,
            profile: None,
        }
    }
}

/// One resolved CRD.
#[derive(Debug, Clone, PartialEq)]
pub struct Crd {
    /// The key under `spec.crds`.
    pub name: String,
    /// Where the key is written.
    pub at: Location,
    /// Group, version, kind.
    pub gvk: Gvk,
    /// Plural resource name.
    pub plural: String,
    /// Namespaced (true) or cluster-scoped.
    pub namespaced: bool,
    /// A built-in Kubernetes kind (apiTypes enriched from the built-in table).
    pub built_in: bool,
    /// false = skipped entirely.
    pub enabled: bool,
    /// Reconciler tuning with defaults applied.
    pub settings: ReconcilerSettings,
    /// Finalizers this CRD's CRs get.
    pub finalizers: Vec<String>,
    /// Motif inputs bound with `with:` (read as `.inputs.<name>`).
    pub inputs: BTreeMap<String, String>,
    /// The entry as written, newest layout mapped onto v0.7.17 fields.
    pub entry: CrdEntry,
}

impl Crd {
    /// Group, version and kind.
    pub fn gvk(&self) -> &Gvk {
        &self.gvk
    }

    /// The OperatorBox (an empty one when none is declared).
    pub fn operator_box(&self) -> &OperatorBox {
        static EMPTY: std::sync::OnceLock<OperatorBox> = std::sync::OnceLock::new();
        self.entry
            .operator_box
            .as_ref()
            .unwrap_or_else(|| EMPTY.get_or_init(OperatorBox::default))
    }

    /// The namespace guard (`allowedNamespaces`, `restrictedNamespaces`): whether CRs in `ns`
    /// are reconciled at all. `ork run` skips the others, and `ork template` refuses them.
    pub fn permits_namespace(&self, ns: &str) -> bool {
        let listed = |v: &Option<crate::de::Spanned<Vec<String>>>, ns: &str| {
            v.as_ref().is_some_and(|s| s.value.iter().any(|n| n == ns))
        };
        let allowed = &self.entry.allowed_namespaces;
        (allowed.as_ref().is_none_or(|a| a.value.is_empty()) || listed(allowed, ns))
            && !listed(&self.entry.restricted_namespaces, ns)
    }

    /// Startup dependencies.
    pub fn depends_on(&self) -> &[Dependency] {
        &self.entry.depends_on.0
    }
}

/// Whether the entry point was a Katalog or a Komposer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// `kind: Katalog`.
    Katalog,
    /// `kind: Komposer`.
    Komposer,
}

/// A resolved Katalog.
#[derive(Debug, Clone)]
pub struct Katalog {
    /// `metadata.name`.
    pub name: String,
    /// Katalog or Komposer.
    pub kind: DocumentKind,
    /// The top-level document (for a Komposer, with imports merged); `spec.crds` emptied,
    /// see [`Katalog::crds`].
    pub document: Document,
    /// The CRDs, in declaration order.
    pub crds: Vec<Crd>,
    /// User notes from the Katalog, its Motifs and (for a Komposer) its imports.
    pub notes: Vec<NoteFunction>,
    /// User profiles, merged.
    pub profiles: Profiles,
}

impl Katalog {
    /// The CRD with this name.
    pub fn crd(&self, name: &str) -> Option<&Crd> {
        self.crds.iter().find(|c| c.name == name)
    }

    /// Enabled CRDs.
    pub fn enabled_crds(&self) -> impl Iterator<Item = &Crd> {
        self.crds.iter().filter(|c| c.enabled)
    }

    /// Enabled CRD names in an order where every CRD comes after what it depends on
    /// (declaration order otherwise). CRDs caught in a cycle come last, in declaration order.
    pub fn start_order(&self) -> Vec<&str> {
        let enabled: Vec<&Crd> = self.enabled_crds().collect();
        let mut placed: Vec<&str> = Vec::new();
        loop {
            let before = placed.len();
            for crd in &enabled {
                if placed.contains(&crd.name.as_str()) {
                    continue;
                }
                let ready = crd.depends_on().iter().all(|d| {
                    placed.contains(&d.name.value.as_str())
                        || !enabled.iter().any(|c| c.name == d.name.value)
                });
                if ready {
                    placed.push(&crd.name);
                }
            }
            if placed.len() == before {
                break;
            }
        }
        for crd in &enabled {
            if !placed.contains(&crd.name.as_str()) {
                placed.push(&crd.name);
            }
        }
        placed
    }
}
