//! Loading arbitrary text never panics; it either loads or reports diagnostics.

use proptest::prelude::*;

/// Fragments that steer random text towards Katalog-shaped YAML.
fn katalog_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("apiVersion: orkestra.orkspace.io/v1\n".to_string()),
        Just("kind: Katalog\n".to_string()),
        Just("kind: Komposer\n".to_string()),
        Just("metadata: {name: x}\n".to_string()),
        Just("spec:\n  crds:\n    a:\n      apiTypes: {group: g.io, version: v1, kind: A, plural: as}\n".to_string()),
        Just("      dependsOn: [a, b]\n".to_string()),
        Just("      operatorBox:\n        reconciler: {workers: 0}\n".to_string()),
        Just("        onCreate:\n          deployments:\n            - image: \"{{ .spec.image\"\n".to_string()),
        Just("imports: {files: [./nope.yaml]}\n".to_string()),
        Just("x: &a [*a]\n".to_string()),
        Just("\t".to_string()),
        "[ -~\n]{0,40}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn loading_arbitrary_text_never_panics(text in "\\PC{0,300}") {
        let _ = katalog::load_text("fuzz/katalog.yaml", text);
    }

    #[test]
    fn loading_katalog_shaped_text_never_panics(text in katalog_like()) {
        let _ = katalog::load_text("fuzz/katalog.yaml", text);
    }

    #[test]
    fn loading_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = katalog::load_text("fuzz/katalog.yaml", String::from_utf8_lossy(&bytes).into_owned());
    }
}
