//! The verifier's rules, each rejection with its own test, against tokens of a served local issuer.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hub_core::auth::{AuthError, OidcVerifier, PrincipalKind, TokenVerifier};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use super::{AUD, Idp};

/// Asserts `token` is refused as invalid with a reason containing `reason`.
async fn refused(verifier: &OidcVerifier, token: &str, reason: &str) {
    match verifier.verify(token).await {
        Err(AuthError::Invalid(why)) => {
            assert!(
                why.contains(reason),
                "refused for {why:?}, expected {reason:?}"
            )
        }
        other => panic!("expected a refusal for {reason:?}, got {other:?}"),
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn a_valid_token_becomes_its_principal() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("agent-7");
    claims["domains"] = json!(["finance"]);
    let p = idp.verifier().verify(&idp.sign(&claims)).await.unwrap();
    assert_eq!(p.sub, "agent-7");
    assert_eq!(p.kind, PrincipalKind::Agent);
    assert_eq!(p.roles, ["hub:write"]);
    assert_eq!(p.domains, Some(vec!["finance".to_owned()]));
}

#[tokio::test]
async fn alg_none_is_refused() {
    let idp = Idp::start().await;
    let token = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "at+jwt"})),
        b64(&idp.claims("mallory"))
    );
    refused(
        &idp.verifier(),
        &token,
        "malformed token or unsupported algorithm",
    )
    .await;
}

#[tokio::test]
async fn hs256_is_refused() {
    let idp = Idp::start().await;
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    let token = encode(
        &header,
        &idp.claims("mallory"),
        &EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    refused(&idp.verifier(), &token, "algorithm HS256 is not accepted").await;
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let idp = Idp::start().await;
    let jwks = serde_json::to_value(idp.issuer.jwks()).unwrap();
    let jwk = &jwks["keys"][0];
    let public = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = jwk["kid"].as_str().map(str::to_owned);
    for secret in [public, jwk.to_string().into_bytes()] {
        let token = encode(
            &header,
            &idp.claims("mallory"),
            &EncodingKey::from_secret(&secret),
        )
        .unwrap();
        refused(&idp.verifier(), &token, "algorithm HS256 is not accepted").await;
    }
}

#[tokio::test]
async fn a_tampered_signature_is_refused() {
    let idp = Idp::start().await;
    let token = idp.sign(&idp.claims("alice"));
    let (rest, sig) = token.rsplit_once('.').unwrap();
    let mut sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    sig[10] ^= 1;
    let tampered = format!("{rest}.{}", URL_SAFE_NO_PAD.encode(sig));
    refused(&idp.verifier(), &tampered, "bad signature").await;
}

#[tokio::test]
async fn tampered_claims_are_refused() {
    let idp = Idp::start().await;
    let token = idp.sign(&idp.claims("alice"));
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = idp.claims("alice");
    claims["roles"] = json!(["hub:admin"]);
    let forged = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    refused(&idp.verifier(), &forged, "bad signature").await;
}

#[tokio::test]
async fn a_token_without_aud_is_refused() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("alice");
    claims.as_object_mut().unwrap().remove("aud");
    refused(&idp.verifier(), &idp.sign(&claims), "token has no aud").await;
}

#[tokio::test]
async fn a_token_without_iss_is_refused() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("alice");
    claims.as_object_mut().unwrap().remove("iss");
    refused(&idp.verifier(), &idp.sign(&claims), "token has no iss").await;
}

#[tokio::test]
async fn a_token_without_sub_is_refused() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("alice");
    claims.as_object_mut().unwrap().remove("sub");
    refused(&idp.verifier(), &idp.sign(&claims), "token has no sub").await;
}

#[tokio::test]
async fn a_token_without_exp_is_refused() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("alice");
    claims.as_object_mut().unwrap().remove("exp");
    refused(&idp.verifier(), &idp.sign(&claims), "token has no exp").await;
}

#[tokio::test]
async fn a_wrong_issuer_is_refused() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("alice");
    claims["iss"] = json!("http://evil.test");
    refused(&idp.verifier(), &idp.sign(&claims), "wrong issuer").await;
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("alice");
    claims["aud"] = json!(["http://other-hub.test"]);
    refused(
        &idp.verifier(),
        &idp.sign(&claims),
        "not meant for this audience",
    )
    .await;
}

#[tokio::test]
async fn one_of_several_audiences_is_enough() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("alice");
    claims["aud"] = json!(["http://other-hub.test", AUD]);
    assert!(idp.verifier().verify(&idp.sign(&claims)).await.is_ok());
}

#[tokio::test]
async fn an_expired_token_is_refused_beyond_the_leeway() {
    let idp = Idp::start().await;
    let verifier = idp.verifier();
    let now = chrono::Utc::now().timestamp();
    let mut claims = idp.claims("alice");
    claims["exp"] = json!(now - 10);
    assert!(
        verifier.verify(&idp.sign(&claims)).await.is_ok(),
        "within leeway"
    );
    claims["exp"] = json!(now - 120);
    refused(&verifier, &idp.sign(&claims), "token expired").await;
}

