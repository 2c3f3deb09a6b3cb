//! AdmissionReview handling on kube-core's wire types ([`Request`] is
//! `kube::core::admission::AdmissionRequest`, answers are
//! `kube::core::admission::AdmissionResponse`), and one module per route family: [`rules`]
//! (`/validate`, `/mutate`) and [`protect`] (`/deletion-protection`,
//! `/namespace-protection`, `/strict-mode-protection`).

pub mod external;
pub mod protect;
pub mod rules;

use kube::core::admission::{
    AdmissionRequest, AdmissionResponse, AdmissionReview, META_API_VERSION_V1, META_KIND,
};
use kube::core::{DynamicObject, TypeMeta};
use serde_json::Value;

use katalog::admission::PatchOp;

/// An AdmissionRequest as received (kube-core's type over untyped objects).
pub type Request = AdmissionRequest<DynamicObject>;

/// An AdmissionResponse (kube-core's type).
pub type Response = AdmissionResponse;

/// The AdmissionReview answering a request.
pub type Review = AdmissionReview<DynamicObject>;

/// Why a body is not an AdmissionReview the gateway can answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not JSON of the AdmissionReview shape.
    #[error("the body is not an AdmissionReview")]
    NotAReview(#[source] serde_json::Error),
    /// The review has no request.
    #[error("the AdmissionReview has no request")]
    NoRequest,
}

/// Reads a request body. The answer is always an `admission.k8s.io/v1` AdmissionReview
/// (the only version the gateway registers), whatever the body claims.
///
/// # Errors
/// A body that is not an AdmissionReview with a request.
pub fn parse(body: &[u8]) -> Result<Request, Error> {
    let review: Review = serde_json::from_slice(body).map_err(Error::NotAReview)?;
    let mut req = review.request.ok_or(Error::NoRequest)?;
    req.types = v1();
    Ok(req)
}

fn v1() -> TypeMeta {
    TypeMeta {
        api_version: META_API_VERSION_V1.to_owned(),
        kind: META_KIND.to_owned(),
    }
}

/// Admits `req` with nothing to add.
pub fn allow(req: &Request) -> Response {
    AdmissionResponse::from(req)
}

/// Denies `req` with `message` (code 403, reason `Forbidden`).
pub fn deny(req: &Request, message: impl Into<String>) -> Response {
    let mut r = AdmissionResponse::from(req).deny(message.into());
    r.result.code = 403;
    r.result.reason = "Forbidden".into();
    r
}

/// Adds warnings shown to the client (none: unchanged).
pub fn with_warnings(mut r: Response, warnings: Vec<String>) -> Response {
    if !warnings.is_empty() {
        r.warnings = Some(warnings);
    }
    r
}

/// Adds a JSON patch (an empty one: unchanged).
///
/// # Errors
/// A patch kube's JSON Patch type cannot hold (a path that is not a JSON pointer).
pub fn with_patch(r: Response, patch: &[PatchOp]) -> Result<Response, String> {
    if patch.is_empty() {
        return Ok(r);
    }
    let value = serde_json::to_value(patch).map_err(|e| e.to_string())?;
    let patch: json_patch::Patch = serde_json::from_value(value).map_err(|e| e.to_string())?;
    r.with_patch(patch).map_err(|e| e.to_string())
}

/// The object of a request as JSON (for rule evaluation).
pub fn object_value(object: &DynamicObject) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

