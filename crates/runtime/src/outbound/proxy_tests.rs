//! The outbound client through a real proxy on loopback: a tiny server that forwards
//! absolute-form requests, tunnels `CONNECT`, and records every request line it is sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::client::HttpClient;
use super::proxy::Proxies;

/// Request heads the proxy was sent (first line, then the headers), one entry per request.
type Seen = Arc<Mutex<Vec<String>>>;

/// Reads a request head (up to the blank line).
async fn read_head(conn: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// A proxy: `CONNECT host:port` is tunnelled to that address; any other request is answered
/// by the proxy itself with `via-proxy <request line>`.
async fn proxy() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let Some(head) = read_head(&mut conn).await else {
                    return;
                };
                record.lock().unwrap().push(head.clone());
                let line = head.lines().next().unwrap_or_default().to_string();
                if let Some(target) = line.strip_prefix("CONNECT ") {
                    let target = target.split(' ').next().unwrap_or_default();
                    let Ok(mut upstream) = TcpStream::connect(target).await else {
                        let _ = conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    };
                    let _ = conn
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await;
                    let _ = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
                } else {
                    let body = format!("via-proxy {line}");
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(answer.as_bytes()).await;
                }
            });
        }
    });
    (url, seen)
}

/// An HTTPS server for `localhost` answering `secure`, and the PEM of the CA that signed it.
async fn tls_server() -> (u16, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(conn).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 6\r\n\r\nsecure",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, ca_cert.pem())
}

/// A direct HTTP server answering `direct`; counts connections.
async fn plain_server() -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let count = Arc::new(Mutex::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            *c.lock().unwrap() += 1;
            tokio::spawn(async move {
                let _ = read_head(&mut conn).await;
                let _ = conn
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 6\r\n\r\ndirect",
                    )
                    .await;
            });
        }
    });
    (url, count)
}

fn env(vars: &[(&str, String)]) -> Proxies {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    Proxies::from_lookup(move |n| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))
}

async fn get(client: &HttpClient, url: &str) -> Result<(u16, String), super::client::Error> {
    let request = http::Request::get(url)
        .body(Full::<Bytes>::default())
        .unwrap();
    let answer = client.send(request, Duration::from_secs(10), 4096).await?;
    Ok((
        answer.status,
        String::from_utf8_lossy(&answer.body).into_owned(),
    ))
}

#[tokio::test]
async fn https_goes_through_a_connect_tunnel_with_tls_to_the_destination() {
    let (proxy_url, seen) = proxy().await;
    let (port, ca) = tls_server().await;
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("ca.pem");
    std::fs::write(&bundle, ca).unwrap();
    let with_auth = proxy_url.replace("http://", "http://ann:s3cret@");
    let client =
        HttpClient::with_proxies(Some(&bundle), env(&[("https_proxy", with_auth)])).unwrap();
    let answer = get(&client, &format!("https://localhost:{port}/x"))
        .await
        .unwrap();
    assert_eq!(answer, (200, "secure".to_string()));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with(&format!("CONNECT localhost:{port} HTTP/1.1\r\n")),
        "{seen:?}"
    );
    assert!(
        seen[0].lines().any(|l| l
            .split_once(':')
            .is_some_and(|(k, v)| k.eq_ignore_ascii_case("proxy-authorization")
                && v.trim() == "Basic YW5uOnMzY3JldA==")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn http_is_forwarded_in_absolute_form_unless_no_proxy_names_the_host() {
    let (proxy_url, seen) = proxy().await;
    let (target, direct) = plain_server().await;
    let client = HttpClient::with_proxies(None, env(&[("HTTP_PROXY", proxy_url.clone())])).unwrap();
    let answer = get(&client, &format!("{target}path?q=1")).await.unwrap();
    assert_eq!(
        answer,
        (200, format!("via-proxy GET {target}path?q=1 HTTP/1.1"))
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(*direct.lock().unwrap(), 0);

    let client = HttpClient::with_proxies(
        None,
        env(&[
            ("http_proxy", proxy_url),
            ("no_proxy", "example.io,127.0.0.1".to_string()),
        ]),
    )
    .unwrap();
    let answer = get(&client, &target).await.unwrap();
    assert_eq!(answer, (200, "direct".to_string()));
    assert_eq!(seen.lock().unwrap().len(), 1, "the proxy saw no more");
    assert_eq!(*direct.lock().unwrap(), 1);
}

#[tokio::test]
async fn an_https_proxy_url_is_refused_not_used_in_clear() {
    let client = HttpClient::with_proxies(
        None,
        env(&[("HTTPS_PROXY", "https://127.0.0.1:9".to_string())]),
    )
    .unwrap();
    let e = get(&client, "https://localhost:1/").await.unwrap_err();
    assert!(e.to_string().contains("only http:// proxies"), "{e}");
}
