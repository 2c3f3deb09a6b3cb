//! `/validate` and `/mutate`: a CRD's validation and mutation rules, evaluated by
//! [`katalog::admission`], the same code the runtime runs at reconcile time.

use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde_json::Value;

use katalog::admission::{self, Input, Siblings, Stage};

use super::{Request, Response};
use crate::HandlerContext;
use crate::plan::Target;

/// Which rules a route runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/validate`: mutation applied in memory, then validation; never patches.
    Validate,
    /// `/mutate`: mutation only; answers with the JSON patch.
    Mutate,
}

/// Answers one admission request on `route`.
pub async fn admit(context: &HandlerContext, req: &Request, route: Route) -> Response {
    if req.operation == "DELETE" || req.operation == "CONNECT" {
        return Response::allow(&req.uid);
    }
    let Some(target) = context
        .plan
        .target(&req.resource.group, &req.resource.resource)
    else {
        return Response::allow(&req.uid);
    };
    let Some(object) = &req.object else {
        return Response::allow(&req.uid);
    };
    let siblings = match route {
        Route::Validate => siblings(context, target, req).await,
        Route::Mutate => None,
    };
    let mut input = Input::new(object, &context.render, Stage::Admission);
    if let Some(s) = &siblings {
        input = input.with_siblings(s);
    }
    let admitted = match route {
        Route::Validate => admission::admit(&target.crd, &input, true, true),
        Route::Mutate => admission::admit(&target.crd, &input, true, false),
    };
    if let Some(first) = admitted.mutated.errors.first() {
        return Response::deny(&req.uid, first.message.clone());
    }
    if !admitted.verdict.is_allowed() {
        let mut r = Response::deny(&req.uid, admitted.verdict.message());
        r.warnings = warnings(&admitted.verdict);
        return r;
    }
    let mut r = Response::allow(&req.uid);
    r.warnings = warnings(&admitted.verdict);
    if route == Route::Mutate {
        r.patch = admitted.mutated.patch;
    }
    r
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
