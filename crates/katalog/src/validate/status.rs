//! Status fields: paths and `type` casts (§18.2 #9, #18).

use super::Cx;

/// The `type:` values a status field may declare.
pub const STATUS_TYPES: &[&str] = &[
    "", "string", "str", "default", "int", "integer", "bool", "boolean", "float", "auto",
];

pub fn check(cx: &mut Cx<'_>) {
    for crd in &cx.katalog.crds {
        let Some(status) = &crd.operator_box().status else {
            continue;
        };
        for (i, field) in status.fields.iter().enumerate() {
            let rest = format!("operatorBox.status.fields[{i}]");
            if field
                .value
                .path
                .as_deref()
                .is_none_or(|p| p.trim().is_empty())
            {
                cx.crd_error(
                    crd,
                    Some(&field.at),
                    "missing-field",
                    &format!("{rest}.path"),
                    "a status field needs a `path` (relative to `status`)",
                    "add e.g. `path: phase`",
                );
            }
            if let Some(kind) = &field.value.kind
                && !STATUS_TYPES.contains(&kind.value.as_str())
            {
                cx.crd_error(
                    crd,
                    Some(&kind.at),
                    "invalid-status-type",
                    &format!("{rest}.type"),
                    format!("status field type `{}` is not supported", kind.value),
                    "use string, int, bool, float or auto",
                );
            }
        }
    }
}
