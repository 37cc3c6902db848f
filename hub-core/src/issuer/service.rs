//! The issuer's grant rules: client authentication, client credentials, authorization code
//! with PKCE (S256 only), refresh tokens with rotation, RFC 8707 resources. No axum here.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::store::{ClientEntry, random_token, verify_secret};
use super::{IssuerError, LocalIssuer, client_principal, lock, user_principal};
use crate::auth::Principal;

/// How long an authorization code may wait for its exchange.
const CODE_TTL: Duration = Duration::from_secs(60);

/// Who is calling the token endpoint; `secret` is `None` for a public client.
#[derive(Debug, Clone)]
pub struct ClientAuth {
    pub client_id: String,
    pub secret: Option<String>,
}

/// A token request, by grant type. `resources` are the RFC 8707 `resource` values.
#[derive(Debug, Clone)]
pub enum TokenRequest {
    ClientCredentials {
        resources: Vec<String>,
    },
    AuthorizationCode {
        code: String,
        redirect_uri: String,
        code_verifier: String,
        resources: Vec<String>,
    },
    RefreshToken {
        refresh_token: String,
        resources: Vec<String>,
    },
}

/// The token endpoint's answer (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// An authorization request (RFC 6749 §4.1.1 with PKCE and RFC 8707).
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub resources: Vec<String>,
}

/// An issued, not yet exchanged authorization code.
pub(crate) struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    user: String,
    resources: Vec<String>,
    expires: Instant,
}

/// A live refresh token (stored by its SHA-256, never in clear).
pub(crate) struct RefreshGrant {
    client_id: String,
    user: String,
    resources: Vec<String>,
    expires: Instant,
}

fn sha256_b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

/// RFC 8707 §2: each resource is an absolute URI without a fragment.
fn check_resources(resources: &[String]) -> Result<(), IssuerError> {
    for r in resources {
        let ok = reqwest::Url::parse(r).is_ok_and(|u| u.fragment().is_none() && u.has_host());
        if !ok {
            return Err(IssuerError::InvalidTarget(format!(
                "resource {r} is not an absolute URI without fragment"
            )));
        }
    }
    Ok(())
}

/// The audiences of a new token: the requested resources, which must lie within `granted`
/// when the grant fixed them earlier; else `granted` itself.
fn narrow(requested: Vec<String>, granted: &[String]) -> Result<Vec<String>, IssuerError> {
    check_resources(&requested)?;
    if requested.is_empty() {
        return Ok(granted.to_vec());
    }
    match requested.iter().find(|r| !granted.contains(r)) {
        Some(r) => Err(IssuerError::InvalidTarget(format!(
            "resource {r} was not part of the authorization"
        ))),
        None => Ok(requested),
    }
}

/// RFC 8252 §7.3: a loopback redirect matches whatever port the native app listens on.
fn redirect_matches(registered: &str, given: &str) -> bool {
    if registered == given {
        return true;
    }
    let (Ok(r), Ok(g)) = (reqwest::Url::parse(registered), reqwest::Url::parse(given)) else {
        return false;
    };
    let loopback = |u: &reqwest::Url| {
        u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"))
    };
    loopback(&r)
        && loopback(&g)
        && r.host_str() == g.host_str()
        && r.path() == g.path()
        && r.query() == g.query()
}

impl LocalIssuer {
    fn client(&self, id: &str) -> Option<ClientEntry> {
        self.files().identity.client(id).cloned()
    }

    /// Checks the client's secret (off the async runtime: argon2 is slow by design).
    async fn authenticate(&self, auth: &ClientAuth) -> Result<ClientEntry, IssuerError> {
        let client = self
            .client(&auth.client_id)
            .ok_or(IssuerError::InvalidClient)?;
        match (&client.secret_hash, &auth.secret) {
            (None, None) => Ok(client),
            (Some(hash), Some(secret)) => {
                let (hash, secret) = (hash.clone(), secret.clone());
                let ok = tokio::task::spawn_blocking(move || verify_secret(&secret, &hash))
                    .await
                    .map_err(|e| IssuerError::Internal(e.to_string()))?;
                if ok {
                    Ok(client)
                } else {
                    Err(IssuerError::InvalidClient)
                }
            }
            _ => Err(IssuerError::InvalidClient),
        }
    }

