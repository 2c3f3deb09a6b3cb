//! `observe.events` (spec §11.4, experimental): `events.k8s.io/v1` Events as triggers for a
//! box's CRs.
//!
//! One watch of Events in every namespace serves all of a CRD's matchers. An Event matches a
//! declaration when every field the declaration writes equals the Event's (`reason`, `action`,
//! `type`, `reportingController`, `reportingInstance`, `namespace`, and the written fields of
//! `regarding` / `related`), and the change is one it reacts to (`on:`, default create,
//! update and delete; Events present when the watch (re)lists are not changes). The
//! declaration's `enqueueGate` then sees the Event as `.events.<name>` (`reason`, `action`,
//! `type`, `note`, `reportingController`, `reportingInstance`, `regarding`, `related`) and,
//! when it passes, the CRs it concerns are queued: `keyFrom` as for `watch:` (a label of the
//! Event, or a fixed name), else the `regarding` object when it is one of the box's CRs, else
//! every cached CR (broadcast).
//!
//! The queue carries no payload, so the reconcile gate and templates do not see `.events`.

use std::collections::HashSet;
use std::pin::pin;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::Client;
use kube::api::{Api, ObjectMeta};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, watcher};
use serde_json::{Value, json};

use super::secondary::{Change, KeyFrom, Primary, Secondary};
use crate::work::{Health, Key};

/// One `observe.events` declaration of a CRD.
#[derive(Debug, Clone)]
pub struct EventWatch {
    /// The declaration name (`.events.<name>`).
    pub name: String,
    /// The matcher as declared.
    pub matcher: katalog::model::EventMatcher,
    /// The changes that queue keys.
    pub on: Vec<Change>,
    /// Key resolution, as a `watch:` entry's.
    key_from: Secondary,
}

impl EventWatch {
    /// The `observe.events` declarations of `crd`.
    pub fn of_crd(crd: &katalog::Crd) -> Vec<Self> {
        let Some(events) = crd
            .operator_box()
            .observe
            .as_ref()
            .and_then(|o| o.events.as_ref())
        else {
            return Vec::new();
        };
        events
            .value
            .iter()
            .map(|(name, m)| {
                let m = &m.value;
                let mut on: Vec<Change> =
                    m.on.iter()
                        .filter_map(|o| match o.value.as_str() {
                            "create" => Some(Change::Create),
                            "update" => Some(Change::Update),
                            "delete" => Some(Change::Delete),
                            _ => None,
                        })
                        .collect();
                if on.is_empty() {
                    on = vec![Change::Create, Change::Update, Change::Delete];
                }
                let key_from = match m.key_from.as_ref().map(|k| &k.value) {
                    Some(k) if k.label.as_deref().is_some_and(|l| !l.is_empty()) => {
                        KeyFrom::Label(k.label.clone().unwrap_or_default())
                    }
                    Some(k) if k.name.as_deref().is_some_and(|n| !n.is_empty()) => KeyFrom::Name {
                        name: k.name.clone().unwrap_or_default(),
                        namespace: k.namespace.clone().filter(|n| !n.is_empty()),
                    },
                    _ => KeyFrom::Owner,
                };
                EventWatch {
                    name: name.clone(),
                    matcher: m.clone(),
                    on: on.clone(),
                    key_from: Secondary {
                        api_version: "events.k8s.io/v1".into(),
                        kind: "Event".into(),
                        name: None,
                        namespace: None,
                        on,
                        key_from,
                        enqueue_gate: None,
                    },
                }
            })
            .collect()
    }

    /// Whether `event` matches every field the declaration writes.
    pub fn matches(&self, event: &Event) -> bool {
        let m = &self.matcher;
        let eq = |want: &Option<String>, have: &Option<String>| {
            want.as_ref().is_none_or(|w| have.as_ref() == Some(w))
        };
        let object = |want: &Option<katalog::model::EventObject>,
                      have: &Option<ObjectReference>| {
            let Some(want) = want else { return true };
            let Some(have) = have else { return false };
            eq(&want.api_version, &have.api_version)
                && eq(&want.kind, &have.kind)
                && eq(&want.name, &have.name)
                && eq(&want.namespace, &have.namespace)
        };
        eq(&m.reason, &event.reason)
            && eq(&m.action, &event.action)
            && eq(&m.kind, &event.type_)
            && eq(&m.reporting_controller, &event.reporting_controller)
            && eq(&m.reporting_instance, &event.reporting_instance)
            && eq(&m.namespace, &event.metadata.namespace)
            && object(&m.regarding, &event.regarding)
            && object(&m.related, &event.related)
    }

    /// The keys of the CRs `event` concerns (see the module docs).
    pub fn keys(&self, primary: &Primary, event: &Event) -> Vec<Key> {
        // The regarding object stands where a watched object's ownerReference does.
        let regarding = event.regarding.as_ref();
        let meta = ObjectMeta {
            namespace: regarding
                .and_then(|r| r.namespace.clone())
                .or_else(|| event.metadata.namespace.clone()),
            labels: event.metadata.labels.clone(),
            owner_references: regarding.map(|r| {
                vec![OwnerReference {
                    api_version: r.api_version.clone().unwrap_or_default(),
                    kind: r.kind.clone().unwrap_or_default(),
                    name: r.name.clone().unwrap_or_default(),
                    uid: r.uid.clone().unwrap_or_default(),
                    ..OwnerReference::default()
                }]
            }),
            ..ObjectMeta::default()
        };
        primary.keys(&self.key_from, &meta)
    }
}

