//! The entry point: [`load`] a Katalog or Komposer file into a validated [`Katalog`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{
    ApiTypes, Crd, CrdEntry, DEFAULT_FINALIZER, Document, DocumentKind, Gvk, Katalog, NoteFunction,
    Profiles,
};
use crate::resolve::{Resolver, crd_file, include, komposer, motif, nodes, resolve_path, settings};
use crate::validate;
use crate::yaml::{Node, NodeKind, SourceMap};

/// A loaded and valid Katalog.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The resolved model.
    pub katalog: Katalog,
    /// The entry file as read (served by `/katalog/raw`).
    pub raw: String,
    /// The entry file's path.
    pub path: PathBuf,
    /// Every file read, for showing source lines.
    pub sources: SourceMap,
    /// Problems that do not make the Katalog invalid.
    pub warnings: Vec<Diagnostic>,
}

/// Loads, resolves and validates a Katalog or Komposer.
///
/// Every referenced file is read relative to the file that names it. All problems are
/// reported at once.
///
/// # Errors
/// [`Diagnostics`] with at least one error (and every warning) when the Katalog is invalid.
///
/// # Example
/// ```no_run
/// let loaded = katalog::load("katalog.yaml").map_err(|d| eprint!("{}", d.render()))?;
/// for crd in &loaded.katalog.crds {
///     println!("{} -> {}", crd.name, crd.gvk());
/// }
/// # Ok::<(), ()>(())
/// ```
pub fn load(path: impl AsRef<Path>) -> Result<Loaded, Diagnostics> {
    load_with(path.as_ref(), Resolver::default())
}

/// Like [`load`], with the entry file's text given instead of read (files it references are
/// still read from disk, relative to `path`).
///
/// # Errors
/// As [`load`].
pub fn load_text(path: impl AsRef<Path>, text: impl Into<String>) -> Result<Loaded, Diagnostics> {
    let mut resolver = Resolver::default();
    let _ = resolver
        .sources
        .add(path.as_ref().to_path_buf(), text.into());
    load_with(path.as_ref(), resolver)
}

/// Checks a Motif file on its own (`ork validate motif.yaml`): decoded strictly into the Motif
/// model, so unknown keys, wrong types and a wrong `kind` are reported with file:line:col and
/// key path. Returns the Motif's name with its warnings. Its resources, rules and inputs are
/// checked further where a Katalog imports it.
///
/// # Errors
/// [`Diagnostics`] with at least one error when the file is not a valid Motif.
pub fn load_motif(path: impl AsRef<Path>) -> Result<(String, Diagnostics), Diagnostics> {
    let path = path.as_ref();
    let mut resolver = Resolver::default();
    let document = resolver.parse(path, None).and_then(|node| {
        let kind = node.get("kind").and_then(Node::as_str).unwrap_or_default();
        if kind != "Motif" {
            let at = resolver.location(node.get("kind").map_or(node.span, |k| k.span));
            resolver.report(
                Diagnostic::error(
                    "not-a-motif",
                    format!("`{}` has kind `{kind}`, expected `Motif`", path.display()),
                )
                .at(&at),
            );
            return None;
        }
        resolver.decode::<crate::model::MotifDocument>(&node, "")
    });
    let Resolver {
        sources,
        diagnostics,
        ..
    } = resolver;
    let found = Diagnostics {
        items: diagnostics,
        sources,
    };
    match document {
        Some(motif) if !found.has_errors() => {
            let name = motif.metadata.name.map(|n| n.value).unwrap_or_default();
            Ok((name, found))
        }
        _ => Err(found),
    }
}

