//! `ork plan`: the local Katalog against the deployed one, from a bundle file and from a live
//! ConfigMap on the local control plane.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};

use crate::util::ork;

/// The Komposer example copied into `dir` (its three files), returning the Komposer's path.
fn komposer_in(dir: &Path) -> PathBuf {
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/intermediate/06-komposer");
    for file in ["katalog.yaml", "frontend.yaml", "worker.yaml"] {
        std::fs::copy(source.join(file), dir.join(file)).unwrap();
    }
    dir.join("katalog.yaml")
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from:?} in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn plan(args: &[&str]) -> (Option<i32>, String) {
    let output = ork().arg("plan").args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap() + &String::from_utf8_lossy(&output.stderr),
    )
}

/// Local changes after deployment: more workers through the Komposer override, a new CRD
/// and a changed template in an imported file.
fn change_locally(dir: &Path) {
    edit(&dir.join("katalog.yaml"), "workers: 4", "workers: 6");
    edit(
        &dir.join("worker.yaml"),
        "image: \"{{ .spec.image }}\"",
        "image: \"{{ .spec.image }}-slim\"",
    );
    let worker = dir.join("worker.yaml");
    let text = std::fs::read_to_string(&worker).unwrap();
    std::fs::write(
        &worker,
        text + "    batch:\n      apiTypes: {group: examples.ork.dev, version: v1, kind: Batch, plural: batches}\n",
    )
    .unwrap();
}

fn assert_planned(out: &str) {
    for line in [
        "+ CRD 'batch' (new)",
        "~ CRD 'frontend' (modified)\n    ~ workers: 4 → 6\n",
        "~ CRD 'worker' (modified)\n    ~ operatorBox.onReconcile.deployments[0].image: {{ .spec.image }} → {{ .spec.image }}-slim\n",
        "Plan: 1 to add, 2 to change, 0 to remove.",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
}

#[test]
fn a_bundle_plans_nothing_until_the_local_katalog_changes() {
    let dir = tempfile::tempdir().unwrap();
    let katalog = komposer_in(dir.path());
    let bundle = dir.path().join("bundle.yaml");
    let output = ork()
        .args(["generate", "bundle", "-f"])
        .arg(&katalog)
        .arg("-o")
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let (k, b) = (katalog.to_str().unwrap(), bundle.to_str().unwrap());

    let (code, out) = plan(&["-f", k, "--bundle", b]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("No changes"), "{out}");

    change_locally(dir.path());
    let (code, out) = plan(&["-f", k, "--bundle", b]);
    assert_eq!(code, Some(1), "{out}");
    assert_planned(&out);

    // A CRD gone from the local Katalog is a removal.
    edit(
        &dir.path().join("katalog.yaml"),
        "    - ./worker.yaml\n",
        "",
    );
    let (code, out) = plan(&["-f", k, "--bundle", b]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("- CRD 'worker' (removed)"), "{out}");
}

#[test]
fn without_a_source_plan_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let katalog = komposer_in(dir.path());
    let (code, out) = plan(&["-f", katalog.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("--bundle FILE or --cm NAME"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_configmap_is_the_deployed_katalog() {
    let cp = testenv::shared().await;
    let admin = cp.client().await.unwrap();
    let ns = testenv::namespace(&admin, "plan").await;
    let dir = tempfile::tempdir().unwrap();
    let katalog = komposer_in(dir.path());
    let data: BTreeMap<String, String> = ["katalog.yaml", "frontend.yaml", "worker.yaml"]
        .iter()
        .map(|f| {
            (
                (*f).to_owned(),
                std::fs::read_to_string(dir.path().join(f)).unwrap(),
            )
        })
        .collect();
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some("orkestra-katalog".into()),
            ..Default::default()
        },
        data: Some(data),
        ..Default::default()
    };
    Api::<ConfigMap>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    let kubeconfig = cp.kubeconfig_path().to_str().unwrap().to_owned();
    let k = katalog.to_str().unwrap().to_owned();
    let args = [
        "-f",
        &k,
        "--cm",
        "orkestra-katalog",
        "-n",
        &ns,
        "--kubeconfig",
        &kubeconfig,
    ];

    let (code, out) = plan(&args);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("No changes"), "{out}");
    change_locally(dir.path());
    let (code, out) = plan(&args);
    assert_eq!(code, Some(1), "{out}");
    assert_planned(&out);

    let (code, out) = plan(&[
        "-f",
        &k,
        "--cm",
        "missing",
        "-n",
        &ns,
        "--kubeconfig",
        &kubeconfig,
    ]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(&format!("no ConfigMap missing in namespace {ns}")),
        "{out}"
    );
}
