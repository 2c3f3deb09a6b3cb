//! The converge pass of a reconcile: render the plan, read what the CR owns, apply each
//! child in plan order, delete what is no longer declared.

use std::borrow::Cow;
use std::collections::HashSet;

use katalog::build::{Owner, hooks_of};
use katalog::resources::Kind;
use kube::api::DynamicObject;
use serde_json::{Map, Value};

use super::enrich::ChildrenView;
use super::{Converged, Error, Reconciler, apply, prune, secrets};
use crate::discovery::Resolved;

impl Reconciler {
    /// Renders, applies, deletes what is no longer declared.
    pub(super) async fn converge(
        &self,
        cr: &DynamicObject,
        cr_json: &Value,
        extra: &Map<String, Value>,
    ) -> Result<Converged, Error> {
        let hooks = hooks_of(&self.crd);
        let plan = self
            .builder()
            .build(cr_json, hooks, extra)
            .map_err(Error::RenderFailed)?;
        let uid = cr.metadata.uid.clone().unwrap_or_default();
        let owner = Owner::of(cr_json);
        let cr_namespace = cr
            .metadata
            .namespace
            .clone()
            .filter(|_| self.crd.namespaced);

        // Where to look for what the CR owns: every child kind in the CR's namespace (or
        // cluster-wide when cluster-scoped), plus wherever this plan puts children. A child
        // whose rendered namespace changed lives on in the old one until pruned, so when the
        // box's cache answers cluster-wide questions (it watches every namespace; no request
        // is made), every kind is looked for in all namespaces. Without such a cache (a box
        // restricted to one `namespace:`, whose RBAC may not allow cluster-wide LISTs), a
        // moved child's old copy stays until the CR is deleted.
        let cache = self.child_cache();
        let everywhere = cache.is_some_and(|c| c.covers_all_namespaces());
        let mut scopes: Vec<(Resolved, Option<String>)> = Vec::new();
        let scope_of = |kind: &Resolved, ns: Option<String>| {
            (
                kind.clone(),
                if kind.namespaced && !everywhere {
                    ns
                } else {
                    None
                },
            )
        };
        for (v, k) in &self.child_kinds {
            let kind = self.resolve(v, k).await?;
            scopes.push(scope_of(&kind, cr_namespace.clone()));
        }
        let mut kinds = Vec::with_capacity(plan.children.len());
        for child in &plan.children {
            let r = child.object_ref();
            let kind = self.resolve(&r.api_version, &r.kind).await?;
            scopes.push(scope_of(&kind, r.namespace.clone()));
            kinds.push(kind);
        }
        for r in &plan.deletions {
            let kind = self.resolve(&r.api_version, &r.kind).await?;
            scopes.push(scope_of(&kind, r.namespace.clone()));
        }
        let observed = prune::observe(&self.client, cache, &scopes, &owner.label, &uid)
            .await
            .map_err(Error::OwnedFailed)?;

        let mut wrote = false;
        let mut children = ChildrenView::default();
        let mut declared = HashSet::new();
        let apply_owner = apply::Owner {
            cr: cr_json,
            uid: &uid,
            namespace: cr_namespace.as_deref(),
        };
        let writer = apply::Writer {
            client: &self.client,
            manager: &self.config.field_manager,
            memo: &self.memo,
            uid: &uid,
        };
        for (child, kind) in plan.children.iter().zip(&kinds) {
            let r = apply::object_ref(child, kind.namespaced);
            let mut object = apply::prepare(child, kind.namespaced, apply_owner);
            let live = observed.objects.get(&r).map(|(_, o)| o);
            let mut child = Cow::Borrowed(child);
            if child.secret.is_some()
                && secrets::complete(&self.client, &child, &mut object, live, self.now())
                    .await
                    .map_err(|e| Error::SecretFailed(Box::new(e)))?
            {
                // Due for rotation: written now even when created only once.
                child.to_mut().apply = katalog::build::Apply::Converge;
            }
            let child = child.as_ref();
            let (stored, changed) = writer
                .write(kind, child, r.clone(), object, live)
                .await
                .map_err(|e| Error::ApplyFailed(Box::new(e)))?;
            wrote |= changed;
            if changed && live.is_none() && child.kind == Kind::Custom {
                apply::initial_status(&self.client, kind, child, &r)
                    .await
                    .map_err(|e| Error::ApplyFailed(Box::new(e)))?;
            }
            if let Some(stored) = stored {
                let value = serde_json::to_value(&stored).unwrap_or(Value::Null);
                children.add(
                    &kind.resource.kind,
                    &kind.resource.plural,
                    child.kind == Kind::Custom,
                    value,
                );
            }
            declared.insert(r);
        }

        let doomed = prune::doomed(
            &observed,
            &declared,
            &plan.deletions,
            &self.config.field_manager,
        );
        let deleted = prune::delete_all(&self.client, &observed, &doomed)
            .await
            .map_err(Error::OwnedFailed)?;
        for r in &doomed {
            self.memo.forget(&uid, r);
        }
        wrote |= deleted > 0;
        Ok(Converged { children, wrote })
    }

    pub(super) async fn resolve(&self, api_version: &str, kind: &str) -> Result<Resolved, Error> {
        self.discovery
            .resolve(api_version, kind)
            .await
            .map_err(Error::KindUnknown)
    }
}
