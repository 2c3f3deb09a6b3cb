//! The children of a CR that is gone, deleted by the box itself instead of waiting for the
//! garbage collector.
//!
//! A CR deleted without ork's finalizers (or once they are released) leaves its children with
//! ownerReferences to the garbage collector of kube-controller-manager, which notices new
//! owners through a discovery pass every 30 s: cleanup took 0–30 s or more, and on a cluster
//! without a collector (envtest) it never happened. Now, when the primary watch learns that a
//! CR is gone (its delete event, or a relist that no longer has it), the box looks up that CR's
//! children in its children cache and deletes them at once, in a task of its own, off the
//! reconcile path.
//!
//! Only what is certainly the CR's is deleted:
//! - a child whose controller ownerReference carries the gone CR's uid, and no other
//!   ownerReference at all (a child with another owner is left to the garbage collector,
//!   which deletes it only once every owner is gone);
//! - each DELETE carries the child's `uid` and `resourceVersion` as preconditions, with
//!   `propagationPolicy: Background`: a child changed or recreated meanwhile is never deleted
//!   blind. A conflict (409) re-reads the child and judges it again as it is now (a child
//!   recreated for a new CR of the same name names that CR's uid, and stays); a 404 means
//!   the collector (or someone) got there first.
//!
//! Which children: those in the children cache, and those the reconcile wrote for the CR
//! that the cache has not seen yet. The reconcile remembers every child it applies or
//! creates, per CR uid, before the write returns; [`Reconcile::forget`](super::Reconcile)
//! hands them over with the gone CR, and the cleanup reads (GET) only those the cache lacks:
//! a lagging child watch costs a read, and a steady cluster none.
//!
//! A reconcile already running when the CR went may write a child after the cleanup ran
//! (re-create one it just deleted). So the box checks, when each reconcile ends (or fails,
//! panics, is aborted), whether its CR is still in the primary store; if not, it reports the
//! CR gone again, and the children written since the first report are handed over and
//! deleted too. This closes the window: the store loses the CR before the watch reports it,
//! so a write that the first report's hand-over missed was remembered after it, and the
//! reconcile that made the write sees the CR gone when it ends. A CR reported twice costs a
//! second look at the cache (its stale entries answer 404 or 409: `gone`).
//!
//! Only an active box does this: on a follower the box is inactive, and the leader's box does
//! it. Nothing is remembered across restarts: a child whose owner went away while no ork was
//! leading, or that an ork before a restart or leader change wrote and the cache has not seen,
//! is the garbage collector's job, as it always was; so are children of kinds the box does
//! not watch (a templated kind).
//!
//! The hand-over is an unbounded channel of gone CRs (key, uid, and the names of the
//! children written since the CR was last forgotten), and the children are looked up in the
//! cache only when the task gets to the CR: a message is small (no object copies), a CR is
//! reported once by the primary watch and once more by each reconcile of it that was
//! running then (one at most, unless `eventAware` keys run beside it), so the channel holds
//! no more entries than there were CRs and reconciles, and needs no dedupe; and sending
//! never waits. A bounded channel would either stall the primary watch behind DELETE
//! requests (blocking send) or drop cleanups under a mass deletion (`try_send`), which is
//! when a cluster without a collector needs them most. The task handles [`CONCURRENCY`] CRs
//! at a time, each CR's children one after the other.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use katalog::build::ObjectRef;
use kube::Client;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ObjectMeta, Preconditions};
use tokio::sync::mpsc;

use super::children::ChildIndex;
use crate::metrics::CrdMetrics;
use crate::work::{Intake, Key};

/// How many times a child that changed under a DELETE is read and judged again.
const ATTEMPTS: usize = 3;

/// A pause between attempts for a child that keeps changing.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// How many gone CRs have their children deleted at the same time.
const CONCURRENCY: usize = 4;

