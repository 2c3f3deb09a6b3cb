//! Remote cross reads (spec §11.2 `source:`) between two runtimes on one control plane: a
//! source runtime (its boxes and its real `/katalog` HTTP API on 127.0.0.1) runs `database`;
//! a reader whose Katalog has no such CRD reads one of its CRs over HTTP, follows its change
//! within `cacheFor`, sends its token, and reads an unknown CR as not found.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};
use runtime::http::{LiveView, router};
use runtime::reconcile::Action;
use runtime::{Metrics, Supervisor};
use serde_json::json;

use crate::reconcile::World;
use crate::reconcile::util::{TestCrd, eventually};

const WAIT: Duration = Duration::from_secs(60);

/// The source runtime: boxes for `database` (a Widget CRD of its own group; status `phase`
/// follows `spec.phase`) and its HTTP API on `addr`, served until the handles drop.
struct SourceRuntime {
    databases: TestCrd,
    _supervisor: Supervisor,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn source_runtime(admin: &kube::Client, addr: std::net::SocketAddr) -> SourceRuntime {
    let databases = TestCrd::install(admin).await;
    let (dir, loaded) = crate::support::katalog_file(&format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: xsource}}
spec:
  crds:
    database:
      apiTypes: {{group: {}, version: v1, kind: Widget, plural: widgets}}
      operatorBox:
        status:
          fields:
            - {{path: phase, value: '{{{{ .spec.phase }}}}'}}
",
        databases.resource.group
    ));
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(admin, &loaded.katalog, &metrics).await;
    let view = Arc::new(LiveView::new(&loaded, metrics, Some(admin.clone()), ""));
    view.set_leading(true);
    view.set_boxes(supervisor.boxes());
    view.mark_started();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(runtime::http::serve(addr, router(view), async move {
        let _ = stopped.await;
    }));
    SourceRuntime {
        databases,
        _supervisor: supervisor,
        _dir: dir,
        _stop: stop,
    }
}

/// The reader's operatorBox: `database` is not one of its CRDs; `source.host` says where it
/// runs.
fn reader_box(url: &str) -> String {
    format!(
        r#"        cross:
          - crd: database
            as: db
            selector: {{name: '{{{{ .spec.db }}}}'}}
            source:
              host: '{url}'
              cacheFor: 1s
              auth: {{secretRef: {{name: xread, key: token}}}}
        status:
          fields:
            - {{path: dbFound, value: '{{{{ .cross.db.found }}}}'}}
            - {{path: dbPhase, value: '{{{{ .cross.db.status.phase }}}}'}}
"#
    )
}

#[tokio::test]
async fn a_cross_read_over_http_follows_the_source_cr_of_another_runtime() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let w = World::new("xread", "", &reader_box(&format!("http://{addr}"))).await;
    let source = source_runtime(&w.admin, addr).await;
    let secrets: Api<Secret> = Api::namespaced(w.admin.clone(), &w.ns);
    let mut secret = Secret::default();
    secret.metadata.name = Some("xread".into());
    secret.string_data = Some([("token".to_string(), "cross-token".to_string())].into());
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();

    // The source CR lives in the reader's namespace (the selector's default).
    let databases = source.databases.api(&w.admin, &w.ns);
    databases
        .create(
            &PostParams::default(),
            &source.databases.object("main", json!({"phase": "one"})),
        )
        .await
        .unwrap();
    w.create("site", json!({"db": "main"})).await;
    w.create("lost", json!({"db": "nowhere"})).await;

    // The source runtime reconciles `main` on its own; the reader follows over HTTP.
    let reads = |want: &'static str| {
        let w = &w;
        async move {
            let action = w.reconcile("site").await.ok()?;
            let status = w.get("site").await.data["status"].clone();
            (status["dbPhase"] == want && status["dbFound"] == "true").then_some(action)
        }
    };
    let action = eventually("the reader to see phase one", WAIT, || reads("one")).await;
    // Nothing notifies the reader of a remote change: it polls every `cacheFor`.
    assert_eq!(action, Action::RequeueAfter(Duration::from_secs(1)));

    databases
        .patch(
            "main",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"phase": "two"}})),
        )
        .await
        .unwrap();
    eventually("the reader to see phase two", WAIT, || reads("two")).await;

    w.reconcile("lost").await.unwrap();
    let status = w.get("lost").await.data["status"].clone();
    assert_eq!(status["dbFound"], "false", "{status}");
}

/// `cacheFor` keeps a remote answer: a read within it sends no request and sees the kept
/// answer, the first read after it asks again and sees the new one; readers poll that often.
#[tokio::test]
async fn a_remote_answer_is_kept_for_cache_for_then_read_again() {
    use runtime::observe::remote::RemoteCross;

    let server = crate::remote::Server::start(json!({"status": {"phase": "one"}})).await;
    let text = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: xcache}}
spec:
  crds:
    app:
      apiTypes: {{group: xcache.test, version: v1, kind: App, plural: apps}}
      operatorBox:
        cross:
          - crd: database
            as: db
            source: {{endpoint: '{}/db', cacheFor: 3s}}
",
        server.url
    );
    let loaded = katalog::load_text("/nonexistent/katalog.yaml", &text)
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let crd = loaded.katalog.crd("app").unwrap();
    // No secretRef is declared: the client is never used.
    let kube =
        kube::Client::try_from(kube::Config::new("http://127.0.0.1:9".parse().unwrap())).unwrap();
    let remote = RemoteCross::of(crd, kube).unwrap();
    assert_eq!(remote.poll_every(), Duration::from_secs(3));
    let render = katalog::build::EngineRender::new(gotmpl::Engine::new());
    let cr = json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {}});
    let phase = || async {
        let mut cross = serde_json::Map::new();
        remote.complete(&render, &cr, &mut cross).await;
        cross["db"]["status"]["phase"].clone()
    };

    assert_eq!(phase().await, "one");
    assert_eq!(server.requests().len(), 1);
    server.answer(json!({"status": {"phase": "two"}}));
    assert_eq!(phase().await, "one", "read again within cacheFor");
    assert_eq!(server.requests().len(), 1, "no request within cacheFor");

    eventually(
        "the answer to be read again after cacheFor",
        WAIT,
        || async { (phase().await == "two").then_some(()) },
    )
    .await;
    assert_eq!(server.requests().len(), 2, "one request per cacheFor");
}