    fn user(&self, name: &str) -> Option<super::store::UserEntry> {
        self.files().identity.user(name).cloned()
    }

    /// Issues an access token (and a refresh token for a user's session).
    fn issue(
        &self,
        who: &Principal,
        client_id: &str,
        audience: Vec<String>,
        user: Option<&str>,
    ) -> Result<TokenResponse, IssuerError> {
        let access_token = self.mint(who, client_id, &audience)?;
        let refresh_token = user.map(|user| {
            let token = random_token(32);
            lock(&self.0.refresh).insert(
                sha256_b64(&token),
                RefreshGrant {
                    client_id: client_id.to_owned(),
                    user: user.to_owned(),
                    resources: audience,
                    expires: Instant::now() + self.0.options.refresh_ttl,
                },
            );
            token
        });
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.0.options.access_ttl.as_secs(),
            refresh_token,
        })
    }

    /// The token endpoint.
    pub async fn token(
        &self,
        auth: ClientAuth,
        req: TokenRequest,
    ) -> Result<TokenResponse, IssuerError> {
        let client = self.authenticate(&auth).await?;
        match req {
            TokenRequest::ClientCredentials { resources } => {
                if client.secret_hash.is_none() {
                    return Err(IssuerError::UnauthorizedClient(
                        "a public client cannot use client_credentials".into(),
                    ));
                }
                check_resources(&resources)?;
                let audience = if resources.is_empty() {
                    self.0.options.default_audience.clone()
                } else {
                    resources
                };
                if audience.is_empty() {
                    return Err(IssuerError::InvalidTarget("resource is required".into()));
                }
                self.issue(&client_principal(&client), &client.id, audience, None)
            }
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
                resources,
            } => {
                // A code is single-use: it is gone whether the exchange succeeds or not.
                let grant = lock(&self.0.codes)
                    .remove(&sha256_b64(&code))
                    .filter(|g| g.expires > Instant::now())
                    .ok_or_else(|| {
                        IssuerError::InvalidGrant("unknown, used or expired code".into())
                    })?;
                if grant.client_id != client.id || grant.redirect_uri != redirect_uri {
                    return Err(IssuerError::InvalidGrant(
                        "code was issued to another client or redirect_uri".into(),
                    ));
                }
                if !valid_verifier(&code_verifier)
                    || sha256_b64(&code_verifier) != grant.code_challenge
                {
                    return Err(IssuerError::InvalidGrant(
                        "code_verifier does not match".into(),
                    ));
                }
                let user = self
                    .user(&grant.user)
                    .ok_or_else(|| IssuerError::InvalidGrant("user no longer exists".into()))?;
                let audience = narrow(resources, &grant.resources)?;
                self.issue(
                    &user_principal(&user),
                    &client.id,
                    audience,
                    Some(&user.name),
                )
            }
            TokenRequest::RefreshToken {
                refresh_token,
                resources,
            } => {
                // Rotation: the presented refresh token is spent; a new one comes back.
                let grant = lock(&self.0.refresh)
                    .remove(&sha256_b64(&refresh_token))
                    .filter(|g| g.expires > Instant::now() && g.client_id == client.id)
                    .ok_or_else(|| {
                        IssuerError::InvalidGrant("unknown, used or expired refresh token".into())
                    })?;
                let user = self
                    .user(&grant.user)
                    .ok_or_else(|| IssuerError::InvalidGrant("user no longer exists".into()))?;
                let audience = narrow(resources, &grant.resources)?;
                self.issue(
                    &user_principal(&user),
                    &client.id,
                    audience,
                    Some(&user.name),
                )
            }
        }
    }

    /// Checks who asks (client and redirect URI). Its errors must be shown, never redirected to
    /// the (untrusted) redirect URI.
    pub fn authorize_client(&self, req: &AuthorizeRequest) -> Result<(), IssuerError> {
        let client = self.client(&req.client_id).ok_or_else(|| {
            IssuerError::InvalidRequest(format!("unknown client {}", req.client_id))
        })?;
        if !client
            .redirect_uris
            .iter()
            .any(|r| redirect_matches(r, &req.redirect_uri))
        {
            return Err(IssuerError::InvalidRequest(
                "redirect_uri is not registered for this client".into(),
            ));
        }
        Ok(())
    }

    /// Checks the rest of an authorization request; its errors go back to the client.
    pub fn authorize_params(&self, req: &AuthorizeRequest) -> Result<(), IssuerError> {
        if req.response_type != "code" {
            return Err(IssuerError::InvalidRequest(
                "response_type must be code".into(),
            ));
        }
        if req.code_challenge_method != "S256" {
            return Err(IssuerError::InvalidRequest(
                "PKCE with code_challenge_method S256 is required".into(),
            ));
        }
        if req.code_challenge.len() != 43 {
            return Err(IssuerError::InvalidRequest(
                "code_challenge must be a base64url SHA-256".into(),
            ));
        }
        check_resources(&req.resources)
    }

    /// The login form was posted: checks the user's password and returns the redirect URI with
    /// a fresh code. The request must have passed both checks above.
    pub async fn login(
        &self,
        req: &AuthorizeRequest,
        user_name: &str,
        password: &str,
    ) -> Result<String, IssuerError> {
        let user = self.user(user_name);
        // Hash even for unknown users, so timing does not reveal which names exist.
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| super::store::DUMMY_HASH.clone());
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_secret(&password, &hash))
            .await
            .map_err(|e| IssuerError::Internal(e.to_string()))?;
        let user = user.filter(|_| ok).ok_or(IssuerError::AccessDenied)?;
        let resources = if req.resources.is_empty() {
            self.0.options.default_audience.clone()
        } else {
            req.resources.clone()
        };
        let code = random_token(32);
        let mut codes = lock(&self.0.codes);
        codes.retain(|_, g| g.expires > Instant::now());
        codes.insert(
            sha256_b64(&code),
            CodeGrant {
                client_id: req.client_id.clone(),
                redirect_uri: req.redirect_uri.clone(),
                code_challenge: req.code_challenge.clone(),
                user: user.name,
                resources,
                expires: Instant::now() + CODE_TTL,
            },
        );
        let mut url = reqwest::Url::parse(&req.redirect_uri)
            .map_err(|_| IssuerError::InvalidRequest("redirect_uri is not a URL".into()))?;
        url.query_pairs_mut().append_pair("code", &code);
        if let Some(state) = &req.state {
            url.query_pairs_mut().append_pair("state", state);
        }
        url.query_pairs_mut().append_pair("iss", self.issuer_url());
        Ok(url.into())
    }
}

/// RFC 7636 §4.1: 43-128 characters of `[A-Za-z0-9-._~]`.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
}

/// The S256 code challenge of a verifier (for clients such as the CLI and tests).
pub fn code_challenge(verifier: &str) -> String {
    sha256_b64(verifier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_match_any_port_others_match_exactly() {
        let reg = "http://127.0.0.1/callback";
        assert!(redirect_matches(reg, "http://127.0.0.1:53121/callback"));
        assert!(!redirect_matches(reg, "http://127.0.0.1:53121/other"));
        assert!(!redirect_matches(reg, "http://evil.example/callback"));
        assert!(redirect_matches("https://app/cb", "https://app/cb"));
        assert!(!redirect_matches("https://app/cb", "https://app:444/cb"));
    }

    #[test]
    fn resources_must_be_absolute_without_fragment() {
        assert!(check_resources(&["http://127.0.0.1:7101".into()]).is_ok());
        assert!(check_resources(&["dev".into()]).is_err());
        assert!(check_resources(&["http://h/x#f".into()]).is_err());
    }

    #[test]
    fn challenges_follow_rfc7636_appendix_b() {
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
