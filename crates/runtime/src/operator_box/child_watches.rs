//! [`ChildWatches`]: one child watch per kind for the whole process, shared by every box whose
//! CRs produce that kind, routing each event to the boxes that may own the object.
//!
//! Without it, a Katalog of 15 CRDs that all produce ConfigMaps kept 15 ConfigMap watches,
//! decoded every ConfigMap event 15 times and cached the children in 15 indexes. Now a box
//! *subscribes* to the kind when it starts watching: the first subscriber starts the watch
//! (objects labelled `orkestra.orkspace.io/managed=true`, whole objects, since status
//! expressions read them), later ones join it, and each reads the one [`KindIndex`] through
//! its own [`ChildIndex`](super::children::ChildIndex) view, which shows only its own
//! children. Each event goes to the boxes that may own the object: the one whose kind the
//! controller ownerReference names (`apiVersion` and `kind`), or, for an object without one
//! (cluster-scoped children, children in other namespaces), every subscriber, which matches
//! its `orkestra-owner` label against its own CRs, as before. A change ork's own field manager
//! made last queues nothing. An object whose controller is of a kind no subscriber serves
//! (another Katalog's child, another process's) is not cached at all: no box could see it.
//! When a box of a new kind subscribes to a watch that left such objects out, the watch lists
//! again, and its cache answers no question until that list is complete.
//!
//! A watch is shared by the boxes that ask for the same kind, namespace (the boxes' `namespace`
//! setting) and field manager. When a box stops (or is dropped), its [`Subscription`] ends and
//! its route goes; when no box uses the kind, its watch stops and its cache is dropped.
//! Leadership needs nothing here: the watches run on every replica (a follower's cache stays
//! warm), and a key reaches a box's queue only while the box is active (its intake drops it
//! otherwise). Watch errors are recorded in the health of every subscriber.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::discovery::{self, Scope};
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource};
use tokio::task::AbortHandle;

use super::children::{KindIndex, may_own, owners};
use super::primary::{Watch, is_last_written_by};
use super::relist::relisting;

/// The longest wait between two discovery attempts of a child kind.
const DISCOVERY_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// The process's child watches, by kind. Cloning gives another handle to the same registry;
/// the default is an empty registry (a box given none makes its own, watching alone).
#[derive(Clone, Default)]
pub struct ChildWatches {
    watches: Arc<Mutex<HashMap<WatchKey, Arc<KindWatch>>>>,
}

impl fmt::Debug for ChildWatches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildWatches")
            .field("running", &self.running())
            .finish()
    }
}

/// What makes two boxes' child watches the same watch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct WatchKey {
    api_version: String,
    kind: String,
    /// The only namespace watched (`None`: all).
    namespace: Option<String>,
    /// The reconcile's field manager: its writes queue nothing, and only its managed fields
    /// are cached.
    field_manager: Option<String>,
}

/// One running watch: its cache, its subscribers and its task.
struct KindWatch {
    key: WatchKey,
    index: Arc<KindIndex>,
    /// The subscribed boxes, by subscription id.
    routes: RwLock<BTreeMap<u64, Watch>>,
    task: Mutex<Option<AbortHandle>>,
    /// Whether the watch left out an object since it (re)started, because no subscriber's
    /// kind may own it (see [`KindWatch::is_wanted`]).
    left_out: AtomicBool,
}

/// A box's use of one child watch: dropping it removes the box's route, and stops the watch
/// when no box uses it any more.
pub(super) struct Subscription {
    watches: ChildWatches,
    key: WatchKey,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.watches.unsubscribe(&self.key, self.id);
    }
}

impl ChildWatches {
    /// How many child watches run now (one per kind, namespace and field manager in use).
    pub fn running(&self) -> usize {
        self.lock().len()
    }

    /// How many boxes each running watch serves, by `kind.apiVersion`.
    pub fn subscribers(&self) -> BTreeMap<String, usize> {
        self.lock()
            .iter()
            .map(|(key, watch)| {
                let routes = watch.routes.read().unwrap_or_else(PoisonError::into_inner);
                (format!("{}.{}", key.kind, key.api_version), routes.len())
            })
            .collect()
    }

