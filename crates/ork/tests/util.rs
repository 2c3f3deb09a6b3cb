//! Helpers shared by the tests that run `ork run` against the shared control plane.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The `fixtures/stack` Katalog.
pub fn stack_katalog() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/stack/katalog.yaml")
}

/// The API group of the copy of the fixture these tests run: other tests run `ork run` on
/// the fixture itself, watching every namespace, and must not see these CRs.
const GROUP: &str = "ops.ork.test";

/// The fixture's CRD, moved to [`GROUP`].
fn crd_text() -> String {
    let text = std::fs::read_to_string(stack_katalog().with_file_name("crd.yaml")).unwrap();
    assert!(
        text.contains("bench.ork.test"),
        "the fixture's group changed"
    );
    text.replace("bench.ork.test", GROUP)
}

/// A copy of the `fixtures/stack` Katalog and CRD in `dir`, in [`GROUP`], whose box watches
/// only `namespace`, so that tests running at the same time do not reconcile each other's CRs.
pub fn stack_katalog_in(dir: &Path, namespace: &str) -> PathBuf {
    std::fs::write(dir.join("crd.yaml"), crd_text()).unwrap();
    let text = std::fs::read_to_string(stack_katalog()).unwrap().replace(
        "      crdFile: ./crd.yaml\n",
        &format!("      crdFile: ./crd.yaml\n      namespace: {namespace}\n"),
    );
    assert!(
        text.contains("namespace: "),
        "the fixture's crdFile line moved"
    );
    let path = dir.join("katalog.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The `Stack` resource of the copy.
pub fn stack_resource() -> ApiResource {
    ApiResource {
        group: GROUP.into(),
        version: "v1".into(),
        api_version: format!("{GROUP}/v1"),
        kind: "Stack".into(),
        plural: "stacks".into(),
    }
}

/// Installs the copy's CRD as admin (the runtime's role may not) and waits until it is
/// served.
pub async fn install_stack_crd(admin: &kube::Client) -> ApiResource {
    let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
    let crd: CustomResourceDefinition = serde_saphyr::from_str(&crd_text()).unwrap();
    match crds.create(&PostParams::default(), &crd).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(error) => panic!("creating the CRD: {error}"),
    }
    let resource = stack_resource();
    let crs: Api<DynamicObject> = Api::all_with(admin.clone(), &resource);
    within(Duration::from_secs(30), || async {
        crs.list(&ListParams::default().limit(1)).await.ok()
    })
    .await
    .expect("the CRD is served");
    resource
}

/// Polls `check` every 100 ms until it returns `Some`, or gives `None` after `timeout`.
pub async fn within<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A child process killed (SIGKILL) when dropped.
pub struct Killed(pub Child);

impl Killed {
    /// Sends `signal`.
    pub fn signal(&self, signal: Signal) {
        let _ = kill(Pid::from_raw(i32::try_from(self.0.id()).unwrap()), signal);
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
        let _ = self.0.wait();
    }
}

/// A free loopback port (bound and released; good enough for a test).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` on `127.0.0.1:port`: the status code and body, or `None` when nothing answers.
pub async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.ok()?;
    let status = reply.split_whitespace().nth(1)?.parse().ok()?;
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}
