//! `conversion:` blocks (spec §16.5): the storage version is required, and each path names
//! both versions.

use super::Cx;

pub fn check(cx: &mut Cx<'_>) {
    for crd in &cx.katalog.crds {
        let Some(conversion) = &crd.entry.conversion else {
            continue;
        };
        if conversion
            .storage_version
            .as_ref()
            .is_none_or(|s| s.value.trim().is_empty())
        {
            cx.crd_error(
                crd,
                Some(&conversion.at),
                "missing-storage-version",
                "conversion.storageVersion",
                "a `conversion` block needs `storageVersion`, the version objects are stored in",
                "add e.g. `storageVersion: v1`",
            );
        }
        for (i, path) in conversion.paths.iter().enumerate() {
            if path.from.trim().is_empty() || path.to.trim().is_empty() {
                cx.crd_error(
                    crd,
                    Some(&conversion.at),
                    "invalid-conversion-path",
                    &format!("conversion.paths[{i}]"),
                    "a conversion path needs both `from` and `to` versions",
                    "write e.g. `{from: v1alpha1, to: v1, spec: {...}}`",
                );
            }
        }
    }
}
