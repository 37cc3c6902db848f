//! Hub-to-hub service accounts: a hub's own client-credentials token for a target hub, requested
//! with `resource=` (RFC 8707) so its `aud` is that hub, and cached until shortly before expiry.
//! A hub never forwards a token it received.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::AuthError;
use super::discovery::discover;

/// A token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// Client-credentials tokens of one service account, one per target audience.
pub struct ServiceTokenSource {
    http: reqwest::Client,
    issuer: String,
    client_id: String,
    client_secret: String,
    /// Held across a token request, so concurrent callers share one request per refill.
    state: tokio::sync::Mutex<SourceState>,
}

#[derive(Default)]
struct SourceState {
    token_endpoint: Option<String>,
    cache: HashMap<String, (String, Instant)>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

impl ServiceTokenSource {
    pub fn new(issuer: &str, client_id: &str, client_secret: &str) -> Self {
        Self {
            http: super::http::client(),
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            state: tokio::sync::Mutex::new(SourceState::default()),
        }
    }

    /// The client id this source authenticates as.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// A request to `url` on the hub whose audience is `audience`, carrying this account's own
    /// token for that hub: how a hub calls another hub over HTTP.
    pub async fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        audience: &str,
    ) -> Result<reqwest::RequestBuilder, AuthError> {
        let token = self.token_for(audience).await?;
        Ok(self.http.request(method, url).bearer_auth(token))
    }

    /// A bearer token whose audience is `resource` (the target hub's URL or audience).
    pub async fn token_for(&self, resource: &str) -> Result<String, AuthError> {
        let mut state = self.state.lock().await;
        if let Some((token, renew_at)) = state.cache.get(resource)
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let endpoint = match &state.token_endpoint {
            Some(e) => e.clone(),
            None => {
                let e = discover(&self.http, &self.issuer)
                    .await?
                    .token_endpoint
                    .ok_or_else(|| {
                        AuthError::Unavailable("the issuer names no token endpoint".into())
                    })?;
                state.token_endpoint = Some(e.clone());
                e
            }
        };
        let res = self
            .http
            .post(&endpoint)
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(&[("grant_type", "client_credentials"), ("resource", resource)])
            .send()
            .await
            .map_err(|e| AuthError::Unavailable(format!("token request: {e}")))?;
        if !res.status().is_success() {
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            return Err(AuthError::Unavailable(format!(
                "token request refused ({status}): {body}"
            )));
        }
        let body: TokenResponse = res
            .json()
            .await
            .map_err(|e| AuthError::Unavailable(format!("token response: {e}")))?;
        let lifetime = Duration::from_secs(body.expires_in.unwrap_or(300));
        let renew_at = Instant::now() + lifetime.saturating_sub(RENEW_BEFORE);
        state
            .cache
            .insert(resource.to_owned(), (body.access_token.clone(), renew_at));
        Ok(body.access_token)
    }
}
