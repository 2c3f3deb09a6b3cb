//! `/convert`: ConversionReview v1 for every declared `from → to` path (spec §16.5).

use std::time::Instant;

use kube::core::Status;
use kube::core::conversion::{ConversionRequest, ConversionResponse, ConversionReview};
use serde_json::Value;

use katalog::admission::convert as convert_object;

use katalog::build::EngineRender;

use crate::metrics::Metrics;
use crate::{HandlerContext, Plan};

/// A failed review for `request` (all or nothing: no converted objects).
fn failure(request: ConversionRequest, message: String) -> ConversionReview {
    ConversionResponse::for_request(request)
        .failure(Status::failure(&message, "Invalid"))
        .into_review()
}

/// The review answering a body that could not be read (no uid to copy).
fn unreadable(message: String) -> ConversionReview {
    ConversionResponse::invalid(Status::failure(&message, "BadRequest").with_code(400))
        .into_review()
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Converts every object of a ConversionReview body; one failure fails the whole review
/// (the API server requires all or nothing).
///
/// # Errors
/// A body that is not a ConversionReview with a request: a failed review saying why.
pub fn convert(
    context: &HandlerContext,
    body: &[u8],
) -> Result<ConversionReview, ConversionReview> {
    review(&context.plan, &context.render, &context.metrics, body)
}

/// [`convert`] on its parts: the plan's conversions, the template engine and the metrics
/// (no client, no I/O).
///
/// # Errors
/// A body that is not a ConversionReview with a request: a failed review saying why.
pub fn review(
    plan: &Plan,
    render: &EngineRender,
    metrics: &Metrics,
    body: &[u8],
) -> Result<ConversionReview, ConversionReview> {
    let review = serde_json::from_slice::<ConversionReview>(body)
        .map_err(|e| unreadable(format!("the body is not a ConversionReview: {e}")))?;
    let req = ConversionRequest::from_review(review)
        .map_err(|_| unreadable("the ConversionReview has no request".into()))?;
    let _active = metrics.conversion_active();
    let mut out = Vec::with_capacity(req.objects.len());
    let to = req
        .desired_api_version
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let group = group_of(&req.desired_api_version).to_owned();
    for object in &req.objects {
        let started = Instant::now();
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let from_api = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let from = from_api.rsplit('/').next().unwrap_or_default();
        let target = plan
            .target_by_kind(&group, kind)
            .and_then(|t| t.conversion.as_ref());
        let result = match target {
            None => Err(format!(
                "kind {kind:?} of {group} has no declared conversion"
            )),
            Some(c) => convert_object(c, object, &req.desired_api_version, render)
                .map_err(|e| crate::chain(&e)),
        };
        metrics.conversion_done(kind, from, &to, result.is_ok(), started.elapsed());
        match result {
            Ok(v) => out.push(v),
            Err(message) => {
                let name = object
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let message = format!("converting {kind} {name}: {message}");
                return Ok(failure(req, message));
            }
        }
    }
    Ok(ConversionResponse::for_request(req)
        .success(out)
        .into_review())
}
