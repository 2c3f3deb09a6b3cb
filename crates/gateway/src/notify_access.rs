//! Who may `POST /notify`: anyone on a loopback-bound gateway without a token; with a token
//! (`--notify-token`), only requests carrying `Authorization: Bearer <token>`; on any other
//! address without a token, nobody (the route answers 403 saying how to configure one).

use std::net::IpAddr;

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

/// A bearer token. Its `Debug` output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A token; `None` for an empty one (an empty token would admit an empty `Bearer`).
    pub fn new(value: impl Into<String>) -> Option<Token> {
        let value = value.into();
        (!value.is_empty()).then_some(Token(value))
    }

    /// Whether `presented` is this token, compared in time independent of where they differ.
    fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), presented.as_bytes());
        // Only the length can leak; every byte of equal-length inputs is always compared.
        a.len() == b.len()
            && std::hint::black_box(a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y))) == 0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// How `/notify` is guarded, fixed at start from the HTTP bind address and the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Loopback bind, no token: anyone who can reach loopback.
    Open,
    /// A bearer token is required.
    Token(Token),
    /// Non-loopback bind without a token: refused.
    Refused,
}

impl Access {
    /// The access for an HTTP server bound to `bind` with `token`.
    pub fn new(bind: IpAddr, token: Option<Token>) -> Access {
        match token {
            Some(t) => Access::Token(t),
            None if bind.is_loopback() => Access::Open,
            None => Access::Refused,
        }
    }

    /// Admits a request with `headers`, or says why not (status and JSON body).
    ///
    /// # Errors
    /// 403 when refused outright, 401 without the right bearer token.
    pub fn admit(&self, headers: &HeaderMap) -> Result<(), (StatusCode, Value)> {
        match self {
            Access::Open => Ok(()),
            Access::Refused => Err((
                StatusCode::FORBIDDEN,
                json!({"error": "/notify is disabled: the HTTP server is bound to a non-loopback \
                    address and no token is configured; set --notify-token or ORK_NOTIFY_TOKEN \
                    (senders then send Authorization: Bearer <token>)"}),
            )),
            Access::Token(token) => {
                let presented = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "));
                match presented {
                    Some(p) if token.matches(p) => Ok(()),
                    Some(_) => Err((
                        StatusCode::UNAUTHORIZED,
                        json!({"error": "the bearer token is not the gateway's notify token"}),
                    )),
                    None => Err((
                        StatusCode::UNAUTHORIZED,
                        json!({"error": "/notify needs Authorization: Bearer <notify token>"}),
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn loopback_without_a_token_is_open_and_any_other_address_is_refused() {
        let none = HeaderMap::new();
        assert_eq!(Access::new([127, 0, 0, 1].into(), None), Access::Open);
        assert_eq!(Access::new("::1".parse().unwrap(), None), Access::Open);
        assert!(
            Access::new([127, 0, 0, 2].into(), None)
                .admit(&none)
                .is_ok()
        );
        let refused = Access::new([0, 0, 0, 0].into(), None);
        assert_eq!(refused.admit(&none).unwrap_err().0, StatusCode::FORBIDDEN);
        let refused = Access::new([10, 1, 2, 3].into(), None);
        assert_eq!(
            refused.admit(&bearer("Bearer x")).unwrap_err().0,
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn a_token_is_required_wherever_it_is_configured() {
        let t = Token::new("s3cret").unwrap();
        for bind in [IpAddr::from([127, 0, 0, 1]), IpAddr::from([0, 0, 0, 0])] {
            let a = Access::new(bind, Some(t.clone()));
            assert!(a.admit(&bearer("Bearer s3cret")).is_ok());
            for wrong in [
                "Bearer s3cre",
                "Bearer s3cret2",
                "Bearer S3cret",
                "s3cret",
                "Basic s3cret",
            ] {
                assert_eq!(
                    a.admit(&bearer(wrong)).unwrap_err().0,
                    StatusCode::UNAUTHORIZED
                );
            }
            assert_eq!(
                a.admit(&HeaderMap::new()).unwrap_err().0,
                StatusCode::UNAUTHORIZED
            );
        }
        assert!(Token::new("").is_none());
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
    }
}
