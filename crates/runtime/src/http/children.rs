//! The `children` of `GET /katalog/{crd}/cr/{ns}/{name}`: per kind, the objects the CR owns,
//! found as the reconcile finds them ([`owned::list`]: the managed and owner labels, then the
//! CR's uid), with `ready` for kinds that have a readiness rule. Answers are cached per CR
//! for [`TTL`] (§14.2), so a dashboard polling a CR costs one LIST per child kind every 30 s.
//!
//! Readiness is decided by the Katalog's own template built-ins, the ones status fields use
//! (`replicasReady`, `jobSucceeded`, `ingressReady`, `pvcBound`, `hasCondition`), so the API
//! and a Katalog's `.children` expressions agree on what ready means:
//!
//! | Kind | ready when |
//! |---|---|
//! | Deployment, StatefulSet, ReplicaSet | `replicasReady`: ready replicas ≥ desired |
//! | DaemonSet | ready pods ≥ pods to schedule |
//! | Job | `jobSucceeded`: a pod succeeded |
//! | Pod | its `Ready` condition is `True` |
//! | Ingress | `ingressReady`: a load balancer address is published |
//! | PersistentVolumeClaim | `pvcBound` |
//! | any other kind with a `Ready` condition (e.g. another Katalog's CR) | that condition is `True` |
//!
//! Other kinds (Service, ConfigMap, Secret, …) carry no `ready`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gotmpl::{Engine, Template};
use katalog::build::Owner;
use kube::api::DynamicObject;
use serde_json::Value;
use tokio::time::Instant;

use super::view::ChildView;
use crate::discovery::{Discovery, Resolved};
use crate::operator_box::children::ChildCache;
use crate::reconcile::owned;

/// How long a CR's children are served from the cache.
pub const TTL: Duration = Duration::from_secs(30);

/// The readiness rule of each kind, as a template over the child object.
const RULES: [(&str, &str); 9] = [
    ("Deployment", "{{ replicasReady . }}"),
    ("StatefulSet", "{{ replicasReady . }}"),
    ("ReplicaSet", "{{ replicasReady . }}"),
    (
        "DaemonSet",
        r#"{{ ge (int (get . "status" "numberReady")) (int (get . "status" "desiredNumberScheduled")) }}"#,
    ),
    ("Job", "{{ jobSucceeded . }}"),
    ("Pod", r#"{{ hasCondition . "Ready" }}"#),
    ("Ingress", "{{ ingressReady . }}"),
    ("PersistentVolumeClaim", "{{ pvcBound . }}"),
    (READY_CONDITION, r#"{{ hasCondition . "Ready" }}"#),
];

/// The key of the rule for kinds without one of their own that report a `Ready` condition.
const READY_CONDITION: &str = "";

/// Readiness of child objects, by kind.
pub struct Readiness {
    engine: Engine,
    rules: HashMap<&'static str, Template>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness").finish_non_exhaustive()
    }
}

impl Default for Readiness {
    fn default() -> Self {
        let engine = Engine::new();
        let rules = RULES
            .iter()
            .map(|(kind, src)| {
                let template = engine
                    .parse(src)
                    .unwrap_or_else(|e| panic!("the readiness rule of {kind:?} parses: {e}"));
                (*kind, template)
            })
            .collect();
        Self { engine, rules }
    }
}

impl Readiness {
    /// Whether `object` of `kind` is ready; `None` when the kind has no readiness rule.
    pub fn of(&self, kind: &str, object: &Value) -> Option<bool> {
        let rule = self.rules.get(kind).or_else(|| {
            has_ready_condition(object)
                .then(|| self.rules.get(READY_CONDITION))
                .flatten()
        })?;
        match self.engine.render(rule, object) {
            Ok(text) => Some(text.trim() == "true"),
            Err(e) => {
                tracing::warn!(kind, error = %e, "child readiness cannot be evaluated");
                None
            }
        }
    }
}

/// Whether `object` reports a `Ready` condition at all.
fn has_ready_condition(object: &Value) -> bool {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready"))
}

/// A map whose entries expire [`TTL`] after they were stored (tokio's clock, so tests can
/// pause it).
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: std::hash::Hash + Eq, V: Clone> TtlCache<K, V> {
    /// An empty cache whose entries live `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::default(),
        }
    }

    /// The value stored for `key` less than `ttl` ago.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    /// Stores `value` for `key`, dropping expired entries.
    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
        entries.insert(key, (Instant::now(), value));
    }
}

