//! The requests the memory API answered, one [`Op`] each, tagged with the cycle they fell in.

use std::fmt;

/// The verb of a request, as the API server would log it (`apply` for a server-side apply
/// PATCH, `patch` for merge and JSON patches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// GET of one object.
    Get,
    /// GET of a collection.
    List,
    /// GET of a collection with `watch=true`.
    Watch,
    /// POST.
    Create,
    /// PATCH with `application/apply-patch+yaml`.
    Apply,
    /// PATCH with a merge, strategic-merge or JSON patch.
    Patch,
    /// PUT.
    Update,
    /// DELETE.
    Delete,
}

impl Verb {
    /// The verb of a request on a resource: its method, whether the path names an object,
    /// whether the query asks to watch, and its content type; `None` for a method the API
    /// server does not serve on resources.
    pub fn of_request(
        method: &http::Method,
        named: bool,
        watch: bool,
        content_type: &str,
    ) -> Option<Verb> {
        use http::Method;
        Some(match (method, named) {
            (&Method::GET, true) => Verb::Get,
            (&Method::GET, false) if watch => Verb::Watch,
            (&Method::GET, false) => Verb::List,
            (&Method::POST, _) => Verb::Create,
            (&Method::PATCH, _) if content_type.starts_with("application/apply-patch") => {
                Verb::Apply
            }
            (&Method::PATCH, _) => Verb::Patch,
            (&Method::PUT, _) => Verb::Update,
            (&Method::DELETE, _) => Verb::Delete,
            _ => return None,
        })
    }

    /// The lowercase name (`create`, `apply`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Apply => "apply",
            Verb::Patch => "patch",
            Verb::Update => "update",
            Verb::Delete => "delete",
        }
    }

    /// Whether the request can change stored objects.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Verb::Create | Verb::Apply | Verb::Patch | Verb::Update | Verb::Delete
        )
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request the memory API answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// The cycle it fell in (0: before the first cycle, e.g. seeding).
    pub cycle: u32,
    /// What was asked.
    pub verb: Verb,
    /// The plural resource (`deployments`).
    pub resource: String,
    /// The subresource (`status`), if any.
    pub subresource: Option<String>,
    /// The namespace, for namespaced requests.
    pub namespace: Option<String>,
    /// The object's name (empty for collections).
    pub name: String,
    /// The write made an object that did not exist (a POST, or an apply that created).
    pub created: bool,
    /// The write changed what is stored (false for a write that was refused or changed
    /// nothing).
    pub changed: bool,
    /// The HTTP status code of the answer.
    pub code: u16,
}

impl Op {
    /// Whether the request was a write that succeeded.
    pub fn is_write(&self) -> bool {
        self.verb.is_write() && self.code < 300
    }

    /// Whether an expectation's `verb:` names this op: `create` any write that created the
    /// object (a POST or a creating apply); `apply` a server-side apply or a POST (ork
    /// creates `once:` children with a POST where Orkestra applied them); `update` a PUT or an
    /// apply/patch that changed an existing object; `patch`, `delete`, `get`, `list` and
    /// `watch` the request verb itself.
    pub fn matches_verb(&self, verb: &str) -> bool {
        match verb {
            "create" => self.created,
            "apply" => matches!(self.verb, Verb::Apply | Verb::Create),
            "update" => {
                self.verb == Verb::Update
                    || (matches!(self.verb, Verb::Apply | Verb::Patch)
                        && self.changed
                        && !self.created)
            }
            other => self.verb.as_str() == other,
        }
    }

    /// Whether an expectation's `resource:` names this op: the plural resource, or `status`
    /// for a write to a status subresource.
    pub fn matches_resource(&self, resource: &str) -> bool {
        if resource == "status" {
            return self.subresource.as_deref() == Some("status");
        }
        self.resource == resource
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(verb: Verb, created: bool, changed: bool) -> Op {
        Op {
            cycle: 1,
            verb,
            resource: "deployments".into(),
            subresource: None,
            namespace: Some("default".into()),
            name: "a".into(),
            created,
            changed,
            code: 200,
        }
    }

    #[test]
    fn a_creating_apply_is_both_an_apply_and_a_create() {
        let o = op(Verb::Apply, true, true);
        assert!(o.matches_verb("apply"));
        assert!(o.matches_verb("create"));
        assert!(!o.matches_verb("update"));
        assert!(!o.matches_verb("patch"));
    }

    #[test]
    fn a_post_counts_as_an_apply_but_a_patch_does_not() {
        assert!(op(Verb::Create, true, true).matches_verb("apply"));
        assert!(!op(Verb::Patch, false, true).matches_verb("apply"));
    }

    #[test]
    fn a_changing_patch_of_an_existing_object_is_an_update() {
        assert!(op(Verb::Patch, false, true).matches_verb("update"));
        assert!(!op(Verb::Patch, false, false).matches_verb("update"));
        assert!(op(Verb::Update, false, false).matches_verb("update"));
    }
}
