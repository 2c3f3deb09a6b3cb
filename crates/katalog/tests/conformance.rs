//! The conformance corpus: every pack's entry point loads and validates; every invalid case is
//! rejected with its expected text. Both walk their directories, so new cases are picked up.
//! Invalid cases come from the shared corpus and from this crate's own `tests/invalid/`
//! (one directory per rule ork enforces: `katalog.yaml` and the text its first error holds).

use std::path::{Path, PathBuf};

use crate::util::conformance_dir;

/// Packs that upstream ships in a state ork rejects on purpose, with the reason.
const KNOWN_UPSTREAM_DEFECTS: &[(&str, &str)] = &[];

/// Entry points of a pack: `katalog.yaml` / `komposer.yaml` at its top, or one level down.
fn entry_points(pack: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for name in ["komposer.yaml", "katalog.yaml"] {
        let p = pack.join(name);
        if p.is_file() {
            out.push(p);
            return out;
        }
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(pack)
        .expect("read pack")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for dir in subdirs {
        for name in ["komposer.yaml", "katalog.yaml"] {
            let p = dir.join(name);
            if p.is_file() {
                out.push(p);
                break;
            }
        }
    }
    out
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_pack_entry_point_loads_and_validates() {
    let packs = conformance_dir().join("packs");
    let mut failures = Vec::new();
    let mut loaded = 0;
    for pack in sorted_dirs(&packs) {
        let name = pack.file_name().unwrap().to_string_lossy().to_string();
        let entries = entry_points(&pack);
        assert!(
            !entries.is_empty(),
            "pack {name} has no katalog.yaml or komposer.yaml"
        );
        for entry in entries {
            let defect = KNOWN_UPSTREAM_DEFECTS
                .iter()
                .find(|(p, _)| entry.ends_with(p));
            match (katalog::load(&entry), defect) {
                (Ok(_), None) => loaded += 1,
                (Err(d), None) => failures.push(format!("{}:\n{}", entry.display(), d.render())),
                (Ok(_), Some((p, _))) => failures.push(format!(
                    "{p} is listed as a known upstream defect but now loads; remove it from the list"
                )),
                (Err(_), Some(_)) => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} entry points failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(loaded >= 20, "only {loaded} entry points loaded");
}

#[test]
fn every_invalid_case_is_rejected_with_its_expected_text() {
    let shared = conformance_dir().join("invalid");
    let own = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/invalid"));
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in sorted_dirs(&shared).into_iter().chain(sorted_dirs(own)) {
        let expect = std::fs::read_to_string(case.join("expect.txt")).expect("expect.txt");
        let expect = expect.trim();
        match katalog::load(case.join("katalog.yaml")) {
            Ok(_) => failures.push(format!("{}: accepted", case.display())),
            Err(d) => {
                let errors: Vec<_> = d.errors().collect();
                let first = errors.first().map(|e| e.to_string()).unwrap_or_default();
                if !first.contains(expect) {
                    failures.push(format!(
                        "{}: first error does not mention `{expect}`:\n{}",
                        case.display(),
                        d.render()
                    ));
                }
            }
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 19, "only {checked} invalid cases found");
}
