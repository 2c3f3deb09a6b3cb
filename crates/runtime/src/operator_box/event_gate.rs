//! The `enqueueGate` of an `observe.events` declaration: evaluated for each matching Event
//! change, with the Event under `.events.<name>` (see `observe::events`). It makes no calls
//! (`ork validate` refuses `external:` in it); conditions that cannot be evaluated follow its
//! `failPolicy`.

use std::collections::HashMap;
use std::sync::Arc;

use katalog::build::EngineRender;
use serde_json::{Map, Value};

use super::gate::Gate;
use crate::observe::events::EventWatch;

/// What the declarations admit: each one's gate on its Event view (everything, without one).
pub fn admit(
    watches: &[EventWatch],
    render: &Arc<EngineRender>,
) -> impl FnMut(&str, &Value) -> bool + Send + 'static {
    let gates: HashMap<String, Gate> = watches
        .iter()
        .filter_map(|w| Some((w.name.clone(), Gate::of(w.matcher.enqueue_gate.as_ref()?))))
        .collect();
    let render = Arc::clone(render);
    move |name, view| {
        gates
            .get(name)
            .is_none_or(|g| g.passes(view, &Map::new(), &render))
    }
}
