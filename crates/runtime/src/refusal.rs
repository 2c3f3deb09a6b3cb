//! What an API server's refusal says, read from the structured `Status` it answered with
//! (reason, code, causes) anywhere in an error's chain — never from its message text.

use kube::core::Status;

/// The API server's `Status` somewhere in `error`'s chain of causes.
pub fn status_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Status> {
    let mut at = Some(error);
    while let Some(e) = at {
        if let Some(status) = e.downcast_ref::<Status>() {
            return Some(status);
        }
        if let Some(kube::Error::Api(status)) = e.downcast_ref::<kube::Error>() {
            return Some(status);
        }
        at = e.source();
    }
    None
}

/// Whether the API server refused a write because the object's namespace is being deleted
/// (403 with the cause `NamespaceTerminating`): nothing can be created there any more.
pub fn is_namespace_terminating(error: &(dyn std::error::Error + 'static)) -> bool {
    status_in(error).is_some_and(namespace_terminating)
}

/// Whether the API server answered 404 Not Found.
pub fn is_not_found(error: &(dyn std::error::Error + 'static)) -> bool {
    status_in(error).is_some_and(Status::is_not_found)
}

fn namespace_terminating(status: &Status) -> bool {
    status.is_forbidden()
        && status
            .details
            .as_ref()
            .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::response::{StatusCause, StatusDetails};

    fn terminating() -> Status {
        Status::failure("forbidden: namespace x is being terminated", "Forbidden")
            .with_code(403)
            .with_details(StatusDetails {
                name: "c".into(),
                group: String::new(),
                kind: "configmaps".into(),
                uid: String::new(),
                causes: vec![StatusCause {
                    reason: "NamespaceTerminating".into(),
                    message: "namespace x is being terminated".into(),
                    field: "metadata.namespace".into(),
                }],
                retry_after_seconds: 0,
            })
    }

    #[derive(Debug, thiserror::Error)]
    #[error("writing a child")]
    struct Wrapper(#[source] kube::Error);

    #[test]
    fn a_terminating_namespace_is_read_from_the_cause_through_the_chain() {
        let wrapped = Wrapper(kube::Error::Api(terminating().boxed()));
        assert!(is_namespace_terminating(&wrapped));
        assert!(!is_not_found(&wrapped));
    }

    #[test]
    fn a_plain_forbidden_or_a_message_alone_is_not_a_terminating_namespace() {
        let forbidden = Status::failure("namespace x is being terminated", "Forbidden")
            .with_code(403)
            .boxed();
        assert!(!is_namespace_terminating(&Wrapper(kube::Error::Api(
            forbidden
        ))));
        let not_found = Status::failure("not found", "NotFound")
            .with_code(404)
            .boxed();
        let wrapped = Wrapper(kube::Error::Api(not_found));
        assert!(is_not_found(&wrapped));
        assert!(!is_namespace_terminating(&wrapped));
    }
}
