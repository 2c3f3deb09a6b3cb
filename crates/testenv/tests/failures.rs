//! Bad input and failure: each gives one clear message naming the cause, never a hang.

use std::net::TcpListener;
use std::time::Duration;

use testenv::{Config, ControlPlane};

#[tokio::test]
async fn a_taken_api_port_is_named() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let err = ControlPlane::start(Config::new().api_port(port))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&port.to_string()) && text.contains("in use"),
        "{text}"
    );
}

#[tokio::test]
async fn missing_binaries_say_how_to_build_them() {
    let empty = tempfile::tempdir().unwrap();
    let err = ControlPlane::start(Config::new().binaries_dir(empty.path()))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("control-plane/build.sh"), "{text}");
}

#[tokio::test]
async fn etcd_failing_at_start_shows_its_log() {
    let state = tempfile::tempdir().unwrap();
    // etcd's data directory is a file: the real etcd refuses to start.
    std::fs::write(state.path().join("etcd"), "not a directory").unwrap();
    let err = ControlPlane::start(
        Config::new()
            .state_dir(state.path())
            .controller_manager(false)
            .start_timeout(Duration::from_secs(60)),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("etcd exited during start-up"), "{text}");
    assert!(text.contains("etcd.log"), "{text}");
}

#[tokio::test]
async fn a_corrupt_state_directory_suggests_reset() {
    let state = tempfile::tempdir().unwrap();
    let pki = state.path().join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    std::fs::write(pki.join("client-ca.crt"), "garbage").unwrap();
    let err = ControlPlane::start(Config::new().state_dir(state.path()))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("corrupt") && text.contains("--reset"),
        "{text}"
    );
}
