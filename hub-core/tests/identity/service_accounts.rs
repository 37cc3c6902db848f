//! Hub-to-hub calls in a mesh built as `hubmesh up` builds it: one local issuer, each hub with
//! its own service account (`LocalIssuer::hub_service_account`), the hubs on one in-process bus.

use std::sync::Arc;
use std::time::Duration;

use hub_core::auth::PrincipalKind;
use hub_core::bus::{Bus, MemoryBus};
use hub_core::config::HubConfig;
use hub_core::hub::Hub;
use hub_core::server::App;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::{Idp, claims_of, http, principal};
use crate::support::{Backend, eventually, fresh_database};

/// dev, ops and fin served on loopback ports, each trusting the issuer with its URL as audience.
struct PeerMesh {
    idp: Idp,
    hubs: Vec<(String, App)>,
    _dirs: Vec<Option<tempfile::TempDir>>,
}

impl PeerMesh {
    async fn start() -> Self {
        Self::of(&["dev", "ops", "fin"], true).await
    }

    /// Hubs `names`, each with its own service account if `accounts`.
    async fn of(names: &[&str], accounts: bool) -> Self {
        let idp = Idp::start().await;
        let bus: Arc<dyn Bus> = Arc::new(MemoryBus::new(Duration::from_secs(120)));
        let (mut hubs, mut dirs) = (Vec::new(), Vec::new());
        for &name in names {
            let (db_url, dir) = fresh_database(Backend::Sqlite).await;
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let mut config = HubConfig::with_database(name, &db_url).unwrap();
            config.public_url = url.clone();
            config.oidc.issuer = Some(idp.url.clone());
            config.oidc.audience = url.clone();
            if accounts {
                config.oidc.service_account = Some(idp.issuer.hub_service_account(name).unwrap());
            }
            let verifier = hub_core::auth::verifier_for(&config);
            let app = App::build_on(config, verifier, vec![], bus.clone())
                .await
                .unwrap();
            tokio::spawn(axum::serve(listener, app.router.clone()).into_future());
            hubs.push((url, app));
            dirs.push(dir);
        }
        Self {
            idp,
            hubs,
            _dirs: dirs,
        }
    }

    fn hub(&self, name: &str) -> (&str, &Hub) {
        let (url, app) = self
            .hubs
            .iter()
            .find(|(_, app)| app.hub.name() == name)
            .unwrap();
        (url, &app.hub)
    }

    /// `GET <hub><path>` with `token`: the status and the JSON body.
    async fn get(&self, hub: &str, path: &str, token: &str) -> (u16, Value) {
        let res = http()
            .get(format!("{}{path}", self.hub(hub).0))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json().await.unwrap_or_default())
    }

    /// An admin's token for `hub`, as an operator sends it.
    fn admin_token(&self, hub: &str) -> String {
        let admin = principal("admin", &["hub:admin"], None);
        let aud = vec![self.hub(hub).0.to_owned()];
        self.idp.issuer.mint(&admin, "admin", &aud).unwrap()
    }
}

#[tokio::test]
async fn a_hubs_token_for_another_hub_is_its_own_and_only_good_there() {
    let mesh = PeerMesh::start().await;
    let (ops_url, _) = mesh.hub("ops");
    let source = mesh.hub("dev").1.ctx().service_tokens.clone().unwrap();
    assert_eq!(source.client_id(), "dev-hub");
    let token = source.token_for(ops_url).await.unwrap();
    let claims = claims_of(&token);
    assert_eq!(
        (
            &claims["aud"],
            &claims["sub"],
            &claims["kind"],
            &claims["roles"]
        ),
        (
            &json!(ops_url),
            &json!("dev-hub"),
            &json!("service"),
            &json!(["hub:read"])
        )
    );

    let (status, who) = mesh.get("ops", "/api/v1/whoami", &token).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(
        (&who["sub"], &who["kind"]),
        (&json!("dev-hub"), &json!("service"))
    );
    let (status, _) = mesh.get("ops", "/api/v1/modules", &token).await;
    assert_eq!(status, 200, "hub:read lets dev read ops");
    let (status, problem) = mesh.get("fin", "/api/v1/whoami", &token).await;
    assert_eq!(status, 401, "a token for ops is refused by fin");
    assert!(
        problem["detail"].as_str().unwrap().contains("audience"),
        "{problem}"
    );

    // Each hub has an account of its own.
    let fin = mesh.hub("fin").1.ctx().service_tokens.clone().unwrap();
    let fin_token = fin.token_for(ops_url).await.unwrap();
    let (_, who) = mesh.get("ops", "/api/v1/whoami", &fin_token).await;
    assert_eq!(who["sub"], "fin-hub");
}

#[tokio::test]
async fn a_hub_calls_another_with_a_token_it_minted_not_one_it_received() {
    let mesh = PeerMesh::start().await;
    let received = mesh.admin_token("dev");
    eventually("dev hears of ops", Duration::from_secs(10), || async {
        mesh.get("dev", "/api/v1/federation/hubs", &received)
            .await
            .1["items"]
            .as_array()
            .is_some_and(|hubs| hubs.iter().any(|h| h["name"] == "ops"))
    })
    .await;
    let (status, seen) = mesh
        .get("dev", "/api/v1/federation/hubs/ops/whoami", &received)
        .await;
    assert_eq!(status, 200, "{seen}");
    // ops saw dev's service account, not the admin whose token dev received.
    assert_eq!(
        (&seen["sub"], &seen["kind"]),
        (&json!("dev-hub"), &json!(PrincipalKind::Service))
    );
    let sent = mesh
        .hub("dev")
        .1
        .ctx()
        .service_tokens
        .clone()
        .unwrap()
        .token_for(mesh.hub("ops").0)
        .await
        .unwrap();
    assert_ne!(sent, received);

    let (status, problem) = mesh
        .get("dev", "/api/v1/federation/hubs/nowhere/whoami", &received)
        .await;
    assert_eq!(status, 404, "{problem}");
}

#[tokio::test]
async fn a_hub_without_a_service_account_calls_no_hub() {
    let mesh = PeerMesh::of(&["dev"], false).await;
    assert!(mesh.hub("dev").1.ctx().service_tokens.is_none());
    let admin = mesh.admin_token("dev");
    eventually("dev lists itself", Duration::from_secs(10), || async {
        mesh.get("dev", "/api/v1/federation/hubs", &admin).await.1["items"][0]["name"] == "dev"
    })
    .await;
    let (status, problem) = mesh
        .get("dev", "/api/v1/federation/hubs/dev/whoami", &admin)
        .await;
    assert_eq!(status, 503, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("has no service account"),
        "{problem}"
    );
}
