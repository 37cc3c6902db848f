//! The local issuer's flows over HTTP: client credentials with RFC 8707 resources, the PKCE
//! authorization-code flow as a browser runs it, refresh rotation, and their refusals.

use std::sync::atomic::Ordering;

use hub_core::auth::{PrincipalKind, ServiceTokenSource, TokenVerifier};
use hub_core::issuer::service::code_challenge;
use hub_core::issuer::{CLI_CLIENT, LocalIssuer, NewClient, NewUser};
use serde_json::Value;

use super::{AUD, Idp, ServedHub, claims_of, http};

async fn token_call(idp: &Idp, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
    let mut req = http().post(format!("{}/token", idp.url)).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn first_open_creates_a_private_file_with_a_working_admin_secret() {
    let idp = Idp::start().await;
    let (status, body) = token_call(
        &idp,
        &[
            ("grant_type", "client_credentials"),
            ("resource", AUD),
            ("resource", "http://other.test"),
        ],
        Some(("admin", &idp.admin.secret)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    let token = body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let claims = claims_of(token);
    assert_eq!(claims["aud"], serde_json::json!([AUD, "http://other.test"]));
    for claim in ["iss", "sub", "exp", "iat", "jti"] {
        assert!(claims.get(claim).is_some(), "{claim} missing");
    }
    assert_eq!(claims["roles"], serde_json::json!(["hub:admin"]));
    let p = idp.verifier().verify(token).await.unwrap();
    assert_eq!((p.sub.as_str(), p.kind), ("admin", PrincipalKind::Service));
    // Reopening keeps the file and shows no secret again.
    let dir = tempfile::tempdir().unwrap();
    let options = hub_core::issuer::IssuerOptions::new(&idp.url);
    assert!(
        LocalIssuer::open(dir.path(), options.clone())
            .unwrap()
            .1
            .is_some()
    );
    assert!(LocalIssuer::open(dir.path(), options).unwrap().1.is_none());
    use std::os::unix::fs::PermissionsExt;
    for file in ["identity.toml", "identity-keys.json"] {
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
}

#[tokio::test]
async fn client_credentials_refusals() {
    let idp = Idp::start().await;
    let (status, body) = token_call(
        &idp,
        &[("grant_type", "client_credentials"), ("resource", AUD)],
        Some(("admin", "wrong")),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = token_call(
        &idp,
        &[
            ("grant_type", "client_credentials"),
            ("resource", "not-a-uri"),
        ],
        Some(("admin", &idp.admin.secret)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let (status, body) = token_call(
        &idp,
        &[("grant_type", "client_credentials")],
        Some(("admin", &idp.admin.secret)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target")),
        "no resource, no default"
    );
    let (status, body) = token_call(
        &idp,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLI_CLIENT),
            ("resource", AUD),
        ],
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let (status, body) = token_call(
        &idp,
        &[("grant_type", "password")],
        Some(("admin", &idp.admin.secret)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

#[tokio::test]
async fn added_clients_and_agents_get_their_roles_and_domains() {
    let idp = Idp::start().await;
    let secret = idp
        .issuer
        .add_client(NewClient {
            id: "fin-bot".into(),
            kind: PrincipalKind::Agent,
            roles: vec!["fin:write".into()],
            domains: Some(vec!["finance".into()]),
            public: false,
            redirect_uris: vec![],
        })
        .unwrap()
        .unwrap();
    let (status, body) = token_call(
        &idp,
        &[
            ("grant_type", "client_credentials"),
            ("resource", AUD),
            ("client_id", "fin-bot"),
            ("client_secret", &secret),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let p = idp
        .verifier()
        .verify(body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(p.kind, PrincipalKind::Agent);
    assert_eq!(p.roles, ["fin:write"]);
    assert_eq!(p.domains, Some(vec!["finance".to_owned()]));
    let listing = idp.issuer.list();
    assert!(
        listing
            .clients
            .iter()
            .any(|c| c.principal.sub == "fin-bot" && !c.public)
    );
    assert!(
        serde_json::to_string(&listing)
            .unwrap()
            .find("argon2")
            .is_none(),
        "no hashes listed"
    );
}

/// A browser's authorization-code run: the form page, the form post, the redirect with the code.
async fn browser_login(idp: &Idp, verifier: &str, user: &str, password: &str) -> reqwest::Response {
    let challenge = code_challenge(verifier);
    let redirect = "http://127.0.0.1:49152/callback";
    let query = [
        ("response_type", "code"),
        ("client_id", CLI_CLIENT),
        ("redirect_uri", redirect),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "xyz"),
        ("resource", AUD),
    ];
    let page = http()
        .get(format!("{}/authorize", idp.url))
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=post"), "{html}");
    // Post back every hidden field plus the credentials, as the browser would.
    let mut form: Vec<(String, String)> = html
        .split("<input type=hidden ")
        .skip(1)
        .map(|f| {
            let attr = |name: &str| {
                let start = f.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                f[start..start + f[start..].find('"').unwrap()].replace("&amp;", "&")
            };
            (attr("name"), attr("value"))
        })
        .collect();
    form.push(("username".into(), user.into()));
    form.push(("password".into(), password.into()));
    http()
        .post(format!("{}/authorize", idp.url))
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn add_alice(issuer: &LocalIssuer) {
    issuer
        .add_user(
            NewUser {
                name: "alice".into(),
                kind: PrincipalKind::Human,
                roles: vec!["hub:write".into(), "fin:admin".into()],
                domains: None,
            },
            "correct horse battery",
        )
        .unwrap();
}

#[tokio::test]
async fn pkce_login_end_to_end_reaches_whoami() {
    let idp = Idp::start().await;
    add_alice(&idp.issuer);
    let hub = ServedHub::start(idp.oidc()).await;
    let verifier = "a-long-random-verifier-0123456789-0123456789-abc";
    let res = browser_login(&idp, verifier, "alice", "correct horse battery").await;
    assert_eq!(res.status(), 303);
    let location = reqwest::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), "/callback");
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz");
    assert_eq!(q["iss"], idp.url);
    let exchange = [
        ("grant_type", "authorization_code"),
        ("client_id", CLI_CLIENT),
        ("code", q["code"].as_str()),
        ("redirect_uri", "http://127.0.0.1:49152/callback"),
        ("code_verifier", verifier),
    ];
    let (status, body) = token_call(&idp, &exchange, None).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap();
    let res = hub.get("/api/v1/whoami", Some(access)).await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["sub"], "alice");
    assert_eq!(me["kind"], "human");
    assert_eq!(me["roles"], serde_json::json!(["hub:write", "fin:admin"]));
    let expires = chrono::DateTime::parse_from_rfc3339(me["expires_at"].as_str().unwrap()).unwrap();
    let left = expires.timestamp() - chrono::Utc::now().timestamp();
    assert!((590..=600).contains(&left), "expires in {left} s");
    // The code is single-use.
    let (status, again) = token_call(&idp, &exchange, None).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The refresh token rotates: the new one works once, the old one no more.
    let refresh = body["refresh_token"].as_str().unwrap();
    let refresh_form = |t: &str| {
        vec![
            ("grant_type", "refresh_token".to_owned()),
            ("client_id", CLI_CLIENT.to_owned()),
            ("refresh_token", t.to_owned()),
        ]
    };
    let res = http()
        .post(format!("{}/token", idp.url))
        .form(&refresh_form(refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    assert_ne!(rotated["refresh_token"], body["refresh_token"]);
    assert_eq!(
        claims_of(rotated["access_token"].as_str().unwrap())["aud"],
        AUD
    );
    let res = http()
        .post(format!("{}/token", idp.url))
        .form(&refresh_form(refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "a spent refresh token is refused");
}

#[tokio::test]
async fn pkce_refusals() {
    let idp = Idp::start().await;
    add_alice(&idp.issuer);
    let res = browser_login(&idp, "v".repeat(43).as_str(), "alice", "wrong password").await;
    assert_eq!(res.status(), 401, "a wrong password shows the form again");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("wrong user name or password")
    );
    // A plain (non-S256) challenge goes back to the client as an error.
    let res = http()
        .get(format!("{}/authorize", idp.url))
        .query(&[
            ("response_type", "code"),
            ("client_id", CLI_CLIENT),
            ("redirect_uri", "http://127.0.0.1:5000/callback"),
            ("code_challenge", "plain-challenge"),
            ("code_challenge_method", "plain"),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("http://127.0.0.1:5000/callback?error=invalid_request"),
        "{location}"
    );
    assert!(location.ends_with("state=s1"), "{location}");
    // An unregistered redirect URI is never redirected to.
    let res = http()
        .get(format!("{}/authorize", idp.url))
        .query(&[
            ("response_type", "code"),
            ("client_id", CLI_CLIENT),
            ("redirect_uri", "https://evil.test/callback"),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // A wrong verifier spends the code.
    let good = "b".repeat(50);
    let res = browser_login(&idp, &good, "alice", "correct horse battery").await;
    let location = reqwest::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let exchange = |verifier: String| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("client_id", CLI_CLIENT.to_owned()),
            ("code", code.clone()),
            ("redirect_uri", "http://127.0.0.1:49152/callback".to_owned()),
            ("code_verifier", verifier),
        ]
    };
    let res = http()
        .post(format!("{}/token", idp.url))
        .form(&exchange("c".repeat(50)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = http()
        .post(format!("{}/token", idp.url))
        .form(&exchange(good))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        400,
        "the code was spent by the failed attempt"
    );
}

#[tokio::test]
async fn service_accounts_get_per_target_tokens_cached_until_near_expiry() {
    let idp = Idp::start().await;
    let secret = idp
        .issuer
        .reset_client_secret("hub-dev", &["hub:write".to_owned()])
        .unwrap();
    let source = ServiceTokenSource::new(&idp.url, "hub-dev", &secret);
    let t1 = source.token_for(AUD).await.unwrap();
    let t2 = source.token_for(AUD).await.unwrap();
    assert_eq!(t1, t2);
    assert_eq!(idp.token_hits.load(Ordering::SeqCst), 1);
    let other = source.token_for("http://fin.test").await.unwrap();
    assert_eq!(idp.token_hits.load(Ordering::SeqCst), 2);
    assert_eq!(claims_of(&t1)["aud"], AUD);
    assert_eq!(claims_of(&other)["aud"], "http://fin.test");
    let p = idp.verifier().verify(&t1).await.unwrap();
    assert_eq!(
        (p.sub.as_str(), p.roles.as_slice()),
        ("hub-dev", ["hub:write".to_owned()].as_slice())
    );
    // A new secret replaces the old one.
    let fresh = idp.issuer.reset_client_secret("hub-dev", &[]).unwrap();
    let stale = ServiceTokenSource::new(&idp.url, "hub-dev", &secret);
    assert!(stale.token_for(AUD).await.is_err());
    assert!(
        ServiceTokenSource::new(&idp.url, "hub-dev", &fresh)
            .token_for(AUD)
            .await
            .is_ok()
    );
}
