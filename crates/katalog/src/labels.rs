//! System labels, annotations and finalizers (spec §24), spelled once.

/// Label on managed CRs and every child: `"true"`.
pub const MANAGED: &str = "orkestra.orkspace.io/managed";
/// Label on children naming their owner CR (`<crName>` or `<crName>.<serveTarget>`);
/// delete-if-owned compares it.
pub const OWNER: &str = "orkestra-owner";
/// Label on children naming the effective serve surface.
pub const SERVE_TARGET_LABEL: &str = "orkestra-serve-target";
/// Label that makes the gateway deny DELETE of the object.
pub const DELETION_PROTECTION: &str = "orkestra.io/deletion-protection";
/// Label on CRs of CRDs with `strictMode: false`.
pub const STRICT_MODE_EXEMPT: &str = "orkestra.io/strict-mode-exempt";
/// Label on control-plane resources: `orkestra`.
pub const APP_NAME: &str = "app.kubernetes.io/name";
/// Label on control-plane resources: `orkestra-internal`.
pub const APP_TAG: &str = "app.kubernetes.io/tag";
/// Label on the gateway TLS Secret: `tls`.
pub const APP_COMPONENT: &str = "app.kubernetes.io/component";
/// Label naming the tool that created a resource.
pub const APP_CREATED_BY: &str = "app.kubernetes.io/createdBy";

/// Annotation on CRs: the Katalog name (write-once).
pub const MANAGED_BY: &str = "orkestra.orkspace.io/managed-by";
/// Annotation on CRs: RFC 3339 UTC time management began (write-once).
pub const MANAGED_SINCE: &str = "orkestra.orkspace.io/managed-since";
/// Annotation on generated Secrets: RFC 3339 time of generation (rotation clock).
pub const GENERATED_AT: &str = "orkestra.orkspace.io/generated-at";
/// Annotation on gateway-applied CRs: the serve target.
pub const SERVE_TARGET: &str = "orkestra.orkspace.io/serve-target";
/// Annotation on gateway-applied CRs: the serve alias.
pub const SERVE_ALIAS: &str = "orkestra.orkspace.io/serve-alias";
/// Annotation on gateway-applied CRs: the serve source.
pub const SERVE_SOURCE: &str = "orkestra.orkspace.io/serve-source";
/// Annotation on gateway-applied CRs: the raw intent payload.
pub const SERVE_INTENT: &str = "orkestra.orkspace.io/serve-intent";
/// Annotation on gateway-applied CRs: the selector's target.
pub const SERVE_SELECTOR_TARGET: &str = "orkestra.orkspace.io/serve-selector-target";
/// Annotation on gateway-applied CRs: the selector.
pub const SERVE_SELECTOR: &str = "orkestra.orkspace.io/serve-selector";
/// Annotation on CRs: the previous serve surface.
pub const LAST_SURFACE: &str = "orkestra.orkspace.io/last-surface";

/// Finalizer on every managed CR: cluster-scoped cleanup and onDelete before release.
pub const CLEANUP_FINALIZER: &str = "orkestra.orkspace.io/cleanup";
/// Finalizer on CRs whose CRD declares finalizers.
pub const FINALIZER: &str = "orkestra.orkspace.io/finalizer";

/// The value of [`MANAGED`] and of other boolean labels.
pub const TRUE: &str = "true";
