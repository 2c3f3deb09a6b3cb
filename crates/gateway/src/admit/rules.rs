//! `/validate` and `/mutate`: a CRD's validation and mutation rules, evaluated by
//! [`katalog::admission`], the same code the runtime runs at reconcile time.

use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde_json::Value;

use katalog::admission::{self, Input, Siblings, Stage};
use katalog::build::EngineRender;

use super::{Request, Response, allow, deny, object_value, with_patch, with_warnings};
use crate::HandlerContext;
use crate::plan::Target;
use kube::core::admission::Operation;

/// Which rules a route runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/validate`: mutation applied in memory, then validation; never patches.
    Validate,
    /// `/mutate`: mutation only; answers with the JSON patch.
    Mutate,
}

impl Route {
    /// The places of the `external:` calls this route makes.
    fn places(self) -> &'static [katalog::model::external::Place] {
        match self {
            Route::Validate => super::external::VALIDATE_PLACES,
            Route::Mutate => super::external::MUTATE_PLACES,
        }
    }
}

/// Answers one admission request on `route`.
pub async fn admit(context: &HandlerContext, req: &Request, route: Route) -> Response {
    let Some(target) = context
        .plan
        .target(&req.resource.group, &req.resource.resource)
    else {
        return allow(req);
    };
    let siblings = match route {
        Route::Validate if needs_object(req) => siblings(context, target, req).await,
        _ => None,
    };
    let external = match context.calls.get(&target.crd.name) {
        Some(calls) if needs_object(req) => {
            match super::external::run(calls, req, route.places()).await {
                Ok(results) => Some(results),
                Err(halted) => return deny(req, halted.to_string()),
            }
        }
        _ => None,
    };
    decide_with(
        target,
        &context.render,
        req,
        route,
        siblings.as_ref(),
        external,
    )
}

/// Whether rules run on `req` at all: CREATE and UPDATE with an object.
fn needs_object(req: &Request) -> bool {
    !matches!(req.operation, Operation::Delete | Operation::Connect) && req.object.is_some()
}

/// Evaluates `target`'s rules on `req` with the `unique` rules' `siblings` (none: unique
/// passes). Pure: no I/O, the same answer for the same input.
pub fn decide(
    target: &Target,
    render: &EngineRender,
    req: &Request,
    route: Route,
    siblings: Option<&Siblings>,
) -> Response {
    decide_with(target, render, req, route, siblings, None)
}

/// [`decide`] with the results of the CRD's external calls, read by rules and templates as
/// `.external.<name>`.
pub fn decide_with(
    target: &Target,
    render: &EngineRender,
    req: &Request,
    route: Route,
    siblings: Option<&Siblings>,
    external: Option<Value>,
) -> Response {
    let Some(object) = req.object.as_ref().filter(|_| needs_object(req)) else {
        return allow(req);
    };
    let mut object = object_value(object);
    if let (Some(results), Some(map)) = (external, object.as_object_mut()) {
        map.insert("external".into(), results);
    }
    let object = &object;
    let mut input = Input::new(object, render, Stage::Admission);
    if let Some(s) = siblings {
        input = input.with_siblings(s);
    }
    let admitted = match route {
        Route::Validate => admission::admit(&target.crd, &input, true, true),
        Route::Mutate => admission::admit(&target.crd, &input, true, false),
    };
    if let Some(first) = admitted.mutated.errors.first() {
        return deny(req, first.message.clone());
    }
    let warnings = warnings(&admitted.verdict);
    if !admitted.verdict.is_allowed() {
        return with_warnings(deny(req, admitted.verdict.message()), warnings);
    }
    let r = with_warnings(allow(req), warnings);
    if route == Route::Validate {
        return r;
    }
    match with_patch(r, &admitted.mutated.patch) {
        Ok(r) => r,
        Err(e) => deny(
            req,
            format!("the mutation's JSON patch could not be encoded: {e}"),
        ),
    }
}

fn warnings(v: &admission::Verdict) -> Vec<String> {
    v.warnings.iter().map(|w| w.message.clone()).collect()
}

/// For `unique` rules: the same fields of every other CR of the CRD, listed live. `None`
/// (unique passes) when there are no unique rules or the list fails.
async fn siblings(context: &HandlerContext, target: &Target, req: &Request) -> Option<Siblings> {
    let rules = &target.crd.entry.validation.as_ref()?.rules;
    let fields = admission::unique_fields(rules);
    if fields.is_empty() {
        return None;
    }
    let gvk = &target.crd.gvk;
    let ar = ApiResource {
        group: gvk.group.clone(),
        version: gvk.version.clone(),
        api_version: gvk.api_version(),
        kind: gvk.kind.clone(),
        plural: target.crd.plural.clone(),
    };
    let api: Api<DynamicObject> = Api::all_with(context.client.clone(), &ar);
    let list = match api.list(&ListParams::default()).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(crd = %target.crd.name, error = %e, "listing CRs for unique rules failed; unique passes");
            return None;
        }
    };
    let mut out = Siblings::new();
    for field in fields {
        let values = list
            .items
            .iter()
            .filter(|o| {
                !(o.metadata.name.as_deref() == Some(req.name.as_str())
                    && o.metadata.namespace == req.namespace)
            })
            .filter_map(|o| {
                let v = serde_json::to_value(o).ok()?;
                katalog::condition::lookup(&v, field).cloned()
            })
            .filter(|v: &Value| !v.is_null())
            .collect();
        out.insert(field.to_owned(), values);
    }
    Some(out)
}
