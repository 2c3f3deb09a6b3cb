//! Helpers shared by the tests: [`Ork`], the one way a test runs the `ork` binary as a
//! process, and the copy of the `fixtures/stack` Katalog that `ork run` tests share the control
//! plane with.

// The runtime-only build compiles only the tests of `run` and `version`, which use a part of
// this module.
#![cfg_attr(not(feature = "dev-tools"), allow(dead_code))]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use testenv::eventually;

/// The `ork` binary under test.
pub fn ork() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ork"))
}

/// A running `ork` process: its stderr is appended to a log file, its stdout lines wait in a
/// channel. Dropped while it runs (the test ended or failed half-way) it gets SIGKILL, or the
/// signal of [`Ork::on_drop`], and is reaped, so no process outlives its test; dropped by a
/// failing test, it prints its log first.
pub struct Ork {
    child: Child,
    log: PathBuf,
    stdout: mpsc::Receiver<String>,
    drop_signal: Signal,
}

impl Ork {
    /// Spawns `command` (made with [`ork`]), its stderr appended to `log`.
    pub fn spawn(command: &mut Command, log: &Path) -> Self {
        let stderr = File::options().create(true).append(true).open(log).unwrap();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        Self {
            child,
            log: log.to_path_buf(),
            stdout: lines,
            drop_signal: Signal::SIGKILL,
        }
    }

    /// Stops the process with `signal` instead of SIGKILL when it is dropped running (`ork dev`
    /// must stop its control plane).
    pub fn on_drop(mut self, signal: Signal) -> Self {
        self.drop_signal = signal;
        self
    }

    /// What the process has written on stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal`.
    pub fn signal(&self, signal: Signal) {
        let _ = kill(
            Pid::from_raw(i32::try_from(self.child.id()).unwrap()),
            signal,
        );
    }

    /// Whether the process still runs (an exited, unreaped one does not).
    pub fn is_running(&self) -> bool {
        testenv::is_alive(self.child.id())
    }

    /// The next line the process prints on stdout, waiting up to `timeout`.
    pub async fn line(&self, timeout: Duration) -> String {
        eventually("a line on ork's stdout", timeout, || async {
            self.stdout.try_recv().ok()
        })
        .await
    }

    /// Waits up to `timeout` until the process has said `text` on stderr, while it runs.
    pub async fn said(&self, text: &str, timeout: Duration) {
        eventually(&format!("ork to say {text:?}"), timeout, || async {
            assert!(self.is_running(), "ork exited; its log:\n{}", self.log());
            self.log().contains(text).then_some(())
        })
        .await;
    }

    /// Waits up to `timeout` for the process to exit and reaps it.
    pub async fn exit(&mut self, timeout: Duration) -> ExitStatus {
        eventually("ork to exit", timeout, || async {
            (!self.is_running()).then_some(())
        })
        .await;
        self.child.wait().unwrap()
    }

    /// SIGTERM, and the process exits 0 within `timeout`.
    pub async fn terminate(mut self, timeout: Duration) {
        self.signal(Signal::SIGTERM);
        let status = self.exit(timeout).await;
        assert!(status.success(), "ork exited with {status}");
    }

    /// SIGKILL: the process ends at once and cleans nothing up.
    pub fn kill(mut self) {
        self.signal(Signal::SIGKILL);
        self.child.wait().unwrap();
    }
}

impl Drop for Ork {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- log of ork ({}) ---\n{}",
                self.log.display(),
                self.log()
            );
        }
        if let Ok(None) = self.child.try_wait() {
            self.signal(self.drop_signal);
            let _ = self.child.wait();
        }
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

/// The `fixtures/stack` Katalog.
pub fn stack_katalog() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/stack/katalog.yaml")
}

/// The copy of `fixtures/stack` that tests sharing the control plane with other `ork run`s use.
#[cfg(feature = "dev-tools")]
mod stack_copy {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
    use testenv::eventually;

    use super::stack_katalog;

    /// The API group of the copy of the fixture these tests run: other tests run `ork run` on
    /// the fixture itself, watching every namespace, and must not see these CRs.
    pub const GROUP: &str = "ops.ork.test";

    /// The fixture's CRD, moved to [`GROUP`].
    fn crd_text() -> String {
        let text = std::fs::read_to_string(stack_katalog().with_file_name("crd.yaml")).unwrap();
        assert!(
            text.contains("bench.ork.test"),
            "the fixture's group changed"
        );
        text.replace("bench.ork.test", GROUP)
    }

    /// A copy of the `fixtures/stack` Katalog and CRD in `dir`, in [`GROUP`], whose box
    /// watches only `namespace`, so that tests running at the same time do not reconcile each
    /// other's CRs.
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
    fn stack_resource() -> ApiResource {
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
        eventually("the CRD to be served", Duration::from_secs(30), || async {
            crs.list(&ListParams::default().limit(1)).await.ok()
        })
        .await;
        resource
    }
}

#[cfg(feature = "dev-tools")]
pub use stack_copy::{GROUP as STACK_GROUP, install_stack_crd, stack_katalog_in};