fn load_with(path: &Path, mut resolver: Resolver) -> Result<Loaded, Diagnostics> {
    let katalog = resolve(&mut resolver, path);
    // Values of the wrong type were decoded as placeholders; checking the model built from
    // them would report problems the author did not write.
    let mistyped = resolver
        .diagnostics
        .iter()
        .any(|d| d.code == crate::de::INVALID_VALUE);
    if let Some(katalog) = katalog.as_ref().filter(|_| !mistyped) {
        validate::validate(katalog, &mut resolver);
    }
    let Resolver {
        sources,
        diagnostics,
        ..
    } = resolver;
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    match katalog {
        Some(katalog) if !has_errors => Ok(Loaded {
            katalog,
            raw: sources.text(path).unwrap_or_default().to_string(),
            path: path.to_path_buf(),
            sources,
            warnings: diagnostics,
        }),
        _ => Err(Diagnostics {
            items: diagnostics,
            sources,
        }),
    }
}

/// Reads the entry file and everything it references into one model. Returns `None` when
/// decoding stopped (the reason is among the resolver's diagnostics).
fn resolve(resolver: &mut Resolver, path: &Path) -> Option<Katalog> {
    let mut root = resolver.parse(path, None)?;
    if !matches!(root.kind, NodeKind::Map(_)) {
        let at = resolver.location(root.span);
        resolver.report(
            Diagnostic::error(
                "not-a-katalog",
                format!(
                    "{}: expected a map with apiVersion, kind, metadata and spec, found {}",
                    path.display(),
                    root.type_name()
                ),
            )
            .at(&at),
        );
        return None;
    }
    let is_komposer = root.get("kind").and_then(Node::as_str) == Some("Komposer");
    let imported = if is_komposer {
        komposer::compose(resolver, path, &mut root)
    } else {
        Vec::new()
    };
    let spec_motifs = motif::apply_spec_imports(resolver, path, &root);
    let mut inputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut crd_motifs = Vec::new();
    if let Some(crds) = nodes::get_mut(&mut root, "spec").and_then(|s| nodes::get_mut(s, "crds"))
        && let Some(entries) = nodes::entries_mut(crds)
    {
        for (key, entry) in entries.iter_mut() {
            let name = key.as_str().unwrap_or_default().to_string();
            let from = resolver.sources.path(entry.span.file).to_path_buf();
            let contribution = motif::apply_crd_imports(resolver, &from, &name, entry);
            include::expand_reconciler_include(resolver, &from, entry);
            include::expand_rule_includes(resolver, &from, entry);
            inputs.insert(name, contribution.inputs.clone());
            crd_motifs.push(contribution);
        }
    }

    resolver.roots.push(root.clone());
    resolver
        .roots
        .extend(imported.iter().map(|i| i.root.clone()));
    let mut document: Document = resolver.decode(&root, "")?;
    let mut notes: Vec<NoteFunction> = Vec::new();
    let mut profiles = Profiles::default();
    let mut profile_sets: Vec<Profiles> = Vec::new();
    if let Some(p) = document.profiles.take() {
        profile_sets.extend(read_profile_include(resolver, &p));
        profile_sets.push(p);
    }
    notes.extend(
        document
            .notes
            .take()
            .map(|n| n.functions)
            .unwrap_or_default(),
    );
    for contribution in std::iter::once(spec_motifs).chain(crd_motifs) {
        notes.extend(contribution.notes.functions);
        profile_sets.extend(contribution.profiles);
    }
    let mut provenance: BTreeMap<String, Provenance> = BTreeMap::new();
    for import in &imported {
        let Some(doc) = resolver.decode::<Document>(&import.root, "") else {
            continue;
        };
        let meta = &doc.metadata;
        for crd in &import.crds {
            provenance.insert(
                crd.clone(),
                (
                    meta.name.as_ref().map(|n| n.value.clone()),
                    meta.description.clone(),
                    meta.version.clone(),
                ),
            );
        }
        notes.extend(doc.notes.map(|n| n.functions).unwrap_or_default());
        if let Some(p) = doc.profiles {
            profile_sets.push(p);
        }
        document.security = document.security.take().or(doc.security);
        document.gateway = document.gateway.take().or(doc.gateway);
        document.notification = document.notification.take().or(doc.notification);
    }
    for set in profile_sets {
        for (class, name, at) in profiles.merge(set) {
            resolver.report(
                Diagnostic::error(
                    "duplicate-profile",
                    format!("{class} profile `{name}` is declared twice"),
                )
                .at(&at)
                .with_hint("rename one of the two profiles"),
            );
        }
    }

    read_block_includes(resolver, &document);
    check_dev_files(resolver, &document);
    let spec = document.spec.take().unwrap_or_default();
    let finalizers = spec.finalizers.clone();
    let mut crds = Vec::new();
    for (name, mut entry) in spec.crds.0 {
        for conflict in entry.normalize() {
            resolver.report(
                Diagnostic::error(
                    "layout-conflict",
                    format!(
                        "`{}` and `{}` are both declared; they are the same setting in the two operatorBox layouts",
                        conflict.old, conflict.new
                    ),
                )
                .at(&if conflict.at.line > 0 { conflict.at } else { name.at.clone() })
                .with_crd(name.value.clone())
                .with_hint(format!("keep only `{}`", conflict.new)),
            );
        }
        if let Some((katalog_name, description, version)) = provenance.get(&name.value) {
            entry
                .katalog_name
                .get_or_insert_with(|| katalog_name.clone().unwrap_or_default());
            if entry.katalog_description.is_none() {
                entry.katalog_description = description
                    .clone()
                    .or_else(|| document.metadata.description.clone());
            }
            if entry.katalog_version.is_none() {
                entry.katalog_version = version
                    .clone()
                    .or_else(|| document.metadata.version.clone());
            }
        }
        let crd = build_crd(
            resolver,
            name.value.clone(),
            name.at.clone(),
            entry,
            &profiles,
            &finalizers,
            inputs.remove(&name.value).unwrap_or_default(),
        );
        crds.push(crd);
    }
    document.spec = Some(crate::model::Spec {
        imports: spec.imports,
        finalizers,
        crds: crate::model::CrdMap::default(),
    });
    let name = document
        .metadata
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_default();
    Some(Katalog {
        name,
        kind: if is_komposer {
            DocumentKind::Komposer
        } else {
            DocumentKind::Katalog
        },
        document,
        crds,
        notes,
        profiles,
    })
}

