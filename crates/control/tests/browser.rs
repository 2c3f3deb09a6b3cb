//! The Control Center in real headless Chromium, driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`), against a real runtime (`runtime::run` in-process) on the local control
//! plane with simulated workloads: the overview lists the Katalog, a CRD that keeps failing is
//! shown degraded, a CR created through the API appears in the CR list, its detail shows its
//! children with readiness and its Events, a deleted child is shown missing and then restored
//! (with a new uid), a stopped runtime is shown unreachable, and every
//! view passes an accessibility smoke check (one `h1`, no skipped heading level, labelled
//! inputs, named links and plots, text contrast at least 4.5:1, or 3:1 when large).
//!
//! On a failed wait the view is saved as `<step>.png` in `$CARGO_TARGET_TMPDIR/control-center`;
//! the CR detail view is always saved there as `cr-detail.png` (README's screenshot).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::{Value, json};

/// How long any one thing may take to show.
const WAIT: Duration = Duration::from_secs(90);

/// The poll period of the Control Center under test.
const REFRESH: Duration = Duration::from_secs(1);

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("control-center");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// `name` on `PATH`, or a failure saying how to install it.
fn installed(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: apt-get install -y chromium chromium-driver")
        })
}

/// chromedriver, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts chromedriver and a headless Chromium session at 1280×800.
async fn browser(out: &Path) -> (Driver, Client) {
    let port = free_addr().port();
    let log = std::fs::File::create(out.join("chromedriver.log")).unwrap();
    let driver = Driver(
        Command::new(installed("chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    let source = control::source::HttpSource::new(Duration::from_secs(2));
    testenv::eventually("chromedriver to answer", WAIT, || async {
        use control::source::Source as _;
        let answer = source.get(&format!("{url}/status")).await.ok()?;
        (answer.status == 200).then_some(())
    })
    .await;
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": installed("chromium"),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,800", "--force-device-scale-factor=1"],
        }
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&url)
        .await
        .unwrap_or_else(|e| panic!("starting headless Chromium: {e}"));
    (driver, client)
}

/// The browser and where its failure screenshots go.
struct Page {
    client: Client,
    out: PathBuf,
    base: String,
}

impl Page {
    async fn open(&self, hash: &str) {
        self.client
            .goto(&format!("{}/#{hash}", self.base))
            .await
            .unwrap();
    }

