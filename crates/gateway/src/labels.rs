//! How the gateway marks what it creates, so that a later start (after a SIGKILL) can find
//! and clean it up, and so that nothing else is ever touched.

use std::collections::BTreeMap;

/// Label on every object the gateway creates (webhook configurations, the TLS Secret):
/// the value is the gateway instance name.
pub const INSTANCE: &str = "gateway.ork.orkspace.io/instance";
/// `app.kubernetes.io/managed-by` value on the gateway's own objects.
pub const MANAGED_BY_VALUE: &str = "ork-gateway";
/// `app.kubernetes.io/managed-by`.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Annotation on a CRD whose `spec.conversion` the gateway patched: the original
/// `spec.conversion` as JSON (`null` when there was none), restored on exit.
pub const ORIGINAL_CONVERSION: &str = "gateway.ork.orkspace.io/original-conversion";
/// Annotation on a namespace the gateway labelled: which labels it added (comma-separated),
/// removed again on exit.
pub const ADDED_LABELS: &str = "gateway.ork.orkspace.io/added-labels";
/// Field manager of every write the gateway makes.
pub const FIELD_MANAGER: &str = "ork-gateway";

/// The labels of an object the gateway creates for `instance`.
pub fn owned(instance: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (INSTANCE.to_owned(), instance.to_owned()),
        (MANAGED_BY.to_owned(), MANAGED_BY_VALUE.to_owned()),
        (katalog::labels::APP_NAME.to_owned(), "orkestra".to_owned()),
        (
            katalog::labels::APP_TAG.to_owned(),
            "orkestra-internal".to_owned(),
        ),
    ])
}

/// The label selector matching what `instance` created.
pub fn selector(instance: &str) -> String {
    format!("{INSTANCE}={instance}")
}