/// Reads the files named by `serve.include` and `gateway.api.auth.include`: they must exist
/// and parse, and their templates are checked with the rest of the Katalog. (Rule files of
/// `validation.include`/`mutation.include` were merged into the tree before decoding.)
fn read_block_includes(resolver: &mut Resolver, document: &Document) {
    let mut includes: Vec<crate::de::Spanned<String>> = Vec::new();
    for (_, entry) in document.spec.iter().flat_map(|s| s.crds.0.iter()) {
        if let Some(serve) = &entry.serve
            && let Some(path) = serve
                .value
                .get("include")
                .and_then(serde_json::Value::as_str)
        {
            includes.push(crate::de::Spanned::new(path.to_string(), serve.at.clone()));
        }
    }
    if let Some(auth) = document
        .gateway
        .as_ref()
        .and_then(|g| g.api.as_ref())
        .and_then(|a| a.auth.as_ref())
    {
        includes.extend(auth.include.clone());
    }
    for include in includes {
        if let Some(node) =
            include::read_included(resolver, &include.at.file, &include.value, &include.at)
        {
            resolver.roots.push(node);
        }
    }
}

/// `crFiles` and `setup` manifests are applied in dev mode; they must exist (they are not
/// parsed here).
fn check_dev_files(resolver: &mut Resolver, document: &Document) {
    for (name, entry) in document.spec.iter().flat_map(|s| s.crds.0.iter()) {
        let mut files: Vec<crate::de::Spanned<String>> = entry.cr_files.clone();
        if let Some(setup) = &entry.setup {
            files.extend(
                setup
                    .value
                    .apply
                    .iter()
                    .map(|p| crate::de::Spanned::new(p.clone(), setup.at.clone())),
            );
        }
        for file in files {
            let missing = match resolve_path(&file.at.file, &file.value) {
                Ok(path) => {
                    (!path.is_file()).then(|| format!("`{}` does not exist", path.display()))
                }
                Err(message) => Some(message),
            };
            if let Some(message) = missing {
                resolver.report(
                    Diagnostic::error(
                        "file-not-found",
                        format!("CRD `{}` references {message}", name.value),
                    )
                    .at(&file.at)
                    .with_crd(name.value.clone())
                    .with_hint(
                        "check the path; relative paths resolve from the Katalog's directory",
                    ),
                );
            }
        }
    }
}

