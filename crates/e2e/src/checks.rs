//! One pass over an expectation's checks: commands first (they may be actions), then the
//! `kubectl` operations, then `resources` (upstream's order). Each failure names the resource
//! and what was seen, so a timed-out expectation reports the last state.
//!
//! What cannot work on ork's cluster is found before any check runs ([`Checker::skips`]):
//! anything that needs a running container (logs, exec, HTTP to a workload's Pod), or HTTP to
//! upstream's `orkestra-gateway` Service (ork's gateway runs in-process, with no such Service
//! and none of upstream's routes behind it). HTTP aimed at the operator — a `leaderElection`
//! Lease or the `orkestra-runtime` Service — goes straight to the in-process runtime's API, and
//! HTTP to the `orkestra-dev-server` Service to the dev server of `--dev-server`.

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::assert::{check, clip, jq_path};
use crate::format::{
    CommandCheck, Expectation, KubectlChecks, KubectlDelete, KubectlGet, OutputAssertions,
    PortForward, ResourceCheck,
};
use crate::kubectl::Shell;
use crate::readiness::ready;

/// Services that stand for the operator (upstream's Helm chart names it so).
const OPERATOR_SERVICES: &[&str] = &["orkestra-runtime", "orkestra"];

/// How long one HTTP call may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs checks against one test's cluster and operator.
pub struct Checker {
    shell: Shell,
    operator: Option<SocketAddr>,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl Checker {
    /// Checks with `shell`; `operator` is the in-process runtime's HTTP address (`None` when
    /// the test runs no operator).
    pub fn new(shell: Shell, operator: Option<SocketAddr>) -> Self {
        Self {
            shell,
            operator,
            http: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Why parts of `exp` cannot be checked here (each one is left out of [`Checker::once`]).
    pub fn skips(&self, exp: &Expectation) -> Vec<String> {
        let Some(k) = &exp.kubectl else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pf in &k.port_forward {
            if let Some(reason) = self.port_forward_skip(pf) {
                out.push(reason);
            }
        }
        if !k.logs.is_empty() {
            out.push(
                "kubectl.logs: simulated Pods run no container, and the operator runs in-process \
                 (its log is ork e2e's own output), so there is no Pod log to read"
                    .into(),
            );
        }
        if !k.exec.is_empty() {
            out.push("kubectl.exec: simulated Pods run no container to exec into".into());
        }
        if k.delete.iter().any(|d| d.leader_election.is_some()) {
            out.push(
                "kubectl.delete of the leader's Pod: the operator runs in-process, not in a Pod"
                    .into(),
            );
        }
        out
    }

    fn port_forward_skip(&self, pf: &PortForward) -> Option<String> {
        let target = match (&pf.service, &pf.leader_election) {
            (_, Some(le)) => format!("the leader of Lease {}", le.lease),
            (Some(s), None) => format!("Service {s}"),
            (None, None) => return Some("kubectl.port-forward names no service".into()),
        };
        let to_operator =
            pf.leader_election.is_some() || pf.service.as_deref().is_some_and(is_operator);
        if to_operator {
            return self
                .operator
                .is_none()
                .then(|| format!("kubectl.port-forward to {target}: this test runs no operator"));
        }
        match pf.service.as_deref() {
            Some(crate::dev_server::SERVICE) if crate::dev_server::address().is_some() => None,
            Some("orkestra-gateway") => Some(
                "kubectl.port-forward to Service orkestra-gateway: ork e2e runs the gateway \
                 in-process for webhooks only, with no such Service"
                    .into(),
            ),
            _ => Some(format!(
                "kubectl.port-forward to {target}: its Pods are simulated, no container runs to \
                 answer"
            )),
        }
    }

    /// One pass over every check of `exp` that is not skipped; the first failure's message.
    pub async fn once(&self, exp: &Expectation) -> Result<(), String> {
        for c in &exp.commands {
            self.command(c).await?;
        }
        if let Some(k) = &exp.kubectl {
            self.kubectl(k).await?;
        }
        for r in &exp.resources {
            self.resource(r).await?;
        }
        Ok(())
    }

    async fn command(&self, c: &CommandCheck) -> Result<(), String> {
        let out = self.shell.sh(&c.run).await;
        if out.code != c.exit_code {
            return Err(format!(
                "command `{}` exited {} (want {}): {}",
                c.run,
                out.code,
                c.exit_code,
                clip(&out.text)
            ));
        }
        check(&out.text, &c.assertions())
            .map_err(|e| format!("command `{}`: {e}; output: {}", c.run, clip(&out.text)))
    }

    async fn kubectl(&self, k: &KubectlChecks) -> Result<(), String> {
        for a in &k.apply {
            let (args, stdin): (Vec<&str>, _) = match (&a.file, &a.inline) {
                (Some(file), _) => (vec!["apply", "-f", file.as_str()], None),
                (None, Some(inline)) => (vec!["apply", "-f", "-"], Some(inline.as_str())),
                (None, None) => return Err("kubectl.apply needs `file` or `inline`".into()),
            };
            let mut args = args;
            if let Some(ns) = &a.namespace {
                args.extend(["-n", ns.as_str()]);
            }
            let out = self.shell.kubectl(&args, stdin).await;
            if !out.ok() {
                return Err(format!("kubectl apply: {}", clip(&out.text)));
            }
        }
        for d in k.delete.iter().filter(|d| d.leader_election.is_none()) {
            self.delete(d).await?;
        }
        for p in &k.patch {
            let ns = p.namespace.as_deref().unwrap_or("default");
            let kind = p.patch_type.as_deref().unwrap_or("merge");
            let args = [
                "patch", &p.kind, &p.name, "-n", ns, "--type", kind, "-p", &p.patch,
            ];
            let out = self.shell.kubectl(&args, None).await;
            if !out.ok() {
                let msg = clip(&out.text);
                return Err(format!("kubectl patch {}/{}: {msg}", p.kind, p.name));
            }
        }
        for r in &k.restart {
            let name = r.name.as_deref().unwrap_or_default();
            let target = format!("{}/{name}", r.kind);
            let ns = r.namespace.as_deref().unwrap_or("default");
            let out = self
                .shell
                .kubectl(&["rollout", "restart", &target, "-n", ns], None)
                .await;
            if !out.ok() {
                return Err(format!(
                    "kubectl rollout restart {target}: {}",
                    clip(&out.text)
                ));
            }
        }
        for g in &k.get {
            self.get(g).await?;
        }
        for d in &k.describe {
            let ns = d.namespace.as_deref().unwrap_or("default");
            let kind = d.kind.as_deref().unwrap_or_default();
            let mut args = vec!["describe", kind, "-n", ns];
            if let Some(name) = &d.name {
                args.push(name);
            } else if let Some(selector) = &d.label_selector {
                args.extend(["-l", selector.as_str()]);
            }
            let out = self.shell.kubectl(&args, None).await;
            if !out.ok() {
                return Err(format!("kubectl describe {kind}: {}", clip(&out.text)));
            }
            check(&out.text, &d.assertions())
                .map_err(|e| format!("kubectl describe {kind}: {e}"))?;
        }
        for e in &k.events {
            let ns = e.namespace.as_deref().unwrap_or("default");
            let mut args = vec!["events".to_owned(), "-n".into(), ns.into()];
            if let (Some(kind), Some(name)) = (&e.kind, &e.name) {
                args.extend(["--for".into(), format!("{kind}/{name}")]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = self.shell.kubectl(&args, None).await;
            if !out.ok() {
                return Err(format!("kubectl events: {}", clip(&out.text)));
            }
            check(&out.text, &e.assertions())
                .map_err(|err| format!("kubectl events: {err}; output: {}", clip(&out.text)))?;
        }
        for pf in &k.port_forward {
            if self.port_forward_skip(pf).is_none() {
                self.port_forward(pf).await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, d: &KubectlDelete) -> Result<(), String> {
        let ns = d.namespace.as_deref().unwrap_or("default");
        let mut args: Vec<&str> = match (&d.file, &d.kind) {
            (Some(file), _) => vec!["delete", "-f", file.as_str()],
            (None, Some(kind)) => vec![
                "delete",
                kind.as_str(),
                d.name.as_deref().unwrap_or_default(),
                "-n",
                ns,
            ],
            (None, None) => return Err("kubectl.delete needs `file` or `kind`".into()),
        };
        args.push("--wait=false");
        if d.ignore_not_found {
            args.push("--ignore-not-found");
        }
        let out = self.shell.kubectl(&args, None).await;
        if out.ok() {
            Ok(())
        } else {
            Err(format!("kubectl {}: {}", args.join(" "), clip(&out.text)))
        }
    }

    async fn get(&self, g: &KubectlGet) -> Result<(), String> {
        let ns = g.namespace.as_deref().unwrap_or("default");
        let output = match &g.field {
            Some(field) => {
                let field = if field.starts_with('.') {
                    field.clone()
                } else {
                    format!(".{field}")
                };
                format!("jsonpath={{{field}}}")
            }
            None => "json".to_owned(),
        };
        let what = format!("{}/{} in {ns}", g.kind, g.name);
        let out = self
            .shell
            .kubectl(&["get", &g.kind, &g.name, "-n", ns, "-o", &output], None)
            .await;
        if !out.ok() {
            return Err(format!("kubectl get {what}: {}", clip(&out.text)));
        }
        let value = match &g.jq {
            Some(path) => jq_path(&out.text, path).map_err(|e| format!("{what}: {e}"))?,
            None => out.text,
        };
        let field = g.field.as_deref().or(g.jq.as_deref()).unwrap_or("object");
        check(&value, &g.assertions()).map_err(|e| format!("{what} {field}: {e}"))
    }

    async fn port_forward(&self, pf: &PortForward) -> Result<(), String> {
        let (addr, server) = match (pf.service.as_deref(), crate::dev_server::address()) {
            (Some(crate::dev_server::SERVICE), Some(addr)) => (addr, "dev server"),
            _ => match self.operator {
                Some(addr) => (addr, "operator API"),
                None => return Err("no operator is running".into()),
            },
        };
        let path = if pf.path.starts_with('/') {
            pf.path.clone()
        } else {
            format!("/{}", pf.path)
        };
        let what = format!("{} {path} ({server} at {addr})", method(pf));
        let mut request = hyper::Request::builder()
            .method(method(pf))
            .uri(format!("http://{addr}{path}"));
        for (k, v) in &pf.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let body = Full::new(Bytes::from(pf.body.clone().unwrap_or_default()));
        let request = request.body(body).map_err(|e| format!("{what}: {e}"))?;
        let response = tokio::time::timeout(HTTP_TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| format!("{what}: no answer within {HTTP_TIMEOUT:?}"))?
            .map_err(|e| format!("{what}: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{what}: {e}"))?
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        match pf.status_code {
            Some(want) if want != status => {
                return Err(format!(
                    "{what}: status {status}, want {want}: {}",
                    clip(&text)
                ));
            }
            // Without `statusCode`, a body check may read an error answer (e.g. the 503 of
            // an unhealthy CRD); with nothing to check, the call itself must succeed.
            None if !(200..300).contains(&status)
                && pf.assertions() == OutputAssertions::default() =>
            {
                return Err(format!("{what}: status {status}: {}", clip(&text)));
            }
            _ => {}
        }
        let value = match &pf.jq {
            Some(path) => jq_path(&text, path).map_err(|e| format!("{what}: {e}"))?,
            None => text,
        };
        check(&value, &pf.assertions()).map_err(|e| format!("{what}: {e}"))
    }

    async fn resource(&self, r: &ResourceCheck) -> Result<(), String> {
        let ns = r.namespace.as_deref().unwrap_or("default");
        let what = match &r.name {
            Some(name) => format!("{}/{name} in {ns}", r.kind),
            None => format!("{} in {ns}", r.kind),
        };
        let mut args = vec!["get", r.kind.as_str()];
        if let Some(name) = &r.name {
            args.push(name);
        }
        args.extend(["-n", ns, "--ignore-not-found", "-o", "json"]);
        let out = self.shell.kubectl(&args, None).await;
        if !out.ok() {
            // A kind the server does not (or no longer) serve has no objects.
            if r.count == Some(0) && out.text.contains("doesn't have a resource type") {
                return Ok(());
            }
            return Err(format!("{what}: kubectl get: {}", clip(&out.text)));
        }
        let objects: Vec<Value> = if out.text.trim().is_empty() {
            Vec::new()
        } else {
            let value: Value = serde_json::from_str(&out.text)
                .map_err(|e| format!("{what}: kubectl printed no JSON ({e})"))?;
            match value["items"].as_array() {
                Some(items) => items.clone(),
                None => vec![value],
            }
        };
        match r.count {
            Some(want) if objects.len() != want => {
                let names: Vec<&str> = objects
                    .iter()
                    .filter_map(|o| o["metadata"]["name"].as_str())
                    .collect();
                return Err(format!(
                    "{what}: want {want}, found {} {names:?}",
                    objects.len()
                ));
            }
            None if objects.is_empty() => return Err(format!("{what}: not found")),
            _ => {}
        }
        if r.ready {
            for object in &objects {
                let name = object["metadata"]["name"].as_str().unwrap_or("?");
                ready(object)
                    .map_err(|seen| format!("{}/{name} in {ns}: not ready ({seen})", r.kind))?;
            }
        }
        Ok(())
    }
}

fn is_operator(service: &str) -> bool {
    OPERATOR_SERVICES.contains(&service)
}

fn method(pf: &PortForward) -> hyper::Method {
    pf.method
        .as_deref()
        .and_then(|m| hyper::Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
        .unwrap_or(hyper::Method::GET)
}
