//! A hub trusting the local issuer: 401 with `WWW-Authenticate`, 403 with the needed scope,
//! domain limits and `whoami` through real tokens.

use serde_json::{Value, json};

use super::{AUD, Idp, ServedHub, principal};

fn audience() -> Vec<String> {
    vec![AUD.to_owned()]
}

#[tokio::test]
async fn no_token_is_a_401_with_a_bearer_challenge() {
    let idp = Idp::start().await;
    let hub = ServedHub::start(idp.oidc()).await;
    let res = hub.get("/api/v1/whoami", None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"hubmesh\""
    );
    assert_eq!(hub.get("/healthz", None).await.status(), 200);
    assert_eq!(hub.get("/api/v1/openapi.json", None).await.status(), 200);
}

#[tokio::test]
async fn a_bad_token_is_a_401_naming_the_error() {
    let idp = Idp::start().await;
    let hub = ServedHub::start(idp.oidc()).await;
    let mut claims = idp.claims("alice");
    claims["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let res = hub.get("/api/v1/whoami", Some(&idp.sign(&claims))).await;
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(
        challenge.contains("error_description=\"token expired\""),
        "{challenge}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], 401);
}

#[tokio::test]
async fn a_token_without_the_role_is_a_403_naming_the_scope() {
    let idp = Idp::start().await;
    let hub = ServedHub::start(idp.oidc()).await;
    let reader = idp
        .issuer
        .mint(&principal("r", &["hub:read"], None), "r", &audience())
        .unwrap();
    let res = hub.get("/api/v1/modules", Some(&reader)).await;
    assert_eq!(res.status(), 200);
    let nobody = idp
        .issuer
        .mint(&principal("n", &["ops:read"], None), "n", &audience())
        .unwrap();
    let res = hub.get("/api/v1/modules", Some(&nobody)).await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\", scope=\"dev:read\""
    );
}

#[tokio::test]
async fn a_domain_limited_token_sees_only_its_domains() {
    let idp = Idp::start().await;
    let hub = ServedHub::start(idp.oidc()).await;
    let admin = idp
        .issuer
        .mint(
            &principal("root", &["hub:admin"], None),
            "root",
            &audience(),
        )
        .unwrap();
    for slug in ["finance", "infotech"] {
        let res = super::http()
            .post(format!("{}/api/v1/domains", hub.url))
            .bearer_auth(&admin)
            .json(&json!({"slug": slug, "name": slug}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let limited = idp
        .issuer
        .mint(
            &principal("fin-agent", &["hub:admin"], Some(&["finance"])),
            "fin-agent",
            &audience(),
        )
        .unwrap();
    assert_eq!(
        hub.get("/api/v1/domains/finance", Some(&limited))
            .await
            .status(),
        200
    );
    assert_eq!(
        hub.get("/api/v1/domains/infotech", Some(&limited))
            .await
            .status(),
        404
    );
    let list: Value = hub
        .get("/api/v1/domains", Some(&limited))
        .await
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["finance"]);
}
