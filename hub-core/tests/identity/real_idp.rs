//! Against a real provider: node `oidc-provider` on loopback issues a client-credentials token;
//! a hub trusting it accepts that token and refuses one from the local issuer.

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{AUD, Idp, ServedHub, http, oidc_config, principal};

/// Installs the provider's npm packages once (idempotent: `npm ci` only without them).
async fn install(dir: &PathBuf) {
    if dir.join("node_modules/oidc-provider/package.json").exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir)
        .status()
        .await
        .expect("npm is installed");
    assert!(status.success(), "npm ci in {} failed", dir.display());
}

/// Starts `idp.mjs`; returns the process (killed on drop) and its issuer URL.
async fn start_provider() -> (Child, String) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/idp");
    install(&dir).await;
    let mut child = Command::new("node")
        .arg(dir.join("idp.mjs"))
        .env("IDP_RESOURCE", AUD)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node is installed");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .await
        .unwrap();
    let ready: Value = serde_json::from_str(&line).expect("the provider prints its issuer");
    (child, ready["issuer"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_hub_trusting_oidc_provider_accepts_its_tokens_and_refuses_the_local_issuers() {
    let (_provider, issuer) = start_provider().await;
    let res = http()
        .post(format!("{issuer}/token"))
        .basic_auth("hub-test", Some("hub-test-secret"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "hub:read"),
            ("resource", AUD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);

    let hub = ServedHub::start(oidc_config(&issuer)).await;
    let res = hub.get("/api/v1/whoami", Some(token)).await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["sub"], "hub-test");
    assert_eq!(me["kind"], "service");
    assert_eq!(me["roles"], serde_json::json!(["hub:read"]));

    let local = Idp::start().await;
    let foreign = local
        .issuer
        .mint(
            &principal("admin", &["hub:admin"], None),
            "admin",
            &[AUD.to_owned()],
        )
        .unwrap();
    let res = hub.get("/api/v1/whoami", Some(&foreign)).await;
    assert_eq!(res.status(), 401, "a token of another issuer is refused");
}
