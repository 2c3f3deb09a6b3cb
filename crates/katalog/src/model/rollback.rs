//! `rollback:` and `rollBackOnError:` (spec §12.7): re-applying the templates of a CR's last
//! successful spec after repeated failures.

use serde::Deserialize;

use super::HookTemplates;
use crate::de::Spanned;

/// Consecutive failures that trigger a rollback when `trigger.consecutiveFailures` is not set.
pub const DEFAULT_ROLLBACK_FAILURES: u32 = 3;

/// `rollback:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rollback {
    /// When a rollback starts.
    pub trigger: Option<RollbackTrigger>,
    /// Templates applied instead of the CRD's own while rolled back (they read the last good
    /// CR as `.previous`).
    pub on_rollback: Option<HookTemplates>,
}

/// `rollback.trigger`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RollbackTrigger {
    /// Consecutive failures (default 3).
    pub consecutive_failures: Option<u32>,
    /// The failures must all fall within this window (default: any time).
    pub within_duration: Option<Spanned<String>>,
}