/// Children by kind, as `/katalog/{crd}/cr/…` shows them.
pub type ChildMap = BTreeMap<String, Vec<ChildView>>;

/// The cache key of one CR's children of one kind: CRD, CR uid, kind.
type Key = (String, String, String);

/// Looks up the children of CRs: from the running box's watch cache when it holds the kind
/// (fresh: a deleted child is gone from the answer as soon as the watch sees it), else by a
/// LIST whose answer is cached for [`TTL`].
pub struct Children {
    client: kube::Client,
    discovery: Discovery,
    readiness: Readiness,
    cache: TtlCache<Key, Vec<ChildView>>,
}

/// A [`ChildCache`] that remembers whether it answered, so a kind it does not hold is known
/// to have been listed instead.
struct Probe<'a> {
    inner: &'a dyn ChildCache,
    answered: AtomicBool,
}

impl ChildCache for Probe<'_> {
    fn objects(
        &self,
        resource: &kube::api::ApiResource,
        namespace: Option<&str>,
        owner_label: &str,
    ) -> Option<Vec<DynamicObject>> {
        let found = self.inner.objects(resource, namespace, owner_label);
        self.answered.store(found.is_some(), Ordering::Relaxed);
        found
    }
}

impl Children {
    /// Children read through `client`.
    pub fn new(client: kube::Client) -> Self {
        Self {
            discovery: Discovery::new(client.clone()),
            client,
            readiness: Readiness::default(),
            cache: TtlCache::new(TTL),
        }
    }

    /// The children of `cr` (a cached CR object of `crd`) among `kinds` (apiVersion, kind).
    ///
    /// A kind `index` (the running box's watch cache, `None` on a follower) holds is read from
    /// it: cluster-wide when the box watches every namespace, else in the CR's namespace, plus
    /// children in other namespaces from a cached LIST. Any other kind is listed, and the
    /// answer served from the cache for [`TTL`]. A kind that cannot be listed (not served, or
    /// forbidden) is left out with a warning, and is not cached.
    pub async fn of(
        &self,
        crd: &str,
        cr: &Value,
        kinds: &[(String, String)],
        index: Option<&dyn ChildCache>,
    ) -> ChildMap {
        let owner = Owner::of(cr);
        let mut children = ChildMap::new();
        for (api_version, kind) in kinds {
            match self
                .of_kind(crd, cr, &owner, api_version, kind, index)
                .await
            {
                Ok(views) if views.is_empty() => {}
                Ok(views) => {
                    children.insert(kind.clone(), views);
                }
                Err(error) => {
                    tracing::warn!(crd, cr = %owner.name, kind = %kind, %error,
                        "children of this kind are not shown");
                }
            }
        }
        children
    }

    async fn of_kind(
        &self,
        crd: &str,
        cr: &Value,
        owner: &Owner,
        api_version: &str,
        kind: &str,
        index: Option<&dyn ChildCache>,
    ) -> Result<Vec<ChildView>, String> {
        let resolved = self
            .discovery
            .resolve(api_version, kind)
            .await
            .map_err(|e| e.to_string())?;
        let uid = cr
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let namespace = cr
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty() && resolved.namespaced);
        let key = (crd.to_owned(), uid.to_owned(), kind.to_owned());
        let Some(index) = index else {
            return self.listed(key, &resolved, &owner.label).await;
        };
        // Only the namespace the box watches, unless it watches them all.
        let scope = namespace.filter(|_| !index.covers_all_namespaces());
        let probe = Probe {
            inner: index,
            answered: AtomicBool::new(false),
        };
        let objects = owned::list(
            &self.client,
            Some(&probe),
            &resolved,
            scope,
            &owner.label,
            uid,
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut views = self.views(kind, &objects);
        if !probe.answered.load(Ordering::Relaxed) {
            // Not in the box's cache: the objects were listed; keep them for later questions.
            if scope.is_none() {
                self.cache.insert(key, views.clone());
                return Ok(views);
            }
            return self.listed(key, &resolved, &owner.label).await;
        }
        if let Some(watched) = scope {
            let elsewhere = self.listed(key, &resolved, &owner.label).await?;
            views.extend(elsewhere.into_iter().filter(|c| c.namespace != watched));
            sort(&mut views);
        }
        Ok(views)
    }

