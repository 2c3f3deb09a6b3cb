//! Reading Kubernetes manifests (CRD files, sample CRs, `setup` files) from YAML files with one
//! or more documents: the one definition `ork run`'s local-mode setup and `ork template` share.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Why a manifest file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("reading {path}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not YAML of Kubernetes objects.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The objects of a YAML file with one or more documents (empty documents skipped), each with
/// `apiVersion`, `kind` and `metadata.name`.
///
/// # Errors
/// [`ManifestError::Unreadable`], or [`ManifestError::Invalid`] for bad YAML or a document
/// without `apiVersion`, `kind` or `metadata.name`.
pub fn read_manifests(path: &Path) -> Result<Vec<Value>, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |message: String| ManifestError::Invalid {
        path: path.to_owned(),
        message,
    };
    let mut sources = crate::yaml::SourceMap::default();
    let file = sources.add(path.to_owned(), text.clone());
    let documents =
        crate::yaml::parse_documents(&text, file).map_err(|error| invalid(format!("{error:?}")))?;
    documents
        .iter()
        .filter(|document| !document.is_null())
        .map(|document| {
            let (value, _) = crate::de::from_node::<Value>(document, &sources);
            let value = value.map_err(|diagnostic| invalid(diagnostic.message.clone()))?;
            for field in ["/apiVersion", "/kind", "/metadata/name"] {
                if value.pointer(field).and_then(Value::as_str).is_none() {
                    return Err(invalid(format!("an object without {}", &field[1..])));
                }
            }
            Ok(value)
        })
        .collect()
}