/// Why a child of a gone CR was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request failed (other than 404 and 409).
    #[error("deleting {child}")]
    RequestFailed {
        /// The child (`Kind namespace/name`).
        child: String,
        /// What the API server (or the connection) answered.
        #[source]
        source: kube::Error,
    },
    /// A child ork wrote, missing from the cache, could not be read.
    #[error("reading {child}")]
    ReadFailed {
        /// The child (`Kind namespace/name`).
        child: String,
        /// What the API server (or the connection) answered.
        #[source]
        source: kube::Error,
    },
    /// The child changed under every attempt.
    #[error("{child} kept changing under {ATTEMPTS} attempts")]
    KeptChanging {
        /// The child (`Kind namespace/name`).
        child: String,
    },
}

/// The result of deleting a child of a gone CR.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What happened to one child of a gone CR (the `result` of
/// `orkestra_orphan_cleanup_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// ork deleted it.
    Deleted,
    /// It was gone already, is being deleted, was recreated (another uid) or no longer has
    /// the CR as its controller: nothing to do.
    Gone,
    /// It has another owner too: left to the garbage collector.
    Shared,
}

impl Outcome {
    /// The metric label of the outcome.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deleted => "deleted",
            Self::Gone => "gone",
            Self::Shared => "shared",
        }
    }
}

/// A CR that is gone: its key, the uid its children's ownerReferences carry, and the
/// children ork wrote for it that the cache may not have seen yet.
struct GoneCr {
    cr: Key,
    uid: String,
    written: Vec<ObjectRef>,
}

/// The box's cleanup of gone CRs' children: [`Cleanup::gone`] hands a CR to the task
/// [`Cleanup::new`] returns, which deletes its cached children.
#[derive(Clone)]
pub(super) struct Cleanup {
    intake: Intake,
    sender: mpsc::UnboundedSender<GoneCr>,
}

impl Cleanup {
    /// The cleanup of a box, and its task (to run until the box stops).
    pub(super) fn new(
        client: Client,
        children: ChildIndex,
        intake: Intake,
        metrics: CrdMetrics,
    ) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let task = run(client, children, intake.clone(), metrics, receiver);
        (Self { intake, sender }, task)
    }

    /// The CR `cr` with `uid` is gone: when the box is active, its cached children are
    /// deleted soon, and so are those of `written` (children ork wrote for it) that the cache
    /// lacks.
    pub(super) fn gone(&self, cr: &Key, uid: &str, written: Vec<ObjectRef>) {
        if !self.intake.is_open() {
            return;
        }
        let gone = GoneCr {
            cr: cr.clone(),
            uid: uid.to_owned(),
            written,
        };
        // The receiver lives as long as the box's tasks; once they are gone, so is the work.
        let _ = self.sender.send(gone);
    }
}

/// Deletes the children of each gone CR, [`CONCURRENCY`] CRs at a time, while the box is
/// active.
async fn run(
    client: Client,
    children: ChildIndex,
    intake: Intake,
    metrics: CrdMetrics,
    mut receiver: mpsc::UnboundedReceiver<GoneCr>,
) {
    let (client, children, intake, metrics) = (&client, &children, &intake, &metrics);
    futures::stream::poll_fn(|cx| receiver.poll_recv(cx))
        .for_each_concurrent(CONCURRENCY, |gone| {
            clean(client, children, intake, metrics, gone)
        })
        .await;
}

/// Deletes the children of one gone CR, one after the other: the cached ones, and those ork
/// wrote that the cache lacks (read first).
async fn clean(
    client: &Client,
    children: &ChildIndex,
    intake: &Intake,
    metrics: &CrdMetrics,
    GoneCr { cr, uid, written }: GoneCr,
) {
    let mut found = children.controlled_by(&cr.name, &uid);
    let unseen: Vec<_> = written
        .into_iter()
        .filter(|r| may_be_owned_by(r, &cr) && !found.iter().any(|(kind, c)| is_of(r, kind, c)))
        .collect();
    for r in unseen {
        let Some(resource) = children.resource_of(&r.api_version, &r.kind) else {
            continue;
        };
        match read(client, &resource, &r).await {
            Ok(Some(child)) => found.push((resource, child)),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(crd = %metrics.crd(), %cr, error = %crate::error_chain(&error), "a child of a gone CR is left to the garbage collector");
                metrics.record_orphan("error");
            }
        }
    }
    for (resource, child) in found {
        // A box that stopped leading leaves the rest to the new leader's collector.
        if !intake.is_open() {
            return;
        }
        match delete_orphan(client, &resource, &child, &uid).await {
            Ok(outcome) => {
                tracing::debug!(crd = %metrics.crd(), %cr, child = %describe(&resource, &child.metadata), outcome = outcome.as_str(), "child of a gone CR");
                metrics.record_orphan(outcome.as_str());
            }
            Err(error) => {
                tracing::warn!(crd = %metrics.crd(), %cr, error = %crate::error_chain(&error), "a child of a gone CR is left to the garbage collector");
                metrics.record_orphan("error");
            }
        }
    }
}

