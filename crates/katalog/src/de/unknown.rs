//! Unknown and renamed keys: each is recorded with its place and key path, and with a
//! "did you mean" or the new name of the key, and decoding goes on.

use super::node::NodeDeserializer;
use crate::diagnostic::Diagnostic;
use crate::yaml::Node;

/// Keys that were renamed in a breaking release: (struct the key appears in or `*` for any
/// struct that knows the new key, old key, new key).
const RENAMED: &[(&str, &str, &str)] = &[
    ("*", "anyOf", "or"),
    ("Cross", "labels", "labelSelector"),
    ("Hooks", "resources", "managedResources"),
    ("Constructor", "resources", "managedResources"),
];

/// Keys upstream renamed but still writes in its own examples, in the same form: (struct or `*`,
/// old key, new key). The old key decodes as the new one, with a `deprecated-key` warning;
/// writing both is an error. (`anyOf` stays a [`RENAMED`] error: the conformance corpus and
/// upstream since v0.7.16 reject it.)
const DEPRECATED: &[(&str, &str, &str)] = &[
    ("ApiTypes", "objectList", "list"),
    ("CrossSource", "type", "protocol"),
];

/// The key `key` stands for when it is a deprecated spelling in the struct `owner`.
pub(super) fn deprecated_alias(owner: &str, key: &str, fields: &[&str]) -> Option<&'static str> {
    DEPRECATED
        .iter()
        .find(|(o, old, new)| *old == key && (*o == owner || (*o == "*" && fields.contains(new))))
        .map(|(_, _, new)| *new)
}

/// Whether the map `entries` has the key `name`.
pub(super) fn has_key(entries: &[(Node, Node)], name: &str) -> bool {
    entries.iter().any(|(k, _)| k.as_str() == Some(name))
}

impl NodeDeserializer<'_, '_> {
    /// Records `key`, unknown to the struct `struct_name` whose fields are `fields` (the map's
    /// keys are `entries`): a deprecated spelling gets a warning, anything else an error.
    pub(super) fn record_unknown(
        &self,
        struct_name: &str,
        key: &Node,
        fields: &[&str],
        entries: &[(Node, Node)],
    ) {
        let name = key.as_str().unwrap_or("<non-scalar key>");
        let path = self.child(key, name).path;
        let location = self.ctx.location(key.span);
        if let Some(new) = deprecated_alias(struct_name, name, fields) {
            let diagnostic = if has_key(entries, new) {
                Diagnostic::error(
                    "duplicate-key",
                    format!("`{name}` is the old name of `{new}`, and both are given"),
                )
                .with_hint(format!("remove `{name}`"))
            } else {
                Diagnostic::warning(
                    "deprecated-key",
                    format!("key `{name}` is deprecated; it was renamed to `{new}`"),
                )
                .with_hint(format!("rename `{name}` to `{new}`; it means the same"))
            };
            self.ctx
                .found
                .borrow_mut()
                .push(diagnostic.at(&location).with_path(path));
            return;
        }
        let renamed = RENAMED.iter().find(|(owner, old, new)| {
            *old == name && (*owner == struct_name || (*owner == "*" && fields.contains(new)))
        });
        let diagnostic = match renamed {
            Some((_, old, new)) => {
                Diagnostic::error("renamed-key", format!("key `{old}` was renamed to `{new}`"))
                    .with_hint(format!("rename `{old}` to `{new}`"))
            }
            None => {
                let mut d = Diagnostic::error("unknown-key", format!("unknown key `{name}`"));
                if let Some(close) = did_you_mean(name, fields) {
                    d = d.with_hint(format!("did you mean `{close}`?"));
                } else if !fields.is_empty() && fields.len() <= 12 {
                    d = d.with_hint(format!("known keys here: {}", fields.join(", ")));
                }
                d
            }
        };
        self.ctx
            .found
            .borrow_mut()
            .push(diagnostic.at(&location).with_path(path));
    }
}

/// The known field closest to `name`, if it is close enough to be a typo.
pub fn did_you_mean<'f>(name: &str, fields: &[&'f str]) -> Option<&'f str> {
    let lower = name.to_ascii_lowercase();
    fields
        .iter()
        .filter(|f| !f.starts_with('$'))
        .map(|f| (edit_distance(&lower, &f.to_ascii_lowercase()), *f))
        .filter(|(d, f)| *d <= (f.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| f)
}

/// Levenshtein distance between two strings.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("workerz", "workers"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(
            did_you_mean("operatorBx", &["operatorBox", "crdFile"]),
            Some("operatorBox")
        );
        assert_eq!(did_you_mean("zzz", &["operatorBox"]), None);
    }
}
