//! Test fixtures: small Katalogs written as text.

use katalog::Katalog;

/// Loads a Katalog with top-level keys `top` (e.g. `security:`) and one CRD `widget`
/// (`t.io/v1` `Widget`) whose entry has the extra keys `entry` (indented six spaces).
pub fn katalog(top: &str, entry: &str) -> Katalog {
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: t}}
{top}
spec:
  crds:
    widget:
      apiTypes: {{group: t.io, version: v1, kind: Widget, plural: widgets}}
{entry}
"
    );
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("katalog.yaml");
    std::fs::write(&path, &text).expect("writing the Katalog");
    katalog::load(&path)
        .unwrap_or_else(|d| panic!("the fixture Katalog is invalid: {d:?}\n{text}"))
        .katalog
}
