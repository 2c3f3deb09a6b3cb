//! `protocol: redis` and `protocol: postgres` calls against real servers started here on
//! loopback (Debian's `redis-server` and PostgreSQL's `initdb` + `postgres`, in a temporary
//! directory). A missing binary fails the test with how to install it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use tokio::process::{Child, Command};

use super::stores::Store;
use super::tests::{calls, cr, run};

const INSTALL: &str = "install them with `apt-get install -y redis-server postgresql` (Debian)";

/// A server process, killed when dropped, and its directory.
struct Server {
    _child: Child,
    _dir: tempfile::TempDir,
    port: u16,
}

/// A free loopback port (bound, then released for the server to take).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Whether the tests run as root (PostgreSQL refuses to): then servers run as `nobody`.
fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// `program args…`, as `nobody` when running as root (owning `dir`).
fn command(program: &Path, dir: &Path) -> Command {
    if is_root() {
        let status = std::process::Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(status.success(), "chown {}", dir.display());
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn found(candidates: impl IntoIterator<Item = PathBuf>, what: &str) -> PathBuf {
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{what} not found; {INSTALL}"))
}

/// Polls `store` with `query` until it answers (at most 60 s).
async fn until_up(store: Store, url: &str, query: &str, password: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let answer = store
            .fetch(url, query, Some(password), Duration::from_secs(2))
            .await;
        match answer {
            Ok(_) => return,
            Err(e) if tokio::time::Instant::now() > deadline => {
                panic!("{url} did not answer within 60 s: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn redis_server(password: &str) -> Server {
    let binary = found(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join("redis-server")),
        "redis-server",
    );
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = command(&binary, dir.path())
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            password,
        ])
        .arg("--dir")
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("redis://127.0.0.1:{port}");
    until_up(Store::Redis, &url, "PING", password).await;
    Server {
        _child: child,
        _dir: dir,
        port,
    }
}

async fn postgres_server(password: &str) -> Server {
    let bin = found(
        std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin/postgres")),
        "PostgreSQL (/usr/lib/postgresql/*/bin/postgres)",
    );
    let bin = bin.parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pwfile = dir.path().join("pw");
    std::fs::write(&pwfile, password).unwrap();
    let data = dir.path().join("data");
    let out = command(&bin.join("initdb"), dir.path())
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "ork",
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        ])
        .arg(format!("--pwfile={}", pwfile.display()))
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let child = command(&bin.join("postgres"), dir.path())
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .args(["-c", "fsync=off", "-k"])
        .arg(dir.path())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("postgres://ork@127.0.0.1:{port}/postgres");
    until_up(Store::Postgres, &url, "SELECT 1", password).await;
    Server {
        _child: child,
        _dir: dir,
        port,
    }
}

#[tokio::test]
async fn redis_calls_read_replies_with_the_token_as_password() {
    let server = redis_server("s3cret-pw").await;
    let url = format!("redis://127.0.0.1:{}", server.port);
    Store::Redis
        .fetch(
            &url,
            r#"SET "on" 42"#,
            Some("s3cret-pw"),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    let c = calls(
        "            - {name: ping, url: '{{ .spec.url }}', protocol: redis, query: PING, token: s3cret-pw}\n            - {name: hits, url: '{{ .spec.url }}', protocol: redis, query: 'GET {{ .spec.gate }}', token: s3cret-pw}\n            - {name: list, url: '127.0.0.1:{{ .external.hits.result }}', protocol: redis, query: PING, continueOnError: true, timeout: 1s}\n            - {name: missing, url: '{{ .spec.url }}', protocol: redis, query: 'GET nothing', token: s3cret-pw, continueOnError: true}\n            - {name: denied, url: '{{ .spec.url }}', protocol: redis, query: PING, token: wrong, continueOnError: true}\n",
    );
    let mut data = cr(&url, "on");
    run(&c, &mut data).await.unwrap();
    let external = &data["external"];
    assert_eq!(
        external["ping"],
        json!({"result": "PONG", "raw": {"value": "PONG"}, "error": "", "called": "true"})
    );
    assert_eq!(external["hits"]["result"], "42");
    // A later call's url is templated from an earlier result (port 42: nothing listens).
    assert!(
        external["list"]["error"]
            .as_str()
            .unwrap()
            .starts_with("redis: connect"),
        "{}",
        external["list"]
    );
    assert_eq!(
        external["missing"],
        json!({"result": "", "error": "redis: nil", "called": "true"})
    );
    let denied = external["denied"]["error"].as_str().unwrap();
    assert!(
        denied.starts_with("redis: connect: Password authentication failed"),
        "{denied}"
    );
}

#[tokio::test]
async fn postgres_calls_read_rows_as_text_with_the_token_as_password() {
    let server = postgres_server("pg-pw").await;
    let url = format!("postgres://ork@127.0.0.1:{}/postgres", server.port);
    let c = calls(
        "            - {name: db, url: '{{ .spec.url }}', protocol: postgres, query: 'SELECT current_database() AS name, 2 AS two, NULL AS none', token: pg-pw}\n            - {name: series, url: '{{ .spec.url }}', protocol: postgres, query: 'SELECT g FROM generate_series(1, {{ .external.db.rowCount }} + 2) g', token: pg-pw}\n            - {name: broken, url: '{{ .spec.url }}', protocol: postgres, query: 'SELECT nope', token: pg-pw, continueOnError: true}\n            - {name: denied, url: '{{ .spec.url }}', protocol: postgres, query: 'SELECT 1', token: wrong, continueOnError: true}\n",
    );
    let mut data = cr(&url, "on");
    run(&c, &mut data).await.unwrap();
    let external = &data["external"];
    assert_eq!(
        external["db"],
        json!({
            "result": "postgres",
            "rows": [{"name": "postgres", "two": "2", "none": null}],
            "rowCount": "1",
            "error": "",
            "called": "true",
        })
    );
    assert_eq!(external["series"]["rowCount"], "3");
    assert_eq!(external["series"]["rows"][2], json!({"g": "3"}));
    let broken = external["broken"]["error"].as_str().unwrap();
    assert!(
        broken.starts_with("postgres: query") && broken.contains("nope"),
        "{broken}"
    );
    assert_eq!(external["broken"]["result"], "");
    let denied = external["denied"]["error"].as_str().unwrap();
    assert!(
        denied.contains("password authentication failed"),
        "{denied}"
    );
}
