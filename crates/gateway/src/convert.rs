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
fn unreadable(message: String) -> Box<ConversionReview> {
    Box::new(
        ConversionResponse::invalid(Status::failure(&message, "BadRequest").with_code(400))
            .into_review(),
    )
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
) -> Result<ConversionReview, Box<ConversionReview>> {
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
) -> Result<ConversionReview, Box<ConversionReview>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::katalog;
    use serde_json::json;

    fn parts() -> (Plan, EngineRender, Metrics) {
        let k = katalog(
            "security:\n  conversion: {enabled: true}",
            "conversion:
  storageVersion: v1
  paths:
    - from: v1alpha1
      to: v1
      spec:
        size: \"{{ .spec.replicas }}\"",
        );
        let engine = katalog::build::engine_for(&k).unwrap();
        (
            Plan::from_katalog(&k),
            EngineRender::new(engine),
            Metrics::default(),
        )
    }

    fn answer(body: &[u8]) -> (bool, Value) {
        let (plan, render, metrics) = parts();
        match review(&plan, &render, &metrics, body) {
            Ok(r) => (true, serde_json::to_value(r).unwrap()),
            Err(r) => (false, serde_json::to_value(r).unwrap()),
        }
    }

    fn request(objects: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
            "request": {"uid": "c1", "desiredAPIVersion": "demo.ork.dev/v1", "objects": objects},
        }))
        .unwrap()
    }

    #[test]
    fn a_declared_path_converts_and_answers_in_v1() {
        let (read, r) = answer(&request(json!([{
            "apiVersion": "demo.ork.dev/v1alpha1", "kind": "App",
            "metadata": {"name": "a"}, "spec": {"replicas": 3},
        }])));
        assert!(read, "{r}");
        assert_eq!(r["apiVersion"], "apiextensions.k8s.io/v1");
        assert_eq!(r["kind"], "ConversionReview");
        assert_eq!(r["response"]["uid"], "c1");
        assert_eq!(r["response"]["result"]["status"], "Success", "{r}");
        assert_eq!(
            r["response"]["convertedObjects"][0]["apiVersion"],
            "demo.ork.dev/v1"
        );
    }

    #[test]
    fn one_unconvertible_object_fails_the_whole_review() {
        let (read, r) = answer(&request(json!([
            {"apiVersion": "demo.ork.dev/v1alpha1", "kind": "App", "metadata": {"name": "a"}},
            {"apiVersion": "demo.ork.dev/v1alpha1", "kind": "Other", "metadata": {"name": "b"}},
        ])));
        assert!(read);
        assert_eq!(r["response"]["uid"], "c1");
        assert_eq!(r["response"]["result"]["status"], "Failure", "{r}");
        assert!(
            r["response"]["result"]["message"]
                .as_str()
                .unwrap()
                .contains("Other b"),
            "{r}"
        );
        assert_eq!(r["response"]["convertedObjects"], json!([]), "{r}");
    }

    #[test]
    fn unreadable_bodies_get_a_failed_review_not_a_panic() {
        let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
        for body in [
            &b"{not json"[..],
            b"{}",
            br#"{"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview"}"#,
            br#"{"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "request": {"uid": 1}}"#,
            deep.as_bytes(),
        ] {
            let (read, r) = answer(body);
            assert!(!read, "{r}");
            assert_eq!(r["kind"], "ConversionReview");
            assert_eq!(r["response"]["result"]["status"], "Failure", "{r}");
            assert_eq!(r["response"]["result"]["code"], 400, "{r}");
        }
    }
}
