//! The converge pass of a reconcile: render the plan, read what the CR owns, apply each
//! child in plan order, delete what is no longer declared.

use std::borrow::Cow;
use std::collections::HashSet;

use katalog::build::remote::Literal;
use katalog::build::{ApplyPlan, Builder, Hooks, Owner, hooks_of};
use katalog::resources::Kind;
use kube::api::DynamicObject;
use serde_json::{Map, Value};

use super::enrich::ChildrenView;
use super::{Converged, Error, Reconciler, apply, prune, secrets, workload_scale};
use crate::discovery::Resolved;
use crate::outbound::remote::{Remote, Reply, Verdict};

impl Reconciler {
    /// Renders, applies, deletes what is no longer declared.
    pub(super) async fn converge(
        &self,
        cr: &DynamicObject,
        cr_json: &Value,
        extra: &Map<String, Value>,
    ) -> Result<Converged, Error> {
        // `default: false`: the templates do not run (a remote reconciler replaces them).
        let hooks = if self.crd.settings.default {
            hooks_of(&self.crd)
        } else {
            Hooks::default()
        };
        let mut plan = self
            .builder()
            .build(cr_json, hooks, extra)
            .map_err(Error::RenderFailed)?;
        let mut remote_status = None;
        let mut remote_requeue = None;
        if let Some(remote) = &self.remote {
            let reply = self.ask_remote(remote, cr, cr_json, extra).await?;
            plan.children.extend(reply.0.children);
            plan.deletions.extend(reply.0.deletions);
            remote_status = reply.1.status;
            if let Verdict::Requeue(d) = reply.1.verdict {
                remote_requeue = Some(d);
            }
        }
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
        let unowned = plan.children.iter().zip(&kinds).any(|(c, k)| {
            !apply_owner.can_own(apply::object_ref(c, k.namespaced).namespace.as_deref())
        });
        if unowned {
            // The garbage collector cannot delete such a child: the delete path must.
            self.ensure_cleanup(cr).await?;
        }
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
            if let Some((from, to)) = workload_scale::settle(child, &mut object, live, self.now()) {
                tracing::info!(object = %r, from, to, "autoscale: replicas changed");
                if child.apply == katalog::build::Apply::CreateIfAbsent && live.is_some() {
                    let manager = &self.config.field_manager;
                    workload_scale::patch(&self.client, kind, &r, &object, manager)
                        .await
                        .map_err(|source| {
                            let (path, object) = (child.path.clone(), r.clone());
                            let e = apply::Error::ApplyFailed {
                                path,
                                object,
                                source,
                            };
                            Error::ApplyFailed(Box::new(e))
                        })?;
                    wrote = true;
                }
            }
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
        Ok(Converged {
            children,
            wrote,
            status: remote_status,
            requeue: remote_requeue,
        })
    }

    /// Calls the remote reconciler and builds its `resources` as template children are
    /// built; refuses the whole answer when one kind is outside `managedResources`.
    async fn ask_remote(
        &self,
        remote: &Remote,
        cr: &DynamicObject,
        cr_json: &Value,
        extra: &Map<String, Value>,
    ) -> Result<(ApplyPlan, Reply), Error> {
        let object = self.cr_json(cr);
        let key = crate::outbound::key_of(&object);
        let reply = remote
            .call(&key, &object, cr_json)
            .await
            .map_err(Error::RemoteFailed)?;
        let hooks = Hooks {
            on_create: None,
            on_reconcile: Some(&reply.resources),
        };
        let plan = Builder::new(&Literal)
            .profiles(&self.profiles)
            .for_crd(&self.crd)
            .now(self.now())
            .build(cr_json, hooks, extra)
            .map_err(|e| {
                Error::RemoteFailed(format!(
                    "building its resources: {}",
                    crate::error_chain(&e)
                ))
            })?;
        if let Some(r) = plan
            .children
            .iter()
            .map(katalog::build::Child::object_ref)
            .find(|r| !remote.permits(&r.api_version, &r.kind))
        {
            return Err(Error::RemoteFailed(format!(
                "{r} ({}) is not among its managedResources; nothing was applied",
                r.api_version
            )));
        }
        Ok((plan, reply))
    }

    pub(super) async fn resolve(&self, api_version: &str, kind: &str) -> Result<Resolved, Error> {
        self.discovery
            .resolve(api_version, kind)
            .await
            .map_err(Error::KindUnknown)
    }
}
