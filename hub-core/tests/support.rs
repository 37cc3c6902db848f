//! Shared test helpers: a hub on a fresh SQLite file or PostgreSQL database, a token verifier
//! that reads the principal from the token text, and a request helper.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request};
use hub_core::config::HubConfig;
use hub_core::module::HubModule;
use hub_core::server::{App, StartError};
use serde_json::Value;

pub use testkit::{ADMIN, Backend, Res, SpelledTokens, eventually, fresh_database};

/// A hub built in-process, driven through its router.
pub struct TestHub {
    pub app: App,
    /// The hub's database.
    pub url: String,
    pub _dir: Option<tempfile::TempDir>,
}

impl TestHub {
    pub async fn new(backend: Backend) -> Self {
        Self::with_modules(backend, "dev", Vec::new()).await
    }

    pub async fn with_modules(
        backend: Backend,
        name: &str,
        modules: Vec<Box<dyn HubModule>>,
    ) -> Self {
        let (url, dir) = fresh_database(backend).await;
        let config = HubConfig::with_database(name, &url).expect("config");
        let app = App::build(config, Arc::new(SpelledTokens), modules)
            .await
            .expect("hub starts");
        Self {
            app,
            url,
            _dir: dir,
        }
    }

    /// A hub named `name` on a fresh database of `backend` and on `bus`; `tweak` adjusts its config.
    pub async fn on_bus(
        backend: Backend,
        name: &str,
        modules: Vec<Box<dyn HubModule>>,
        bus: Arc<dyn hub_core::bus::Bus>,
        tweak: impl FnOnce(&mut HubConfig),
    ) -> Self {
        let (url, dir) = fresh_database(backend).await;
        let mut config = HubConfig::with_database(name, &url).expect("config");
        tweak(&mut config);
        let app = App::build_on(config, Arc::new(SpelledTokens), modules, bus)
            .await
            .expect("hub starts");
        Self {
            app,
            url,
            _dir: dir,
        }
    }

    /// A hub named `name` on a fresh database of `backend` that connects to the bus of its
    /// config as a hub binary does; `tweak` adjusts the config (`nats_url`, `[nats]`).
    pub async fn from_config(
        backend: Backend,
        name: &str,
        tweak: impl FnOnce(&mut HubConfig),
    ) -> Result<Self, StartError> {
        let (url, dir) = fresh_database(backend).await;
        let mut config = HubConfig::with_database(name, &url).expect("config");
        tweak(&mut config);
        let app = App::build(config, Arc::new(SpelledTokens), Vec::new()).await?;
        Ok(Self {
            app,
            url,
            _dir: dir,
        })
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
