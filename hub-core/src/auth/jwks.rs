//! The issuer's signing keys: fetched once, cached, and refetched on an unknown `kid` at most
//! once per cooldown, by one caller at a time, so a flood of bad tokens cannot hammer the issuer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use super::AuthError;
use super::discovery::discover;

/// One verification key of the issuer.
pub struct VerificationKey {
    pub key: DecodingKey,
    /// The algorithm the JWK pins, if it names one.
    pub alg: Option<Algorithm>,
}

type KeyMap = HashMap<String, Arc<VerificationKey>>;

/// A JWKS cache for one issuer.
pub struct JwksCache {
    http: reqwest::Client,
    issuer: String,
    keys: RwLock<Arc<KeyMap>>,
    /// Held while refetching (single flight); holds the time of the last attempt.
    refetch: tokio::sync::Mutex<RefetchState>,
    cooldown: Duration,
    fetches: AtomicU64,
}

#[derive(Default)]
struct RefetchState {
    /// Set by a refetch of a loaded key set or by a failed fetch; the first load does not
    /// count, so a key rotated in right after start is still found.
    cooling_since: Option<Instant>,
    jwks_uri: Option<String>,
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

impl JwksCache {
    pub fn new(http: reqwest::Client, issuer: &str, cooldown: Duration) -> Self {
        Self {
            http,
            issuer: issuer.trim_end_matches('/').to_owned(),
            keys: RwLock::new(Arc::new(HashMap::new())),
            refetch: tokio::sync::Mutex::new(RefetchState::default()),
            cooldown,
            fetches: AtomicU64::new(0),
        }
    }

    /// How many times the JWKS was fetched (or a fetch attempted).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn cached(&self, kid: &str) -> Option<Arc<VerificationKey>> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        match kid {
            // A token without `kid` is acceptable only when the issuer has a single key.
            "" if keys.len() == 1 => keys.values().next().cloned(),
            _ => keys.get(kid).cloned(),
        }
    }

    /// The key with id `kid` (empty: the issuer's only key). A cache miss refetches the JWKS
    /// unless another fetch happened within the cooldown.
    pub async fn key(&self, kid: &str) -> Result<Arc<VerificationKey>, AuthError> {
        if let Some(k) = self.cached(kid) {
            return Ok(k);
        }
        let mut state = self.refetch.lock().await;
        // Another caller may have refetched while this one waited for the lock.
        if let Some(k) = self.cached(kid) {
            return Ok(k);
        }
        if state
            .cooling_since
            .is_some_and(|t| t.elapsed() < self.cooldown)
        {
            return Err(self.miss(kid));
        }
        let loaded = !self
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty();
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = self.fetch(&mut state).await;
        if loaded || fetched.is_err() {
            state.cooling_since = Some(Instant::now());
        }
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fetched?);
        self.cached(kid).ok_or_else(|| self.miss(kid))
    }

    fn miss(&self, kid: &str) -> AuthError {
        if self
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
        {
            AuthError::Unavailable("the issuer's signing keys are not available".into())
        } else if kid.is_empty() {
            AuthError::Invalid("token has no kid and the issuer has several keys".into())
        } else {
            AuthError::Invalid(format!("unknown signing key {kid}"))
        }
    }

    async fn fetch(&self, state: &mut RefetchState) -> Result<KeyMap, AuthError> {
        let jwks_uri = match &state.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let uri = discover(&self.http, &self.issuer).await?.jwks_uri;
                state.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let unavailable = |e: reqwest::Error| AuthError::Unavailable(format!("jwks: {e}"));
        let raw: RawJwks = self
            .http
            .get(&jwks_uri)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        Ok(raw
            .keys
            .into_iter()
            // Keys of kinds this build cannot use are skipped, not fatal.
            .filter_map(|v| serde_json::from_value::<Jwk>(v).ok())
            .filter(|jwk| {
                jwk.is_supported() && jwk.common.public_key_use != Some(PublicKeyUse::Encryption)
            })
            .filter_map(|jwk| {
                let key = DecodingKey::from_jwk(&jwk).ok()?;
                let alg = jwk
                    .common
                    .key_algorithm
                    .and_then(|a| a.to_string().parse().ok());
                let kid = jwk.common.key_id.clone().unwrap_or_default();
                Some((kid, Arc::new(VerificationKey { key, alg })))
            })
            .collect())
    }
}
