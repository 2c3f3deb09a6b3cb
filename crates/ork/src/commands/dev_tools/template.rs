//! `ork template KATALOG --cr CR [--crd NAME]`: the objects a CR produces, as
//! multi-document YAML, with no cluster. ownerReferences carry a placeholder uid.

use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;

use super::TemplateArgs;

/// Runs `ork template`.
pub fn run(args: TemplateArgs) -> anyhow::Result<ExitCode> {
    let loaded = match katalog::load(&args.katalog) {
        Ok(l) => l,
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render());
            return Ok(ExitCode::from(1));
        }
    };
    let crs: Vec<Value> = katalog::manifest::read_manifests(&args.cr)?;
    let mut objects = Vec::new();
    for cr in crs {
        match katalog::build::preview(&loaded.katalog, &cr, args.crd.as_deref()) {
            Ok(o) => objects.extend(o),
            Err(err) => {
                eprintln!("ork: {err}");
                let mut source = std::error::Error::source(&err);
                while let Some(cause) = source {
                    eprintln!("  caused by: {cause}");
                    source = cause.source();
                }
                return Ok(ExitCode::from(1));
            }
        }
    }
    let yaml = serde_saphyr::to_string_multiple(&objects).context("cannot print YAML")?;
    print!("{yaml}");
    Ok(ExitCode::SUCCESS)
}
