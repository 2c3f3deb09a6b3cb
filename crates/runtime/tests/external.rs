//! `external:` calls against a real control plane and an HTTP server on 127.0.0.1 started by
//! each test: status follows the server's answer, a failing call sets `Ready=False`, `when:`
//! skips the request, a Secret's token reaches the server and no log line, and the reconcile
//! gate holds and releases on a call's answer, following `failPolicy`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, Patch, PatchParams, PostParams};
use runtime::{Metrics, State};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::instrument::WithSubscriber;

use crate::http::Captured;
use crate::reconcile::util::{TestCrd, eventually};
use crate::reconcile::{World, condition};

const WAIT: Duration = Duration::from_secs(60);

/// A loopback HTTP server answering every request with the current `(status, body)` and
/// recording each request's text.
struct Server {
    url: String,
    answer: Arc<Mutex<(u16, String)>>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Server {
    async fn start(status: u16, body: &str) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new((status, body.to_string())));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (a, s) = (answer.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let (a, s) = (a.clone(), s.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16384];
                    while let Ok(n) = conn.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                        s.lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                        let (status, body) = a.lock().unwrap().clone();
                        let reply = format!(
                            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if conn.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Server { url, answer, seen }
    }

    fn answer(&self, status: u16, body: &str) {
        *self.answer.lock().unwrap() = (status, body.to_string());
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

const STATUS: &str = r#"        status:
          fields:
            - {path: health, value: '{{ .external.check.status }}'}
            - {path: called, value: '{{ .external.check.called }}'}
            - {path: answer, value: '{{ .external.check.body }}'}
            - path: error
              value: '{{ .external.check.error }}'
              when: [{field: external.check.called, equals: 'true'}]
"#;

/// An operatorBox with one `check` call (extra keys `extra`, YAML flow) and [`STATUS`].
fn checked(extra: &str) -> String {
    format!(
        r#"        onReconcile:
          external:
            - {{name: check, url: '{{{{ .spec.url }}}}/health/{{{{ .metadata.name }}}}'{extra}}}
          configMaps:
            - name: '{{{{ .metadata.name }}}}-app'
              data: {{health: '{{{{ .external.check.status }}}}'}}
{STATUS}"#
    )
}

#[tokio::test]
async fn status_follows_the_answer_of_the_server() {
    let server = Server::start(200, "up").await;
    let w = World::new("ext-flip", "", &checked(", continueOnError: true")).await;
    w.create("site", json!({"url": server.url})).await;
    w.reconcile("site").await.unwrap();
    let status = w.get("site").await.data["status"].clone();
    assert_eq!(
        (&status["health"], &status["called"], &status["answer"]),
        (&json!("200"), &json!("true"), &json!("up")),
        "{status}"
    );
    assert!(server.requests()[0].starts_with("GET /health/site "));

    server.answer(503, "down");
    w.reconcile("site").await.unwrap();
    let cr = w.get("site").await;
    assert_eq!(cr.data["status"]["health"], "503", "{:?}", cr.data);
    // continueOnError: the reconcile went on and wrote the child with the failed status.
    assert_eq!(condition(&cr, "Ready")["status"], "True");
    let cm = w.config_maps().get("site-app").await.unwrap();
    assert_eq!(cm.data.unwrap()["health"], "503");
}

#[tokio::test]
async fn a_failing_call_without_continue_on_error_sets_ready_false_with_its_error() {
    let server = Server::start(500, "boom").await;
    let w = World::new("ext-halt", "", &checked("")).await;
    w.create("site", json!({"url": server.url})).await;
    let e = w.reconcile("site").await.unwrap_err();
    assert!(e.retry(), "a failed call is retried with backoff");
    let cr = w.get("site").await;
    let ready = condition(&cr, "Ready");
    assert_eq!(ready["status"], "False");
    let message = ready["message"].as_str().unwrap();
    assert!(
        message.contains("external call `check` failed: HTTP 500"),
        "{message}"
    );
    // After a failure only conditional status fields are written; they see `.external`.
    assert_eq!(cr.data["status"]["error"], "HTTP 500 (expected 2xx)");
    // Halted before any child was written.
    assert!(w.config_maps().get_opt("site-app").await.unwrap().is_none());

    server.answer(200, "ok");
    w.reconcile("site").await.unwrap();
    assert_eq!(condition(&*w.get("site").await, "Ready")["status"], "True");
}

#[tokio::test]
async fn a_call_whose_when_does_not_hold_is_not_made() {
    let server = Server::start(200, "up").await;
    let w = World::new(
        "ext-when",
        "",
        &checked(", when: [{field: spec.enabled, equals: 'yes'}]"),
    )
    .await;
    w.create("site", json!({"url": server.url, "enabled": "no"}))
        .await;
    w.reconcile("site").await.unwrap();
    let status = w.get("site").await.data["status"].clone();
    assert_eq!(status["called"], "false", "{status}");
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    w.set_spec("site", json!({"enabled": "yes"})).await;
    w.reconcile("site").await.unwrap();
    assert_eq!(w.get("site").await.data["status"]["called"], "true");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_secret_token_reaches_the_server_and_no_log_line() {
    const TOKEN: &str = "s3cr3t-t0ken-value";
    let server = Server::start(200, "up").await;
    let w = World::new(
        "ext-secret",
        "",
        &checked(", auth: {secretRef: {name: api, key: token}}"),
    )
    .await;
    let secrets: Api<Secret> = Api::namespaced(w.admin.clone(), &w.ns);
    let mut secret = Secret::default();
    secret.metadata.name = Some("api".into());
    secret.string_data = Some([("token".to_string(), TOKEN.to_string())].into());
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    w.create("site", json!({"url": server.url})).await;

    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let log = log.clone();
            move || log.clone()
        })
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    // Callsites first hit by tests running in parallel without a subscriber may have cached
    // "never"; recompute with this dispatcher registered.
    let dispatch = tracing::Dispatch::new(subscriber);
    tracing::callsite::rebuild_interest_cache();
    w.reconcile("site").with_subscriber(dispatch).await.unwrap();
    let request = server.requests().join("\n");
    assert!(
        request.contains(&format!("authorization: Bearer {TOKEN}")),
        "{request}"
    );
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("external call") && log.contains("check"),
        "the call is logged at debug:\n{log}"
    );
    assert!(
        !log.contains(TOKEN),
        "the token leaked into the log:\n{log}"
    );
    assert_eq!(w.get("site").await.data["status"]["health"], "200");
}

/// A `token` naming a variable that is not set is empty, as Go's `os.ExpandEnv` makes it in
/// Orkestra (the external packs name `$IMAGE_SIGNING_TOKEN` and call a dev server that needs
/// none): the call is made, with no authorization header.
#[tokio::test]
async fn a_token_of_an_unset_variable_sends_the_call_without_authorization() {
    let server = Server::start(200, "up").await;
    let w = World::new(
        "ext-token-unset",
        "",
        &checked(", token: '$ORK_TEST_TOKEN_NEVER_SET'"),
    )
    .await;
    w.create("site", json!({"url": server.url})).await;
    w.reconcile("site").await.unwrap();
    let status = w.get("site").await.data["status"].clone();
    assert_eq!(status["health"], "200", "{status}");
    let request = server.requests().join("\n");
    assert!(!request.contains("authorization"), "{request}");
}

fn gate_katalog(group: &str, url: &str, policy: &str) -> (tempfile::TempDir, katalog::Loaded) {
    crate::support::widget_katalog(
        "extgate",
        group,
        &format!(
            "        preReconcile:
          reconcileGate:
            failPolicy: {policy}
            external:
              - {{name: ready, url: '{url}/ready', timeout: 500ms}}
            when: [{{field: external.ready.body, equals: go}}]
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-web'
              data: {{value: '{{{{ .spec.value }}}}'}}
"
        ),
    )
}

#[tokio::test]
async fn a_reconcile_gate_with_a_call_holds_and_releases_and_failures_follow_fail_policy() {
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    let ns = testenv::namespace(&client, "ext-gate").await;
    let crd = TestCrd::install(&client).await;
    let server = Server::start(200, "wait").await;
    let (_dir, loaded) = gate_katalog(&crd.resource.group, &server.url, "closed");
    let api = crd.api(&client, &ns);
    api.create(
        &PostParams::default(),
        &crd.object("site", json!({"value": "v1"})),
    )
    .await
    .unwrap();
    let metrics = Metrics::new();
    let supervisor = crate::support::supervise(&client, &loaded.katalog, &metrics).await;
    let web = supervisor.operator_box("web").unwrap();
    eventually("the box to be gated", WAIT, || async {
        (web.health().state() == State::Gated).then_some(())
    })
    .await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    assert!(config_maps.get_opt("site-web").await.unwrap().is_none());
    assert!(!server.requests().is_empty());

    // A 503 is a failed call: `failPolicy: closed` keeps holding.
    server.answer(503, "go");
    let bump = |v: &'static str| {
        let api = api.clone();
        async move {
            api.patch(
                "site",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"value": v}})),
            )
            .await
            .unwrap();
        }
    };
    let before = server.requests().len();
    bump("v2").await;
    eventually("the gate to call again", WAIT, || async {
        (server.requests().len() > before).then_some(())
    })
    .await;
    assert!(config_maps.get_opt("site-web").await.unwrap().is_none());
    assert_eq!(web.health().state(), State::Gated);

    // The answer the condition waits for releases the CR.
    server.answer(200, "go");
    bump("v3").await;
    eventually("the child to be written", WAIT, || async {
        let cm = config_maps.get_opt("site-web").await.ok()??;
        (cm.data?.get("value")? == "v3").then_some(())
    })
    .await;
    let text = metrics.encode();
    assert!(
        text.contains(r#"orkestra_external_call_total{crd="web",name="ready",result="error"}"#),
        "{text}"
    );
    supervisor.stop().await.unwrap();
}
