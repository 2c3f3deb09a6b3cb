//! `preReconcile` gates and sentinels (spec §11.5, §11.6).
//!
//! - **Sentinels** are event-time booleans (`"true"`/`"false"`) computed from the object
//!   before and after a watch event, only those `preReconcile.sentinels` declares. A new object
//!   (first list, create) has every `…Changed` sentinel true; a resync has all of them false.
//! - The **enqueue gate** is evaluated in the primary watch before a key is queued: a CR that
//!   does not pass is not queued (health unchanged).
//! - The **reconcile gate** is evaluated after the key is taken from the queue, with the
//!   sentinels of the event that queued it: a CR that does not pass is not reconciled (no status
//!   write) and the box shows `gated` until its next successful reconcile.
//!
//! A gate passes when its `sentinels` list is empty or names a sentinel that is true, and its
//! `when`/`or` conditions hold against the CR, with the sentinels under `.sentinels`. The
//! reconcile gate first makes `preReconcile.external` and its own `external:` calls (their
//! results under `.external`, as the conditions read them). A gate that cannot be evaluated
//! (a condition that fails to evaluate, a call without `continueOnError` that failed, timed
//! out or answered an unexpected status) follows its `failPolicy`: `open` (the default)
//! passes, `closed` holds. The enqueue gate runs inside the watch and makes no call
//! (validation refuses calls there).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use katalog::build::EngineRender;
use katalog::condition::{Condition, Conditions, Env};
use katalog::model::external::Place;
use kube::api::DynamicObject;
use serde_json::{Map, Value};

use crate::work::Key;

/// One declared gate, ready to evaluate.
#[derive(Clone, Debug)]
pub struct Gate {
    sentinels: Vec<String>,
    when: Vec<Condition>,
    or: Vec<Condition>,
    fail_open: bool,
    external: bool,
}

impl Gate {
    /// The gate `gate` declares.
    pub(crate) fn of(gate: &katalog::model::Gate) -> Self {
        Self {
            sentinels: gate.sentinels.iter().map(|s| s.value.clone()).collect(),
            when: gate.when.clone(),
            or: gate.or.clone(),
            fail_open: gate
                .fail_policy
                .as_ref()
                .is_none_or(|p| p.value.trim() != "closed"),
            external: !gate.external.is_empty(),
        }
    }

    /// Bare `when`/`or` conditions (a `queue.behaviour` rule's): no sentinel list, no calls,
    /// and a condition that fails to evaluate counts as not holding.
    pub(crate) fn conditions(when: &[Condition], or: &[Condition]) -> Self {
        Self {
            sentinels: Vec::new(),
            when: when.to_vec(),
            or: or.to_vec(),
            fail_open: false,
            external: false,
        }
    }

    /// Whether the `when`/`or` conditions hold for `cr` (as JSON) with `sentinels` (also
    /// readable under `.sentinels` and as top-level names).
    pub(crate) fn holds(
        &self,
        cr: &Value,
        sentinels: &Map<String, Value>,
        render: &EngineRender,
    ) -> bool {
        self.conditions_hold(cr, sentinels, render)
    }

    /// Whether `cr` (as JSON) passes, with `sentinels` of the event at hand, rendering
    /// templated fields with `render` (the box's reconcile engine, with the Katalog's notes).
    pub fn passes(
        &self,
        cr: &Value,
        sentinels: &Map<String, Value>,
        render: &EngineRender,
    ) -> bool {
        if self.external {
            return self.fail_open;
        }
        self.evaluate(cr, sentinels, render)
    }

    /// Whether `data` (the CR, with `.external` when the gate made calls) passes the
    /// sentinels and conditions.
    fn evaluate(
        &self,
        data: &Value,
        sentinels: &Map<String, Value>,
        render: &EngineRender,
    ) -> bool {
        let cr = data;
        let by_sentinel = self.sentinels.is_empty()
            || self
                .sentinels
                .iter()
                .any(|s| sentinels.get(s).and_then(Value::as_str) == Some("true"));
        by_sentinel && self.conditions_hold(cr, sentinels, render)
    }

