//! Every route of both servers has a body limit, a broken review gets a clean 400, and a
//! client that never finishes its headers is cut off.

use std::time::{Duration, Instant};

use gateway::limits;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util::{cluster, config, exchange, platform_katalog, start, stop, tls_connect};

const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// A POST of `path` declaring a `content-length` of `len` and carrying `body`.
fn post(path: &str, len: usize, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// A chunked POST of `path` with `size` bytes of body in one chunk.
fn chunked(path: &str, size: usize) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{size:x}\r\n"
    )
    .into_bytes();
    r.extend(std::iter::repeat_n(b' ', size));
    r.extend_from_slice(b"\r\n0\r\n\r\n");
    r
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_and_malformed_requests_get_clean_errors_on_both_servers() {
    let client = cluster().await;
    let group = format!("{}.ork.test", testenv::unique_name("lim"));
    let gw = start(
        &client,
        &platform_katalog(&group, "Ignore"),
        config(&testenv::unique_name("gw-limits")),
    )
    .await;

    // Webhook port: a declared length over 4 MiB is refused before its body is read.
    let tls = tls_connect(&gw, VERSIONS).await.unwrap();
    let (status, body) =
        exchange(tls, &post("/validate", limits::WEBHOOK_BODY_LIMIT + 1, b"")).await;
    assert_eq!(status, 413, "{body}");
    let v = json(&body);
    assert_eq!(v["code"], 413, "{v}");
    assert_eq!(v["reason"], "RequestEntityTooLarge", "{v}");
    // …and so is a chunked body that turns out larger.
    let tls = tls_connect(&gw, VERSIONS).await.unwrap();
    let (status, body) = exchange(tls, &chunked("/validate", limits::WEBHOOK_BODY_LIMIT + 1)).await;
    assert_eq!(status, 413, "{body}");
    // A body that is not a review: 400 with a review that says why, on every review route.
    for (path, what) in [
        ("/validate", "AdmissionReview"),
        ("/mutate", "AdmissionReview"),
    ] {
        for junk in [&b"{not json"[..], b"[1,2]", b"{\"request\": 7}", b"{}"] {
            let tls = tls_connect(&gw, VERSIONS).await.unwrap();
            let (status, body) = exchange(tls, &post(path, junk.len(), junk)).await;
            assert_eq!(status, 400, "{path} {junk:?}: {body}");
            let v = json(&body);
            assert_eq!(v["kind"], what, "{v}");
            assert_eq!(v["response"]["allowed"], false, "{v}");
            assert_eq!(v["response"]["status"]["code"], 400, "{v}");
        }
    }
    // A review just under the limit is read and answered (a deep object is not a panic).
    let mut deep = "[".repeat(100_000);
    deep.push_str(&"]".repeat(100_000));
    let tls = tls_connect(&gw, VERSIONS).await.unwrap();
    let (status, body) = exchange(tls, &post("/validate", deep.len(), deep.as_bytes())).await;
    assert_eq!(status, 400, "{body}");

    // Plain HTTP: /notify and every other route refuse bodies over 64 KiB.
    let http = gw.http_addr();
    for path in ["/notify", "/health"] {
        let tcp = tokio::net::TcpStream::connect(http).await.unwrap();
        let (status, body) = exchange(tcp, &post(path, limits::PLAIN_BODY_LIMIT + 1, b"")).await;
        assert_eq!(status, 413, "{path}: {body}");
        assert!(
            json(&body)["error"]
                .as_str()
                .unwrap()
                .contains("larger than"),
            "{body}"
        );
    }
    let tcp = tokio::net::TcpStream::connect(http).await.unwrap();
    let (status, body) = exchange(tcp, &chunked("/notify", limits::PLAIN_BODY_LIMIT + 1)).await;
    assert_eq!(status, 413, "{body}");
    // Too many header lines: refused by hyper (431), not buffered.
    let mut many = String::from("GET /health HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n");
    for i in 0..=limits::MAX_HEADERS {
        many.push_str(&format!("x-h{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let tcp = tokio::net::TcpStream::connect(http).await.unwrap();
    let (status, _) = exchange(tcp, many.as_bytes()).await;
    assert_eq!(status, 431);
    stop(gw).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let client = cluster().await;
    let group = format!("{}.ork.test", testenv::unique_name("loris"));
    let gw = start(
        &client,
        &platform_katalog(&group, "Ignore"),
        config(&testenv::unique_name("gw-loris")),
    )
    .await;
    let started = Instant::now();
    let mut plain = tokio::net::TcpStream::connect(gw.http_addr())
        .await
        .unwrap();
    plain
        .write_all(b"GET /health HTTP/1.1\r\nhost: gw\r\n")
        .await
        .unwrap();
    let mut tls = tls_connect(&gw, VERSIONS).await.unwrap();
    tls.write_all(b"POST /validate HTTP/1.1\r\nhost: gw\r\n")
        .await
        .unwrap();
    tls.flush().await.unwrap();
    let deadline = limits::HEADER_READ_TIMEOUT + Duration::from_secs(10);
    // Trickle a header byte every second on the plain connection: hyper's timeout covers the
    // whole head, not idle time.
    let plain_cut = async {
        let (mut r, mut w) = plain.split();
        let mut buf = [0u8; 1024];
        loop {
            tokio::select! {
                read = r.read(&mut buf) => if matches!(read, Ok(0) | Err(_)) { return },
                () = tokio::time::sleep(Duration::from_secs(1)) => {
                    if w.write_all(b"x").await.is_err() { return }
                }
            }
        }
    };
    let tls_cut = async {
        let mut buf = Vec::new();
        let _ = tls.read_to_end(&mut buf).await;
    };
    tokio::time::timeout(deadline, async { tokio::join!(plain_cut, tls_cut) })
        .await
        .expect("a connection with unfinished headers was not cut off");
    let took = started.elapsed();
    assert!(
        took >= limits::HEADER_READ_TIMEOUT - Duration::from_secs(1),
        "cut off after {took:?}, before the header timeout"
    );
    // The servers still answer.
    let tcp = tokio::net::TcpStream::connect(gw.http_addr())
        .await
        .unwrap();
    let (status, _) = exchange(
        tcp,
        b"GET /health HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200);
    stop(gw).await;
}
