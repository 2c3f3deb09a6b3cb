//! Test fixtures: a CRD loaded from a real Katalog text, and the real template engine.

use gotmpl::Engine;

use crate::build::EngineRender;
use crate::model::Crd;

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

/// The real template engine (no user notes).
pub(crate) fn render() -> EngineRender {
    EngineRender::new(Engine::new())
}
