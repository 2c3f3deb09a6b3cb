//! [`HandlerContext`]: what every request handler of both servers reads.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use katalog::build::EngineRender;

use crate::{Plan, metrics, notify, notify_access};

/// What every request handler reads: the plan, the template engine, a client, the metrics, the
/// notifier and whether the webhooks are registered. The servers share it as
/// `Arc<HandlerContext>`.
pub struct HandlerContext {
    /// What the Katalog declares.
    pub plan: Plan,
    /// Renders rule messages, values and conversion templates.
    pub render: Arc<EngineRender>,
    /// The `validation`/`mutation` external calls of each CRD that declares some, by CRD name.
    pub calls: BTreeMap<String, Arc<runtime::outbound::Calls>>,
    /// For `unique` sibling lists.
    pub client: kube::Client,
    /// Counters and histograms.
    pub metrics: metrics::Metrics,
    /// `/notify` routing.
    pub notifier: notify::Notifier,
    /// Who may post to `/notify`.
    pub notify_access: notify_access::Access,
    /// Set once webhooks are registered.
    pub ready: AtomicBool,
}

impl std::fmt::Debug for HandlerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerContext")
            .field("katalog", &self.plan.katalog)
            .finish_non_exhaustive()
    }
}