    /// Subscribes the box of `watch` to the child kind `api_version`/`kind`, starting its
    /// watch when it is the first: the box's changed or deleted children queue their owners
    /// into it from now on. Returns the kind's cache and the subscription that keeps the route.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime (starting the watch spawns a task).
    pub(super) fn subscribe(
        &self,
        watch: &Watch,
        api_version: &str,
        kind: &str,
    ) -> (Arc<KindIndex>, Subscription) {
        let key = WatchKey {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            namespace: watch.config.namespace.clone(),
            field_manager: watch.config.field_manager.clone(),
        };
        let mut watches = self.lock();
        let shared = watches.entry(key.clone()).or_insert_with(|| {
            Arc::new(KindWatch {
                index: Arc::new(KindIndex::new(key.field_manager.clone())),
                key: key.clone(),
                routes: RwLock::default(),
                task: Mutex::default(),
                left_out: AtomicBool::new(false),
            })
        });
        let (id, new_owner) = {
            let mut routes = shared
                .routes
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let id = routes.last_key_value().map_or(0, |(id, _)| id + 1);
            let resource = &watch.config.resource;
            let new_owner = !routes.values().any(|r| {
                r.config.resource.api_version == resource.api_version
                    && r.config.resource.kind == resource.kind
            });
            routes.insert(id, watch.clone());
            (id, new_owner)
        };
        let mut task = shared.task.lock().unwrap_or_else(PoisonError::into_inner);
        // Objects left out may be the new subscriber's: list again, and answer from the
        // cache only once that list is complete.
        if new_owner && shared.left_out.swap(false, Ordering::AcqRel) {
            if let Some(running) = task.take() {
                running.abort();
            }
            shared.index.unsynced();
        }
        if task.is_none() {
            let run = Arc::clone(shared).run(watch.client.clone());
            *task = Some(tokio::spawn(run).abort_handle());
        }
        drop(task);
        let index = Arc::clone(&shared.index);
        let subscription = Subscription {
            watches: self.clone(),
            key,
            id,
        };
        (index, subscription)
    }

