//! Test fixtures: a CRD loaded from a real Katalog text, and the real template engine.

use gotmpl::{Engine, RenderContext};
use serde_json::Value;

use crate::model::Crd;
use crate::render::{Render, RenderFailure};

/// The CRD `app` (`demo.ork.dev/v1 App`) of a Katalog whose entry also holds `entry_yaml`
/// (written at the entry's indentation 0; indented here).
pub(crate) fn crd(entry_yaml: &str) -> Crd {
    let indented: String = entry_yaml.lines().map(|l| format!("      {l}\n")).collect();
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata:
  name: fixture
spec:
  crds:
    app:
      apiTypes: {{group: demo.ork.dev, version: v1, kind: App, plural: apps}}
{indented}"
    );
    match crate::load_text("katalog.yaml", text) {
        Ok(loaded) => loaded.katalog.crds[0].clone(),
        Err(d) => panic!("fixture Katalog is invalid:\n{}", d.render()),
    }
}

/// The real template engine (no user notes), without the parse cache of
/// `build::EngineRender` (which would make this module depend on `build`).
pub(crate) struct TestRender(Engine);

impl Render for TestRender {
    fn render(&self, src: &str, data: &Value) -> Result<String, RenderFailure> {
        let failed = |e: &dyn std::fmt::Display| RenderFailure::new(e.to_string());
        let template = self.0.parse(src).map_err(|e| failed(&e))?;
        self.0
            .render_with(&template, data, &RenderContext::default())
            .map_err(|e| failed(&e))
    }
}

/// The real template engine (no user notes).
pub(crate) fn render() -> TestRender {
    TestRender(Engine::new())
}
