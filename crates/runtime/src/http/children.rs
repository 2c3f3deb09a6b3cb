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
use std::time::Duration;

use gotmpl::{Engine, Template};
use katalog::build::Owner;
use kube::api::DynamicObject;
use serde_json::Value;
use tokio::time::Instant;

use super::view::ChildView;
use crate::discovery::Discovery;
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

/// Looks up and caches the children of CRs.
pub struct Children {
    client: kube::Client,
    discovery: Discovery,
    readiness: Readiness,
    cache: TtlCache<(String, String), ChildMap>,
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

    /// The children of `cr` (a cached CR object of `crd`) among `kinds` (apiVersion, kind),
    /// from the cache when looked up less than [`TTL`] ago. A kind that cannot be listed (not
    /// served, or forbidden) is left out with a warning, and the answer is then not cached.
    pub async fn of(&self, crd: &str, cr: &Value, kinds: &[(String, String)]) -> ChildMap {
        let uid = cr
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let key = (crd.to_owned(), uid.clone());
        if let Some(hit) = self.cache.get(&key) {
            return hit;
        }
        let owner = Owner::of(cr);
        let mut children = ChildMap::new();
        let mut complete = true;
        for (api_version, kind) in kinds {
            let listed = match self.discovery.resolve(api_version, kind).await {
                Ok(resolved) => {
                    owned::list(&self.client, None, &resolved, None, &owner.label, &uid)
                        .await
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            };
            match listed {
                Ok(objects) if objects.is_empty() => {}
                Ok(objects) => {
                    children.insert(kind.clone(), self.views(kind, &objects));
                }
                Err(error) => {
                    complete = false;
                    tracing::warn!(crd, cr = %owner.name, kind = %kind, %error,
                        "children of this kind are not shown");
                }
            }
        }
        if complete {
            self.cache.insert(key, children.clone());
        }
        children
    }

    fn views(&self, kind: &str, objects: &[DynamicObject]) -> Vec<ChildView> {
        let mut views: Vec<ChildView> = objects
            .iter()
            .map(|o| ChildView {
                name: o.metadata.name.clone().unwrap_or_default(),
                namespace: o.metadata.namespace.clone().unwrap_or_default(),
                ready: serde_json::to_value(o)
                    .ok()
                    .and_then(|v| self.readiness.of(kind, &v)),
            })
            .collect();
        views.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        views
    }
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
