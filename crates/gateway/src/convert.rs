//! `/convert`: ConversionReview v1 for every declared `from → to` path (spec §16.5).

use std::time::Instant;

use serde::Deserialize;
use serde_json::{Value, json};

use katalog::admission::convert as convert_object;

use crate::HandlerContext;

/// The request half of a ConversionReview.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    uid: String,
    #[serde(rename = "desiredAPIVersion")]
    desired_api_version: String,
    #[serde(default)]
    objects: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct Review {
    request: Option<Request>,
}

fn review(uid: &str, result: Value, objects: Vec<Value>) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "ConversionReview",
        "response": {"uid": uid, "result": result, "convertedObjects": objects},
    })
}

fn failure(uid: &str, message: String) -> Value {
    review(
        uid,
        json!({"status": "Failure", "message": message}),
        Vec::new(),
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
pub fn convert(context: &HandlerContext, body: &[u8]) -> Result<Value, Value> {
    let req = match serde_json::from_slice::<Review>(body) {
        Ok(Review { request: Some(r) }) => r,
        Ok(Review { request: None }) => {
            return Err(failure("", "the ConversionReview has no request".into()));
        }
        Err(e) => {
            return Err(failure(
                "",
                format!("the body is not a ConversionReview: {e}"),
            ));
        }
    };
    let _active = context.metrics.conversion_active();
    let mut out = Vec::with_capacity(req.objects.len());
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
        let to = req
            .desired_api_version
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let target = context
            .plan
            .target_by_kind(group_of(&req.desired_api_version), kind)
            .and_then(|t| t.conversion.as_ref());
        let result = match target {
            None => Err(format!(
                "kind {kind:?} of {} has no declared conversion",
                group_of(&req.desired_api_version)
            )),
            Some(c) => convert_object(c, object, &req.desired_api_version, &context.render)
                .map_err(|e| crate::chain(&e)),
        };
        context
            .metrics
            .conversion_done(kind, from, to, result.is_ok(), started.elapsed());
        match result {
            Ok(v) => out.push(v),
            Err(message) => {
                let name = object
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                return Ok(failure(
                    &req.uid,
                    format!("converting {kind} {name}: {message}"),
                ));
            }
        }
    }
    Ok(review(&req.uid, json!({"status": "Success"}), out))
}