    /// The children of one kind by a cluster-wide LIST, from the cache when listed less than
    /// [`TTL`] ago.
    async fn listed(
        &self,
        key: Key,
        resolved: &Resolved,
        owner_label: &str,
    ) -> Result<Vec<ChildView>, String> {
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit);
        }
        let objects = owned::list(&self.client, None, resolved, None, owner_label, &key.1)
            .await
            .map_err(|e| e.to_string())?;
        let views = self.views(&key.2, &objects);
        self.cache.insert(key, views.clone());
        Ok(views)
    }

    fn views(&self, kind: &str, objects: &[DynamicObject]) -> Vec<ChildView> {
        let mut views: Vec<ChildView> = objects
            .iter()
            .map(|o| ChildView {
                name: o.metadata.name.clone().unwrap_or_default(),
                namespace: o.metadata.namespace.clone().unwrap_or_default(),
                uid: o.metadata.uid.clone().unwrap_or_default(),
                ready: serde_json::to_value(o)
                    .ok()
                    .and_then(|v| self.readiness.of(kind, &v)),
            })
            .collect();
        sort(&mut views);
        views
    }
}

/// By namespace, then name.
fn sort(views: &mut [ChildView]) {
    views.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workloads_are_ready_when_their_replicas_are() {
        let r = Readiness::default();
        let deployment =
            |ready: i64| json!({"spec": {"replicas": 2}, "status": {"readyReplicas": ready}});
        assert_eq!(r.of("Deployment", &deployment(2)), Some(true));
        assert_eq!(r.of("StatefulSet", &deployment(1)), Some(false));
        assert_eq!(
            r.of("Deployment", &json!({"spec": {"replicas": 1}})),
            Some(false)
        );
        let daemons =
            |ready: i64| json!({"status": {"numberReady": ready, "desiredNumberScheduled": 3}});
        assert_eq!(r.of("DaemonSet", &daemons(3)), Some(true));
        assert_eq!(r.of("DaemonSet", &daemons(2)), Some(false));
        assert_eq!(
            r.of("Job", &json!({"status": {"succeeded": 1}})),
            Some(true)
        );
        assert_eq!(r.of("Job", &json!({"status": {"active": 1}})), Some(false));
    }

    #[test]
    fn kinds_without_a_rule_are_ready_only_by_a_ready_condition() {
        let r = Readiness::default();
        assert_eq!(r.of("Service", &json!({"spec": {}})), None);
        assert_eq!(r.of("ConfigMap", &json!({"data": {}})), None);
        let cr =
            |status: &str| json!({"status": {"conditions": [{"type": "Ready", "status": status}]}});
        assert_eq!(r.of("Database", &cr("True")), Some(true));
        assert_eq!(r.of("Database", &cr("False")), Some(false));
        assert_eq!(
            r.of("Pod", &json!({"status": {"phase": "Pending"}})),
            Some(false)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn cached_answers_expire_after_the_ttl() {
        let cache = TtlCache::new(TTL);
        cache.insert("cr", 1);
        tokio::time::advance(TTL - Duration::from_secs(1)).await;
        assert_eq!(cache.get(&"cr"), Some(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(cache.get(&"cr"), None);
        cache.insert("other", 2);
        assert_eq!(
            cache.entries.lock().unwrap().len(),
            1,
            "expired entries are dropped"
        );
    }
}
