//! Embeds the example packs (`examples/beginner`, `examples/intermediate`,
//! `examples/advanced` at the repository root) for `ork init`: writes `packs.rs` into
//! `OUT_DIR`, a table of every file's path (relative to `examples/`) and its contents
//! (`include_str!` of the source file, so the binary always carries what is in the tree).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The packs `ork init --pack` offers, in listing order.
const PACKS: &[&str] = &["beginner", "intermediate", "advanced"];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let examples = manifest.join("../../examples");
    let mut files = Vec::new();
    for pack in PACKS {
        let dir = examples.join(pack);
        println!("cargo:rerun-if-changed={}", dir.display());
        collect(&dir, &mut files);
    }
    files.sort();
    let mut out =
        String::from("/// Every file of the embedded packs: path under `examples/`, contents.\n");
    out.push_str("pub const FILES: &[(&str, &str)] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let rel = file.strip_prefix(&examples).expect("under examples/");
        let rel = rel.to_str().expect("UTF-8 path").replace('\\', "/");
        let abs = file.canonicalize().expect("the file exists");
        writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out_dir.join("packs.rs"), out).expect("OUT_DIR is writable");
}

/// Every file under `dir`, recursively (directories too, for rerun-if-changed).
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
