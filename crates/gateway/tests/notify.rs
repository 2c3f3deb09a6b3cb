//! `/notify` reaches a Slack-style webhook receiver and an SMTP server, and throttles repeats.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::util::{cluster, config, start, stop};

/// A tiny HTTP receiver: records request bodies and answers 200.
async fn http_receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            let _ = tx.send(text[end + 4..].to_owned());
                            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
                            break;
                        }
                    }
                }
            });
        }
    });
    (format!("http://{addr}/hook"), rx)
}

/// A tiny SMTP server: speaks just enough SMTP and records each message's DATA.
async fn smtp_server() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                let mut line = String::new();
                while r.read_line(&mut line).await.unwrap_or(0) > 0 {
                    if let Some(d) = &mut data {
                        if line == ".\r\n" {
                            let _ = tx.send(std::mem::take(d));
                            data = None;
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            d.push_str(&line);
                        }
                    } else {
                        let cmd = line.to_ascii_uppercase();
                        let reply: &[u8] = if cmd.starts_with("EHLO") {
                            b"250-test\r\n250 OK\r\n"
                        } else if cmd.starts_with("DATA") {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        } else if cmd.starts_with("QUIT") {
                            w.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        } else {
                            b"250 OK\r\n"
                        };
                        w.write_all(reply).await.unwrap();
                    }
                    line.clear();
                }
            });
        }
    });
    (addr.to_string(), rx)
}

/// Sends a request over plain HTTP (`body` JSON for POST, `None` for GET) and returns the
/// status and JSON body.
async fn request(addr: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    request_with(addr, path, "", body).await
}

/// [`request`] with extra header lines (`extra`, each ending in `\r\n`).
async fn request_with(addr: &str, path: &str, extra: &str, body: Option<&Value>) -> (u16, Value) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (method, body) = match body {
        Some(b) => ("POST", b.to_string()),
        None => ("GET", String::new()),
    };
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_reaches_a_webhook_receiver_and_an_smtp_server_and_throttles() {
    let client = cluster().await;
    let (hook_url, mut hooks) = http_receiver().await;
    let (smtp, mut mails) = smtp_server().await;
    let text = format!(
        r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: notify}}
gateway: {{enabled: true}}
notification:
  teams:
    - name: ops
      email: ops@example.test
      slack: {{webhookUrl: "{hook_url}"}}
spec:
  crds:
    site:
      apiTypes: {{group: notify.ork.test, version: v1, kind: Site, plural: sites}}
"#
    );
    let config = config(&testenv::unique_name("gw-notify")).notify(gateway::NotifyConfig {
        smtp: Some(smtp),
        throttle: Duration::from_secs(3600),
        ..gateway::Config::new().notify
    });
    let gw = start(&client, &text, config).await;
    let http = gw.http_addr().to_string();
    let event = json!({"team": "ops", "crd": "site", "name": "web", "namespace": "prod",
                       "condition": "Ready", "status": "False", "reason": "Degraded", "message": "pods crash"});
    let (status, outcome) = request(&http, "/notify", Some(&event)).await;
    assert_eq!(status, 202);
    assert_eq!(
        outcome["delivered"],
        json!(["slack:ops", "email:ops"]),
        "{outcome}"
    );
    let hook = tokio::time::timeout(Duration::from_secs(10), hooks.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        hook.contains("site prod/web: Ready=False (Degraded): pods crash"),
        "{hook}"
    );
    let mail = tokio::time::timeout(Duration::from_secs(10), mails.recv())
        .await
        .unwrap()
        .unwrap();
    let (headers, subject) = mail_headers(&mail);
    assert_eq!(subject, "[ork] site prod/web: Ready=False", "{mail}");
    assert!(headers.contains(&"To: <ops@example.test>"), "{mail}");

    let (_, again) = request(&http, "/notify", Some(&event)).await;
    assert_eq!(again["throttled"], json!(["ops"]), "{again}");
    assert_eq!(again["delivered"], json!([]));
    let recovered = json!({"team": "ops", "crd": "site", "name": "web", "namespace": "prod",
                           "condition": "Ready", "status": "True"});
    let (_, third) = request(&http, "/notify", Some(&recovered)).await;
    assert_eq!(
        third["delivered"],
        json!(["slack:ops", "email:ops"]),
        "{third}"
    );
    let (status, info) = request(&http, "/katalog", None).await;
    assert_eq!(status, 200);
    assert_eq!(info["source"], "gateway");
    assert_eq!(info["katalog"], "notify");
    // The throttled repeat sent nothing: the next POST the receiver saw is the recovery.
    let next = tokio::time::timeout(Duration::from_secs(10), hooks.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(next.contains("Ready=True"), "{next}");
    let recovery = tokio::time::timeout(Duration::from_secs(10), mails.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mail_headers(&recovery).1, "[ork] site prod/web: Ready=True");

    // Fields of a notification cannot add a header or end the message.
    let forged = json!({"team": "ops", "crd": "site", "name": "web\r\nBcc: evil@example.test",
                        "namespace": "prod", "condition": "Ready", "status": "Unknown",
                        "message": "x\r\n.\r\nRCPT TO:<evil@example.test>"});
    let (_, fourth) = request(&http, "/notify", Some(&forged)).await;
    assert_eq!(
        fourth["delivered"],
        json!(["slack:ops", "email:ops"]),
        "{fourth}"
    );
    let mail = tokio::time::timeout(Duration::from_secs(10), mails.recv())
        .await
        .unwrap()
        .unwrap();
    let (headers, subject) = mail_headers(&mail);
    assert!(
        subject.starts_with("[ork] site prod/web\r\nBcc:"),
        "{subject:?}"
    );
    assert!(headers.iter().all(|h| !h.starts_with("Bcc")), "{mail}");
    assert_eq!(headers.len(), 6, "{mail}");
    stop(gw).await;
}

