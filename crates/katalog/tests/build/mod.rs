//! Object building: the builder's rules, the conformance packs, snapshots, properties.

mod builder;
mod conditions;
mod packs;
mod preview;
mod props;
mod rbac;
mod snapshots;

use gotmpl::{Engine, RenderContext};
use katalog::build::{ApplyPlan, Builder, EngineRender, Hooks};
use katalog::resources::HookTemplates;
use serde_json::{Map, Value};

/// The clock every test builds at.
pub const NOW: time::OffsetDateTime = time::macros::datetime!(2026-01-05 10:00 UTC);

/// A renderer with a fixed clock and seed, so output is reproducible.
pub fn render() -> EngineRender {
    EngineRender::new(Engine::new()).with_context(RenderContext {
        now: NOW,
        seed: Some(7),
    })
}

/// Parses a HookTemplates block from YAML.
pub fn hooks(yaml: &str) -> HookTemplates {
    serde_saphyr::from_str(yaml).expect("hook block parses")
}

/// Parses a CR from YAML.
pub fn cr(yaml: &str) -> Value {
    serde_saphyr::from_str(yaml).expect("CR parses")
}

/// Builds `on_create` (and optionally `on_reconcile`) for `cr` with default settings.
pub fn plan(cr: &Value, on_create: &str, on_reconcile: Option<&str>) -> ApplyPlan {
    let r = render();
    let create = hooks(on_create);
    let reconcile = on_reconcile.map(hooks);
    Builder::new(&r)
        .now(NOW)
        .build(
            cr,
            Hooks {
                on_create: Some(&create),
                on_reconcile: reconcile.as_ref(),
            },
            &Map::new(),
        )
        .expect("plan builds")
}

/// `Kind name` of every child, in order.
pub fn names(plan: &ApplyPlan) -> Vec<String> {
    plan.children
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c.object["kind"].as_str().unwrap_or("?"),
                c.object["metadata"]["name"].as_str().unwrap_or("?")
            )
        })
        .collect()
}
