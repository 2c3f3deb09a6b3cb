//! The remote reconciler (spec §9.7) against a real control plane and an HTTP server on
//! 127.0.0.1 started by each test: the documented request with its bearer token, resources
//! in intent and full form applied with owner references and pruned when no longer returned,
//! status merged, `requeue` honoured, kinds outside `managedResources` and `error` answers
//! refused before anything is applied, and `default: false` keeping the templates off.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Secret, Service};
use kube::api::{Api, PostParams};
use runtime::reconcile::{Action, Error};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::reconcile::{World, condition};

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub head: String,
    pub body: Value,
}

/// A loopback HTTP server answering every request with the current JSON body (status 200)
/// and recording each request, body included.
pub struct Server {
    pub url: String,
    answer: Arc<Mutex<Value>>,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub async fn start(answer: Value) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new(answer));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (a, s) = (answer.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let (a, s) = (a.clone(), s.clone());
                tokio::spawn(async move {
                    while let Some(request) = read_request(&mut conn).await {
                        s.lock().unwrap().push(request);
                        let body = a.lock().unwrap().to_string();
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
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

    pub fn answer(&self, answer: Value) {
        *self.answer.lock().unwrap() = answer;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }
}

/// Reads one request (head, then `content-length` bytes of body); `None` at end of stream.
async fn read_request(conn: &mut tokio::net::TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end..head_end + length]).unwrap_or(Value::Null);
    Some(Request { head, body })
}

/// A remote reconciler for `Widget`, reached at `.spec.url`, with `default` as given and a
/// template ConfigMap that runs only when the templates do.
fn remote_box(default: &str) -> String {
    format!(
        r#"        reconciler:
{default}          remote:
            endpoint: '{{{{ .spec.url }}}}/reconcile/{{{{ .metadata.name }}}}'
            timeout: 5s
            auth: {{secretRef: {{name: remote, key: token}}}}
            args: {{tier: gold, owner: '{{{{ .metadata.name }}}}-team', sizes: ['{{{{ .metadata.namespace }}}}', 3]}}
            managedResources:
              - {{kind: Deployment}}
              - {{apiVersion: v1, kind: Service}}
        onReconcile:
          configMaps:
            - name: '{{{{ .metadata.name }}}}-tmpl'
              data: {{a: b}}
"#
    )
}

const TOKEN: &str = "remote-t0ken";

async fn world(prefix: &str, default: &str) -> World {
    let w = World::new(prefix, "", &remote_box(default)).await;
    let secrets: Api<Secret> = Api::namespaced(w.admin.clone(), &w.ns);
    let mut secret = Secret::default();
    secret.metadata.name = Some("remote".into());
    secret.string_data = Some([("token".to_string(), TOKEN.to_string())].into());
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    w
}

fn deployment(name: &str, replicas: i64) -> Value {
    json!({"type": "deployment", "fields": {"name": name, "image": "nginx:1.27", "replicas": replicas}})
}

fn service(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "labels": {"tier": "web"}},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
}

