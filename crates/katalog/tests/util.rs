//! Shared helpers: where the conformance corpus is, writing Katalogs to temp dirs.

use std::path::{Path, PathBuf};

/// The shared conformance corpus: `../shared/conformance` next to the repository, or the
/// directory named by `ORK_CONFORMANCE_DIR` (for worktrees that live elsewhere).
pub fn conformance_dir() -> PathBuf {
    let default = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance"
    ));
    let dir = std::env::var_os("ORK_CONFORMANCE_DIR")
        .map_or_else(|| default.to_path_buf(), PathBuf::from);
    assert!(
        dir.is_dir(),
        "the conformance corpus is missing: expected it at {} (the repository's sibling `shared/conformance`)",
        dir.display()
    );
    dir.canonicalize().expect("conformance dir resolves")
}

/// Writes `files` (name, text) into a new temp dir and returns it.
#[allow(dead_code)]
pub fn write_files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::write(path, text).expect("write file");
    }
    dir
}
