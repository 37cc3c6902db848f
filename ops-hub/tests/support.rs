//! Test helpers of the ops hub: a hub with the ops module on a fresh SQLite file or PostgreSQL
//! schema, a token verifier that reads the principal from the token text, and request helpers.

#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request};
use hub_core::config::HubConfig;
use hub_core::server::App;
use serde_json::Value;

pub use testkit::{ADMIN, Backend, Res, SpelledTokens, fresh_database};

/// A hub built in-process, driven through its router.
pub struct TestHub {
    pub app: App,
    pub _dir: Option<tempfile::TempDir>,
}

impl TestHub {
    /// An ops hub with the probe loop off (tests drive probe rounds themselves) and the
    /// domains `infotech` and `finance`.
    pub async fn new(backend: Backend) -> Self {
        Self::with_ops_config(backend, "probes = false").await
    }

    /// An ops hub with `[modules.ops]` set to `ops_toml`.
    pub async fn with_ops_config(backend: Backend, ops_toml: &str) -> Self {
        let (url, dir) = fresh_database(backend).await;
        let mut config = HubConfig::with_database("ops", &url).expect("config");
        config
            .modules
            .insert("ops".into(), toml::from_str(ops_toml).expect("ops config"));
        let app = App::build(config, Arc::new(SpelledTokens), ops_hub::modules())
            .await
            .expect("hub starts");
        let hub = Self { app, _dir: dir };
        hub.domains(&["infotech", "finance"]).await;
        hub
    }

    pub fn ctx(&self) -> &hub_core::Ctx {
        self.app.hub.ctx()
    }

    /// Sends a request; `token` None sends none. Returns status, headers and the JSON body (Null if empty or not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Res {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> Res {
        testkit::respond(&self.app.router, req).await
    }

    /// POSTs a text body (an inventory file).
    pub async fn post_text(&self, path: &str, token: &str, text: &str) -> Res {
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/yaml")
            .body(Body::from(text.to_owned()))
            .unwrap();
        self.send(req).await
    }

    /// Creates a service with the admin token; `extra` fields override the defaults.
    pub async fn service(&self, id: &str, extra: Value) -> Value {
        let mut body = serde_json::json!({"id": id, "name": id, "kind": "api", "domain": "infotech",
            "environment": "production", "location": "eu-1", "lifecycle": "active"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        self.post("/api/v1/ops/services", ADMIN, body)
            .await
            .expect(201)
            .json
    }

    pub async fn get(&self, path: &str, token: &str) -> Res {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Creates domains with the admin token, named after their slugs.
    pub async fn domains(&self, slugs: &[&str]) {
        for slug in slugs {
            self.post(
                "/api/v1/domains",
                ADMIN,
                serde_json::json!({"slug": slug, "name": slug}),
            )
            .await
            .expect(201);
        }
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// The data of every outbox event of `kind` (`<resource>.<action>`), oldest first.
    pub async fn events(&self, kind: &str) -> Vec<Value> {
        use hub_core::outbox::model;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        model::Entity::find()
            .filter(model::Column::EventType.eq(format!("hubmesh.{kind}")))
            .order_by_asc(model::Column::Id)
            .all(&self.ctx().db)
            .await
            .expect("read the outbox")
            .into_iter()
            .map(|e| serde_json::from_str(&e.data).expect("event data is JSON"))
            .collect()
    }

    /// How many outbox events of `kind` (`<resource>.<action>`) were written.
    pub async fn outbox_count(&self, kind: &str) -> u64 {
        self.events(kind).await.len() as u64
    }
}

/// A writer limited to the infotech domain.
pub const INFOTECH: &str = "sub=ivan;roles=ops:write;domains=infotech;kind=agent";
/// A reader of every domain.
pub const READER: &str = "sub=rita;roles=hub:read;kind=human";

/// Waits (at most 20 s) until `check` holds: background jobs run on their own.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let waited = tokio::time::timeout(Duration::from_secs(20), async {
        while !check().await {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for: {what}");
}

/// Declares a test that runs once on SQLite and once on PostgreSQL: `both!(name, |hub| async move { … })`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let hub = $crate::support::TestHub::new($crate::support::Backend::Sqlite).await;
                ($body)(hub).await;
            }
            #[tokio::test]
            async fn postgres() {
                let hub = $crate::support::TestHub::new($crate::support::Backend::Postgres).await;
                ($body)(hub).await;
            }
        }
    };
}
