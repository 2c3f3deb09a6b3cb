//! The `onDelete` block as a plan (spec §9.6): which objects to delete, which Jobs to run
//! (without ownerReferences) and await, in which groups, within what time.

use serde_json::{Map, Value};

use super::{Builder, Child, Error, ErrorKind, Hooks, ObjectRef, Phase, Result};
use crate::condition::parse_duration;
use crate::resources::HookTemplates;

/// Default time allowed for an ordered deletion sequence.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// One deletion stage: delete these objects (foreground) and run these Jobs; the next
/// stage starts when all are gone and every Job is Complete or Failed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteGroup {
    /// The group's name, when declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Objects to delete (if owned).
    pub deletes: Vec<ObjectRef>,
    /// Jobs to create without ownerReferences and await.
    pub jobs: Vec<Child>,
}

/// What deleting a CR involves before its finalizers are removed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletePlan {
    /// Groups run one after another (`ordered: true`); otherwise one group, run at once.
    pub ordered: bool,
    /// Time allowed for the whole sequence; on expiry the finalizer stays.
    pub timeout: std::time::Duration,
    /// The stages.
    pub groups: Vec<DeleteGroup>,
}

impl Builder<'_> {
    /// Renders `onDelete` for `cr`.
    ///
    /// Jobs become Jobs to create and await; every other declared object becomes an
    /// object to delete. The block's and each group's `when`/`or` skip parts without
    /// blocking. Without `ordered`, everything is one group. With `ordered`, the flat
    /// fields form a first group (the only one when no `groups` are declared).
    ///
    /// # Errors
    /// The first declaration that cannot be rendered, or a `timeout` that is not a duration.
    pub fn build_delete(
        &self,
        cr: &Value,
        on_delete: &HookTemplates,
        extra: &Map<String, Value>,
    ) -> Result<DeletePlan> {
        let timeout = match on_delete
            .timeout
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => DEFAULT_TIMEOUT,
            Some(t) => parse_duration(t)
                .and_then(|d| d.try_into().ok())
                .ok_or_else(|| Error {
                    phase: Phase::OnDelete,
                    path: "timeout".into(),
                    field: None,
                    kind: ErrorKind::NotADuration(t.to_owned()),
                })?,
        };
        let mut groups = Vec::new();
        if let Some(g) = self.delete_group(cr, on_delete, extra)?
            && (!g.deletes.is_empty() || !g.jobs.is_empty())
        {
            groups.push(g);
        }
        if on_delete.ordered {
            for (i, block) in on_delete.groups.iter().enumerate() {
                if let Some(g) = self.delete_group(cr, block, extra).map_err(|mut e| {
                    e.path = format!("groups[{i}].{}", e.path);
                    e
                })? {
                    groups.push(g);
                }
            }
        }
        Ok(DeletePlan {
            ordered: on_delete.ordered,
            timeout,
            groups,
        })
    }

    /// One group, or `None` when its conditions fail.
    fn delete_group(
        &self,
        cr: &Value,
        block: &HookTemplates,
        extra: &Map<String, Value>,
    ) -> Result<Option<DeleteGroup>> {
        let state = super::State {
            refs_only: true,
            ..super::State::default()
        };
        let hooks = Hooks {
            on_create: Some(block),
            on_reconcile: None,
        };
        let st = self.build_state(cr, hooks, extra, state).map_err(|mut e| {
            e.phase = Phase::OnDelete;
            e
        })?;
        let data = super::data_map(cr, extra).map_err(|kind| Error {
            phase: Phase::OnDelete,
            path: String::new(),
            field: None,
            kind,
        })?;
        if !self.block_passes(Phase::OnDelete, block, &data)? {
            return Ok(None);
        }
        let mut group = DeleteGroup {
            name: block.name.as_ref().map(|n| n.0.clone()),
            ..DeleteGroup::default()
        };
        group.deletes = st.refs;
        for mut child in st.plan.children {
            child.phase = Phase::OnDelete;
            group.jobs.push(child);
        }
        Ok(Some(group))
    }
}
