//! `external:` calls at admission: the gateway makes a CRD's validation and mutation calls
//! before its rules, against a server in the test, and the API server sees the outcome
//! (denial with the server's answer, a value mutated in from it, a failed or silent call
//! denying within the webhook timeout), counted in the gateway's metrics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use serde_json::json;
use testenv::eventually;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util::{
    SETTLE, cluster, config, cr, denied_eventually, resource, start, stop, with_header,
};

/// What the server answers per first path segment: `(status, body)`, or `None` to never
/// answer.
type Answers = Arc<Mutex<HashMap<String, Option<(u16, String)>>>>;

/// A loopback HTTP server answering as `answers` says; records request lines.
async fn server(answers: Answers) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let (answers, record) = (answers.clone(), record.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                loop {
                    let n = match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let line = head.lines().next().unwrap_or_default().to_string();
                    record.lock().unwrap().push(line.clone());
                    let path = line.split(' ').nth(1).unwrap_or_default();
                    let segment = path
                        .trim_start_matches('/')
                        .split('/')
                        .next()
                        .unwrap_or_default();
                    let answer = answers.lock().unwrap().get(segment).cloned().flatten();
                    let Some((status, body)) = answer else {
                        // Silent: hold the connection, never answer.
                        std::future::pending::<()>().await;
                        return;
                    };
                    let out = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if conn.write_all(out.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

fn katalog(group: &str, server: &str) -> String {
    let rest = r#"  webhooks:
    admission: {enabled: true}
    failurePolicy: Fail
spec:
  crds:
    platform:
      apiTypes: {group: GROUP, version: v1alpha1, kind: Platform, plural: platforms}
      validation:
        external:
          - {name: policy, url: "SERVER/policy/{{ .metadata.name }}", continueOnError: true}
        rules:
          - field: external.policy.status
            equals: "200"
            message: "policy refused {{ .metadata.name }}: {{ .external.policy.body }}"
      mutation:
        external:
          - {name: owner, url: "SERVER/owner", timeout: 30s, fires: {reconcile: false}}
        rules:
          - {field: spec.owner, override: "{{ .external.owner.body }}"}
"#;
    with_header(
        "external-admission",
        &rest.replace("GROUP", group).replace("SERVER", server),
    )
}

/// GETs `/metrics` from the gateway's HTTP address.
async fn metrics(addr: std::net::SocketAddr) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET /metrics HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_and_mutation_calls_are_made_at_admission_within_the_webhook_timeout() {
    let client = cluster().await;
    let ns = testenv::namespace(&client, "gw-external").await;
    let group = format!("{}.ork.test", testenv::unique_name("ext"));
    testenv::install_crd(&client, &group, "Platform", &["v1alpha1"]).await;
    let answers: Answers = Arc::default();
    answers
        .lock()
        .unwrap()
        .insert("policy".into(), Some((403, "not on the list".into())));
    answers
        .lock()
        .unwrap()
        .insert("owner".into(), Some((200, "team-a".into())));
    let (url, seen) = server(answers.clone()).await;
    let gw = start(
        &client,
        &katalog(&group, &url),
        config(&testenv::unique_name("gw-external")),
    )
    .await;
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &ns,
        &resource(&group, "v1alpha1", "Platform"),
    );
    let av = format!("{group}/v1alpha1");

    // The policy server's refusal reaches the user through the rule reading it.
    let message = denied_eventually(&api, &cr("Platform", &av, "bad", json!({}))).await;
    assert!(
        message.contains("policy refused bad: not on the list"),
        "{message}"
    );
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|l| l == "GET /policy/bad HTTP/1.1"),
        "{:?}",
        seen.lock().unwrap()
    );

    // Allowed: the admission-only mutation call's answer is written into the object.
    answers
        .lock()
        .unwrap()
        .insert("policy".into(), Some((200, "ok".into())));
    let mut n = 0;
    let created = eventually("the mutating webhook to set spec.owner", SETTLE, || {
        n += 1;
        let api = api.clone();
        let obj = cr("Platform", &av, &format!("good-{n}"), json!({}));
        async move {
            let created = api.create(&PostParams::default(), &obj).await.unwrap();
            if created.data["spec"]["owner"] == "team-a" {
                return Some(created);
            }
            let name = created.metadata.name.unwrap();
            let _ = api.delete(&name, &DeleteParams::default()).await;
            None
        }
    })
    .await;
    assert_eq!(created.data["spec"]["owner"], "team-a");

    // A failed call without continueOnError denies, naming the call.
    answers
        .lock()
        .unwrap()
        .insert("owner".into(), Some((500, "boom".into())));
    let e = api
        .create(
            &PostParams::default(),
            &cr("Platform", &av, "broken", json!({})),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("external call `owner` failed: HTTP 500"),
        "{e}"
    );

    // A silent server: the call's own 30s timeout is cut to the webhook's budget, so the
    // gateway denies with the call's timeout before the API server gives up on the webhook.
    answers.lock().unwrap().insert("owner".into(), None);
    let e = api
        .create(
            &PostParams::default(),
            &cr("Platform", &av, "silent", json!({})),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("external call `owner` failed: timed out after"),
        "{e}"
    );

    let text = metrics(gw.http_addr()).await;
    for line in [
        r#"orkestra_external_call_total{crd="platform",name="policy",result="success"}"#,
        r#"orkestra_external_call_total{crd="platform",name="owner",result="error"}"#,
        r#"orkestra_external_call_duration_seconds_count{crd="platform",name="owner"}"#,
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
    stop(gw).await;
}