/// The runtime's own sender (`runtime::outbound::notify`, as `ork run` wires it) against this
/// gateway with a notify token: a condition transition reaches the team's webhook and SMTP
/// server, and the runtime counts it sent.
#[tokio::test]
async fn the_runtime_notifier_reaches_the_webhook_and_smtp_through_the_gateway() {
    let client = cluster().await;
    let (hook_url, mut hooks) = http_receiver().await;
    let (smtp, mut mails) = smtp_server().await;
    let text = format!(
        r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: notify-runtime}}
gateway: {{enabled: true}}
notification:
  teams:
    - name: ops
      email: ops@example.test
      slack: {{webhookUrl: "{hook_url}"}}
spec:
  crds:
    site:
      apiTypes: {{group: notifyrt.ork.test, version: v1, kind: Site, plural: sites}}
"#
    );
    let config = config(&testenv::unique_name("gw-notify-rt")).notify(gateway::NotifyConfig {
        smtp: Some(smtp),
        token: gateway::notify_access::Token::new("rt-token"),
        ..gateway::Config::new().notify
    });
    let gw = start(&client, &text, config).await;
    let metrics = runtime::Metrics::new();
    let notifier = runtime::outbound::notify::Notifier::start(
        &format!("http://{}", gw.http_addr()),
        Some("rt-token".into()),
        metrics.clone(),
    );
    notifier.send(runtime::outbound::notify::Notice {
        crd: "site".into(),
        name: "web".into(),
        namespace: "prod".into(),
        condition: "Ready".into(),
        status: "False".into(),
        reason: "ReconcileError".into(),
        message: "image pull failed".into(),
        teams: Vec::new(),
    });
    let hook = tokio::time::timeout(Duration::from_secs(20), hooks.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        hook.contains("site prod/web: Ready=False (ReconcileError): image pull failed"),
        "{hook}"
    );
    let mail = tokio::time::timeout(Duration::from_secs(20), mails.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        mail_headers(&mail).1,
        "[ork] site prod/web: Ready=False",
        "{mail}"
    );
    let sent = "orkestra_external_call_total{crd=\"site\",name=\"notify\",result=\"sent\"} 1";
    testenv::eventually(
        "the runtime to count the notice sent",
        Duration::from_secs(20),
        || {
            let text = metrics.encode();
            async move { text.lines().any(|l| l == sent).then_some(()) }
        },
    )
    .await;
    stop(gw).await;
}

/// The next message `rx` receives, within 20 s.
async fn recv(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .unwrap()
        .unwrap()
}

/// Routing by team: of two teams, a notice the runtime addresses to `dev` reaches dev's
/// webhook only; ops' webhook and mailbox first hear of the notice addressed to ops.
#[tokio::test]
async fn a_notice_for_one_team_reaches_that_team_only() {
    let client = cluster().await;
    let (ops_hook, mut ops_hooks) = http_receiver().await;
    let (dev_hook, mut dev_hooks) = http_receiver().await;
    let (smtp, mut mails) = smtp_server().await;
    let text = format!(
        r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: notify-route}}
gateway: {{enabled: true}}
notification:
  teams:
    - name: ops
      email: ops@example.test
      slack: {{webhookUrl: "{ops_hook}"}}
    - name: dev
      slack: {{webhookUrl: "{dev_hook}"}}
spec:
  crds:
    site:
      apiTypes: {{group: notifyroute.ork.test, version: v1, kind: Site, plural: sites}}