    /// Whether `cr` passes for a trigger that is not a change of the CR itself (a child's
    /// drift, a `watch:` or `cross` trigger): no sentinel fired, so the gate's sentinel list
    /// does not apply; its `when`/`or` conditions do (they see no sentinels).
    pub(crate) fn passes_trigger(&self, cr: &Value, render: &EngineRender) -> bool {
        if self.external {
            return self.fail_open;
        }
        self.conditions_hold(cr, &Map::new(), render)
    }

    /// Whether the `when`/`or` conditions hold for `cr` with `sentinels`.
    fn conditions_hold(
        &self,
        cr: &Value,
        sentinels: &Map<String, Value>,
        render: &EngineRender,
    ) -> bool {
        if self.when.is_empty() && self.or.is_empty() {
            return true;
        }
        let mut data = cr.clone();
        if let Some(map) = data.as_object_mut() {
            map.insert("sentinels".into(), Value::Object(sentinels.clone()));
            // Also as top-level names (spec §8.2: `{{ .generationChanged }}`), never hiding a
            // key of the CR itself.
            for (name, value) in sentinels {
                map.entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
        let env = Env::new(&data, render, time::OffsetDateTime::now_utc());
        Conditions::new(&self.when, &self.or)
            .evaluate(&env)
            .unwrap_or(self.fail_open)
    }
}

/// A CRD's `preReconcile` block, resolved.
#[derive(Clone, Debug, Default)]
pub struct Gates {
    /// The sentinels the CRD declares.
    pub sentinels: Vec<String>,
    /// Evaluated before a key is queued.
    pub enqueue: Option<Gate>,
    /// Evaluated after a key is dequeued.
    pub reconcile: Option<Gate>,
    /// `reconcileGate.eventAware`: each watch event of a CR is a queue item of its own, so
    /// the reconcile gate sees every event's sentinels (none is merged into a later one).
    pub event_aware: bool,
}

impl Gates {
    /// The gates of a CRD (none when it declares no `preReconcile`).
    pub fn of(crd: &katalog::Crd) -> Self {
        let Some(pre) = &crd.operator_box().pre_reconcile else {
            return Self::default();
        };
        Self {
            sentinels: pre.sentinels.iter().map(|s| s.value.clone()).collect(),
            enqueue: pre.enqueue_gate.as_ref().map(Gate::of),
            reconcile: pre.reconcile_gate.as_ref().map(Gate::of),
            event_aware: pre
                .reconcile_gate
                .as_ref()
                .and_then(|g| g.event_aware.as_ref())
                .is_some_and(|e| e.value),
        }
    }

    /// True when no gate is declared.
    pub fn is_empty(&self) -> bool {
        self.enqueue.is_none() && self.reconcile.is_none()
    }

    /// True when events need their sentinels: a gate, or `queue.behaviour` conditions, may
    /// read them.
    pub fn has_sentinels(&self) -> bool {
        !self.sentinels.is_empty()
    }

    /// The declared sentinels of an event from `old` (`None`: the object is new to the cache)
    /// to `new`; with `old` the same as `new` (a resync) all are false.
    pub fn sentinels(
        &self,
        old: Option<&DynamicObject>,
        new: &DynamicObject,
    ) -> Map<String, Value> {
        self.sentinels
            .iter()
            .filter_map(|name| {
                let fired = sentinel(name, old, new)?;
                Some((name.clone(), Value::String(fired.to_string())))
            })
            .collect()
    }
}

/// One sentinel; `None` for a name spec §11.5 does not define (validation rejects those).
pub(crate) fn sentinel(
    name: &str,
    old: Option<&DynamicObject>,
    new: &DynamicObject,
) -> Option<bool> {
    let n = &new.metadata;
    if name == "deletionStarted" {
        let before = old.is_some_and(|o| o.metadata.deletion_timestamp.is_some());
        return Some(n.deletion_timestamp.is_some() && !before);
    }
    let Some(o) = old.map(|o| &o.metadata) else {
        return Some(true);
    };
    Some(match name {
        "generationChanged" => o.generation != n.generation,
        "labelsChanged" => o.labels != n.labels,
        "annotationsChanged" => o.annotations != n.annotations,
        "finalizersChanged" => o.finalizers != n.finalizers,
        "nameChanged" => o.name != n.name,
        "namespaceChanged" => o.namespace != n.namespace,
        "generateNameChanged" => o.generate_name != n.generate_name,
        "uidChanged" => o.uid != n.uid,
        "resourceVersionChanged" => o.resource_version != n.resource_version,
        "creationTimestampChanged" => o.creation_timestamp != n.creation_timestamp,
        "deletionGracePeriodSecondsChanged" => {
            o.deletion_grace_period_seconds != n.deletion_grace_period_seconds
        }
        "ownerReferenceChanged" => o.owner_references != n.owner_references,
        "managedFieldsChanged" => o.managed_fields != n.managed_fields,
        _ => return None,
    })
}

/// The reconcile gate of a box with what it needs at dequeue time.
#[derive(Clone, Debug)]
pub(super) struct AtDequeue {
    pub(super) gates: Arc<Gates>,
    pub(super) pending: Pending,
    pub(super) render: Arc<EngineRender>,
    /// The CRD's `external:` calls (the gate makes its own).
    pub(super) calls: Option<Arc<crate::outbound::Calls>>,
}

impl AtDequeue {
    /// Forgets the sentinels of `key`, whose CR is gone from the cache.
    pub(super) fn forget(&self, key: &Key) {
        self.pending.take(key);
    }

    /// Gives the sentinels taken for `key` back, for the retry of a reconcile that failed
    /// (Orkestra keeps them until the item is forgotten).
    /// A newer event of the key, queued meanwhile, keeps its own.
    pub(super) fn keep_for_retry(&self, key: Key, sentinels: Map<String, Value>) {
        self.pending.lock().entry(key).or_insert(sentinels);
    }

    /// Whether the reconcile gate holds `cr` (queued as `key`) back, and the sentinels of the
    /// event that queued it (taken: see [`AtDequeue::keep_for_retry`]). A CR being deleted is
    /// never held: its finalizer must run.
    pub(super) async fn holds(
        &self,
        key: &Key,
        cr: &DynamicObject,
    ) -> (bool, Option<Map<String, Value>>) {
        let Some(gate) = &self.gates.reconcile else {
            return (false, None);
        };
        // Taken first, so that no early return leaves them behind (an event-aware key is
        // never queued again).
        let pending = self.pending.take(key);
        if cr.metadata.deletion_timestamp.is_some() {
            return (false, pending);
        }
        let held = self.decide(gate, key, cr, pending.as_ref()).await;
        (held, pending)
    }

    /// The reconcile gate's decision for `cr` with the event's `pending` sentinels (none: a
    /// resync's, all false).
    async fn decide(
        &self,
        gate: &Gate,
        key: &Key,
        cr: &DynamicObject,
        pending: Option<&Map<String, Value>>,
    ) -> bool {
        let sentinels = pending
            .cloned()
            .unwrap_or_else(|| self.gates.sentinels(Some(cr), cr));
        let mut json = serde_json::to_value(cr).unwrap_or_default();
        let places = [Place::PreReconcile, Place::ReconcileGate];
        if let Some(calls) = self.calls.as_ref().filter(|c| c.any_in(&places)) {
            let now = time::OffsetDateTime::now_utc();
            if let Err(halted) = calls.run(&places, &mut json, &key.to_string(), now).await {
                tracing::debug!(%key, error = %halted, fail_open = gate.fail_open,
                    "a reconcile gate call failed; the fail policy decides");
                return !gate.fail_open;
            }
        } else if gate.external {
            return !gate.fail_open;
        }
        !gate.evaluate(&json, &sentinels, &self.render)
    }
}

/// One lock per CR, so that two event-aware keys of one CR (distinct queue items) are never
/// reconciled at once: the second worker waits for the first.
#[derive(Clone, Debug, Default)]
pub(super) struct PerObject {
    locks: Arc<Mutex<HashMap<Key, std::sync::Weak<tokio::sync::Mutex<()>>>>>,
}

impl PerObject {
    /// Waits until no other key of `key`'s CR is being reconciled, and holds that until the
    /// guard is dropped.
    pub(super) async fn lock(&self, key: &Key) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            let object = key.object();
            if let Some(lock) = locks.get(&object).and_then(std::sync::Weak::upgrade) {
                lock
            } else {
                // Forget the locks nobody holds any more before adding one.
                locks.retain(|_, lock| lock.strong_count() > 0);
                let lock = Arc::new(tokio::sync::Mutex::new(()));
                locks.insert(object, Arc::downgrade(&lock));
                lock
            }
        };
        lock.lock_owned().await
    }
}

