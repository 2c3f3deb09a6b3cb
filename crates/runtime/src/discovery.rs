//! apiVersion + kind → [`ApiResource`] and scope, asked of the API server once per kind and
//! cached for the life of the process.
//!
//! Children of a Katalog are dynamic: a `custom:` declaration may name any kind, and its scope
//! (namespaced or cluster) is only known to the API server. [`Discovery::resolve`] asks
//! discovery for one group/version the first time a kind is needed and remembers the answer;
//! failures are not cached, so a CRD installed later is found on the next reconcile.

use std::collections::HashMap;
use std::sync::RwLock;

use kube::api::{ApiResource, GroupVersionKind};
use kube::discovery::Scope;

/// Errors resolving a kind.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The apiVersion is not `group/version` or `version`.
    #[error("apiVersion {0:?} is not group/version")]
    InvalidApiVersion(String),
    /// The API server does not serve the kind (or could not be asked).
    #[error("the API server does not serve {kind} in {api_version}")]
    KindNotServed {
        /// The apiVersion asked for.
        api_version: String,
        /// The kind asked for.
        kind: String,
        /// The discovery failure.
        #[source]
        source: kube::Error,
    },
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A resolved kind: how to address it and whether it lives in a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Group, version, kind and plural, for `Api::*_with`.
    pub resource: ApiResource,
    /// Namespaced (true) or cluster-scoped.
    pub namespaced: bool,
}

/// A cache of resolved kinds over one client. Cheap to share behind an `Arc`.
pub struct Discovery {
    client: kube::Client,
    cache: RwLock<HashMap<(String, String), Resolved>>,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("cached", &self.cache.read().map(|c| c.len()).unwrap_or(0))
            .finish_non_exhaustive()
    }
}

impl Discovery {
    /// An empty cache asking the API server through `client`.
    pub fn new(client: kube::Client) -> Self {
        Discovery {
            client,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// Remembers a kind without asking (e.g. the primary resource, already known).
    pub fn insert(&self, api_version: &str, kind: &str, resolved: Resolved) {
        if let Ok(mut c) = self.cache.write() {
            c.insert((api_version.to_owned(), kind.to_owned()), resolved);
        }
    }

    /// The cached answer for a kind, without asking.
    pub fn cached(&self, api_version: &str, kind: &str) -> Option<Resolved> {
        self.cache
            .read()
            .ok()?
            .get(&(api_version.to_owned(), kind.to_owned()))
            .cloned()
    }

    /// Resolves a kind, asking the API server on the first request for it.
    ///
    /// # Errors
    /// A malformed apiVersion, or a kind the API server does not serve.
    pub async fn resolve(&self, api_version: &str, kind: &str) -> Result<Resolved> {
        if let Some(r) = self.cached(api_version, kind) {
            return Ok(r);
        }
        let gvk = gvk_of(api_version, kind)?;
        let (resource, caps) = kube::discovery::pinned_kind(&self.client, &gvk)
            .await
            .map_err(|source| Error::KindNotServed {
                api_version: api_version.to_owned(),
                kind: kind.to_owned(),
                source,
            })?;
        let resolved = Resolved {
            resource,
            namespaced: caps.scope == Scope::Namespaced,
        };
        self.insert(api_version, kind, resolved.clone());
        Ok(resolved)
    }
}

/// Splits `group/version` (or a core `version`) and pairs it with `kind`.
///
/// # Errors
/// An empty apiVersion or one with more than one `/`.
pub fn gvk_of(api_version: &str, kind: &str) -> Result<GroupVersionKind> {
    let invalid = || Error::InvalidApiVersion(api_version.to_owned());
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) if !g.is_empty() && !v.is_empty() && !v.contains('/') => (g, v),
        Some(_) => return Err(invalid()),
        None if !api_version.is_empty() => ("", api_version),
        None => return Err(invalid()),
    };
    Ok(GroupVersionKind::gvk(group, version, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_and_grouped_api_versions_split_into_group_and_version() {
        let core = gvk_of("v1", "ConfigMap").unwrap();
        assert_eq!((core.group.as_str(), core.version.as_str()), ("", "v1"));
        let apps = gvk_of("apps/v1", "Deployment").unwrap();
        assert_eq!((apps.group.as_str(), apps.version.as_str()), ("apps", "v1"));
    }

    #[test]
    fn malformed_api_versions_are_rejected() {
        for bad in ["", "a/b/c", "/v1", "apps/"] {
            assert!(gvk_of(bad, "X").is_err(), "{bad:?} accepted");
        }
    }
}
