//! `ork notes`: browsing the template functions.

use crate::util::ork;

fn notes(args: &[&str]) -> (Option<i32>, String) {
    let output = ork().arg("notes").args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap() + &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
fn the_listing_groups_every_builtin_by_family() {
    let (code, out) = notes(&[]);
    assert_eq!(code, Some(0), "{out}");
    for line in [
        "strings\n",
        "cron\n",
        "kubernetes\n",
        "trimPrefix S PREFIX",
        "cronDescribe EXPR",
    ] {
        assert!(out.contains(line), "{line:?} in {out}");
    }
}

#[test]
fn show_prints_signature_description_example_and_output() {
    let (code, out) = notes(&["show", "trimPrefix"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("trimPrefix S PREFIX  (strings)\n"), "{out}");
    assert!(
        out.contains("example: {{ trimPrefix .spec.region \"eu-\" }}"),
        "{out}"
    );
    assert!(out.contains("output:  west"), "{out}");
    let (code, out) = notes(&["show", "frobnicate"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("no template function named \"frobnicate\""),
        "{out}"
    );
}

#[test]
fn search_matches_names_and_descriptions() {
    let (code, out) = notes(&["search", "semver"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("semverBump V PART"), "{out}");
    assert!(!out.contains("toLower"), "{out}");
    let (code, _) = notes(&["search", "no-such-thing-at-all"]);
    assert_eq!(code, Some(1));
}

#[test]
fn domains_count_functions_and_a_katalogs_notes_are_listed() {
    let (code, out) = notes(&["domains"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["semver", "7"]),
        "{out}"
    );
    let katalog = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/intermediate/08-notes/katalog.yaml"
    );
    let (code, out) = notes(&["-f", katalog, "show", "fullImage"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("expression: {{ .spec.image }}:{{ .spec.tag | default \"latest\" }}"),
        "{out}"
    );
    let (code, out) = notes(&["search", "image", "-f", katalog]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("notes (this Katalog)\n  fullImage"), "{out}");
}

#[test]
fn validate_notes_lists_the_katalogs_notes() {
    let katalog = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/intermediate/08-notes/katalog.yaml"
    );
    let output = ork()
        .args(["validate", "--notes", katalog])
        .output()
        .unwrap();
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{out}");
    assert!(out.contains("notes: 3\n"), "{out}");
    assert!(out.contains("  replicaCount: {{ clamp (.spec.replicas | default 1) 1 5 }}\n    The replicas, kept between 1 and 5.\n"), "{out}");
}