/// The sentinels of the event that queued each key, until its reconcile takes them (the
/// newest event wins when several are coalesced into one queue item; with `eventAware` each
/// event has a key, and sentinels, of its own).
#[derive(Clone, Debug, Default)]
pub struct Pending {
    sentinels: Arc<Mutex<HashMap<Key, Map<String, Value>>>>,
}

impl Pending {
    /// Remembers the sentinels of the event that queues `key`.
    pub fn put(&self, key: Key, sentinels: Map<String, Value>) {
        self.lock().insert(key, sentinels);
    }

    /// The sentinels that queued `key` (all false when none were remembered: a resync).
    pub fn take(&self, key: &Key) -> Option<Map<String, Value>> {
        self.lock().remove(key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Map<String, Value>>> {
        self.sentinels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gotmpl::Engine;
    use serde_json::json;

    fn render() -> EngineRender {
        EngineRender::new(Engine::new())
    }

    fn crd(pre_reconcile: &str) -> katalog::Crd {
        let body: String = pre_reconcile
            .lines()
            .map(|l| format!("          {l}\n"))
            .collect();
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n    app:\n      apiTypes: {{group: example.com, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        preReconcile:\n{body}"
        );
        let loaded = katalog::load_text("/nonexistent/katalog.yaml", text)
            .unwrap_or_else(|d| panic!("{}", d.render()));
        loaded.katalog.crds[0].clone()
    }

    fn object(generation: i64, labels: &[(&str, &str)]) -> DynamicObject {
        let mut o: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "example.com/v1", "kind": "App",
            "metadata": {"name": "a", "namespace": "n", "generation": generation},
            "spec": {"paused": "false"},
        }))
        .unwrap();
        o.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        o
    }

    #[test]
    fn sentinels_compare_the_object_before_and_after_an_event() {
        let gates = Gates::of(&crd(
            "sentinels: [generationChanged, labelsChanged, deletionStarted]\nenqueueGate: {sentinels: [generationChanged]}\n",
        ));
        let (v1, v2) = (object(1, &[]), object(2, &[]));
        let relabelled = object(1, &[("a", "b")]);
        let fired = |old: Option<&DynamicObject>, new: &DynamicObject| {
            let s = gates.sentinels(old, new);
            (
                s["generationChanged"].clone(),
                s["labelsChanged"].clone(),
                s["deletionStarted"].clone(),
            )
        };
        assert_eq!(
            fired(None, &v1),
            (json!("true"), json!("true"), json!("false"))
        );
        assert_eq!(
            fired(Some(&v1), &v2),
            (json!("true"), json!("false"), json!("false"))
        );
        assert_eq!(
            fired(Some(&v1), &relabelled),
            (json!("false"), json!("true"), json!("false"))
        );
        assert_eq!(
            fired(Some(&v1), &v1),
            (json!("false"), json!("false"), json!("false"))
        );
    }

    #[test]
    fn a_gate_needs_one_of_its_sentinels_and_its_conditions() {
        let gates = Gates::of(&crd(
            "sentinels: [generationChanged, labelsChanged]\nreconcileGate:\n  sentinels: [generationChanged]\n  when: [{field: spec.paused, notEquals: 'true'}]\n",
        ));
        let gate = gates.reconcile.unwrap();
        let cr = |paused: &str| json!({"spec": {"paused": paused}});
        let fired = |g: &str| {
            let mut m = Map::new();
            m.insert("generationChanged".into(), json!(g));
            m
        };
        let render = render();
        assert!(gate.passes(&cr("false"), &fired("true"), &render));
        assert!(!gate.passes(&cr("false"), &fired("false"), &render));
        assert!(!gate.passes(&cr("true"), &fired("true"), &render));
    }

    /// An enqueue gate on the `labelsChanged` sentinel, its condition reading `field`.
    fn labels_changed_gate(field: &str) -> Gate {
        Gates::of(&crd(&format!(
            "sentinels: [labelsChanged]\nenqueueGate:\n  when: [{{field: {field}, equals: 'true'}}]\n"
        )))
        .enqueue
        .unwrap()
    }

    #[test]
    fn conditions_read_sentinels_under_sentinels() {
        let gate = labels_changed_gate("sentinels.labelsChanged");
        let mut fired = Map::new();
        fired.insert("labelsChanged".into(), json!("true"));
        assert!(gate.passes(&json!({}), &fired, &render()));
        fired.insert("labelsChanged".into(), json!("false"));
        assert!(!gate.passes(&json!({}), &fired, &render()));
    }

    #[tokio::test(start_paused = true)]
    async fn two_events_of_one_cr_are_reconciled_one_at_a_time() {
        let key = |name: &str, event: u64| {
            Key {
                namespace: Some("n".into()),
                name: name.into(),
                event: 0,
            }
            .for_event(event)
        };
        let locks = PerObject::default();
        let first = locks.lock(&key("a", 1)).await;
        let second = tokio::spawn({
            let locks = locks.clone();
            async move { drop(locks.lock(&key("a", 2)).await) }
        });
        let other = locks.lock(&key("b", 3)).await;
        tokio::task::yield_now().await;
        assert!(
            !second.is_finished(),
            "a second event of `a` waits for the first"
        );
        drop((first, other));
        second.await.unwrap();
        let _again = locks.lock(&key("a", 4)).await;
    }

    #[test]
    fn behaviour_conditions_read_the_cr_and_the_sentinels() {
        let when = vec![
            serde_json::from_value(json!({"field": "generationChanged", "equals": "true"}))
                .unwrap(),
        ];
        let or = Vec::new();
        let rule = Gate::conditions(&when, &or);
        let mut fired = Map::new();
        fired.insert("generationChanged".into(), json!("true"));
        assert!(rule.holds(&json!({}), &fired, &render()));
        assert!(!rule.holds(&json!({}), &Map::new(), &render()));
    }

    #[test]
    fn sentinels_are_also_top_level_names_in_gate_conditions() {
        let gate = labels_changed_gate("labelsChanged");
        let mut fired = Map::new();
        fired.insert("labelsChanged".into(), json!("true"));
        assert!(gate.passes(&json!({}), &fired, &render()));
        fired.insert("labelsChanged".into(), json!("false"));
        assert!(!gate.passes(&json!({}), &fired, &render()));
        // A CR key of the same name wins over the sentinel.
        fired.insert("labelsChanged".into(), json!("true"));
        assert!(!gate.passes(&json!({"labelsChanged": "false"}), &fired, &render()));
    }
}
