//! [`HookTemplates`]: the block under `onCreate`, `onReconcile`, `onDelete` (and a Motif's
//! `resources`), spec §6.1.

use super::*;

/// Generates [`HookTemplates`] with one resource list per row of the kinds table, and
/// [`HookTemplates::declarations`].
macro_rules! declare_hook_templates {
    ($(
        $kind:ident $key:literal $field:ident $decl:ident $api:tt $plural:tt $suffix:literal
        $scope:ident $build:path;
    )*) => {
        /// Every resource list of one lifecycle block, plus its block-level keys.
        ///
        /// Lists are applied in declaration order within a kind; the order of kinds is fixed by
        /// the builder ([`Kind::ALL`](super::Kind::ALL)).
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
        #[serde(default, deny_unknown_fields, rename_all = "camelCase")]
        pub struct HookTemplates {
            $(
                #[doc = concat!("`", $key, "`: the ", stringify!($kind), " declarations.")]
                #[serde(rename = $key)]
                pub $field: Vec<$decl>,
            )*

            /// HTTP calls made before the resources; results under `.external.<name>`.
            pub external: Vec<serde_json::Value>,
            /// Git-backed pipeline settings (accepted; not run by ork).
            pub git: Option<serde_json::Value>,
            /// Docker build settings (accepted; not run by ork).
            pub docker: Option<serde_json::Value>,
            /// The whole block runs only if all pass.
            pub when: Vec<Condition>,
            /// The whole block runs only if at least one passes (when non-empty).
            pub or: Vec<Condition>,

            /// `onDelete`: delete group by group, waiting for each to be gone.
            pub ordered: bool,
            /// Name of this block when it is an `onDelete` group.
            pub name: Option<Text>,
            /// `onDelete`: the ordered groups, each a full block.
            pub groups: Vec<HookTemplates>,
            /// `onDelete`: time allowed for the whole ordered sequence (default 5m).
            pub timeout: Option<Text>,

            /// Placeholder (accepted, ignored; use `custom:`).
            pub volumes: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub volume_mounts: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub service_monitors: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub pod_security_policies: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub priority_classes: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub runtime_classes: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub priority_level_configurations: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub pod_templates: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub daemon_sets: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub storage_classes: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub storage_locations: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub storage_pools: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub storage_backups: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub storage_snapshots: Vec<serde_json::Value>,
            /// Placeholder (accepted, ignored).
            pub storage_volumes: Vec<serde_json::Value>,
        }

        impl HookTemplates {
            /// The declarations of one kind, as common views, in declaration order.
            pub fn declarations(&self, kind: Kind) -> Vec<&dyn Declaration> {
                fn view<T: Declaration>(v: &[T]) -> Vec<&dyn Declaration> {
                    v.iter().map(|d| d as &dyn Declaration).collect()
                }
                match kind {
                    $(Kind::$kind => view(&self.$field),)*
                }
            }
        }
    };
}

for_each_kind!(declare_hook_templates);

impl HookTemplates {
    /// The number of resource declarations in this block (groups not included).
    pub fn resource_count(&self) -> usize {
        Kind::ALL.iter().map(|k| self.declarations(*k).len()).sum()
    }

    /// Whether this block declares no resource, no group and no external call.
    pub fn is_empty(&self) -> bool {
        self.resource_count() == 0 && self.groups.is_empty() && self.external.is_empty()
    }
}
