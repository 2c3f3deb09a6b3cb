//! `ork diff` against the real control plane: after `ork run` has reconciled a CR, the
//! unchanged CR shows nothing (exit 0), and a spec change shows exactly the line it would
//! alter (exit 1). A CR not yet in the cluster shows its children as new.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use serde_json::json;
use testenv::eventually;

use crate::util::{Ork, ork};

fn katalog(dir: &Path, ns: &str) -> PathBuf {
    let path = dir.join("katalog.yaml");
    std::fs::write(
        &path,
        format!(
            r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: diff-test}}
spec:
  crds:
    page:
      apiTypes: {{group: diff.ork.test, version: v1, kind: Page, plural: pages}}
      namespace: {ns}
      operatorBox:
        onReconcile:
          configMaps:
            - name: "{{{{ .metadata.name }}}}-content"
              data:
                greeting: "{{{{ .spec.greeting }}}}"
                footer: static
"#
        ),
    )
    .unwrap();
    path
}

fn cr_file(dir: &Path, file: &str, ns: &str, name: &str, greeting: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(
        &path,
        format!(
            "apiVersion: diff.ork.test/v1\nkind: Page\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{greeting: {greeting}}}\n"
        ),
    )
    .unwrap();
    path
}

fn diff(katalog: &Path, cr: &Path, kubeconfig: &Path) -> (Option<i32>, String, String) {
    let output = ork()
        .arg("diff")
        .arg(katalog)
        .arg("--cr")
        .arg(cr)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The changed lines of a unified diff (without the `---`/`+++` header).
fn changed_lines(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| {
            (l.starts_with('-') && !l.starts_with("---"))
                || (l.starts_with('+') && !l.starts_with("+++"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_shows_exactly_the_field_a_spec_change_alters_and_nothing_when_unchanged() {
    let cp = testenv::shared().await;
    let admin = cp.client().await.unwrap();
    let ns = testenv::namespace(&admin, "diff").await;
    testenv::install_crd(&admin, "diff.ork.test", "Page", &["v1"]).await;
    let dir = tempfile::tempdir().unwrap();
    let katalog = katalog(dir.path(), &ns);
    let kubeconfig = cp.kubeconfig_path().to_path_buf();

    // Before the CR exists, its child is new.
    let cr = cr_file(dir.path(), "cr.yaml", &ns, "p1", "hello");
    let (code, out, err) = diff(&katalog, &cr, &kubeconfig);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("--- /dev/null"), "{out}");
    assert!(
        out.contains(&format!("+++ b/ConfigMap {ns}/p1-content (new)")),
        "{out}"
    );
    assert!(out.contains("+  greeting: hello"), "{out}");

    // Create it and let the runtime reconcile it.
    let pages = ApiResource {
        group: "diff.ork.test".into(),
        version: "v1".into(),
        api_version: "diff.ork.test/v1".into(),
        kind: "Page".into(),
        plural: "pages".into(),
    };
    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "diff.ork.test/v1", "kind": "Page",
        "metadata": {"name": "p1", "namespace": ns}, "spec": {"greeting": "hello"},
    }))
    .unwrap();
    Api::<DynamicObject>::namespaced_with(admin.clone(), &ns, &pages)
        .create(&PostParams::default(), &object)
        .await
        .unwrap();
    let _ork = Ork::spawn(
        ork()
            .arg("run")
            .arg(&katalog)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--no-setup")
            .env("ORK_NAMESPACE", &ns)
            .env("ORK_HTTP_ADDR", "127.0.0.1:0")
            .env("ORK_LOG", "info"),
        &dir.path().join("ork.log"),
    );
    let configmaps: Api<ConfigMap> = Api::namespaced(admin.clone(), &ns);
    eventually(
        "the runtime's ConfigMap",
        Duration::from_secs(60),
        || async { configmaps.get_opt("p1-content").await.ok().flatten() },
    )
    .await;

    let (code, out, err) = diff(&katalog, &cr, &kubeconfig);
    assert_eq!(code, Some(0), "unchanged CR: {out}{err}");
    assert_eq!(out, "", "unchanged CR prints no diff");
    assert!(err.contains("no changes"), "{err}");

    let changed = cr_file(dir.path(), "cr-changed.yaml", &ns, "p1", "bonjour");
    let (code, out, err) = diff(&katalog, &changed, &kubeconfig);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains(&format!("--- a/ConfigMap {ns}/p1-content (live)")),
        "{out}"
    );
    assert_eq!(
        changed_lines(&out),
        ["-  greeting: hello", "+  greeting: bonjour"],
        "{out}"
    );
    assert!(
        !out.contains('\x1b'),
        "no colour when stdout is not a terminal: {out:?}"
    );
}