    /// Runs `script` (a function body) in the page.
    async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("running {script:?}: {e}"))
    }

    async fn save(&self, name: &str) -> PathBuf {
        let path = self.out.join(format!("{name}.png"));
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Polls `script` until it returns something truthy other than `false`; on timeout saves a
    /// screenshot named `step` and fails with the page's text.
    async fn until(&self, step: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.js(script).await;
            if !(value.is_null() || value == false || value == "") {
                return value;
            }
            if started.elapsed() > WAIT {
                let shot = self.save(step).await;
                let text = self.js("return document.body.innerText").await;
                panic!(
                    "{step}: not shown within {WAIT:?} (screenshot {}); the page shows:\n{}",
                    shot.display(),
                    text.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The accessibility smoke check of the current view; fails with every problem.
    async fn accessible(&self, view: &str) {
        let problems = self.js(ACCESSIBILITY).await;
        let problems = problems.as_array().unwrap();
        if !problems.is_empty() {
            let shot = self.save(&format!("a11y-{view}")).await;
            panic!(
                "{view}: accessibility problems (screenshot {}):\n{}",
                shot.display(),
                problems
                    .iter()
                    .map(|p| p.as_str().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}

/// Headings, labels, names and WCAG contrast, as a list of problems.
const ACCESSIBILITY: &str = r#"
const problems = [];
if (!document.documentElement.lang) problems.push("no lang on <html>");
if (!document.title) problems.push("no title");
const h1 = document.querySelectorAll("h1");
if (h1.length !== 1) problems.push(`${h1.length} h1 elements`);
let level = 0;
for (const h of document.querySelectorAll("h1,h2,h3,h4,h5,h6")) {
  const n = Number(h.tagName[1]);
  if (n > level + 1) problems.push(`${h.tagName} "${h.textContent}" skips a level`);
  level = n;
}
for (const el of document.querySelectorAll("input,select,textarea")) {
  const named = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")
    || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest("label");
  if (!named) problems.push(`unlabelled ${el.tagName} ${el.id}`);
}
for (const el of document.querySelectorAll("a,button")) {
  if (!(el.textContent.trim() || el.getAttribute("aria-label"))) problems.push(`unnamed ${el.tagName}`);
}
for (const svg of document.querySelectorAll("svg")) {
  if (!svg.getAttribute("aria-label") && svg.getAttribute("aria-hidden") !== "true") problems.push("svg without aria-label");
}
for (const table of document.querySelectorAll("table")) {
  if (!table.querySelector("caption") && !table.getAttribute("aria-label")) problems.push("table without caption");
}
const rgb = (c) => { const m = /rgba?\(([^)]+)\)/.exec(c); if (!m) return null;
  const p = m[1].split(",").map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
const background = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
  if (c && c.a > 0.9) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const checked = new Set();
while (walker.nextNode()) {
  const node = walker.currentNode;
  const el = node.parentElement;
  if (!node.textContent.trim() || checked.has(el) || el.closest("svg,noscript")) continue;
  checked.add(el);
  if (el.checkVisibility && !el.checkVisibility()) continue;
  const style = getComputedStyle(el);
  const [hi, lo] = [lum(rgb(style.color)), lum(background(el))].sort((a, b) => b - a);
  const ratio = (hi + 0.05) / (lo + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  const need = large ? 3 : 4.5;
  if (ratio < need) problems.push(`contrast ${ratio.toFixed(2)} < ${need}: "${node.textContent.trim().slice(0, 40)}"`);
}
return problems;
"#;

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: PLURAL.GROUP}
spec:
  group: GROUP
  scope: Namespaced
  names: {plural: PLURAL, singular: SINGULAR, kind: KIND}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
            status: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

fn crd(group: &str, kind: &str) -> String {
    let singular = kind.to_lowercase();
    CRD.replace("PLURAL", &format!("{singular}s"))
        .replace("SINGULAR", &singular)
        .replace("GROUP", group)
        .replace("KIND", kind)
}

/// `site` makes a ConfigMap and a Deployment per CR, unless the CR says `spec.paused: "true"`
/// (a reconcile gate: then nothing is reconciled, not even a deleted child restored);
/// `broken` (which depends on `site`) makes a ConfigMap whose name the API server refuses,
/// and degrades at its first failure.
fn katalog(name: &str, namespace: &str) -> String {
    format!(
        r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: {name}, version: 0.3.0}}
spec:
  crds:
    site:
      crdFile: ./site.yaml
      namespace: {namespace}
      operatorBox:
        preReconcile:
          reconcileGate:
            when: [{{field: spec.paused, notEquals: 'true'}}]
        onReconcile:
          configMaps:
            - name: "{{{{ .metadata.name }}}}-content"
              data: {{greeting: hello}}
          deployments:
            - name: "{{{{ .metadata.name }}}}"
              image: nginx:1.27
              replicas: "1"
              port: "80"
        status:
          fields:
            - path: phase
              value: Running
    broken:
      crdFile: ./broken.yaml
      namespace: {namespace}
      dependsOn: [site]
      operatorBox:
        reconciler:
          queue: {{failureThreshold: 1}}
        onReconcile:
          configMaps:
            - name: "{{{{ .metadata.name }}}}_Not_A_Name"
              data: {{a: b}}
"#
    )
}

fn api(client: &kube::Client, group: &str, kind: &str, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(group, "v1", kind);
    let plural = format!("{}s", kind.to_lowercase());
    Api::namespaced_with(
        client.clone(),
        namespace,
        &ApiResource::from_gvk_with_plural(&gvk, &plural),
    )
}

async fn create(api: &Api<DynamicObject>, group: &str, kind: &str, name: &str) {
    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": format!("{group}/v1"), "kind": kind,
        "metadata": {"name": name}, "spec": {},
    }))
    .unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
}

/// A script: whether CRD `crd` has state `state` in the overview's CRD table.
fn crd_in_state(crd: &str, state: &str) -> String {
    format!(
        r#"const row = [...document.querySelectorAll("main tr")].find((r) => r.querySelector("th")?.textContent === "{crd}");
return row !== undefined && row.querySelector(".badge").textContent === "{state}";"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_control_center_shows_a_live_runtime_in_chromium() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let out = out_dir();
    let cp = testenv::shared_with(testenv::Config::new().workloads(true)).await;
    let client = cp.client().await.unwrap();
    let namespace = testenv::namespace(&client, "cc").await;
    let group = format!("{}.ork.test", testenv::unique_name("cc"));
    let name = testenv::unique_name("cc-katalog");

    // The runtime, as `ork run` runs it, with its HTTP API on a free port.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site.yaml"), crd(&group, "Site")).unwrap();
    std::fs::write(dir.path().join("broken.yaml"), crd(&group, "Broken")).unwrap();
    std::fs::write(dir.path().join("katalog.yaml"), katalog(&name, &namespace)).unwrap();
    let loaded =
        katalog::load(dir.path().join("katalog.yaml")).unwrap_or_else(|d| panic!("{}", d.render()));
    let api_addr = free_addr();
    let config = runtime::Config {
        connect: runtime::cluster::ConnectOptions {
            kubeconfig: Some(cp.kubeconfig_path().to_path_buf()),
            context: None,
        },
        leader_elect: Some(false),
        http: true,
        http_addr: Some(api_addr),
        ..runtime::Config::default()
    };
    let (stop_runtime, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(runtime::run(loaded, config, async {
        let _ = stopped.await;
    }));

    // The Control Center over it.
    let mut cc_config = control::Config::new(vec![format!("http://{api_addr}")]);
    cc_config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    cc_config.refresh = REFRESH;
    cc_config.timeout = Duration::from_secs(2);
    let cc = control::ControlCenter::bind(cc_config).await.unwrap();
    let base = format!("http://{}", cc.local_addr());
    tokio::spawn(cc.serve(std::future::pending()));

    let (_driver, browser) = browser(&out).await;
    let page = Page {
        client: browser,
        out: out.clone(),
        base,
    };

    // The overview lists the Katalog, its two CRDs and the dependsOn edge between them.
    page.open("/").await;
    page.until(
        "overview-lists-the-katalog",
        &format!(
            r#"const text = document.querySelector("main").innerText;
return text.includes("Katalog {name}") && text.includes("0.3.0") && document.querySelector('main a[href$="/crd/site"]') !== null;"#
        ),
    )
    .await;
    let graph = page
        .until(
            "dependsOn-graph",
            r#"return document.querySelector("figure.graph svg")?.getAttribute("aria-label");"#,
        )
        .await;
    assert!(
        graph.as_str().unwrap().contains("2 CRDs, 1 dependencies"),
        "{graph}"
    );
    page.accessible("overview").await;

    // A CRD whose reconciles fail is shown degraded.
    let broken = api(&client, &group, "Broken", &namespace);
    create(&broken, &group, "Broken", "bad").await;
    page.until("broken-crd-degraded", &crd_in_state("broken", "degraded"))
        .await;

    // A CR created through the API appears in the CR list.
    page.open(&format!("/k/{name}/crd/site")).await;
    page.until(
        "crd-page",
        r##"return document.querySelector("#cr-table") !== null;"##,
    )
    .await;
    let sites = api(&client, &group, "Site", &namespace);
    let created = Instant::now();
    create(&sites, &group, "Site", "web").await;
    page.until(
        "cr-in-the-list",
        r##"return [...document.querySelectorAll("#cr-table a")].some((a) => a.textContent === "web");"##,
    )
    .await;
    eprintln!(
        "the CR appeared in the list {:?} after its creation",
        created.elapsed()
    );
    page.accessible("crd").await;

    // Its detail: children with readiness (the Deployment turns ready under simulated
    // workloads), the ConfigMap (no readiness notion), and the Reconciled Event.
    page.client
        .find(Locator::LinkText("web"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    page.until(
        "deployment-child-ready",
        r#"const d = document.querySelector('li.child[data-kind="Deployment"][data-name="web"] .badge');
return d && d.textContent === "ready";"#,
    )
    .await;
    page.until(
        "configmap-child",
        r#"return document.querySelector('li.child[data-kind="ConfigMap"][data-name="web-content"]') !== null;"#,
    )
    .await;
    page.until(
        "reconciled-event",
        r#"return [...document.querySelectorAll("main td")].some((td) => td.textContent === "Reconciled");"#,
    )
    .await;
    page.accessible("cr-detail").await;
    let shot = page.save("cr-detail").await;
    eprintln!("CR detail view saved to {}", shot.display());

    // A deleted child is shown missing, then restored (a new uid) once the runtime reconciles
    // the CR again. The runtime restores a deleted child within moments, so the CR first
    // pauses its own reconciles (the reconcile gate), and the page must show the child
    // missing while nothing can bring it back.
    let content =
        r#"document.querySelector('li.child[data-kind="ConfigMap"][data-name="web-content"]')"#;
    let old_uid = page
        .until(
            "configmap-uid",
            &format!("return {content}?.dataset.uid || null;"),
        )
        .await;
    let pause = |paused: &'static str| json!({"spec": {"paused": paused}});
    sites
        .patch("web", &PatchParams::default(), &Patch::Merge(pause("true")))
        .await
        .unwrap();
    page.open("/").await;
    page.until("site-crd-gated", &crd_in_state("site", "gated"))
        .await;
    page.open(&format!("/k/{name}/crd/site/cr/{namespace}/web"))
        .await;
    page.until(
        "configmap-before-deletion",
        &format!("return {content}?.dataset.uid === {old_uid};"),
    )
    .await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    config_maps
        .delete("web-content", &Default::default())
        .await
        .unwrap();
    let deleted = Instant::now();
    page.until(
        "configmap-missing",
        &format!(r#"return {content}?.querySelector(".badge")?.textContent === "missing";"#),
    )
    .await;
    // Not a speed test: the runtime's children answer may not serve a deleted child as
    // present until its 30 s LIST cache expires (it reads the box's watch cache instead).
    assert!(
        deleted.elapsed() < Duration::from_secs(30),
        "a deleted child was shown present for {:?}",
        deleted.elapsed()
    );
    page.accessible("cr-detail-missing").await;
    sites
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(pause("false")),
        )
        .await
        .unwrap();
    let new_uid = page
        .until(
            "configmap-restored",
            &format!(
                r#"const li = {content};
const badges = li ? [...li.querySelectorAll(".badge")].map((b) => b.textContent) : [];
return badges.includes("restored") && !badges.includes("missing") ? li.dataset.uid : null;"#
            ),
        )
        .await;
    assert_ne!(new_uid, old_uid, "the restored ConfigMap is a new object");
    let stored = config_maps.get("web-content").await.unwrap();
    assert_eq!(stored.metadata.uid.as_deref(), new_uid.as_str());

    // On a narrow screen nothing but a table's own scroller overflows sideways.
    page.client.set_window_size(400, 800).await.unwrap();
    let views = [
        ("narrow-cr", None, "li.child"),
        ("narrow-overview", Some("/".to_owned()), "figure.graph"),
        (
            "narrow-crd",
            Some(format!("/k/{name}/crd/site")),
            "#cr-table",
        ),
    ];
    for (view, hash, shown) in views {
        if let Some(hash) = hash {
            page.open(&hash).await;
        }
        page.until(
            view,
            &format!(
                r#"return document.querySelector("main {shown}") !== null
  && document.documentElement.scrollWidth <= window.innerWidth;"#
            ),
        )
        .await;
    }
    page.client.set_window_size(1280, 800).await.unwrap();

    // A stopped runtime is shown unreachable, with its error.
    stop_runtime.send(()).unwrap();
    running.await.unwrap().unwrap();
    page.open("/").await;
    page.until(
        "runtime-unreachable",
        r#"const cells = [...document.querySelectorAll("main td")];
return cells.some((td) => td.textContent === "unreachable") && cells.some((td) => /refused/i.test(td.textContent));"#,
    )
    .await;
    page.accessible("overview-unreachable").await;
    page.client.close().await.unwrap();
}
