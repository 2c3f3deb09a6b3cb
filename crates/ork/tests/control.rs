//! `ork control` as a process: it prints its URL, serves the UI and the polled state (an
//! endpoint with nothing listening is shown unreachable with its error), stops on SIGTERM,
//! and refuses an endpoint URL it cannot poll.

use std::time::Duration;

use crate::util::{Ork, ork};

#[tokio::test]
async fn control_serves_the_ui_and_shows_an_unreachable_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let nothing = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", nothing.local_addr().unwrap());
    drop(nothing);
    let cc = Ork::spawn(
        ork().args(["control", "--port", "0", "--refresh", "1s", "--urls", &dead]),
        &dir.path().join("control.log"),
    );
    cc.said("Control Center at http://", Duration::from_secs(30))
        .await;
    let log = cc.log();
    let url = log
        .split("Control Center at ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    let get = |path: &str| {
        use std::io::{Read as _, Write as _};
        let host = url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    };
    assert!(get("/").contains("<title>ork Control Center</title>"));
    let state = testenv::eventually("the endpoint polled", Duration::from_secs(30), || async {
        let state: serde_json::Value = serde_json::from_str(&get("/api/state")).ok()?;
        let endpoint = state["endpoints"][0].clone();
        (endpoint["error"] != "not polled yet").then_some(endpoint)
    })
    .await;
    assert_eq!(state["url"], dead.as_str());
    assert_eq!(state["reachable"], false);
    assert!(
        state["error"].as_str().unwrap().contains("refused"),
        "{state}"
    );
    cc.terminate(Duration::from_secs(10)).await;
}

#[test]
fn an_https_endpoint_is_refused_with_the_reason() {
    let output = ork()
        .args(["control", "--port", "0", "--urls", "https://gw:8443"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("https is not supported"), "{stderr}");
}
