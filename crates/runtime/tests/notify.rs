//! Runtime notifications (spec §16.8): condition transitions of a reconciled CR reach a
//! gateway-like receiver on 127.0.0.1 as `/notify` POSTs with the notify token, once per
//! transition; a receiver that does not answer never blocks the sender, which drops and counts
//! what its bounded queue cannot hold.

use std::time::Duration;

use runtime::Metrics;
use runtime::outbound::notify::{Notice, Notifier, QUEUE};
use runtime::reconcile::ReconcilerConfig;
use serde_json::json;

use crate::reconcile::{World, eventually};
use crate::remote::Server;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn condition_transitions_are_posted_to_notify_once_each() {
    let server = Server::start(json!({"delivered": [], "throttled": [], "failed": []})).await;
    let notifier = Notifier::start(&server.url, Some("n0tify".into()), Metrics::new());
    let w = World::new_with(
        "notify",
        r#"      validation:
        rules:
          - {field: spec.replicas, lessThanOrEqual: 5, message: at most 5 replicas}"#,
        "        onReconcile: {}\n",
        ReconcilerConfig::default().notifier(notifier),
    )
    .await;
    w.create("web", json!({"replicas": 2})).await;
    w.reconcile("web").await.unwrap();

    w.set_spec("web", json!({"replicas": 9})).await;
    w.reconcile("web").await.unwrap_err();
    // Unchanged: the status is not rewritten, nothing is sent.
    w.reconcile("web").await.unwrap_err();
    w.set_spec("web", json!({"replicas": 3})).await;
    w.reconcile("web").await.unwrap();

    let requests = eventually("four notices", WAIT, || {
        let r = server.requests();
        async move { (r.len() >= 4).then_some(r) }
    })
    .await;
    let seen: Vec<(String, String)> = requests
        .iter()
        .map(|r| {
            assert!(r.head.starts_with("POST /notify "), "{}", r.head);
            assert!(
                r.head.contains("authorization: Bearer n0tify"),
                "{}",
                r.head
            );
            assert_eq!(r.body["crd"], "widget");
            assert_eq!(r.body["name"], "web");
            assert_eq!(r.body["namespace"], w.ns.as_str());
            (
                r.body["condition"].as_str().unwrap().to_owned(),
                r.body["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let pair = |c: &str, s: &str| (c.to_owned(), s.to_owned());
    // The healthy first reconcile sent nothing; the denial and the fix two each, in order.
    assert_eq!(
        seen,
        vec![
            pair("Ready", "False"),
            pair("ValidationFailed", "True"),
            pair("Ready", "True"),
            pair("ValidationFailed", "False"),
        ]
    );
    let denied = &requests[0].body;
    assert_eq!(denied["reason"], "ReconcileError");
    assert!(
        denied["message"]
            .as_str()
            .unwrap()
            .contains("at most 5 replicas"),
        "{denied}"
    );
}

#[tokio::test]
async fn a_silent_gateway_never_blocks_and_overflow_is_dropped_and_counted() {
    // Accepts connections and never answers: the sender waits on its first notice.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            open.push(conn);
        }
    });
    let metrics = Metrics::new();
    let notifier = Notifier::start(&url, None, metrics.clone());
    let notice = Notice {
        crd: "site".into(),
        name: "web".into(),
        namespace: "prod".into(),
        condition: "Ready".into(),
        status: "False".into(),
        reason: "ReconcileError".into(),
        message: "boom".into(),
        teams: Vec::new(),
    };
    let extra = 50;
    for _ in 0..QUEUE + extra {
        notifier.send(notice.clone());
    }
    // At most one notice left the queue for the silent gateway; the rest beyond the queue's
    // room were dropped at once.
    let text = metrics.encode();
    let dropped: usize = text
        .lines()
        .find(|l| {
            l.starts_with("orkestra_external_call_total{")
                && l.contains("name=\"notify\"")
                && l.contains("result=\"dropped\"")
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no dropped series:\n{text}"));
    assert!(
        (extra - 1..=extra).contains(&dropped),
        "{dropped} dropped\n{text}"
    );
}

/// A `status.fields` condition with `notify:` sends to its own teams only, once when it
/// starts to hold, with its message rendered; the automatic conditions' notices name no team.
#[tokio::test]
async fn a_notify_condition_is_sent_to_its_teams_when_it_starts_to_hold() {
    let server = Server::start(json!({"delivered": [], "throttled": [], "failed": []})).await;
    let notifier = Notifier::start(&server.url, None, Metrics::new());
    let w = World::new_in_document(
        "notify-teams",
        "notification:\n  teams: [{name: ops, email: ops@example.test}, {name: dev, email: dev@example.test}]",
        "",
        r#"        status:
          fields:
            - path: phase
              value: Degraded
              when:
                - field: spec.replicas
                  greaterThan: "3"
                  notify:
                    teams: [dev]
                    message: "{{ .metadata.name }} wants {{ .spec.replicas }} replicas""#,
        ReconcilerConfig::default().notifier(notifier),
    )
    .await;
    w.create("web", json!({"replicas": 2})).await;
    w.reconcile("web").await.unwrap();
    w.set_spec("web", json!({"replicas": 4})).await;
    w.reconcile("web").await.unwrap();
    // Still holding: nothing more is sent.
    w.set_spec("web", json!({"replicas": 5})).await;
    w.reconcile("web").await.unwrap();

    let requests = eventually("the notice", WAIT, || {
        let r = server.requests();
        async move { (!r.is_empty()).then_some(r) }
    })
    .await;
    let notice = &requests[0].body;
    assert_eq!(notice["teams"], json!(["dev"]), "{notice}");
    assert_eq!(notice["condition"], "status.phase when[0]");
    assert_eq!(notice["status"], "True");
    assert_eq!(notice["message"], "web wants 4 replicas");
    assert_eq!(w.get("web").await.data["status"]["phase"], "Degraded");
    // Stops holding, then holds again: a second notice.
    w.set_spec("web", json!({"replicas": 1})).await;
    w.reconcile("web").await.unwrap();
    w.set_spec("web", json!({"replicas": 6})).await;
    w.reconcile("web").await.unwrap();
    let requests = eventually("the second notice", WAIT, || {
        let r = server.requests();
        async move { (r.len() >= 2).then_some(r) }
    })
    .await;
    assert_eq!(requests.len(), 2, "one notice per start");
    assert_eq!(requests[1].body["message"], "web wants 6 replicas");
}
