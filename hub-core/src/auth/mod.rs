//! Authentication: who is calling. A [`TokenVerifier`] turns a bearer token into a [`Principal`];
//! the extractor in `extract` applies it to every protected route.

pub mod claims;
pub mod discovery;
mod extract;
pub mod http;
pub mod jwks;
pub mod oidc;
mod principal;
pub mod service_account;

use async_trait::async_trait;

pub use extract::bearer_token;
pub use oidc::OidcVerifier;
pub use principal::{Access, Principal, PrincipalKind, hub_subject};
pub use service_account::ServiceTokenSource;

/// Why a bearer token was refused. The text is safe to show to the caller: it never contains the token.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("missing bearer token")]
    Missing,
    /// The token was presented but is not acceptable (bad signature, expired, wrong audience, …).
    #[error("{0}")]
    Invalid(String),
    /// The verifier could not reach what it needs (e.g. the issuer's JWKS); the caller may retry.
    #[error("token verification unavailable: {0}")]
    Unavailable(String),
}

/// Turns a bearer token into the principal it proves. The identity layer supplies the real one
/// (OIDC/JWT); tests may supply their own.
#[async_trait]
pub trait TokenVerifier: Send + Sync + 'static {
    async fn verify(&self, token: &str) -> Result<Principal, AuthError>;
}

/// The verifier a hub uses for `config`: JWT access tokens of the configured issuer.
///
/// Without a configured issuer every protected route answers 503: a hub never runs open.
pub fn verifier_for(config: &crate::config::HubConfig) -> std::sync::Arc<dyn TokenVerifier> {
    match OidcVerifier::new(&config.oidc) {
        Ok(v) => std::sync::Arc::new(v),
        Err(_) => std::sync::Arc::new(Unconfigured {
            hub: config.name.clone(),
        }),
    }
}

/// The hub's own token source for calls to other hubs: its service account at the configured
/// issuer. `None` without either: such a hub makes no hub-to-hub HTTP calls.
pub fn service_tokens_for(
    config: &crate::config::HubConfig,
) -> Option<std::sync::Arc<ServiceTokenSource>> {
    let issuer = config.oidc.issuer.as_deref()?;
    let account = config.oidc.service_account.as_ref()?;
    Some(std::sync::Arc::new(ServiceTokenSource::new(
        issuer,
        &account.client_id,
        account.client_secret.expose(),
    )))
}

/// Refuses every token because no issuer is configured.
struct Unconfigured {
    hub: String,
}

#[async_trait]
impl TokenVerifier for Unconfigured {
    async fn verify(&self, _token: &str) -> Result<Principal, AuthError> {
        Err(AuthError::Unavailable(format!(
            "hub {} has no OIDC issuer configured (set oidc.issuer or HUBMESH_OIDC_ISSUER)",
            self.hub
        )))
    }
}