"#
    );
    let config = config(&testenv::unique_name("gw-notify-route")).notify(gateway::NotifyConfig {
        smtp: Some(smtp),
        ..gateway::Config::new().notify
    });
    let gw = start(&client, &text, config).await;
    let notifier = runtime::outbound::notify::Notifier::start(
        &format!("http://{}", gw.http_addr()),
        None,
        runtime::Metrics::new(),
    );
    let notice = |condition: &str, team: &str| runtime::outbound::notify::Notice {
        crd: "site".into(),
        name: "web".into(),
        namespace: "prod".into(),
        condition: condition.into(),
        status: "True".into(),
        reason: "ConditionMet".into(),
        message: format!("for {team}"),
        teams: vec![team.into()],
    };
    notifier.send(notice("status.phase when[0]", "dev"));
    let dev = recv(&mut dev_hooks).await;
    assert!(dev.contains("for dev"), "{dev}");
    notifier.send(notice("status.phase when[1]", "ops"));
    let ops = recv(&mut ops_hooks).await;
    assert!(ops.contains("for ops") && !ops.contains("for dev"), "{ops}");
    let mail = recv(&mut mails).await;
    assert_eq!(
        mail_headers(&mail).1,
        "[ork] site prod/web: status.phase when[1]=True",
        "{mail}"
    );
    assert!(dev_hooks.try_recv().is_err(), "dev heard of the ops notice");
    stop(gw).await;
}

/// A Katalog with one team and no channel that can fail: `/notify` answers 202 when admitted.
const QUIET: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: notify-access}
gateway: {enabled: true}
notification:
  teams:
    - name: ops
      email: ops@example.test
spec:
  crds:
    site:
      apiTypes: {group: access.ork.test, version: v1, kind: Site, plural: sites}
"#;

fn event() -> Value {
    json!({"team": "ops", "crd": "site", "name": "web", "namespace": "prod",
           "condition": "Ready", "status": "False"})
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_with_a_token_admits_only_the_bearer_of_that_token() {
    let client = cluster().await;
    let token = testenv::unique_name("tok");
    let config = config(&testenv::unique_name("gw-token")).notify(gateway::NotifyConfig {
        token: gateway::notify_access::Token::new(token.clone()),
        ..gateway::Config::new().notify
    });
    let gw = start(&client, QUIET, config).await;
    let http = gw.http_addr().to_string();
    let (status, body) = request(&http, "/notify", Some(&event())).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"].as_str().unwrap().contains("Bearer"), "{body}");
    for wrong in [format!("{token}x"), token[1..].to_owned(), "".into()] {
        let auth = format!("authorization: Bearer {wrong}\r\n");
        let (status, body) = request_with(&http, "/notify", &auth, Some(&event())).await;
        assert_eq!(status, 401, "{wrong:?}: {body}");
    }
    let auth = format!("authorization: Bearer {token}\r\n");
    let (status, body) = request_with(&http, "/notify", &auth, Some(&event())).await;
    assert_eq!(status, 202, "{body}");
    // The token guards /notify only: probes and metrics stay open.
    let (status, _) = request(&http, "/katalog", None).await;
    assert_eq!(status, 200);
    stop(gw).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_on_a_non_loopback_address_without_a_token_is_refused() {
    let client = cluster().await;
    let open = config(&testenv::unique_name("gw-open"))
        .http_addr(std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
    let gw = start(&client, QUIET, open).await;
    let http = format!("127.0.0.1:{}", gw.http_addr().port());
    let (status, body) = request(&http, "/notify", Some(&event())).await;
    assert_eq!(status, 403, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("--notify-token") && error.contains("ORK_NOTIFY_TOKEN"),
        "{error}"
    );
    let auth = "authorization: Bearer anything\r\n";
    assert_eq!(
        request_with(&http, "/notify", auth, Some(&event())).await.0,
        403
    );
    assert_eq!(request(&http, "/health", None).await.0, 200);
    stop(gw).await;

    // The same gateway with a token serves /notify on that address.
    let guarded = config(&testenv::unique_name("gw-open"))
        .http_addr(std::net::SocketAddr::from(([0, 0, 0, 0], 0)))
        .notify(gateway::NotifyConfig {
            token: gateway::notify_access::Token::new("t0k3n"),
            ..gateway::Config::new().notify
        });
    let gw = start(&client, QUIET, guarded).await;
    let http = format!("127.0.0.1:{}", gw.http_addr().port());
    let auth = "authorization: Bearer t0k3n\r\n";
    let (status, body) = request_with(&http, "/notify", auth, Some(&event())).await;
    assert_eq!(status, 202, "{body}");
    stop(gw).await;
}

/// The header lines of a received message's DATA, and its subject decoded (RFC 2047 base64).
fn mail_headers(mail: &str) -> (Vec<&str>, String) {
    use base64::Engine as _;
    let headers: Vec<&str> = mail.split("\r\n").take_while(|l| !l.is_empty()).collect();
    let encoded = headers
        .iter()
        .find_map(|h| h.strip_prefix("Subject: =?utf-8?B?")?.strip_suffix("?="))
        .unwrap_or_else(|| panic!("no encoded subject in {mail}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    (headers, String::from_utf8(bytes).unwrap())
}
