//! What a request's path and query ask for.

use std::collections::HashMap;

/// The target of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/api/v1`, `/apis/<group>/<version>`.
    ResourceList {
        /// Group (empty: core).
        group: String,
        /// Version.
        version: String,
    },
    /// A collection or one object of a resource.
    Resource(Target),
}

/// An object or a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Group (empty: core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Plural resource name.
    pub plural: String,
    /// Namespace, when the path names one.
    pub namespace: Option<String>,
    /// Object name (`None`: the collection).
    pub name: Option<String>,
    /// Subresource (`status`).
    pub subresource: Option<String>,
}

/// Parses a request path; `None` for a path the API server would not serve.
pub fn parse(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api"] => return Some(Route::CoreVersions),
        ["apis"] => return Some(Route::Groups),
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    if rest.is_empty() {
        return Some(Route::ResourceList {
            group: group.to_owned(),
            version: version.to_owned(),
        });
    }
    let (namespace, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some((*ns).to_owned()), rest),
        _ => (None, rest),
    };
    let (plural, name, subresource) = match rest {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(*name), None),
        [plural, name, sub] => (*plural, Some(*name), Some(*sub)),
        _ => return None,
    };
    Some(Route::Resource(Target {
        group: group.to_owned(),
        version: version.to_owned(),
        plural: plural.to_owned(),
        namespace,
        name: name.map(str::to_owned),
        subresource: subresource.map(str::to_owned),
    }))
}

/// The query parameters, percent-decoded.
pub fn query(query: Option<&str>) -> HashMap<String, String> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaced_and_cluster_paths_parse() {
        let Some(Route::Resource(t)) = parse("/apis/apps/v1/namespaces/ns/deployments/web/status")
        else {
            panic!("not a resource")
        };
        assert_eq!(
            (t.group.as_str(), t.plural.as_str(), t.namespace.as_deref()),
            ("apps", "deployments", Some("ns"))
        );
        assert_eq!(
            (t.name.as_deref(), t.subresource.as_deref()),
            (Some("web"), Some("status"))
        );
        let Some(Route::Resource(ns)) = parse("/api/v1/namespaces/team") else {
            panic!("not a resource")
        };
        assert_eq!(
            (ns.plural.as_str(), ns.name.as_deref()),
            ("namespaces", Some("team"))
        );
        assert_eq!(ns.namespace, None);
        assert_eq!(
            parse("/apis/apps/v1"),
            Some(Route::ResourceList {
                group: "apps".into(),
                version: "v1".into()
            })
        );
        assert_eq!(parse("/healthz"), None);
    }

    #[test]
    fn query_values_are_decoded() {
        let q = query(Some(
            "labelSelector=a%3Db%2Cc%3Dd&fieldManager=orkestra&force=true",
        ));
        assert_eq!(q["labelSelector"], "a=b,c=d");
        assert_eq!(q["force"], "true");
    }
}