#[tokio::test]
async fn a_not_yet_valid_token_is_refused() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("alice");
    claims["nbf"] = json!(chrono::Utc::now().timestamp() + 600);
    refused(&idp.verifier(), &idp.sign(&claims), "not yet valid").await;
}

#[tokio::test]
async fn an_id_token_is_refused() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("alice");
    claims["nonce"] = json!("n-0S6_WzA2Mj");
    let id_token = idp.issuer.sign(Some("JWT"), &claims).unwrap();
    refused(&idp.verifier(), &id_token, "typ must be at+jwt").await;
}

#[tokio::test]
async fn an_id_token_is_refused_where_typ_is_not_required() {
    let idp = Idp::start().await;
    let mut config = idp.oidc();
    config.require_at_jwt = false;
    let verifier = OidcVerifier::new(&config).unwrap();
    let mut claims = idp.claims("alice");
    claims["at_hash"] = json!("77QmUPtjPfzWtF2AnpK9RQ");
    let id_token = idp.issuer.sign(Some("JWT"), &claims).unwrap();
    refused(&verifier, &id_token, "an id token is not an access token").await;
    // The same issuer's plain-`JWT` access tokens are accepted there.
    let access = idp.issuer.sign(Some("JWT"), &idp.claims("alice")).unwrap();
    assert!(verifier.verify(&access).await.is_ok());
}

#[tokio::test]
async fn a_token_without_typ_is_refused_where_at_jwt_is_required() {
    let idp = Idp::start().await;
    let token = idp.issuer.sign(None, &idp.claims("alice")).unwrap();
    refused(&idp.verifier(), &token, "typ must be at+jwt").await;
}

#[tokio::test]
async fn an_unknown_kid_is_refused_after_one_refetch() {
    let idp = Idp::start().await;
    // Same issuer URL, other keys: its tokens name a kid the real issuer never published.
    let dir = tempfile::tempdir().unwrap();
    let (impostor, _) = hub_core::issuer::LocalIssuer::open(
        dir.path(),
        hub_core::issuer::IssuerOptions::new(&idp.url),
    )
    .unwrap();
    let verifier = idp.verifier();
    verifier.warm().await.unwrap();
    assert_eq!(verifier.jwks_fetches(), 1);
    let token = impostor.sign(Some("at+jwt"), &idp.claims("alice")).unwrap();
    refused(&verifier, &token, "unknown signing key").await;
    assert_eq!(
        verifier.jwks_fetches(),
        2,
        "one refetch for the unknown kid"
    );
    refused(&verifier, &token, "unknown signing key").await;
    assert_eq!(verifier.jwks_fetches(), 2, "no refetch within the cooldown");
}

#[tokio::test]
async fn a_flood_of_unknown_kids_causes_a_single_jwks_fetch() {
    let idp = Idp::start().await;
    let verifier = Arc::new(idp.verifier());
    verifier.warm().await.unwrap();
    let hits_after_warm = idp.jwks_hits.load(Ordering::SeqCst);
    let good = idp.sign(&idp.claims("alice"));
    let (head, rest) = good.split_once('.').unwrap();
    let mut header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            header["kid"] = json!(format!("bogus-{i}"));
            let token = format!("{}.{rest}", b64(&header));
            let v = verifier.clone();
            tokio::spawn(async move { v.verify(&token).await })
        })
        .collect();
    for t in tasks {
        assert!(matches!(t.await.unwrap(), Err(AuthError::Invalid(_))));
    }
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), hits_after_warm + 1);
    assert_eq!(verifier.jwks_fetches(), 2);
    // Known keys keep working without any fetch.
    assert!(verifier.verify(&good).await.is_ok());
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), hits_after_warm + 1);
}

#[tokio::test]
async fn key_rotation_is_picked_up_and_old_tokens_stay_valid() {
    let idp = Idp::start().await;
    let verifier = OidcVerifier::with_cooldown(&idp.oidc(), Duration::ZERO).unwrap();
    let old = idp.sign(&idp.claims("alice"));
    assert!(verifier.verify(&old).await.is_ok());
    let kid = idp.issuer.rotate_keys().unwrap();
    let new = idp.sign(&idp.claims("alice"));
    assert_eq!(
        jsonwebtoken::decode_header(&new).unwrap().kid.as_deref(),
        Some(kid.as_str())
    );
    assert_eq!(
        idp.issuer.jwks().keys.len(),
        2,
        "old and new key are published"
    );
    assert!(
        verifier.verify(&new).await.is_ok(),
        "new key found by refetch"
    );
    assert_eq!(verifier.jwks_fetches(), 2);
    assert!(
        verifier.verify(&old).await.is_ok(),
        "old key still published"
    );
}

#[tokio::test]
async fn an_unreachable_issuer_is_unavailable_not_invalid() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let verifier = OidcVerifier::new(&super::oidc_config(&url)).unwrap();
    let idp = Idp::start().await;
    let token = idp.sign(&idp.claims("alice"));
    assert!(matches!(
        verifier.verify(&token).await,
        Err(AuthError::Unavailable(_))
    ));
}
