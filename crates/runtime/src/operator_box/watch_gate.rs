//! A `watch:` entry's own `enqueueGate` (spec §11.3; Orkestra's sentinel docs: "on secondary
//! watches, `enqueueGate.sentinels` works the same way").
//!
//! It is evaluated for each change of a watched object, before any key is queued for it. It
//! sees the **watched object** (the watch reads metadata only): `.apiVersion`, `.kind`,
//! `.metadata.*`, and the sentinels its `sentinels:` list names, computed from the object's
//! previous and new metadata as the box's own sentinels are from a CR's (a first sight and a
//! create make every `…Changed` sentinel true), under `.sentinels.<name>` and as top-level
//! names. It passes when its `sentinels` list is empty or names one that is true, and its
//! `when`/`or` hold; conditions that cannot be evaluated follow `failPolicy` (`open` by
//! default). It makes no calls (`ork validate` refuses `external:` in it).

use std::collections::HashMap;
use std::sync::Arc;

use katalog::build::EngineRender;
use kube::api::{DynamicObject, ObjectMeta};
use serde_json::{Map, Value, json};

use super::gate::{Gate, sentinel};
use crate::observe::secondary::{Change, Secondary};

/// What a watch entry admits: its gate's verdict on each change (everything, without a gate).
pub fn admit(
    entry: &Secondary,
    render: &Arc<EngineRender>,
) -> impl FnMut(Change, &ObjectMeta) -> bool + Send + 'static {
    let mut gate = entry
        .enqueue_gate
        .as_ref()
        .map(|g| WatchGate::new(g, &entry.api_version, &entry.kind, Arc::clone(render)));
    move |change, meta| gate.as_mut().is_none_or(|g| g.passes(change, meta))
}

/// One watch entry's gate, with the metadata of the objects it has seen.
pub struct WatchGate {
    gate: Gate,
    names: Vec<String>,
    api_version: String,
    kind: String,
    render: Arc<EngineRender>,
    last: HashMap<(Option<String>, String), ObjectMeta>,
}

impl WatchGate {
    /// The gate `declared` on the watch of `api_version`/`kind`; `render` renders templated
    /// condition fields (the box's engine).
    pub fn new(
        declared: &katalog::model::Gate,
        api_version: &str,
        kind: &str,
        render: Arc<EngineRender>,
    ) -> Self {
        Self {
            gate: Gate::of(declared),
            names: declared.sentinels.iter().map(|s| s.value.clone()).collect(),
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            render,
            last: HashMap::new(),
        }
    }

    /// Whether `change` of the object with metadata `meta` may queue keys; remembers `meta`
    /// as the object's previous metadata for its next change.
    pub fn passes(&mut self, change: Change, meta: &ObjectMeta) -> bool {
        let at = (
            meta.namespace.clone(),
            meta.name.clone().unwrap_or_default(),
        );
        let old = match change {
            Change::Delete => self.last.remove(&at),
            Change::Create | Change::Update => self.last.insert(at, meta.clone()),
        };
        let as_object = |metadata: ObjectMeta| DynamicObject {
            types: None,
            metadata,
            data: Value::Null,
        };
        let new = as_object(meta.clone());
        let old = old.filter(|_| change != Change::Create).map(as_object);
        let sentinels: Map<String, Value> = self
            .names
            .iter()
            .filter_map(|name| {
                let fired = sentinel(name, old.as_ref(), &new)?;
                Some((name.clone(), Value::String(fired.to_string())))
            })
            .collect();
        let data = json!({
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": meta,
        });
        self.gate.passes(&data, &sentinels, &self.render)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gotmpl::Engine;
    use std::collections::BTreeMap;

    fn gate(gate: &str) -> WatchGate {
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n    web:\n      apiTypes: {{group: example.com, version: v1, kind: Web, plural: webs}}\n      operatorBox:\n        watch:\n          - {{apiVersion: apps/v1, kind: Deployment, enqueueGate: {{{gate}}}}}\n"
        );
        let k = katalog::load_text("/nonexistent/k.yaml", text)
            .unwrap_or_else(|d| panic!("{}", d.render()))
            .katalog;
        let watch = &k.crd("web").unwrap().operator_box().watch[0].value;
        let render = Arc::new(EngineRender::new(Engine::new()));
        WatchGate::new(
            watch.enqueue_gate.as_ref().unwrap(),
            "apps/v1",
            "Deployment",
            render,
        )
    }

    fn meta(generation: i64, tier: &str) -> ObjectMeta {
        ObjectMeta {
            namespace: Some("a".into()),
            name: Some("web".into()),
            generation: Some(generation),
            labels: Some(BTreeMap::from([("tier".into(), tier.into())])),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn a_sentinel_gate_passes_creates_and_generation_changes_only() {
        let mut g = gate("sentinels: [generationChanged]");
        assert!(g.passes(Change::Create, &meta(1, "x")));
        assert!(!g.passes(Change::Update, &meta(1, "y")), "labels only");
        assert!(g.passes(Change::Update, &meta(2, "y")));
    }

    #[test]
    fn conditions_read_the_watched_objects_metadata() {
        let mut g = gate("when: [{field: metadata.labels.tier, equals: web}]");
        assert!(!g.passes(Change::Create, &meta(1, "db")));
        assert!(g.passes(Change::Update, &meta(1, "web")));
    }
}
