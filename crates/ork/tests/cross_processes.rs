//! Two `ork run` processes on one control plane, each with its own Katalog and HTTP port
//! (spec §11.2 `source:`): the reader's CR follows, over HTTP, a CR of the CRD only the
//! source process runs.

use std::path::Path;
use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use testenv::eventually;

use crate::util::{Ork, free_port, http_get, ork};

const WAIT: Duration = Duration::from_secs(90);

/// A namespaced CRD of `kind` in `group`, served with a status subresource.
fn crd_text(group: &str, kind: &str) -> String {
    let plural = format!("{}s", kind.to_lowercase());
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: {plural}.{group}}}
spec:
  group: {group}
  scope: Namespaced
  names: {{kind: {kind}, plural: {plural}, singular: {singular}, listKind: {kind}List}}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {{status: {{}}}}
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
",
        singular = kind.to_lowercase()
    )
}

/// Writes a Katalog with `crds` (its `spec.crds` body) and the CRD file of `kind` beside it.
fn katalog_in(dir: &Path, name: &str, group: &str, kind: &str, crds: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("crd.yaml"), crd_text(group, kind)).unwrap();
    let path = dir.join("katalog.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: {name}}}
spec:
  crds:
{crds}"
        ),
    )
    .unwrap();
    path
}

fn resource(group: &str, kind: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: "v1".into(),
        api_version: format!("{group}/v1"),
        kind: kind.into(),
        plural: format!("{}s", kind.to_lowercase()),
    }
}

fn start(dir: &Path, katalog: &Path, kubeconfig: &Path, port: u16) -> Ork {
    Ork::spawn(
        ork()
            .arg("run")
            .arg(katalog)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--port")
            .arg(port.to_string())
            .env("ORK_LOG", "info"),
        &dir.join(format!("ork-{port}.log")),
    )
}

#[tokio::test]
async fn a_reader_process_follows_a_cr_of_another_ork_run_over_http() {
    let cp = testenv::shared().await;
    let admin = cp.client().await.unwrap();
    let ns = testenv::namespace(&admin, "xproc").await;
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = tmp.path().join("kubeconfig");
    let identity = testenv::Identity::user("ork-xproc", &["system:masters"]);
    std::fs::write(&kubeconfig, cp.kubeconfig_as(&identity).unwrap()).unwrap();
    let unique = testenv::unique_name("x");
    let (source_group, reader_group) = (
        format!("{unique}.source.test"),
        format!("{unique}.reader.test"),
    );
    let (source_port, reader_port) = (free_port(), free_port());

    let source_katalog = katalog_in(
        &tmp.path().join("source"),
        "xproc-source",
        &source_group,
        "Database",
        &format!(
            r#"    database:
      crdFile: ./crd.yaml
      namespace: {ns}
      apiTypes: {{group: {source_group}, version: v1, kind: Database, plural: databases}}
      operatorBox:
        status:
          fields:
            - {{path: phase, value: '{{{{ .spec.phase }}}}'}}
"#
        ),
    );
    let reader_katalog = katalog_in(
        &tmp.path().join("reader"),
        "xproc-reader",
        &reader_group,
        "App",
        &format!(
            r#"    app:
      crdFile: ./crd.yaml
      namespace: {ns}
      apiTypes: {{group: {reader_group}, version: v1, kind: App, plural: apps}}
      operatorBox:
        cross:
          - crd: database
            as: db
            selector: {{name: '{{{{ .spec.db }}}}'}}
            source: {{host: 'http://127.0.0.1:{source_port}', cacheFor: 1s}}
        status:
          fields:
            - {{path: dbFound, value: '{{{{ .cross.db.found }}}}'}}
            - {{path: dbPhase, value: '{{{{ .cross.db.status.phase }}}}'}}
"#
        ),
    );
    let _source = start(tmp.path(), &source_katalog, &kubeconfig, source_port);
    let _reader = start(tmp.path(), &reader_katalog, &kubeconfig, reader_port);
    for port in [source_port, reader_port] {
        eventually("ork run to be ready", WAIT, || async move {
            http_get(port, "/ready")
                .await
                .filter(|(status, _)| *status == 200)
        })
        .await;
    }

    let databases: Api<DynamicObject> =
        Api::namespaced_with(admin.clone(), &ns, &resource(&source_group, "Database"));
    let apps: Api<DynamicObject> =
        Api::namespaced_with(admin.clone(), &ns, &resource(&reader_group, "App"));
    let mut db = DynamicObject::new("main", &resource(&source_group, "Database"));
    db.data = json!({"spec": {"phase": "one"}});
    databases.create(&PostParams::default(), &db).await.unwrap();
    let mut app = DynamicObject::new("site", &resource(&reader_group, "App"));
    app.data = json!({"spec": {"db": "main"}});
    apps.create(&PostParams::default(), &app).await.unwrap();

    let status = |want: &'static str| {
        let apps = apps.clone();
        async move {
            let s: Value = apps.get("site").await.ok()?.data["status"].clone();
            (s["dbFound"] == "true" && s["dbPhase"] == want).then_some(())
        }
    };
    eventually("the reader to see phase one", WAIT, || status("one")).await;
    databases
        .patch(
            "main",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"phase": "two"}})),
        )
        .await
        .unwrap();
    eventually("the reader to follow to phase two", WAIT, || status("two")).await;
    // Only the source process runs `database`: the reader read it over HTTP.
    let listed = apps.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
}
