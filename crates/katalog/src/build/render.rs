//! [`EngineRender`]: the template engine behind the [`Render`] trait, with a parse cache so
//! each distinct template of a Katalog is parsed once however many CRs are built.

use std::collections::HashMap;
use std::sync::RwLock;

use gotmpl::{Engine, RenderContext, Template};
use serde_json::Value;

use crate::render::{Render, RenderFailure};

/// Renders with a [`Engine`] and a fixed [`RenderContext`] (clock and random seed).
#[derive(Debug)]
pub struct EngineRender {
    engine: Engine,
    context: RenderContext,
    cache: RwLock<HashMap<String, Template>>,
}

impl EngineRender {
    /// Renders with `engine` at the current time with real randomness.
    pub fn new(engine: Engine) -> Self {
        EngineRender {
            engine,
            context: RenderContext::default(),
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// Renders with this clock and random seed (reproducible output).
    #[must_use]
    pub fn with_context(mut self, context: RenderContext) -> Self {
        self.context = context;
        self
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn template(&self, src: &str) -> Result<Template, RenderFailure> {
        if let Some(t) = self.cache.read().ok().and_then(|c| c.get(src).cloned()) {
            return Ok(t);
        }
        let t = self
            .engine
            .parse(src)
            .map_err(|e| RenderFailure::new(e.to_string()))?;
        if let Ok(mut c) = self.cache.write() {
            c.insert(src.to_owned(), t.clone());
        }
        Ok(t)
    }
}

impl Render for EngineRender {
    fn render(&self, src: &str, data: &Value) -> Result<String, RenderFailure> {
        let t = self.template(src)?;
        self.engine
            .render_with(&t, data, &self.context)
            .map_err(|e| RenderFailure::new(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builders_and_renderers_can_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<EngineRender>();
        send_sync::<crate::build::Builder<'static>>();
    }

    #[test]
    fn templates_render_through_the_engine_and_are_parsed_once() {
        let r = EngineRender::new(Engine::new());
        let data = json!({"metadata": {"name": "web"}});
        assert_eq!(
            r.render("{{ .metadata.name }}-svc", &data).unwrap(),
            "web-svc"
        );
        assert_eq!(
            r.render("{{ .metadata.name }}-svc", &data).unwrap(),
            "web-svc"
        );
        assert_eq!(r.cache.read().unwrap().len(), 1);
        assert!(r.render("{{ .metadata.name", &data).is_err());
    }
}
