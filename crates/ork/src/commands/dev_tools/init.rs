//! `ork init [DIR] [--pack NAME] [--list] [--force]`: starts a project from the example packs
//! embedded in the binary (sourced from `examples/` in the repository by `build.rs`).
//!
//! Without `--pack` it writes the hello-website Katalog (`katalog.yaml`, with the `crd.yaml`
//! and `cr.yaml` it refers to) into DIR; with `--pack beginner` every example of the pack
//! under `DIR/beginner/NN-name/`; with `--pack beginner/01-hello-website` that example alone.
//! Existing files are never overwritten without `--force`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::InitArgs;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/packs.rs"));
}

/// The packs, in listing order.
const PACKS: &[&str] = &["beginner", "intermediate", "advanced"];

/// The example `ork init` writes without `--pack`.
const DEFAULT_EXAMPLE: &str = "beginner/01-hello-website";

/// The files `ork init` writes without `--pack`.
const DEFAULT_FILES: &[&str] = &["katalog.yaml", "crd.yaml", "cr.yaml"];

/// Runs `ork init`.
pub fn run(args: InitArgs) -> anyhow::Result<ExitCode> {
    if args.list {
        print!("{}", listing());
        return Ok(ExitCode::SUCCESS);
    }
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let files: Vec<(PathBuf, &str)> = match &args.pack {
        None => DEFAULT_FILES
            .iter()
            .filter_map(|name| {
                let path = format!("{DEFAULT_EXAMPLE}/{name}");
                embedded::FILES
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, text)| (dir.join(name), *text))
            })
            .collect(),
        Some(name) => {
            let prefix = format!("{}/", name.trim_end_matches('/'));
            let chosen: Vec<(PathBuf, &str)> = embedded::FILES
                .iter()
                .filter(|(p, _)| p.starts_with(&prefix))
                .map(|(p, text)| (dir.join(p), *text))
                .collect();
            if chosen.is_empty() {
                eprintln!("ork: no pack or example named {name:?}; `ork init --list` shows them");
                return Ok(ExitCode::from(1));
            }
            chosen
        }
    };
    let existing: Vec<&Path> = files
        .iter()
        .map(|(p, _)| p.as_path())
        .filter(|p| p.exists())
        .collect();
    if !existing.is_empty() && !args.force {
        eprintln!("ork: refusing to overwrite existing files (use --force):");
        for p in existing {
            eprintln!("  {}", p.display());
        }
        return Ok(ExitCode::from(1));
    }
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    match &args.pack {
        None => {
            println!(
                "wrote {} (hello website) in {}",
                DEFAULT_FILES.join(", "),
                dir.display()
            );
            println!("next: ork validate katalog.yaml && ork dev katalog.yaml");
        }
        Some(name) => {
            println!("wrote {} files of {name} in {}", files.len(), dir.display());
            for example in examples_of(name) {
                println!("  {}", dir.join(example).display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The example directories (`pack/NN-name`) under `name` (a pack or one example).
fn examples_of(name: &str) -> Vec<&'static str> {
    let prefix = format!("{}/", name.trim_end_matches('/'));
    let mut examples: Vec<&str> = embedded::FILES
        .iter()
        .filter(|(p, _)| p.starts_with(&prefix))
        .filter_map(|(p, _)| p.rsplit_once('/').map(|(dir, _)| dir))
        .collect();
    examples.dedup();
    examples
}

/// `--list`: each pack, each example with the title of its README.
fn listing() -> String {
    let mut out = String::new();
    for pack in PACKS {
        out.push_str(&format!("{pack}\n"));
        for example in examples_of(pack) {
            let readme = format!("{example}/README.md");
            let title = embedded::FILES
                .iter()
                .find(|(p, _)| *p == readme)
                .and_then(|(_, text)| text.lines().next())
                .map(|l| l.trim_start_matches('#').trim())
                .unwrap_or_default();
            let short = example.rsplit('/').next().unwrap_or(example);
            out.push_str(&format!("  {short:<24} {title}\n"));
        }
    }
    out.push_str(&format!(
        "\nork init [DIR] --pack NAME writes a pack (or one example: --pack {DEFAULT_EXAMPLE})\n"
    ));
    out
}