/// Whether the child `r` can carry an ownerReference to `cr` at all: a namespaced CR owns
/// only children in its namespace (the others are tracked by label, and cleaned by the
/// cleanup finalizer).
fn may_be_owned_by(r: &ObjectRef, cr: &Key) -> bool {
    cr.namespace.is_none() || r.namespace == cr.namespace
}

/// Whether `child`, of kind `resource`, is the object `r` names.
fn is_of(r: &ObjectRef, resource: &ApiResource, child: &DynamicObject) -> bool {
    r.api_version == resource.api_version
        && r.kind == resource.kind
        && r.namespace == child.metadata.namespace
        && child.metadata.name.as_deref() == Some(r.name.as_str())
}

/// The API of `resource` objects in `namespace` (`None`: cluster-scoped).
fn api(client: &Client, resource: &ApiResource, namespace: Option<&str>) -> Api<DynamicObject> {
    match namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

/// Reads the child `r` (`None`: there is none).
async fn read(
    client: &Client,
    resource: &ApiResource,
    r: &ObjectRef,
) -> Result<Option<DynamicObject>> {
    api(client, resource, r.namespace.as_deref())
        .get_opt(&r.name)
        .await
        .map_err(|source| Error::ReadFailed {
            child: r.to_string(),
            source,
        })
}

/// Deletes `child` (as last seen) if it is solely the child of the CR with `owner_uid`.
///
/// # Guarantees
///
/// The DELETE carries the child's uid and resourceVersion as preconditions, with background
/// propagation: a child that changed since it was seen, or was recreated under its name
/// (another uid), is never deleted blind: it is read again and judged again as it is now (at
/// most three attempts). A child with any other ownerReference, or whose controller is not
/// `owner_uid` (a child recreated for a new CR of the same name), or that is being deleted
/// already, is left alone.
///
/// # Errors
///
/// [`Error::RequestFailed`] for a failed request other than 404 (the child is gone: that is
/// [`Outcome::Gone`]) and 409 (it changed), [`Error::KeptChanging`] for a child that changed
/// under every attempt.
pub async fn delete_orphan(
    client: &Client,
    resource: &ApiResource,
    child: &DynamicObject,
    owner_uid: &str,
) -> Result<Outcome> {
    let api = api(client, resource, child.metadata.namespace.as_deref());
    let failed = |source| Error::RequestFailed {
        child: describe(resource, &child.metadata),
        source,
    };
    let name = child.metadata.name.clone().unwrap_or_default();
    let mut seen = child.clone();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(RETRY_PAUSE).await;
            match api.get_opt(&name).await.map_err(failed)? {
                // Changed, or recreated under its name: judged again as it is now (a child
                // recreated for a new CR of the same name has that CR's uid).
                Some(live) => seen = live,
                None => return Ok(Outcome::Gone),
            }
        }
        match ownership(&seen.metadata, owner_uid) {
            Ownership::Sole if seen.metadata.deletion_timestamp.is_none() => {}
            Ownership::Sole | Ownership::None => return Ok(Outcome::Gone),
            Ownership::Shared => return Ok(Outcome::Shared),
        }
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: seen.metadata.uid.clone(),
                resource_version: seen.metadata.resource_version.clone(),
            }),
            ..DeleteParams::background()
        };
        match api.delete(&name, &params).await {
            Ok(_) => return Ok(Outcome::Deleted),
            Err(kube::Error::Api(e)) if e.code == 404 => return Ok(Outcome::Gone),
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(failed(e)),
        }
    }
    Err(Error::KeptChanging {
        child: describe(resource, &child.metadata),
    })
}

