//! Shared helpers: the shared control plane, a small Katalog with its E2E file in a temp dir,
//! and a minimal XML well-formedness check for the JUnit output.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The test binary's control plane, with simulated workloads.
pub async fn control_plane() -> &'static testenv::ControlPlane {
    testenv::shared_with(testenv::Config::new().workloads(true)).await
}

/// Options that run on the shared control plane (objects cleaned up after each test).
pub async fn shared_options() -> e2e::Options {
    let cp = control_plane().await;
    e2e::Options {
        target: e2e::Target::Kubeconfig(cp.kubeconfig_path().to_path_buf()),
        verbose: true,
        ..e2e::Options::default()
    }
}

/// A Katalog (a Deployment and a ConfigMap per `Site`, status phase Running), its CRD in a
/// group of its own, a CR `hello` in `namespace`, and an E2E file with `expect` (YAML list
/// items, indented by four spaces) in a new temp dir.
pub fn hello_test(namespace: &str, expect: &str) -> tempfile::TempDir {
    let group = format!("{}.e2e.ork.dev", testenv::unique_name("g"));
    let dir = tempfile::tempdir().expect("temp dir");
    let katalog = "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata:
  name: e2e-hello
spec:
  crds:
    site:
      crdFile: ./crd.yaml
      operatorBox:
        status:
          fields:
            - path: phase
              value: Running
        onReconcile:
          configMaps:
            - name: \"{{ .metadata.name }}-content\"
              data:
                greeting: hello
          deployments:
            - name: \"{{ .metadata.name }}\"
              image: \"{{ .spec.image }}\"
              replicas: \"1\"
              port: \"8080\"
";
    let crd = free_form_crd(&group, "Site", "sites");
    let cr = format!(
        "apiVersion: {group}/v1
kind: Site
metadata:
  name: hello
  namespace: {namespace}
spec:
  image: nginx:1.27
"
    );
    let e2e = format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: E2E
metadata:
  name: hello-e2e
spec:
  katalog: ./katalog.yaml
  crd: ./crd.yaml
  cr: ./cr.yaml
  cluster:
    provider: kind
  expect:
{expect}"
    );
    for (name, text) in [
        ("katalog.yaml", katalog.to_owned()),
        ("crd.yaml", crd),
        ("cr.yaml", cr),
        ("e2e.yaml", e2e),
    ] {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

/// A fresh namespace on the shared control plane.
pub async fn namespace(prefix: &str) -> String {
    let client = control_plane().await.client().await.expect("client");
    testenv::namespace(&client, prefix).await
}

/// Where `e2e.yaml` is in `dir`.
pub fn e2e_file(dir: &Path) -> PathBuf {
    dir.join("e2e.yaml")
}

/// An XML element: its name and attributes.
pub type Element = (String, Vec<(String, String)>);

/// Checks that `xml` is well-formed enough for a JUnit reader: one root, balanced tags,
/// quoted attributes, known entities. Returns the attributes of every element, in order.
pub fn parse_xml(xml: &str) -> Result<Vec<Element>, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut elements = Vec::new();
    let mut rest = xml.trim_start();
    if let Some(after) = rest.strip_prefix("<?xml") {
        rest = after.split_once("?>").ok_or("unterminated declaration")?.1;
    }
    let mut roots = 0;
    while let Some(start) = rest.find('<') {
        check_text(&rest[..start])?;
        let (tag, after) = rest[start + 1..]
            .split_once('>')
            .ok_or("unterminated tag")?;
        rest = after;
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or("close without open")?;
            if open != name.trim() {
                return Err(format!("<{open}> closed by </{name}>"));
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut attrs_text) = tag.split_once(' ').unwrap_or((tag, ""));
        let mut attrs = Vec::new();
        loop {
            attrs_text = attrs_text.trim_start();
            if attrs_text.is_empty() {
                break;
            }
            let (key, value) = attrs_text.split_once("=\"").ok_or("unquoted attribute")?;
            let (value, after) = value.split_once('"').ok_or("unterminated attribute")?;
            check_text(value)?;
            attrs.push((key.trim().to_owned(), value.to_owned()));
            attrs_text = after;
        }
        if stack.is_empty() {
            roots += 1;
        }
        elements.push((name.to_owned(), attrs));
        if !self_closing {
            stack.push(name.to_owned());
        }
    }
    check_text(rest)?;
    if !stack.is_empty() || roots != 1 {
        return Err(format!("unbalanced: open {stack:?}, {roots} roots"));
    }
    Ok(elements)
}

fn check_text(text: &str) -> Result<(), String> {
    if text.contains('<') || text.contains('>') {
        return Err(format!("raw < or > in {text:?}"));
    }
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        let (entity, after) = rest[i..].split_once(';').ok_or("unterminated entity")?;
        if !["&amp", "&lt", "&gt", "&quot", "&apos", "&#10"].contains(&entity) {
            return Err(format!("unknown entity {entity}"));
        }
        rest = after;
    }
    Ok(())
}

/// A bound long enough for one step on a loaded machine.
pub const SLACK: Duration = Duration::from_secs(20);

/// A namespaced CRD `<plural>.<group>` (v1, status subresource) that keeps any field.
pub fn free_form_crd(group: &str, kind: &str, plural: &str) -> String {
    let singular = kind.to_lowercase();
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.{group}
spec:
  group: {group}
  scope: Namespaced
  names: {{kind: {kind}, plural: {plural}, singular: {singular}}}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {{status: {{}}}}
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
"
    )
}
