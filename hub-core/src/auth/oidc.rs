//! The OIDC/JWT [`TokenVerifier`]: a hub as an OAuth 2.0 resource server (RFC 9068 access tokens).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde_json::Value;
use sha2::{Digest, Sha256};

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

/// How long a verified token is taken on trust before its signature is checked again; bounds
/// how long a token signed by a key the issuer has since withdrawn keeps working.
pub const VERIFIED_TTL_SECS: i64 = 60;

/// How many verified tokens are remembered at most.
const VERIFIED_CAPACITY: usize = 10_000;

/// Verifies JWT access tokens of one issuer: signature against its JWKS, `iss`, `aud`, `exp`,
/// `nbf`, `sub`, header `typ`; then maps the claims to a [`Principal`].
pub struct OidcVerifier {
    config: OidcConfig,
    issuer: String,
    jwks: JwksCache,
    verified: Verified,
}

/// Tokens that passed every check, by SHA-256 of the token, with the principal they prove and
/// when to stop trusting them: an agent sends the same token with every call, and checking its
/// signature each time would cost more than the rest of a small request.
#[derive(Default)]
struct Verified(Mutex<HashMap<[u8; 32], (Principal, i64)>>);

impl Verified {
    fn get(&self, key: &[u8; 32], now: i64) -> Option<Principal> {
        let map = self.0.lock().expect("verified tokens poisoned");
        map.get(key)
            .filter(|(_, until)| now < *until)
            .map(|(who, _)| who.clone())
    }

    fn put(&self, key: [u8; 32], who: &Principal, until: i64, now: i64) {
        let mut map = self.0.lock().expect("verified tokens poisoned");
        if map.len() >= VERIFIED_CAPACITY {
            map.retain(|_, (_, t)| now < *t);
            if map.len() >= VERIFIED_CAPACITY {
                map.clear();
            }
        }
        map.insert(key, (who.clone(), until));
    }
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
            verified: Verified::default(),
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
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = chrono::Utc::now().timestamp();
        if let Some(who) = self.verified.get(&key, now) {
            return Ok(who);
        }
        let (who, exp) = self.check(token).await?;
        // Trusted until it expires (without leeway) or for the TTL, whichever comes first.
        self.verified
            .put(key, &who, exp.min(now + VERIFIED_TTL_SECS), now);
        Ok(who)
    }
}

impl OidcVerifier {
    /// Every check of the token; the principal and the token's `exp`.
    async fn check(&self, token: &str) -> Result<(Principal, i64), AuthError> {
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
        let exp = data.claims["exp"]
            .as_i64()
            .ok_or_else(|| AuthError::Invalid("exp is not a number of seconds".into()))?;
        Ok((principal_from_claims(&data.claims, &self.config)?, exp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(sub: &str) -> Principal {
        Principal::reading_agent(sub)
    }

    #[test]
    fn a_verified_token_is_trusted_until_its_deadline_only() {
        let verified = Verified::default();
        verified.put([1; 32], &who("alice"), 100, 0);
        assert_eq!(verified.get(&[1; 32], 99), Some(who("alice")));
        assert_eq!(
            verified.get(&[1; 32], 100),
            None,
            "trusted past its deadline"
        );
        assert_eq!(verified.get(&[2; 32], 0), None, "another token was trusted");
    }

    #[test]
    fn a_full_cache_drops_stale_entries_first() {
        let verified = Verified::default();
        for i in 0..VERIFIED_CAPACITY {
            let mut key = [0; 32];
            key[..8].copy_from_slice(&(i as u64).to_le_bytes());
            // Even keys are stale at time 50, odd ones are not.
            verified.put(key, &who("x"), if i % 2 == 0 { 10 } else { 100 }, 0);
        }
        verified.put([9; 32], &who("new"), 100, 50);
        let map = verified.0.lock().unwrap();
        assert_eq!(map.len(), VERIFIED_CAPACITY / 2 + 1);
        assert!(map.values().all(|(_, until)| *until == 100));
    }
}