/// The AdmissionReview answering a body that could not be read: not allowed, code 400,
/// reason `BadRequest`, the message saying why.
pub fn invalid(e: &Error) -> Review {
    let mut r = AdmissionResponse::invalid(crate::chain(e));
    r.result.code = 400;
    r.result.reason = "BadRequest".into();
    r.into_review()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// An AdmissionRequest from `v`, with the fields the API server always sends (versions,
    /// userInfo) filled in where `v` leaves them out.
    pub(crate) fn request(mut v: Value) -> Request {
        for key in ["kind", "resource"] {
            let gv = v[key].as_object_mut().expect("kind and resource");
            gv.entry("group").or_insert(json!(""));
            gv.entry("version").or_insert(json!("v1"));
        }
        v["kind"]
            .as_object_mut()
            .unwrap()
            .entry("kind")
            .or_insert(json!(""));
        v.as_object_mut()
            .unwrap()
            .entry("userInfo")
            .or_insert(json!({"username": "test"}));
        let review =
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": v});
        parse(&serde_json::to_vec(&review).unwrap()).unwrap()
    }

    fn review(r: Response) -> Value {
        serde_json::to_value(r.into_review()).unwrap()
    }

    #[test]
    fn a_denial_carries_status_and_a_patch_is_json_patch_bytes() {
        let req = request(json!({
            "uid": "u1", "operation": "CREATE",
            "kind": {"kind": "ConfigMap"}, "resource": {"resource": "configmaps"},
        }));
        let r = review(deny(&req, "no"));
        assert_eq!(r["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(r["kind"], "AdmissionReview");
        assert_eq!(r["response"]["uid"], "u1");
        assert_eq!(r["response"]["allowed"], false);
        assert_eq!(r["response"]["status"]["message"], "no");
        assert_eq!(r["response"]["status"]["code"], 403);
        let patch = [PatchOp {
            op: "add",
            path: "/spec/a".into(),
            value: json!(1),
        }];
        let ok = with_patch(with_warnings(allow(&req), vec!["w".into()]), &patch).unwrap();
        let r = review(ok);
        assert_eq!(r["response"]["allowed"], true);
        assert_eq!(r["response"]["patchType"], "JSONPatch");
        // kube-core sends the bytes as a JSON array of numbers, which the API server's
        // decoder reads as []byte (the admission test through the API server shows it).
        let patch: Vec<u8> = serde_json::from_value(r["response"]["patch"].clone()).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&patch).unwrap(),
            json!([{"op": "add", "path": "/spec/a", "value": 1}])
        );
        assert_eq!(r["response"]["warnings"], json!(["w"]));
        let plain = review(allow(&req));
        assert!(plain["response"].get("patch").is_none(), "{plain}");
        assert!(plain["response"].get("warnings").is_none(), "{plain}");
    }

    #[test]
    fn bodies_without_a_request_are_invalid() {
        assert!(matches!(parse(b"{}"), Err(Error::NotAReview(_))));
        assert!(matches!(
            parse(br#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}"#),
            Err(Error::NoRequest)
        ));
        assert!(matches!(parse(b"nope"), Err(Error::NotAReview(_))));
        let r = serde_json::to_value(invalid(&Error::NoRequest)).unwrap();
        assert_eq!(r["kind"], "AdmissionReview");
        assert_eq!(r["response"]["allowed"], false);
        assert_eq!(r["response"]["status"]["code"], 400);
        assert_eq!(r["response"]["status"]["reason"], "BadRequest");
    }

    #[test]
    fn a_request_claiming_another_version_is_answered_in_v1() {
        let body = json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "Other", "request": {
            "uid": "u", "operation": "DELETE", "userInfo": {},
            "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"},
        }});
        let req = parse(&serde_json::to_vec(&body).unwrap()).unwrap();
        let r = review(allow(&req));
        assert_eq!(r["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(r["kind"], "AdmissionReview");
    }

    #[test]
    fn malformed_reviews_are_errors_not_panics() {
        let envelope = |request: &str| {
            format!(
                r#"{{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {request}}}"#
            )
        };
        let valid = r#"{"uid": "u", "operation": "CREATE", "userInfo": {},
            "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"}, "object": OBJ}"#;
        // Nesting far past serde_json's recursion limit, in the object and in the envelope.
        let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
        let deep_object = format!("{{\"metadata\": {{\"name\": \"x\"}}, \"spec\": {deep}}}");
        for body in [
            envelope(&valid.replace("OBJ", &deep_object)),
            envelope(&deep),
            envelope(&valid.replace("CREATE", "EXPLODE").replace("OBJ", "null")),
            envelope(
                &valid
                    .replace("\"uid\": \"u\"", "\"uid\": 7")
                    .replace("OBJ", "null"),
            ),
            envelope(&valid.replace("OBJ", "[1, 2]")),
            envelope(&valid.replace("OBJ", r#"{"metadata": {"labels": {"a": 1}}}"#)),
            envelope("\"just a string\""),
            "\u{feff}{}".to_owned(),
            String::new(),
        ] {
            match parse(body.as_bytes()) {
                Err(e) => {
                    let r = serde_json::to_value(invalid(&e)).unwrap();
                    assert_eq!(r["response"]["status"]["code"], 400, "{r}");
                }
                Ok(req) => panic!("read as a request: {req:?}"),
            }
        }
        // A large but flat object is read (the body limit, not the parser, bounds size).
        let big = format!(
            r#"{{"metadata": {{"name": "x"}}, "data": {{"k": "{}"}}}}"#,
            "x".repeat(3 << 20)
        );
        let req = parse(envelope(&valid.replace("OBJ", &big)).as_bytes()).unwrap();
        assert!(allow(&req).allowed);
    }
}
