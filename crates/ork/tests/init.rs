//! `ork init`: the embedded packs, written out, are valid Katalogs with well-formed simulate
//! and e2e files, and nothing is overwritten without `--force`.

use std::path::Path;

use serde_json::Value;

use crate::util::ork;

const PACKS: [&str; 3] = ["beginner", "intermediate", "advanced"];
const EXAMPLE_FILES: [&str; 6] = [
    "katalog.yaml",
    "crd.yaml",
    "cr.yaml",
    "README.md",
    "simulate.yaml",
    "e2e.yaml",
];

fn run(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let output = ork().args(args).current_dir(dir).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A path a simulate or e2e file names exists beside it.
fn assert_exists(example: &Path, file: &str, v: &Value) {
    let rel = v
        .as_str()
        .unwrap_or_else(|| panic!("{file}: {v} is not a path"));
    assert!(
        example.join(rel).is_file(),
        "{}/{file} names {rel}, which is missing",
        example.display()
    );
}

fn check_simulate(example: &Path) {
    let doc = yaml(&example.join("simulate.yaml"));
    assert_eq!(doc["apiVersion"], "orkestra.orkspace.io/v1");
    assert_eq!(doc["kind"], "Simulate");
    let spec = &doc["spec"];
    for key in ["katalog", "cr", "crd"] {
        assert_exists(example, "simulate.yaml", &spec[key]);
    }
    let expect = &spec["expect"];
    assert!(
        expect.is_object(),
        "{}: simulate.yaml expects something",
        example.display()
    );
    let mut ops: Vec<&Value> = expect["ops"].as_array().into_iter().flatten().collect();
    for per_crd in expect["crds"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        ops.extend(per_crd["ops"].as_array().into_iter().flatten());
    }
    assert!(!ops.is_empty(), "{}: no ops expected", example.display());
    for op in ops {
        assert!(op["cycle"].as_u64().is_some(), "{op}");
        assert!(
            ["create", "update", "delete", "patch"].contains(&op["verb"].as_str().unwrap()),
            "{op}"
        );
        assert!(op["resource"].is_string(), "{op}");
    }
}

fn check_e2e(example: &Path) {
    let doc = yaml(&example.join("e2e.yaml"));
    assert_eq!(doc["apiVersion"], "orkestra.orkspace.io/v1");
    assert_eq!(doc["kind"], "E2E");
    let spec = &doc["spec"];
    for key in ["katalog", "cr", "crd"] {
        assert_exists(example, "e2e.yaml", &spec[key]);
    }
    for f in spec["setup"]["apply"].as_array().into_iter().flatten() {
        assert_exists(example, "e2e.yaml", f);
    }
    assert_eq!(spec["cluster"]["provider"], "kind");
    let steps = spec["expect"].as_array().expect("expect is a list");
    assert!(!steps.is_empty());
    for step in steps {
        assert!(step["name"].is_string(), "{step}");
        assert!(
            ["cr-applied", "cr-deleted"].contains(&step["after"].as_str().unwrap()),
            "{step}"
        );
        assert!(
            step["resources"].is_array()
                || step["kubectl"].is_object()
                || step["commands"].is_array(),
            "{step} checks nothing"
        );
    }
}

#[test]
fn every_pack_writes_valid_examples_with_simulate_and_e2e_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut examples = 0;
    for pack in PACKS {
        let (code, out) = run(&["init", "--pack", pack], dir.path());
        assert_eq!(code, Some(0), "{out}");
        let mut names: Vec<_> = std::fs::read_dir(dir.path().join(pack))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        assert!(names.len() >= 3, "{pack}: {names:?}");
        for example in names {
            for file in EXAMPLE_FILES {
                assert!(example.join(file).is_file(), "{}/{file}", example.display());
            }
            let katalog = example.join("katalog.yaml");
            let (code, out) = run(&["validate", katalog.to_str().unwrap()], dir.path());
            assert_eq!(code, Some(0), "{}: {out}", katalog.display());
            assert!(out.contains("0 warnings"), "{}: {out}", katalog.display());
            check_simulate(&example);
            check_e2e(&example);
            examples += 1;
        }
    }
    assert!(examples >= 11, "{examples} examples");
}

/// Every pack example's simulate.yaml passes under `ork simulate` (the runtime's real reconcile
/// against the in-memory API): its expectations hold and no cycle fails.
#[test]
fn every_pack_simulates_and_meets_its_expectations() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let files = PACKS
        .iter()
        .flat_map(|pack| std::fs::read_dir(examples.join(pack)).unwrap())
        .filter(|e| e.as_ref().unwrap().path().join("simulate.yaml").is_file())
        .count();
    assert!(files >= 12, "only {files} pack simulate files");
    for pack in PACKS {
        let output = ork()
            .arg("simulate")
            .arg(format!("{}/...", examples.join(pack).display()))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && !stderr.contains('✗'),
            "{pack}: exit {:?}\n{stdout}\n{stderr}",
            output.status.code()
        );
        let expected = std::fs::read_dir(examples.join(pack))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().join("simulate.yaml").is_file())
            .count();
        assert!(
            stdout.contains(&format!("{expected} of {expected} simulation files passed")),
            "{pack}: {stdout}"
        );
    }
}

#[test]
fn the_embedded_packs_are_the_examples_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run(&["init", "--pack", "advanced/12-admission"], dir.path());
    assert_eq!(code, Some(0), "{out}");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/advanced/12-admission");
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        let written = dir
            .path()
            .join("advanced/12-admission")
            .join(entry.file_name());
        assert_eq!(
            std::fs::read(&written).unwrap(),
            std::fs::read(entry.path()).unwrap(),
            "{}",
            written.display()
        );
    }
}

#[test]
fn init_without_a_pack_writes_hello_website_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run(&["init"], dir.path());
    assert_eq!(code, Some(0), "{out}");
    let katalog = dir.path().join("katalog.yaml");
    assert!(
        std::fs::read_to_string(&katalog)
            .unwrap()
            .contains("name: hello-website")
    );
    let (code, out) = run(&["validate"], dir.path());
    assert_eq!(code, Some(0), "{out}");

    std::fs::write(&katalog, "mine").unwrap();
    let (code, out) = run(&["init"], dir.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("refusing to overwrite"), "{out}");
    assert_eq!(std::fs::read_to_string(&katalog).unwrap(), "mine");
    let (code, out) = run(&["init", "--force"], dir.path());
    assert_eq!(code, Some(0), "{out}");
    assert!(
        std::fs::read_to_string(&katalog)
            .unwrap()
            .contains("hello-website")
    );
}

#[test]
fn list_names_every_pack_and_unknown_packs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run(&["init", "--list"], dir.path());
    assert_eq!(code, Some(0), "{out}");
    for line in [
        "beginner\n",
        "intermediate\n",
        "advanced\n",
        "01-hello-website",
        "12-admission",
    ] {
        assert!(out.contains(line), "{line:?} in {out}");
    }
    let (code, out) = run(&["init", "--pack", "expert"], dir.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("no pack or example named \"expert\""), "{out}");
}
