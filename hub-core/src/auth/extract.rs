//! The `Principal` extractor: every handler that takes a `Principal` is protected.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::{AuthError, Principal};
use crate::error::HubError;
use crate::hub::Hub;

/// The bearer token of a request, if any.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthError::Missing)?;
    let value = value
        .to_str()
        .map_err(|_| AuthError::Invalid("authorization header is not ASCII".into()))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(AuthError::Invalid("expected 'Bearer <token>'".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Invalid("expected 'Bearer <token>'".into()));
    }
    Ok(token.trim())
}

impl FromRequestParts<Hub> for Principal {
    type Rejection = HubError;

    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Self, HubError> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(p.clone());
        }
        let token = bearer_token(&parts.headers).map_err(HubError::Unauthorized)?;
        let principal = hub.verifier().verify(token).await.map_err(|e| match e {
            AuthError::Unavailable(m) => HubError::Unavailable(m),
            other => HubError::Unauthorized(other),
        })?;
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}
