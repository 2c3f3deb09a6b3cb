//! Object building: from a CR and its CRD's declarations, the exact Kubernetes objects one
//! reconcile applies (spec §6, §9.4), as data.
//!
//! [`Builder::build`] renders `onCreate` and `onReconcile` into an [`ApplyPlan`]: the ordered
//! [`Child`] objects (each with how to apply it: create-if-absent or converge, SSA force,
//! scope, secret flags), the objects a failed `when`/`or` asks to delete if owned, and the
//! objects the namespace guard skipped. [`Builder::build_delete`] renders `onDelete` into a
//! [`DeletePlan`]. Nothing here talks to a cluster; ownerReferences are left to the caller,
//! who knows the CR's uid ([`add_owner_reference`]). [`preview`] is `ork template`.
//!
//! One file per family of kinds builds the object bodies; `context` holds the rendering
//! helpers they share and [`profiles`](ProfileRegistry) the named presets.
//!
//! # Decisions where the spec is silent or loose
//!
//! - **Order.** Kinds are applied in [`Kind::ALL`] order (namespaces and identities first,
//!   then config, storage, workloads, Services, Ingresses, autoscalers, custom children),
//!   declarations in their order, `onCreate` before `onReconcile`. The same object declared
//!   twice is applied once, as its last declaration says, converged if either asked.
//! - **Default names** are `<cr>-<suffix>`: `svc`, `pvc`, `pv`, `hpa`, `pdb`, otherwise
//!   the lowercase kind (`<cr>-deployment`, `<cr>-configmap`). A custom child must be named.
//! - **Deletion candidates** (§6.5) are computed over both blocks: a declaration with
//!   failing conditions asks for deletion only when it converges (`onReconcile` or
//!   `reconcile: true`) and no other declaration of this cycle produces the same object.
//! - **Jobs** are always create-if-absent. Job and CronJob pods carry the declared labels
//!   and the managed label but not `orkestra-owner`, so the owner's Services never route
//!   to batch pods; Deployments, StatefulSets and ReplicaSets select `orkestra-owner` as
//!   §6.3 says, and their pods carry the object's labels.
//! - **Numbers** declared as strings become JSON numbers; an empty rendering means "not
//!   set", so CRDs that prune `spec.replicas` still work. `replicas` is sent only when
//!   declared and non-empty (the API server's default is the spec's default, 1), so an
//!   undeclared count is left to HPAs and `kubectl scale` under server-side apply. Ports
//!   and `maxSurge`-like fields become IntOrString.
//! - **Custom children** (and other free-form JSON such as volumes and NetworkPolicy
//!   rules) render every template string; a rendered template that reads as a number,
//!   boolean or JSON object/array becomes that value. Static strings never change type.
//! - **Secrets** write `data` base64-encoded (not `stringData`, which fights server-side
//!   apply). TLS generation, `fromSecret`/`fromConfigMap` copies and the `generated-at`
//!   rotation clock need the live object, the cluster or randomness, and are carried as
//!   [`SecretFlags`] for the runtime.
//! - **Profiles**: the Katalog's win over built-ins. The `restricted` and `hardened`
//!   container profiles also set `seccompProfile: RuntimeDefault`, which the Kubernetes
//!   restricted standard they claim to match requires.
//! - **Ingress TLS** references the Secret `tls.secretName` (`<cr>-tls` by default); with
//!   `tls.create` (or `enabled`) that Secret is also a child, applied just before the
//!   Ingress, created once with a [`TlsRequest`] for the TLS hosts.
//! - **Namespaces**: a CR without one owns children in `default`; the guard applies to the
//!   final namespace of each object, `toNamespaces` copies included.

mod access;
mod autoscale;
mod config;
mod context;
mod crd;
mod custom;
mod delete;
mod inputs;
mod network;
mod owner;
mod policy;
mod preview;
mod profiles;
pub mod remote;
mod render;
mod scaling;
mod storage;
mod workloads;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::condition::{self, Conditions, Env};
use crate::render::{Render, RenderFailure, Text};
use crate::resources::{Declaration, HookTemplates, Kind, for_each_kind};

