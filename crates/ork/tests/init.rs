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

/// The API resource (plural, lowercase) of a kind, as simulate files name them.
fn resource_of(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if lower.ends_with('s') {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

/// Every simulate file's cycle-1 expectations agree with what `ork template` renders for its
/// CR: each expected create (by name, or by count) is rendered, each absent one is not.
#[test]
fn simulate_expectations_match_what_the_cr_renders() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut checked = 0;
    for pack in PACKS {
        for example in std::fs::read_dir(examples.join(pack)).unwrap() {
            let example = example.unwrap().path();
            let sim = yaml(&example.join("simulate.yaml"));
            let spec = &sim["spec"];
            let output = ork()
                .arg("template")
                .arg(example.join(spec["katalog"].as_str().unwrap()))
                .arg("--cr")
                .arg(example.join(spec["cr"].as_str().unwrap()))
                .output()
                .unwrap();
            assert!(output.status.success(), "{}: {output:?}", example.display());
            let rendered: Vec<Value> =
                serde_saphyr::from_multiple(&String::from_utf8(output.stdout).unwrap()).unwrap();
            let objects: Vec<(String, String)> = rendered
                .iter()
                .map(|o| {
                    (
                        resource_of(o["kind"].as_str().unwrap()),
                        o["metadata"]["name"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let expect = &spec["expect"];
            let mut blocks = vec![expect];
            blocks.extend(
                expect["crds"]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.values()),
            );
            for block in blocks {
                for op in block["ops"].as_array().into_iter().flatten() {
                    if op["cycle"] != 1 || op["verb"] != "create" {
                        continue;
                    }
                    let resource = op["resource"].as_str().unwrap();
                    let matching = objects
                        .iter()
                        .filter(|(r, n)| {
                            r == resource && op["name"].as_str().is_none_or(|want| want == n)
                        })
                        .count();
                    let want = op["count"]
                        .as_u64()
                        .map_or(1, |c| usize::try_from(c).unwrap());
                    assert_eq!(matching, want, "{}: {op} in {objects:?}", example.display());
                    checked += 1;
                }
                for op in block["absent"].as_array().into_iter().flatten() {
                    if op["cycle"] != 1 {
                        continue;
                    }
                    let resource = op["resource"].as_str().unwrap();
                    assert!(
                        !objects.iter().any(|(r, n)| r == resource
                            && op["name"].as_str().is_none_or(|want| want == n)),
                        "{}: {op} is rendered",
                        example.display()
                    );
                }
            }
        }
    }
    assert!(checked >= 20, "{checked} expectations checked");
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