/// How a child belongs to one CR.
#[derive(Debug, PartialEq, Eq)]
enum Ownership {
    /// Its controller ownerReference is the CR's, and it has no other.
    Sole,
    /// Its controller is the CR, but another object owns it too.
    Shared,
    /// Its controller is someone else (or none).
    None,
}

/// How `child` belongs to the CR with `owner_uid`, judged on its ownerReferences alone.
fn ownership(child: &ObjectMeta, owner_uid: &str) -> Ownership {
    let references = child.owner_references.as_deref().unwrap_or_default();
    let controlled = references
        .iter()
        .any(|r| r.controller == Some(true) && r.uid == owner_uid);
    if !controlled {
        Ownership::None
    } else if references.iter().all(|r| r.uid == owner_uid) {
        Ownership::Sole
    } else {
        Ownership::Shared
    }
}

/// `Kind namespace/name` of a child, for logs and errors.
fn describe(resource: &ApiResource, child: &ObjectMeta) -> String {
    let name = child.name.as_deref().unwrap_or_default();
    match child.namespace.as_deref() {
        Some(namespace) => format!("{} {namespace}/{name}", resource.kind),
        None => format!("{} {name}", resource.kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    fn reference(uid: &str, controller: bool) -> OwnerReference {
        OwnerReference {
            api_version: "example.com/v1".into(),
            kind: "Web".into(),
            name: "site".into(),
            uid: uid.into(),
            controller: Some(controller),
            block_owner_deletion: Some(true),
        }
    }

    fn owned_by(references: Vec<OwnerReference>) -> ObjectMeta {
        ObjectMeta {
            owner_references: Some(references),
            ..ObjectMeta::default()
        }
    }

    fn config_map(namespace: Option<&str>, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: namespace.map(str::to_owned),
            name: name.into(),
        }
    }

    fn key(namespace: Option<&str>) -> Key {
        Key {
            namespace: namespace.map(str::to_owned),
            name: "site".into(),
            event: 0,
        }
    }

    #[test]
    fn a_namespaced_cr_can_own_only_children_of_its_namespace() {
        let here = config_map(Some("a"), "c");
        let there = config_map(Some("b"), "c");
        let cluster = config_map(None, "c");
        assert!(may_be_owned_by(&here, &key(Some("a"))));
        assert!(!may_be_owned_by(&there, &key(Some("a"))));
        assert!(!may_be_owned_by(&cluster, &key(Some("a"))));
        // A cluster-scoped CR may own children anywhere.
        assert!(may_be_owned_by(&there, &key(None)));
        assert!(may_be_owned_by(&cluster, &key(None)));
    }

    #[test]
    fn a_written_child_is_matched_to_a_cached_one_by_kind_namespace_and_name() {
        let resource =
            ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk("", "v1", "ConfigMap"));
        let mut cached = DynamicObject::new("c", &resource).within("a");
        assert!(is_of(&config_map(Some("a"), "c"), &resource, &cached));
        assert!(!is_of(&config_map(Some("a"), "d"), &resource, &cached));
        assert!(!is_of(&config_map(Some("b"), "c"), &resource, &cached));
        cached.metadata.namespace = None;
        assert!(!is_of(&config_map(Some("a"), "c"), &resource, &cached));
        let secrets = ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk("", "v1", "Secret"));
        assert!(!is_of(&config_map(None, "c"), &secrets, &cached));
    }

    #[test]
    fn only_a_child_controlled_by_the_cr_alone_is_its_sole_child() {
        assert_eq!(
            ownership(&owned_by(vec![reference("u1", true)]), "u1"),
            Ownership::Sole
        );
        assert_eq!(
            ownership(
                &owned_by(vec![reference("u1", true), reference("u2", false)]),
                "u1"
            ),
            Ownership::Shared
        );
        assert_eq!(
            ownership(&owned_by(vec![reference("u2", true)]), "u1"),
            Ownership::None
        );
        assert_eq!(
            ownership(&owned_by(vec![reference("u1", false)]), "u1"),
            Ownership::None
        );
        assert_eq!(ownership(&ObjectMeta::default(), "u1"), Ownership::None);
    }
}