pub use autoscale::{
    DEFAULT_COOLDOWN, LAST_SCALE_ANNOTATION, ScaleDecision, ScaleMove, ScalePlan,
    plan as plan_autoscale,
};
use context::{Built, Ctx, Fault, Meta};
pub use crd::{blocks_of, child_types, cr_skeleton, engine_for, hooks_of};
pub use delete::{DeleteGroup, DeletePlan};
pub use inputs::{InputError, render_inputs, template_keys};
pub use owner::{Owner, add_owner_reference, owner_reference};
pub use preview::{PLACEHOLDER_UID, PreviewError, crd_for, preview};
pub use profiles::{ProfileClass, ProfileRegistry, builtin as builtin_profile};
pub use render::EngineRender;

/// The lifecycle block a declaration came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// `onCreate`.
    OnCreate,
    /// `onReconcile`.
    OnReconcile,
    /// `onDelete`.
    OnDelete,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::OnCreate => "onCreate",
            Phase::OnReconcile => "onReconcile",
            Phase::OnDelete => "onDelete",
        })
    }
}

/// How the runtime writes a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Apply {
    /// Create it if it does not exist; never update it (onCreate without `reconcile`,
    /// Jobs, `once` Secrets).
    CreateIfAbsent,
    /// Server-side apply it every cycle (onReconcile, or `reconcile: true`).
    Converge,
}

/// What the runtime must do for a Secret beyond applying the object.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretFlags {
    /// Create only if absent (the rendered data is generated once).
    pub once: bool,
    /// Recreate when the `generated-at` annotation is older than this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate_after: Option<std::time::Duration>,
    /// Generate self-signed TLS material into `tls.crt`, `tls.key`, `ca.crt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsRequest>,
    /// Copy the data of this existing Secret or ConfigMap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_from: Option<ObjectRef>,
}

/// A request for self-signed TLS material.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsRequest {
    /// Certificate common name.
    pub common_name: String,
    /// Subject alternative names.
    pub dns_names: Vec<String>,
    /// Validity.
    pub valid_for: std::time::Duration,
}

/// Identifies an object: apiVersion, kind, namespace (none when cluster-scoped), name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// `group/version` or `v1`.
    pub api_version: String,
    /// Kubernetes kind.
    pub kind: String,
    /// Namespace, `None` for cluster-scoped objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectRef {
    /// The reference of a built object (reads apiVersion, kind, metadata.namespace/name).
    pub fn of(object: &Value) -> ObjectRef {
        let s = |p: &str| object.pointer(p).and_then(Value::as_str).map(str::to_owned);
        ObjectRef {
            api_version: s("/apiVersion").unwrap_or_default(),
            kind: s("/kind").unwrap_or_default(),
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name").unwrap_or_default(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One object a reconcile applies.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Child {
    /// Where it was declared.
    pub phase: Phase,
    /// The declaration, e.g. `deployments[2]` (forEach expansions add `#<n>`).
    pub path: String,
    /// Its declaration kind.
    pub kind: Kind,
    /// The object, without ownerReferences.
    pub object: Value,
    /// Create-if-absent or converge.
    pub apply: Apply,
    /// Server-side apply with `force` (resource > CRD > default true).
    pub force: bool,
    /// Cluster-scoped: no ownerReference possible; tracked by the owner label and deleted
    /// by the cleanup finalizer.
    pub cluster_scoped: bool,
    /// Secret and copy flags, for Secrets and ConfigMaps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretFlags>,
    /// Delay before applying (`sleep:`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sleep: Option<std::time::Duration>,
    /// Custom children: whether to write `status` (None = detect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_status: Option<bool>,
    /// Custom children: the initial status to write when the status subresource exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
    /// Deployments with `autoscale:`: the replica count the runtime settles from the live
    /// count (see [`ScalePlan::decide`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<ScalePlan>,
}

impl Child {
    /// The object's reference.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::of(&self.object)
    }
}

