//! Cost of token validation with a warm JWKS: p50 of `GET /api/v1/whoami` through the router
//! with the OIDC verifier, against the same route with a verifier that checks nothing; once
//! with one token sent again and again (an agent's session) and once with a new token per
//! request (every signature checked).
//! Run: `cargo bench -p hub-core --bench auth` (figures go to docs/BENCHMARKS.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::Request;
use hub_core::auth::{AuthError, OidcVerifier, Principal, PrincipalKind, TokenVerifier};
use hub_core::config::HubConfig;
use hub_core::issuer::{IssuerOptions, LocalIssuer};
use hub_core::server::App;
use tower::ServiceExt;

const ROUNDS: usize = 20_000;

/// Accepts any token as the same principal: the route's cost without validation.
struct NoCheck(Principal);

#[async_trait]
impl TokenVerifier for NoCheck {
    async fn verify(&self, _token: &str) -> Result<Principal, AuthError> {
        Ok(self.0.clone())
    }
}

/// p50 of whoami over `ROUNDS` requests, cycling through `tokens`.
async fn p50(app: &App, tokens: &[String]) -> Duration {
    let mut samples = Vec::with_capacity(ROUNDS);
    for token in tokens.iter().cycle().take(ROUNDS) {
        let req = Request::get("/api/v1/whoami")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        let start = Instant::now();
        let res = app.router.clone().oneshot(req).await.expect("response");
        samples.push(start.elapsed());
        assert!(
            res.status().is_success(),
            "whoami answered {}",
            res.status()
        );
    }
    samples.sort();
    samples[ROUNDS / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (issuer, _) = LocalIssuer::open(dir.path(), IssuerOptions::new(&url)).expect("issuer");
    tokio::spawn(axum::serve(listener, issuer.router()).into_future());

    let db = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let mut config = HubConfig::with_database("dev", &db).expect("config");
    config.oidc.issuer = Some(url);
    let who = Principal {
        sub: "bench".into(),
        kind: PrincipalKind::Service,
        roles: vec!["hub:read".into()],
        domains: None,
    };
    let audience = [config.oidc.audience.clone()];
    let mint = || issuer.mint(&who, "bench", &audience).expect("token");
    let same = vec![mint()];
    let fresh: Vec<String> = (0..ROUNDS).map(|_| mint()).collect();
    let warmup: Vec<String> = (0..ROUNDS).map(|_| mint()).collect();
    let verifier = OidcVerifier::new(&config.oidc).expect("verifier");
    verifier.warm().await.expect("jwks");
    let checked = App::build(config.clone(), Arc::new(verifier), vec![])
        .await
        .expect("hub");
    let unchecked = App::build(config, Arc::new(NoCheck(who)), vec![])
        .await
        .expect("hub");

    // Warm both paths, then measure alternately so drift hits both alike.
    p50(&checked, &warmup).await;
    p50(&unchecked, &same).await;
    let fresh_p50 = p50(&checked, &fresh).await;
    let same_p50 = p50(&checked, &same).await;
    let without = p50(&unchecked, &same).await;
    println!("GET /api/v1/whoami p50 over {ROUNDS} requests");
    println!("  without validation:                          {without:?}");
    for (what, with) in [
        ("one token, verified once (EdDSA, warm JWKS)", same_p50),
        ("a new token per request (every signature)", fresh_p50),
    ] {
        println!(
            "  {what}: {with:?}, validation adds {:?}",
            with.saturating_sub(without)
        );
    }
}