#[tokio::test]
async fn a_remote_reconciler_applies_its_resources_sets_status_requeues_and_prunes() {
    let server = Server::start(json!({
        "result": "requeue", "requeueAfter": "60s",
        "status": {"phase": "Ready", "endpoints": 2},
        "resources": [deployment("site-web", 2), service("site-svc")],
    }))
    .await;
    let w = world("remote-apply", "          default: false\n").await;
    w.create("site", json!({"url": server.url})).await;

    let action = w.reconcile("site").await.unwrap();
    assert_eq!(action, Action::RequeueAfter(Duration::from_secs(60)));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert!(r.head.starts_with("POST /reconcile/site "), "{}", r.head);
    assert!(
        r.head.contains(&format!("authorization: Bearer {TOKEN}")),
        "{}",
        r.head
    );
    assert_eq!(r.body["key"], format!("{}/site", w.ns));
    assert_eq!(r.body["gvk"]["Kind"], "Widget");
    assert_eq!(r.body["gvk"]["Version"], "v1");
    assert_eq!(r.body["object"]["spec"]["url"], server.url);
    // String args are templates rendered per CR; other values and the shape are kept.
    assert_eq!(
        r.body["args"],
        json!({"tier": "gold", "owner": "site-team", "sizes": [w.ns, 3]})
    );
    assert!(r.body["prepared"].is_object(), "{}", r.body);

    let cr = w.get("site").await;
    let uid = cr.metadata.uid.clone().unwrap();
    assert_eq!(cr.data["status"]["phase"], "Ready");
    assert_eq!(cr.data["status"]["endpoints"], 2);
    assert_eq!(condition(&cr, "Ready")["status"], "True");

    let deployments: Api<Deployment> = Api::namespaced(w.admin.clone(), &w.ns);
    let services: Api<Service> = Api::namespaced(w.admin.clone(), &w.ns);
    let d = deployments.get("site-web").await.unwrap();
    assert_eq!(d.spec.replicas, Some(2));
    let owner = &d.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.uid.as_str(), owner.controller),
        (uid.as_str(), Some(true))
    );
    let labels = d.metadata.labels.clone().unwrap();
    assert_eq!(labels["orkestra-owner"], "site");
    let applied_by_ork = d.metadata.managed_fields.iter().flatten().any(|m| {
        m.manager.as_deref() == Some("orkestra") && m.operation.as_deref() == Some("Apply")
    });
    assert!(applied_by_ork, "{:?}", d.metadata.managed_fields);
    let s = services.get("site-svc").await.unwrap();
    assert_eq!(s.metadata.owner_references.unwrap()[0].uid, uid);
    assert_eq!(s.metadata.labels.unwrap()["tier"], "web");
    // `default: false`: the template ConfigMap is not made.
    assert!(
        w.config_maps()
            .get_opt("site-tmpl")
            .await
            .unwrap()
            .is_none()
    );

    // The Service is no longer returned: it is pruned, like a template child no longer
    // declared; the Deployment converges to the new count.
    server.answer(json!({"result": "ok", "resources": [deployment("site-web", 3)]}));
    assert_eq!(w.reconcile("site").await.unwrap(), Action::Done);
    assert!(services.get_opt("site-svc").await.unwrap().is_none());
    let d = deployments.get("site-web").await.unwrap();
    assert_eq!(d.spec.replicas, Some(3));
    // `status` absent: what was merged stays.
    assert_eq!(w.get("site").await.data["status"]["phase"], "Ready");
}

#[tokio::test]
async fn kinds_outside_managed_resources_and_error_answers_apply_nothing() {
    let server = Server::start(json!({
        "resources": [deployment("site-web", 1),
                      {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "site-cm"}, "data": {"a": "b"}}],
    }))
    .await;
    let w = world("remote-refuse", "          default: false\n").await;
    w.create("site", json!({"url": server.url})).await;

    let e = w.reconcile("site").await.unwrap_err();
    assert!(matches!(e, Error::RemoteFailed(_)), "{e:?}");
    assert!(e.retry());
    let message = e.message();
    assert!(
        message.contains("ConfigMap") && message.contains("not among its managedResources"),
        "{message}"
    );
    let ready = condition(&*w.get("site").await, "Ready");
    assert_eq!(ready["status"], "False");
    assert!(
        ready["message"]
            .as_str()
            .unwrap()
            .contains("managedResources")
    );
    let deployments: Api<Deployment> = Api::namespaced(w.admin.clone(), &w.ns);
    assert!(
        deployments.get_opt("site-web").await.unwrap().is_none(),
        "nothing is applied"
    );
    assert!(w.config_maps().get_opt("site-cm").await.unwrap().is_none());

    server.answer(json!({"result": "ok", "error": "database unreachable",
                         "resources": [deployment("site-web", 1)]}));
    let e = w.reconcile("site").await.unwrap_err();
    assert!(
        e.message().contains("database unreachable"),
        "{}",
        e.message()
    );
    assert!(deployments.get_opt("site-web").await.unwrap().is_none());
    let ready = condition(&*w.get("site").await, "Ready");
    assert!(
        ready["message"]
            .as_str()
            .unwrap()
            .contains("database unreachable")
    );

    server.answer(json!({"resources": [deployment("site-web", 1)]}));
    w.reconcile("site").await.unwrap();
    assert!(deployments.get_opt("site-web").await.unwrap().is_some());
    assert_eq!(condition(&*w.get("site").await, "Ready")["status"], "True");
}

#[tokio::test]
async fn without_default_false_templates_run_beside_the_remote_reconciler() {
    let server = Server::start(json!({"resources": [service("site-svc")]})).await;
    let w = world("remote-hybrid", "").await;
    w.create("site", json!({"url": server.url})).await;
    w.reconcile("site").await.unwrap();
    assert!(
        w.config_maps()
            .get_opt("site-tmpl")
            .await
            .unwrap()
            .is_some()
    );
    let services: Api<Service> = Api::namespaced(w.admin.clone(), &w.ns);
    assert!(services.get_opt("site-svc").await.unwrap().is_some());
}
