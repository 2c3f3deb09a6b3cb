//! AdmissionReview handling: the request and response shapes ([`Request`], [`Response`]),
//! and one module per route family: [`rules`] (`/validate`, `/mutate`) and [`protect`]
//! (`/deletion-protection`, `/namespace-protection`, `/strict-mode-protection`).

pub mod protect;
pub mod rules;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use katalog::admission::PatchOp;

/// Group, version and kind (or resource) as an AdmissionRequest spells them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GroupVersion {
    /// API group (`""` for core).
    #[serde(default)]
    pub group: String,
    /// Version.
    #[serde(default)]
    pub version: String,
    /// Kind (in `kind`).
    #[serde(default)]
    pub kind: String,
    /// Plural resource (in `resource`).
    #[serde(default)]
    pub resource: String,
}

/// The fields of an AdmissionRequest the gateway reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// Copied to the response.
    pub uid: String,
    /// The object's type.
    pub kind: GroupVersion,
    /// The resource.
    pub resource: GroupVersion,
    /// The object's name.
    #[serde(default)]
    pub name: String,
    /// The object's namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// CREATE, UPDATE, DELETE or CONNECT.
    pub operation: String,
    /// The new object (absent on DELETE).
    #[serde(default)]
    pub object: Option<Value>,
    /// The existing object (UPDATE and DELETE).
    #[serde(default)]
    pub old_object: Option<Value>,
}

/// An `admission.k8s.io/v1` AdmissionReview as received.
#[derive(Debug, Clone, Deserialize)]
pub struct Review {
    /// The request.
    pub request: Option<Request>,
}

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

/// Reads a request body.
///
/// # Errors
/// A body that is not an AdmissionReview with a request.
pub fn parse(body: &[u8]) -> Result<Request, Error> {
    let review: Review = serde_json::from_slice(body).map_err(Error::NotAReview)?;
    review.request.ok_or(Error::NoRequest)
}

/// An AdmissionResponse under construction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Response {
    /// The request's uid.
    pub uid: String,
    /// Admitted or not.
    pub allowed: bool,
    /// Why not (or empty).
    pub message: String,
    /// HTTP-like status code of a denial (403).
    pub code: u16,
    /// Warnings shown to the client.
    pub warnings: Vec<String>,
    /// JSON patch of a mutation.
    pub patch: Vec<PatchOp>,
}

impl Response {
    /// Allowed, with nothing to add.
    pub fn allow(uid: &str) -> Self {
        Response {
            uid: uid.to_owned(),
            allowed: true,
            code: 200,
            ..Response::default()
        }
    }

    /// Denied with `message`.
    pub fn deny(uid: &str, message: impl Into<String>) -> Self {
        Response {
            uid: uid.to_owned(),
            allowed: false,
            message: message.into(),
            code: 403,
            ..Response::default()
        }
    }

    /// The response as an AdmissionReview.
    pub fn into_review(self) -> Value {
        let mut response = json!({"uid": self.uid, "allowed": self.allowed});
        if !self.allowed {
            response["status"] = json!({
                "code": self.code,
                "message": self.message,
                "reason": if self.code == 400 { "BadRequest" } else { "Forbidden" },
            });
        }
        if !self.warnings.is_empty() {
            response["warnings"] = json!(self.warnings);
        }
        if !self.patch.is_empty() {
            let bytes = serde_json::to_vec(&self.patch).unwrap_or_default();
            response["patchType"] = json!("JSONPatch");
            response["patch"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
        }
        json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": response,
        })
    }
}

/// The AdmissionReview answering a body that could not be read.
pub fn invalid(e: &Error) -> Value {
    Response {
        code: 400,
        ..Response::deny("", crate::chain(e))
    }
    .into_review()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denial_carries_status_and_a_patch_is_base64_json() {
        let r = Response::deny("u1", "no").into_review();
        assert_eq!(r["response"]["allowed"], false);
        assert_eq!(r["response"]["status"]["message"], "no");
        assert_eq!(r["response"]["status"]["code"], 403);
        let mut ok = Response::allow("u2");
        ok.patch.push(PatchOp {
            op: "add",
            path: "/spec/a".into(),
            value: json!(1),
        });
        ok.warnings.push("w".into());
        let r = ok.into_review();
        assert_eq!(r["response"]["patchType"], "JSONPatch");
        let patch = base64::engine::general_purpose::STANDARD
            .decode(r["response"]["patch"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&patch).unwrap(),
            json!([{"op": "add", "path": "/spec/a", "value": 1}])
        );
        assert_eq!(r["response"]["warnings"], json!(["w"]));
        assert!(r["response"].get("status").is_none());
    }

    #[test]
    fn bodies_without_a_request_are_invalid() {
        assert!(matches!(parse(b"{}"), Err(Error::NoRequest)));
        assert!(matches!(parse(b"nope"), Err(Error::NotAReview(_))));
        let r = invalid(&Error::NoRequest);
        assert_eq!(r["response"]["status"]["code"], 400);
    }
}
