//! Identity: the JWT verifier against the local issuer (and a real provider), the issuer's
//! endpoints and flows, and the hub's 401/403 answers with real tokens.

mod flows;
mod hub;
mod real_idp;
mod service_accounts;
mod verify;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use hub_core::auth::{OidcVerifier, Principal, PrincipalKind};
use hub_core::config::{HubConfig, OidcConfig};
use hub_core::issuer::{IssuerOptions, LocalIssuer, NewAdminSecret};
use hub_core::server::App;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::support::{Backend, fresh_database};

/// The audience test hubs expect.
pub const AUD: &str = "http://hub.test";

/// A local issuer served on a loopback port, counting requests per endpoint.
pub struct Idp {
    pub issuer: LocalIssuer,
    pub url: String,
    pub admin: NewAdminSecret,
    pub jwks_hits: Arc<AtomicUsize>,
    pub token_hits: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

impl Idp {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut IssuerOptions)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut options = IssuerOptions::new(&url);
        adjust(&mut options);
        let (issuer, admin) = LocalIssuer::open(dir.path(), options).unwrap();
        let jwks_hits = Arc::new(AtomicUsize::new(0));
        let token_hits = Arc::new(AtomicUsize::new(0));
        let (j, t) = (jwks_hits.clone(), token_hits.clone());
        let router = issuer.router().layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let counter = match req.uri().path() {
                    "/jwks" => Some(j.clone()),
                    "/token" => Some(t.clone()),
                    _ => None,
                };
                async move {
                    if let Some(c) = counter {
                        c.fetch_add(1, Ordering::SeqCst);
                    }
                    next.run(req).await
                }
            },
        ));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            issuer,
            url,
            admin: admin.expect("a new identity file brings an admin secret"),
            jwks_hits,
            token_hits,
            _dir: dir,
        }
    }

    /// Claims of a valid access token for `sub`, to be varied by tests.
    pub fn claims(&self, sub: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": self.url, "sub": sub, "aud": AUD, "exp": now + 300, "iat": now,
            "jti": uuid::Uuid::now_v7().to_string(), "roles": ["hub:write"], "kind": "agent",
        })
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.issuer.sign(Some("at+jwt"), claims).unwrap()
    }

    pub fn oidc(&self) -> OidcConfig {
        oidc_config(&self.url)
    }

    pub fn verifier(&self) -> OidcVerifier {
        OidcVerifier::new(&self.oidc()).unwrap()
    }
}

/// Hub OIDC settings trusting `issuer` with audience [`AUD`].
pub fn oidc_config(issuer: &str) -> OidcConfig {
    let mut c = HubConfig::with_database("dev", "sqlite::memory:")
        .unwrap()
        .oidc;
    c.issuer = Some(issuer.to_owned());
    c.audience = AUD.to_owned();
    c
}

pub fn principal(sub: &str, roles: &[&str], domains: Option<&[&str]>) -> Principal {
    Principal {
        sub: sub.into(),
        kind: PrincipalKind::Agent,
        roles: roles.iter().map(|r| r.to_string()).collect(),
        domains: domains.map(|ds| ds.iter().map(|d| d.to_string()).collect()),
    }
}

/// A hub named `dev` on SQLite trusting `oidc`, served on a loopback port.
pub struct ServedHub {
    pub url: String,
    _app: App,
    _dir: Option<tempfile::TempDir>,
}

impl ServedHub {
    pub async fn start(oidc: OidcConfig) -> Self {
        let (db_url, dir) = fresh_database(Backend::Sqlite).await;
        let mut config = HubConfig::with_database("dev", &db_url).unwrap();
        config.oidc = oidc;
        let verifier = OidcVerifier::with_cooldown(&config.oidc, Duration::from_secs(30)).unwrap();
        let app = App::build(config, Arc::new(verifier), vec![])
            .await
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(axum::serve(listener, app.router.clone()).into_future());
        Self {
            url,
            _app: app,
            _dir: dir,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = http().get(format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }
}

/// A token's claims, unverified.
pub fn claims_of(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .unwrap()
        .claims
}

/// An HTTP client that does not follow redirects, as the flows inspect them.
pub fn http() -> reqwest::Client {
    hub_core::auth::http::client()
}