/// Name, description and version of the Katalog a Komposer imported a CRD from.
type Provenance = (Option<String>, Option<String>, Option<String>);

fn read_profile_include(resolver: &mut Resolver, profiles: &Profiles) -> Option<Profiles> {
    let include = profiles.include.as_ref()?;
    let node = include::read_included(resolver, &include.at.file, &include.value, &include.at)?;
    let inner = node.get("profiles").unwrap_or(&node);
    resolver.decode(inner, "profiles")
}

fn build_crd(
    resolver: &mut Resolver,
    name: String,
    at: crate::Location,
    mut entry: CrdEntry,
    profiles: &Profiles,
    spec_finalizers: &[String],
    inputs: BTreeMap<String, String>,
) -> Crd {
    let mut api_types: ApiTypes = entry
        .api_types
        .as_ref()
        .map(|a| a.value.clone())
        .unwrap_or_default();
    if let Some(file) = &entry.crd_file {
        match resolve_path(&file.at.file, &file.value) {
            Ok(path) => {
                if let Some(documents) = resolver.parse_all(&path, Some(&file.at)) {
                    match crd_file::read_manifest(&documents) {
                        Ok(manifest) => crd_file::apply_manifest(&mut api_types, &manifest),
                        Err(message) => resolver.report(
                            Diagnostic::error(
                                "invalid-crd-file",
                                format!("crdFile `{}`: {message}", file.value),
                            )
                            .at(&file.at)
                            .with_crd(name.clone()),
                        ),
                    }
                }
            }
            Err(message) => resolver.report(
                Diagnostic::error(
                    "import-unsupported",
                    format!("crdFile `{}`: {message}", file.value),
                )
                .at(&file.at)
                .with_crd(name.clone()),
            ),
        }
    }
    let built_in = crd_file::enrich_built_in(&mut api_types);
    let gvk = Gvk {
        group: api_types.group.clone().unwrap_or_default(),
        version: api_types.version.clone().unwrap_or_default(),
        kind: api_types.kind.clone().unwrap_or_default(),
    };
    let plural = api_types
        .plural
        .clone()
        .unwrap_or_else(|| gvk.kind.to_lowercase() + "s");
    let namespaced = entry
        .namespaced
        .unwrap_or(api_types.scope.as_deref() != Some("Cluster"));
    let finalizers = entry
        .operator_box
        .as_ref()
        .and_then(|b| b.finalizers.clone())
        .unwrap_or_else(|| {
            if spec_finalizers.is_empty() {
                vec![DEFAULT_FINALIZER.to_string()]
            } else {
                spec_finalizers.to_vec()
            }
        });
    if let Some(spanned) = &mut entry.api_types {
        spanned.value = api_types;
    } else if entry.crd_file.is_some() || built_in {
        entry.api_types = Some(crate::de::Spanned::new(api_types, at.clone()));
    }
    let settings = settings::settings(&entry, profiles);
    Crd {
        name,
        at,
        gvk,
        plural,
        namespaced,
        built_in,
        enabled: entry.enabled.unwrap_or(true),
        settings,
        finalizers,
        inputs,
        entry,
    }
}