/// The Event as a gate sees it under `.events.<name>`.
pub fn gate_view(name: &str, event: &Event) -> Value {
    json!({ "events": { name: {
        "reason": event.reason,
        "action": event.action,
        "type": event.type_,
        "note": event.note,
        "reportingController": event.reporting_controller,
        "reportingInstance": event.reporting_instance,
        "regarding": event.regarding,
        "related": event.related,
        "namespace": event.metadata.namespace,
    }}})
}

/// Runs the Event watch of a box until aborted: each change of an Event that a declaration
/// matches and reacts to, and whose gate (`admit(name, view)`) passes, queues the keys it
/// concerns through `enqueue`. Watch errors are retried with kube's default backoff and
/// recorded in `health` until the watch recovers.
pub async fn run(
    client: Client,
    crd: String,
    watches: Vec<EventWatch>,
    primary: Primary,
    health: Health,
    (mut admit, enqueue): (impl FnMut(&str, &Value) -> bool + Send, impl Fn(Key) + Send),
) {
    let what = "events.k8s.io Event watch (observe.events)".to_owned();
    let api: Api<Event> = Api::all(client);
    let mut stream = pin!(watcher(api, watcher::Config::default()).default_backoff());
    // Uids of the Events seen, to tell a create from an update.
    let mut seen: HashSet<String> = HashSet::new();
    let mut answers = health.watch(&crd, &what);
    while let Some(item) = stream.next().await {
        let Some(item) = answers.check(item) else {
            continue;
        };
        let (change, event) = match item {
            watcher::Event::InitApply(e) => {
                seen.extend(e.metadata.uid.clone());
                continue;
            }
            watcher::Event::Apply(e) => {
                let uid = e.metadata.uid.clone().unwrap_or_default();
                let change = if seen.insert(uid) {
                    Change::Create
                } else {
                    Change::Update
                };
                (change, e)
            }
            watcher::Event::Delete(e) => {
                if let Some(uid) = &e.metadata.uid {
                    seen.remove(uid);
                }
                (Change::Delete, e)
            }
            watcher::Event::Init | watcher::Event::InitDone => continue,
        };
        for w in &watches {
            if !w.on.contains(&change) || !w.matches(&event) {
                continue;
            }
            if !admit(&w.name, &gate_view(&w.name, &event)) {
                tracing::debug!(%crd, event = %w.name, "the event's enqueueGate holds it");
                continue;
            }
            for key in w.keys(&primary, &event) {
                tracing::debug!(%crd, %key, event = %w.name, ?change, "observed event");
                enqueue(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watches(events: &str) -> Vec<EventWatch> {
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n    web:\n      apiTypes: {{group: example.com, version: v1, kind: Web, plural: webs}}\n      operatorBox:\n        observe:\n          events:\n{events}"
        );
        let k = katalog::load_text("/nonexistent/k.yaml", text)
            .unwrap_or_else(|d| panic!("{}", d.render()))
            .katalog;
        EventWatch::of_crd(k.crd("web").unwrap())
    }

    fn event(reason: &str, kind: &str, name: &str) -> Event {
        Event {
            metadata: ObjectMeta {
                namespace: Some("a".into()),
                ..ObjectMeta::default()
            },
            reason: Some(reason.into()),
            type_: Some("Warning".into()),
            regarding: Some(ObjectReference {
                api_version: Some(
                    if kind == "Web" {
                        "example.com/v1"
                    } else {
                        "v1"
                    }
                    .into(),
                ),
                kind: Some(kind.into()),
                name: Some(name.into()),
                namespace: Some("a".into()),
                ..ObjectReference::default()
            }),
            ..Event::default()
        }
    }

    #[test]
    fn written_fields_are_anded() {
        let w = &watches(
            "            backOff: {reason: BackOff, type: Warning, regarding: {kind: Pod}}\n",
        )[0];
        assert!(w.matches(&event("BackOff", "Pod", "p")));
        assert!(!w.matches(&event("Pulled", "Pod", "p")));
        assert!(!w.matches(&event("BackOff", "Node", "p")));
    }

    #[test]
    fn the_regarding_cr_is_the_key_else_every_cr() {
        use kube::runtime::reflector::store::Writer;
        let resource = kube::api::ApiResource {
            group: "example.com".into(),
            version: "v1".into(),
            api_version: "example.com/v1".into(),
            kind: "Web".into(),
            plural: "webs".into(),
        };
        let mut writer = Writer::new(resource.clone());
        writer.apply_watcher_event(&watcher::Event::Init);
        for name in ["one", "two"] {
            writer.apply_watcher_event(&watcher::Event::InitApply(
                kube::api::DynamicObject::new(name, &resource).within("a"),
            ));
        }
        writer.apply_watcher_event(&watcher::Event::InitDone);
        let primary = Primary {
            resource,
            namespaced: true,
            store: writer.as_reader(),
        };
        let w = &watches("            any: {type: Warning}\n")[0];
        let key = |n: &str| Key {
            namespace: Some("a".into()),
            name: n.into(),
            event: 0,
        };
        assert_eq!(w.keys(&primary, &event("X", "Web", "two")), [key("two")]);
        let mut all = w.keys(&primary, &event("X", "Pod", "p"));
        all.sort();
        assert_eq!(all, [key("one"), key("two")]);
    }
}