    fn unsubscribe(&self, key: &WatchKey, id: u64) {
        let mut watches = self.lock();
        let Some(shared) = watches.get(key) else {
            return;
        };
        let empty = {
            let mut routes = shared
                .routes
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            routes.remove(&id);
            routes.is_empty()
        };
        if empty {
            if let Some(task) = shared
                .task
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            {
                task.abort();
            }
            watches.remove(key);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<WatchKey, Arc<KindWatch>>> {
        self.watches.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl KindWatch {
    /// The name of the watch in the subscribers' health and logs.
    fn name(&self) -> String {
        format!("{}.{} children", self.key.kind, self.key.api_version)
    }

    /// The subscribed boxes now (handles, so no lock is held while queueing).
    fn routes(&self) -> Vec<Watch> {
        let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        routes.values().cloned().collect()
    }

    /// Watches the managed objects of the kind into the shared index and queues the owners of
    /// each one that changes or goes away in the boxes that may own it. Runs until aborted.
    async fn run(self: Arc<Self>, client: Client) {
        let name = self.name();
        let (resource, scope) = self.discover(&client, &name).await;
        self.index.discovered(&resource);
        let api: Api<DynamicObject> = match &self.key.namespace {
            Some(namespace) if scope == Scope::Namespaced => {
                Api::namespaced_with(client, namespace, &resource)
            }
            _ => Api::all_with(client, &resource),
        };
        let selector = format!("{}={}", katalog::labels::MANAGED, katalog::labels::TRUE);
        let config = watcher::Config::default().labels(&selector);
        // Listed again after an error (see `relist`); until then the index declines, and the
        // reconcile lists instead.
        let mut events = pin!(relisting(api, config, watcher::DefaultBackoff::default()));
        let mut failing = false;
        while let Some(event) = events.next().await {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    let message = format!("{name} watch: {error}");
                    tracing::warn!(kind = %self.key.kind, error = %message, "child watch failed; retrying with backoff");
                    for route in self.routes() {
                        route.health.set_watch_error(&name, &message);
                    }
                    self.index.unsynced();
                    failing = true;
                    continue;
                }
            };
            // `Init` comes before the list request (see `relist`).
            if !matches!(event, Event::Init) && std::mem::take(&mut failing) {
                tracing::info!(kind = %self.key.kind, "child watch recovered");
                for route in self.routes() {
                    route.health.clear_watch_error(&name);
                }
            }
            self.handle(event);
        }
    }

    fn handle(&self, event: Event<DynamicObject>) {
        match event {
            // A (re)list reports objects as they are, not changes; the primary lists
            // already queued every owner.
            Event::Init => self.index.list_begins(),
            Event::InitApply(child) => {
                if self.is_wanted(&child) {
                    self.index.listed(child);
                }
            }
            Event::InitDone => self.index.list_done(),
            // Cached before, perhaps (its controller changed): no longer.
            Event::Apply(child) if !self.is_wanted(&child) => self.index.deleted(&child),
            Event::Apply(child) => {
                // A child ork itself wrote last needs no reconcile: that reconcile is running
                // or done. Anyone else's write (a user's edit, a controller's status) does.
                let queue = if self.is_own_write(&child) {
                    Vec::new()
                } else {
                    self.owners(&child)
                };
                // Into the cache before the owner is queued, so its reconcile sees it.
                self.index.applied(child);
                for (route, key) in queue {
                    route.add_triggered(key);
                }
            }
            Event::Delete(child) => {
                self.index.deleted(&child);
                for (route, key) in self.owners(&child) {
                    route.add_triggered(key);
                }
            }
        }
    }

    /// Whether some subscriber may own `child` (see [`may_own`]): the children of kinds no
    /// box of this process serves (another process's, another Katalog's) are not cached.
    /// Records a refusal, so that a box of a new kind subscribing later makes the watch list
    /// again.
    fn is_wanted(&self, child: &DynamicObject) -> bool {
        let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        let wanted = routes
            .values()
            .any(|route| may_own(&route.config.resource, child.meta()));
        if !wanted {
            self.left_out.store(true, Ordering::Release);
        }
        wanted
    }

    /// Whether the reconcile's field manager made the child's newest change (see
    /// [`BoxConfig::field_manager`](super::BoxConfig::field_manager)).
    fn is_own_write(&self, child: &DynamicObject) -> bool {
        let meta = child.meta();
        meta.deletion_timestamp.is_none()
            && self
                .key
                .field_manager
                .as_deref()
                .is_some_and(|manager| is_last_written_by(meta, manager))
    }

    /// The CRs that own `child`, each with the box to queue it in: routed by the child's
    /// controller ownerReference, or to every box when it has none.
    fn owners(&self, child: &DynamicObject) -> Vec<(Watch, super::Key)> {
        let meta = child.meta();
        let mut found = Vec::new();
        for route in self.routes() {
            if !may_own(&route.config.resource, meta) {
                continue;
            }
            for key in owners(&route.config, &route.store, meta) {
                found.push((route.clone(), key));
            }
        }
        found
    }

    /// The resource and scope of the kind, asking discovery until the kind is served.
    async fn discover(&self, client: &Client, name: &str) -> (ApiResource, Scope) {
        let WatchKey {
            api_version, kind, ..
        } = &self.key;
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let mut delay = Duration::from_millis(500);
        loop {
            match discovery::pinned_kind(client, &gvk).await {
                Ok((resource, capabilities)) => {
                    for route in self.routes() {
                        route.health.clear_watch_error(name);
                    }
                    return (resource, capabilities.scope);
                }
                Err(error) => {
                    let message = format!("discovering {kind}.{api_version}: {error}");
                    tracing::warn!(error = %message, retry_in = ?delay, "child watch waits");
                    for route in self.routes() {
                        route.health.set_watch_error(name, &message);
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(DISCOVERY_BACKOFF_MAX);
                }
            }
        }
    }
}
