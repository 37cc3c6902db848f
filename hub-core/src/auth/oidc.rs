//! The OIDC/JWT [`TokenVerifier`]: a hub as an OAuth 2.0 resource server (RFC 9068 access tokens).

use std::time::Duration;

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde_json::Value;

use super::claims::principal_from_claims;
use super::jwks::JwksCache;
use super::{AuthError, Principal, TokenVerifier};
use crate::config::OidcConfig;

/// Asymmetric algorithms accepted; HMAC (and `none`) never are, so a public key can never
/// double as a shared secret.
pub const ALLOWED_ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 30;

/// Default wait between two JWKS refetches caused by unknown key ids.
pub const REFETCH_COOLDOWN: Duration = Duration::from_secs(30);

/// Verifies JWT access tokens of one issuer: signature against its JWKS, `iss`, `aud`, `exp`,
/// `nbf`, `sub`, header `typ`; then maps the claims to a [`Principal`].
pub struct OidcVerifier {
    config: OidcConfig,
    issuer: String,
    jwks: JwksCache,
}

impl OidcVerifier {
    /// A verifier for the issuer in `config`; keys are fetched on first use (or [`Self::warm`]).
    pub fn new(config: &OidcConfig) -> Result<Self, AuthError> {
        Self::with_cooldown(config, REFETCH_COOLDOWN)
    }

    /// As [`Self::new`] with another refetch cooldown (tests use short ones).
    pub fn with_cooldown(config: &OidcConfig, cooldown: Duration) -> Result<Self, AuthError> {
        let issuer = config
            .issuer
            .as_deref()
            .ok_or_else(|| AuthError::Unavailable("no oidc issuer configured".into()))?
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            config: config.clone(),
            jwks: JwksCache::new(super::http::client(), &issuer, cooldown),
            issuer,
        })
    }

    /// Fetches discovery and keys now, so the first request does not wait for them.
    pub async fn warm(&self) -> Result<(), AuthError> {
        match self.jwks.key("").await {
            Ok(_) | Err(AuthError::Invalid(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// How many JWKS fetches this verifier made.
    pub fn jwks_fetches(&self) -> u64 {
        self.jwks.fetches()
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.config.audience]);
        v.validate_nbf = true;
        v.leeway = LEEWAY_SECS;
        v
    }
}

fn invalid(e: jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind;
    let text = match e.kind() {
        ErrorKind::ExpiredSignature => "token expired".into(),
        ErrorKind::ImmatureSignature => "token not yet valid".into(),
        ErrorKind::InvalidIssuer => "wrong issuer".into(),
        ErrorKind::InvalidAudience => "token not meant for this audience".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("token has no {c}"),
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidKeyFormat => {
            "algorithm does not match the signing key".into()
        }
        _ => format!("malformed token: {e}"),
    };
    AuthError::Invalid(text)
}

#[async_trait]
impl TokenVerifier for OidcVerifier {
    async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = decode_header(token).map_err(|e| {
            AuthError::Invalid(format!("malformed token or unsupported algorithm: {e}"))
        })?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(AuthError::Invalid(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let typ = header.typ.as_deref().unwrap_or("");
        if self.config.require_at_jwt
            && !(typ.eq_ignore_ascii_case("at+jwt")
                || typ.eq_ignore_ascii_case("application/at+jwt"))
        {
            return Err(AuthError::Invalid(
                "not an access token (header typ must be at+jwt)".into(),
            ));
        }
        let key = self.jwks.key(header.kid.as_deref().unwrap_or("")).await?;
        if key.alg.is_some_and(|a| a != header.alg) {
            return Err(AuthError::Invalid(
                "algorithm does not match the signing key".into(),
            ));
        }
        let data =
            decode::<Value>(token, &key.key, &self.validation(header.alg)).map_err(invalid)?;
        principal_from_claims(&data.claims, &self.config)
    }
}
