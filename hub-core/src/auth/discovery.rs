//! OpenID Provider discovery (`/.well-known/openid-configuration`).

use serde::Deserialize;

use super::AuthError;

/// The parts of an issuer's discovery document hub-core uses.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub jwks_uri: String,
    pub token_endpoint: Option<String>,
    pub authorization_endpoint: Option<String>,
}

/// Fetches `issuer`'s discovery document and checks that it names the same issuer
/// (OpenID Connect Discovery §4.3), so a document cannot redirect trust elsewhere.
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<ProviderMetadata, AuthError> {
    let issuer = issuer.trim_end_matches('/');
    let url = format!("{issuer}/.well-known/openid-configuration");
    let unavailable = |e: reqwest::Error| AuthError::Unavailable(format!("issuer discovery: {e}"));
    let meta: ProviderMetadata = http
        .get(&url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(unavailable)?
        .json()
        .await
        .map_err(unavailable)?;
    if meta.issuer.trim_end_matches('/') != issuer {
        return Err(AuthError::Unavailable(format!(
            "issuer discovery: document names issuer {} instead of {issuer}",
            meta.issuer
        )));
    }
    Ok(meta)
}