/// An object the namespace guard kept out.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    /// Where it was declared.
    pub phase: Phase,
    /// The declaration.
    pub path: String,
    /// The object it would have been.
    pub object: ObjectRef,
}

/// Everything one reconcile of one CR applies, in order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyPlan {
    /// Objects to apply, in apply order (kind order, then declaration order).
    pub children: Vec<Child>,
    /// Objects to delete if owned (label `orkestra-owner` matches): declared with
    /// `reconcile: true` or under `onReconcile`, with conditions that failed this cycle,
    /// and not produced by another declaration.
    pub deletions: Vec<ObjectRef>,
    /// Objects the namespace guard skipped.
    pub skipped: Vec<Skipped>,
}

/// What failed while building one declaration.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// A template failed to render.
    #[error("cannot render")]
    RenderFailed(#[source] RenderFailure),
    /// A value that must be a number is not.
    #[error("{0:?} is not a number")]
    NotANumber(String),
    /// A value that must be true or false is not.
    #[error("{0:?} is not true or false")]
    NotABool(String),
    /// A value that must be a duration is not.
    #[error("{0:?} is not a duration")]
    NotADuration(String),
    /// A required value is absent or rendered empty.
    #[error("is required")]
    Missing,
    /// A rendered namespace is not a namespace name (an RFC 1123 DNS label).
    #[error("{0:?} is not a namespace name (lowercase letters, digits and `-`, at most 63)")]
    InvalidNamespace(String),
    /// A `profile:` names no user or built-in profile of its class.
    #[error("unknown {class} profile {name:?}")]
    UnknownProfile {
        /// The profile class.
        class: &'static str,
        /// The name asked for.
        name: String,
    },
    /// The `when`/`or` conditions could not be evaluated.
    #[error("conditions cannot be evaluated")]
    ConditionFailed(#[source] condition::Error),
    /// The CR is not a JSON object.
    #[error("the CR is not an object")]
    NotAnObject,
}

/// A failure building one declaration, located like `onCreate.deployments[2].image`.
#[derive(Debug)]
pub struct Error {
    /// The lifecycle block.
    pub phase: Phase,
    /// The declaration, e.g. `deployments[2]`.
    pub path: String,
    /// The field inside the declaration, if the failure is about one.
    pub field: Option<String>,
    /// What failed.
    pub kind: ErrorKind,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.phase)?;
        if !self.path.is_empty() {
            write!(f, ".{}", self.path)?;
        }
        if let Some(field) = &self.field {
            write!(f, ".{field}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

/// The result type of object building.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The `onCreate` and `onReconcile` blocks of one CRD.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hooks<'a> {
    /// `onCreate`.
    pub on_create: Option<&'a HookTemplates>,
    /// `onReconcile`.
    pub on_reconcile: Option<&'a HookTemplates>,
}

/// Builds objects for the CRs of one CRD.
///
/// ```no_run
/// # use katalog::build::{Builder, Hooks};
/// # fn demo(render: &dyn katalog::render::Render, hooks: &katalog::resources::HookTemplates,
/// #         cr: &serde_json::Value) -> Result<(), katalog::build::Error> {
/// let plan = Builder::new(render)
///     .force_conflict(Some(true))
///     .build(cr, Hooks { on_create: Some(hooks), on_reconcile: None }, &Default::default())?;
/// for child in &plan.children {
///     println!("{}", child.object_ref());
/// }
/// # Ok(()) }
/// ```
pub struct Builder<'a> {
    render: &'a dyn Render,
    profiles: Cow<'a, ProfileRegistry>,
    force_conflict: Option<bool>,
    allowed_namespaces: Vec<String>,
    restricted_namespaces: Vec<String>,
    now: OffsetDateTime,
}

impl fmt::Debug for Builder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("force_conflict", &self.force_conflict)
            .field("allowed_namespaces", &self.allowed_namespaces)
            .field("restricted_namespaces", &self.restricted_namespaces)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// How a declaration kind is built.
struct KindSpec<T> {
    kind: Kind,
    build: fn(&Ctx<'_>, &Meta, &T) -> std::result::Result<Built, Fault>,
    /// Extra target namespaces (`toNamespaces`).
    targets: fn(&T) -> &[Text],
    /// The declared apiVersion and kind (custom children; built-in kinds know theirs).
    identity: fn(&T) -> Option<(&Text, &Text)>,
    /// Whether this declaration is cluster-scoped.
    cluster_scoped: fn(&T) -> Option<bool>,
}

impl<T> KindSpec<T> {
    const fn new(
        kind: Kind,
        build: fn(&Ctx<'_>, &Meta, &T) -> std::result::Result<Built, Fault>,
    ) -> Self {
        KindSpec {
            kind,
            build,
            targets: |_| &[],
            identity: |_| None,
            cluster_scoped: |_| None,
        }
    }
}

/// Generates [`Builder::run_block`] from the kinds table: every kind in [`Kind::ALL`] order,
/// each with the [`KindSpec`] its row names (checked at compile time to be of that kind).
macro_rules! declare_run_block {
    ($(
        $kind:ident $key:literal $field:ident $decl:ident $api:tt $plural:tt $suffix:literal
        $scope:ident $build:path;
    )*) => {
        const _: () = {
            $(assert!(
                matches!($build.kind, Kind::$kind),
                concat!("the KindSpec of `", $key, "` builds another kind"),
            );)*
        };

        impl Builder<'_> {
            /// Builds every declaration of one block into `st`, kind by kind.
            fn run_block(
                &self,
                st: &mut State,
                phase: Phase,
                h: &HookTemplates,
                data: &Value,
                owner: &Owner,
            ) -> Result<()> {
                $(self.run(st, phase, &h.$field, &$build, data, owner)?;)*
                Ok(())
            }
        }
    };
}

for_each_kind!(declare_run_block);

/// Accumulates one build.
#[derive(Default)]
struct State {
    plan: ApplyPlan,
    /// Deletion candidates, filtered against the children at the end.
    candidates: Vec<ObjectRef>,
    /// Position of each child in `plan.children`.
    index: HashMap<ObjectRef, usize>,
    /// Resolve only references (onDelete): every kind but Job is recorded in `refs`
    /// instead of being built.
    refs_only: bool,
    /// The references recorded when `refs_only`.
    refs: Vec<ObjectRef>,
}

impl<'a> Builder<'a> {
    /// A builder rendering templates with `render`, with built-in profiles only, SSA force
    /// by default, every namespace permitted, and the current time.
    pub fn new(render: &'a dyn Render) -> Self {
        Builder {
            render,
            profiles: Cow::Owned(ProfileRegistry::new()),
            force_conflict: None,
            allowed_namespaces: Vec::new(),
            restricted_namespaces: Vec::new(),
            now: OffsetDateTime::now_utc(),
        }
    }

    /// Uses the Katalog's profiles (they win over built-ins).
    #[must_use]
    pub fn profiles(mut self, profiles: &'a ProfileRegistry) -> Self {
        self.profiles = Cow::Borrowed(profiles);
        self
    }

    /// The CRD-level `forceConflict` (a resource's own setting wins; default true).
    #[must_use]
    pub fn force_conflict(mut self, force: Option<bool>) -> Self {
        self.force_conflict = force;
        self
    }

    /// The CRD's namespace guard: when `allowed` is non-empty only those namespaces are
    /// permitted; namespaces in `restricted` never are.
    #[must_use]
    pub fn namespaces(mut self, allowed: Vec<String>, restricted: Vec<String>) -> Self {
        self.allowed_namespaces = allowed;
        self.restricted_namespaces = restricted;
        self
    }

    /// The time conditions are evaluated at.
    #[must_use]
    pub fn now(mut self, now: OffsetDateTime) -> Self {
        self.now = now;
        self
    }

    /// Renders `onCreate` then `onReconcile` for `cr`.
    ///
    /// `extra` is merged into the data map next to the CR's own keys: `children`, `cross`,
    /// `external`, `health`, `metrics`, ... as the runtime knows them.
    ///
    /// # Guarantees
    /// The same inputs give the same plan, byte for byte. Children come in kind order
    /// ([`Kind::ALL`]), then declaration order, then forEach order.
    ///
    /// # Errors
    /// The first declaration that cannot be built, located as `onCreate.deployments[2].image`.
    pub fn build(
        &self,
        cr: &Value,
        hooks: Hooks<'_>,
        extra: &Map<String, Value>,
    ) -> Result<ApplyPlan> {
        self.build_state(cr, hooks, extra, State::default())
            .map(|st| st.plan)
    }

    /// Runs the blocks into `st`, then settles the deletion candidates.
    fn build_state(
        &self,
        cr: &Value,
        hooks: Hooks<'_>,
        extra: &Map<String, Value>,
        mut st: State,
    ) -> Result<State> {
        let data = data_map(cr, extra).map_err(|kind| Error {
            phase: Phase::OnCreate,
            path: String::new(),
            field: None,
            kind,
        })?;
        let owner = Owner::of(cr);
        for (phase, block) in [
            (Phase::OnCreate, hooks.on_create),
            (Phase::OnReconcile, hooks.on_reconcile),
        ] {
            if let Some(block) = block
                && self.block_passes(phase, block, &data)?
            {
                self.run_block(&mut st, phase, block, &data, &owner)?;
            }
        }
        let mut seen = HashSet::new();
        let candidates = std::mem::take(&mut st.candidates);
        st.plan.deletions = candidates
            .into_iter()
            .filter(|r| !st.index.contains_key(r) && seen.insert(r.clone()))
            .collect();
        Ok(st)
    }

    /// Whether a block's own `when`/`or` pass.
    fn block_passes(&self, phase: Phase, block: &HookTemplates, data: &Value) -> Result<bool> {
        Conditions::new(&block.when, &block.or)
            .evaluate(&Env::new(data, self.render, self.now))
            .map_err(|e| Error {
                phase,
                path: "when".into(),
                field: None,
                kind: ErrorKind::ConditionFailed(e),
            })
    }

    /// Builds every declaration of one kind in one block.
    fn run<T: Declaration>(
        &self,
        st: &mut State,
        phase: Phase,
        decls: &[T],
        spec: &KindSpec<T>,
        data: &Value,
        owner: &Owner,
    ) -> Result<()> {
        for (i, decl) in decls.iter().enumerate() {
            let common = decl.common();
            let base_path = format!("{}[{}]", spec.kind.key(), i);
            let at = |path: &str, fault: Fault| Error {
                phase,
                path: path.to_owned(),
                field: fault.field,
                kind: fault.kind,
            };
            let expansions =
                context::expand(data, common.for_each).map_err(|f| at(&base_path, f))?;
            let single = expansions.len() == 1 && common.for_each.is_none();
            for (x, data) in expansions.iter().enumerate() {
                let path = if single {
                    base_path.clone()
                } else {
                    format!("{base_path}#{x}")
                };
                let ctx = Ctx::new(self.render, &self.profiles, data, self.now);
                let pass = Conditions::new(common.when, common.or)
                    .evaluate(&Env::new(data, self.render, self.now))
                    .map_err(|e| at(&path, Fault::new(ErrorKind::ConditionFailed(e))))?;
                let converge = phase == Phase::OnReconcile || common.reconcile;
                if !pass && !converge {
                    continue;
                }
                let namespaces = ctx
                    .namespaces(
                        (spec.cluster_scoped)(decl).unwrap_or(spec.kind.is_cluster_scoped()),
                        &common,
                        (spec.targets)(decl),
                        owner,
                    )
                    .map_err(|f| at(&path, f))?;
                for namespace in namespaces {
                    let meta = ctx
                        .meta(spec.kind, &common, namespace, owner, (spec.identity)(decl))
                        .map_err(|f| at(&path, f))?;
                    if !pass {
                        if let Some(r) = meta.object_ref.clone() {
                            st.candidates.push(r);
                        }
                        continue;
                    }
                    if st.refs_only && spec.kind != Kind::Job {
                        let r = meta.object_ref.clone().ok_or_else(|| {
                            at(&path, Fault::at("apiVersion", ErrorKind::Missing))
                        })?;
                        st.refs.push(r);
                        continue;
                    }
                    let built = (spec.build)(&ctx, &meta, decl).map_err(|f| at(&path, f))?;
                    let object_ref = ObjectRef::of(&built.object);
                    if let Some(ns) = &object_ref.namespace
                        && !self.is_namespace_permitted(ns)
                    {
                        st.plan.skipped.push(Skipped {
                            phase,
                            path: path.clone(),
                            object: object_ref,
                        });
                        continue;
                    }
                    let sleep = match common.sleep {
                        None => None,
                        Some(s) => ctx.duration("sleep", s).map_err(|f| at(&path, f))?,
                    };
                    let force = common
                        .force_conflict
                        .or(self.force_conflict)
                        .unwrap_or(true);
                    let make = |kind: Kind, built: Built| {
                        let once = built.secret.as_ref().is_some_and(|s| s.once) && !converge;
                        let apply = if kind == Kind::Job || once || !converge {
                            Apply::CreateIfAbsent
                        } else {
                            Apply::Converge
                        };
                        let mut secret = built.secret;
                        if let Some(s) = secret.as_mut() {
                            s.once = once;
                        }
                        Child {
                            phase,
                            path: path.clone(),
                            kind,
                            object: built.object,
                            apply,
                            force,
                            cluster_scoped: meta.namespace.is_none(),
                            secret,
                            sleep,
                            has_status: built.has_status,
                            status: built.status,
                            scale: built.scale,
                        }
                    };
                    let mut built = built;
                    for (kind, companion) in std::mem::take(&mut built.companions) {
                        let mut child = make(kind, companion);
                        // Generated material is made once; rotation recreates it.
                        child.apply = Apply::CreateIfAbsent;
                        if let Some(s) = child.secret.as_mut() {
                            s.once = true;
                        }
                        st.push(child);
                    }
                    st.push(make(spec.kind, built));
                }
            }
        }
        Ok(())
    }

    fn is_namespace_permitted(&self, ns: &str) -> bool {
        (self.allowed_namespaces.is_empty() || self.allowed_namespaces.iter().any(|a| a == ns))
            && !self.restricted_namespaces.iter().any(|r| r == ns)
    }
}

impl State {
    /// Adds a child; a later declaration of the same object replaces the earlier one (in
    /// its place), and the object is converged if either asked for it.
    fn push(&mut self, child: Child) {
        let r = child.object_ref();
        match self.index.get(&r) {
            Some(&i) => {
                let existing = &mut self.plan.children[i];
                let converge = existing.apply == Apply::Converge || child.apply == Apply::Converge;
                *existing = child;
                if converge {
                    existing.apply = Apply::Converge;
                }
            }
            None => {
                self.index.insert(r, self.plan.children.len());
                self.plan.children.push(child);
            }
        }
    }
}

/// The data map templates and conditions see: the CR's keys plus `extra`'s (the CR itself,
/// borrowed, when there are no extras).
fn data_map<'c>(
    cr: &'c Value,
    extra: &Map<String, Value>,
) -> std::result::Result<Cow<'c, Value>, ErrorKind> {
    let Value::Object(obj) = cr else {
        return Err(ErrorKind::NotAnObject);
    };
    if extra.is_empty() {
        return Ok(Cow::Borrowed(cr));
    }
    let mut map = obj.clone();
    for (k, v) in extra {
        map.insert(k.clone(), v.clone());
    }
    Ok(Cow::Owned(Value::Object(map)))
}
