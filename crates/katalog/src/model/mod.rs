//! The Katalog model: plain types decoded strictly from YAML (see [`crate::de`]).
//!
//! Types named after YAML blocks ([`Document`], [`CrdEntry`], [`OperatorBox`], …) hold what
//! was written, in either layout of spec §5. [`Katalog`] and [`Crd`] are the resolved model
//! the runtime and gateway consume: GVK, plural and scope known, defaults applied.
//! Conditions ([`Condition`]) and resource declarations ([`HookTemplates`]) are the types of
//! [`crate::condition`] and [`crate::resources`].

mod admission;
mod conversion;
mod crd;
mod crd_map;
mod document;
pub mod duration;
mod emit;
pub mod external;
mod motif;
mod notes;
mod notification;
mod observe;
mod operator_box;
mod polymorphic;
mod profiles;
mod publish;
mod reconciler;
mod resolved;
mod rollback;
mod security;
mod status;

pub use crate::condition::Condition;
pub use crate::resources::HookTemplates;
pub use admission::{
    Admission, Mutation, MutationRule, Normalize, Validation, ValidationRule, Webhooks,
};
pub use conversion::{Conversion, ConversionPath};
pub use crd::{ApiTypes, CrdEntry, ENRICH_TARGETS, Endpoints};
pub use crd_map::CrdMap;
pub use document::{
    API_VERSION, Deprecation, Document, FileImport, KomposerImports, Lifecycle, Metadata, Policy,
    PolicyLifecycle, Spec, Timeline,
};
pub use emit::{EMIT_ON, EMIT_TYPES, EmitEvent, EmitEvents};
pub use motif::{InputType, MotifDocument, MotifImport, MotifInput};
pub use notes::{NoteFunction, Notes};
pub use notification::{Notification, Slack, Team, Teams};
pub use observe::{
    Cross, CrossAuth, CrossSelector, CrossSource, EventMatcher, EventObject, External, Fires, Gate,
    KeyFrom, Observe, PreReconcile, Watch,
};
pub use operator_box::{Emit, LayoutConflict, OperatorBox, RuntimeSection};
pub use polymorphic::{
    DependCondition, Dependency, DependsOn, Labels, OneOrMany, RetryBackoff, ScalarString, Setup,
    SetupWait,
};
pub use profiles::{ProfileMap, Profiles, ReconcilerProfile};
pub use publish::{Publish, PublishTests, Signing};
pub use reconciler::{
    Behaviour, Hooks, ManagedResource, Queue, QueueRule, Reconciler, Remote, Requeue,
};
pub use resolved::{
    Backoff, Crd, DEFAULT_FAILURE_THRESHOLD, DEFAULT_FINALIZER, DEFAULT_RESYNC, DEFAULT_WORKERS,
    DocumentKind, Gvk, Katalog, ReconcilerSettings, Source,
};
pub use rollback::{DEFAULT_ROLLBACK_FAILURES, Rollback, RollbackTrigger};
pub use security::{
    CertManager, CrdProtection, Gateway, GatewayApi, GatewayAuth, GatewayToken,
    NamespaceProtection, Protection, Security, SecurityConversion, SecurityWebhooks, Toggle,
};
pub use status::{Autoscale, AutoscaleAction, AutoscaleConditions, Status, StatusField};
