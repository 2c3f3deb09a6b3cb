//! `ork notes [search TERM | show NAME | domains | sample] [-f KATALOG]`: the template
//! functions a Katalog can call. Built-ins come from [`gotmpl::catalog`] (signature,
//! description, an example and its output, all tested); with `-f`, the Katalog's own notes
//! (`notes.functions`) are listed too, with their description and expression.

use std::process::ExitCode;

use gotmpl::catalog::{self, FunctionDoc};

use super::{NotesArgs, NotesCommand, emit};

/// A user note of the Katalog given with `-f`.
struct UserNote {
    name: String,
    description: String,
    expression: String,
}

/// Runs `ork notes`.
pub fn run(args: NotesArgs) -> anyhow::Result<ExitCode> {
    let user = match &args.file {
        Some(path) => match katalog::load(path) {
            Ok(loaded) => loaded
                .katalog
                .notes
                .iter()
                .map(|n| UserNote {
                    name: n.name.value.clone(),
                    description: n.description.clone().unwrap_or_default(),
                    expression: n.expression.value.clone(),
                })
                .collect(),
            Err(diagnostics) => {
                eprint!("{}", diagnostics.render());
                return Ok(ExitCode::from(1));
            }
        },
        None => Vec::new(),
    };
    let builtins = catalog::function_docs();
    match args.command {
        None => {
            print!(
                "{}",
                list(builtins.iter().collect(), &user.iter().collect::<Vec<_>>())
            );
            println!(
                "\n`ork notes show NAME` for an example; examples use `ork notes sample` as `.`."
            );
        }
        Some(NotesCommand::Search { term }) => {
            let t = term.to_lowercase();
            let hits: Vec<&FunctionDoc> = builtins
                .iter()
                .filter(|d| {
                    d.name.to_lowercase().contains(&t)
                        || d.description.to_lowercase().contains(&t)
                        || d.domain.contains(&t)
                })
                .collect();
            let user_hits: Vec<&UserNote> = user
                .iter()
                .filter(|n| {
                    n.name.to_lowercase().contains(&t) || n.description.to_lowercase().contains(&t)
                })
                .collect();
            if hits.is_empty() && user_hits.is_empty() {
                eprintln!("ork: no function matches {term:?}");
                return Ok(ExitCode::from(1));
            }
            emit(&list(hits, &user_hits))?;
        }
        Some(NotesCommand::Show { name }) => {
            if let Some(n) = user.iter().find(|n| n.name == name) {
                println!(
                    "{}  (note of {})",
                    n.name,
                    args.file
                        .as_ref()
                        .map_or(String::new(), |p| p.display().to_string())
                );
                if !n.description.is_empty() {
                    println!("  {}", n.description);
                }
                println!("  expression: {}", n.expression);
                if catalog::function_doc(&name).is_some() {
                    println!("  (shadows the built-in {name})");
                }
            } else if let Some(d) = catalog::function_doc(&name) {
                println!("{}  ({})", d.signature, d.domain);
                println!("  {}", d.description);
                println!("  example: {}", d.example);
                println!("  output:  {}", d.output.replace('\n', "\\n"));
            } else {
                eprintln!(
                    "ork: no template function named {name:?} (try `ork notes search {name}`)"
                );
                return Ok(ExitCode::from(1));
            }
        }
        Some(NotesCommand::Domains) => {
            let mut domains: Vec<(&str, usize)> = Vec::new();
            for d in builtins {
                match domains.iter_mut().find(|(name, _)| *name == d.domain) {
                    Some((_, n)) => *n += 1,
                    None => domains.push((d.domain, 1)),
                }
            }
            if !user.is_empty() {
                domains.push(("notes (this Katalog)", user.len()));
            }
            for (domain, n) in domains {
                println!("{domain:<24} {n}");
            }
        }
        Some(NotesCommand::Sample) => {
            emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&catalog::sample_data())?
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Built-ins grouped by family, then the Katalog's notes.
fn list(builtins: Vec<&FunctionDoc>, user: &[&UserNote]) -> String {
    let width = builtins
        .iter()
        .map(|d| d.signature.len())
        .chain(user.iter().map(|n| n.name.len()))
        .max()
        .unwrap_or(0)
        .min(48);
    let mut out = String::new();
    let mut domain = "";
    for d in builtins {
        if d.domain != domain {
            domain = d.domain;
            out.push_str(&format!("\n{domain}\n"));
        }
        out.push_str(&format!("  {:<width$}  {}\n", d.signature, d.description));
    }
    if !user.is_empty() {
        out.push_str("\nnotes (this Katalog)\n");
        for n in user {
            let what = if n.description.is_empty() {
                &n.expression
            } else {
                &n.description
            };
            out.push_str(&format!("  {:<width$}  {what}\n", n.name));
        }
    }
    out.trim_start().to_owned()
}
