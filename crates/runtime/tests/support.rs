//! Setup shared by the runtime's integration test binaries: a Katalog written to a file and
//! loaded, and its boxes started as a leading `ork run` starts them.

use std::time::Duration;

use runtime::{Metrics, Supervisor};

/// Writes `text` as `katalog.yaml` in a new temporary directory (kept alive by the returned
/// handle) and loads it; an invalid Katalog fails the test with every problem.
#[allow(dead_code)]
pub fn katalog_file(text: &str) -> (tempfile::TempDir, katalog::Loaded) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("katalog.yaml");
    std::fs::write(&path, text).unwrap();
    let loaded = katalog::load(&path).unwrap_or_else(|d| panic!("{}\n{text}", d.render()));
    (dir, loaded)
}

/// A Katalog `name` with one CRD `web` for testenv's `Widget` of `group`, one worker and an
/// hour's resync, its `operatorBox` going on with `rest` (keys indented 8 spaces), loaded as
/// [`katalog_file`] loads it.
#[allow(dead_code)]
pub fn widget_katalog(name: &str, group: &str, rest: &str) -> (tempfile::TempDir, katalog::Loaded) {
    katalog_file(&format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: {name}}}
spec:
  crds:
    web:
      apiTypes: {{group: {group}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        reconciler: {{resync: 1h, workers: 1}}
{rest}"
    ))
}

/// Starts one box per enabled CRD of `katalog`, always leading, with a 10 s stop timeout.
pub async fn supervise(
    client: &kube::Client,
    katalog: &katalog::Katalog,
    metrics: &Metrics,
) -> Supervisor {
    Supervisor::start_katalog(
        client,
        katalog,
        metrics,
        Duration::from_secs(10),
        runtime::always_leading(),
    )
    .await
    .unwrap()
}

/// Asserts that `metrics` prints each of `series` as one whole line (name, labels, value).
#[allow(dead_code)]
pub fn assert_series(metrics: &Metrics, series: &[&str]) {
    let text = metrics.encode();
    for line in series {
        assert!(text.lines().any(|l| l == *line), "no `{line}` in\n{text}");
    }
}
