//! Test helpers of the fin hub: a hub with the fin module on a fresh SQLite file or PostgreSQL
//! schema (through `testkit`), and request helpers.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request};
use hub_core::config::HubConfig;
use hub_core::server::App;
use serde_json::Value;

pub use testkit::{ADMIN, Backend, Res, SpelledTokens, eventually, fresh_database};

/// The fin settings of test hubs: a USD->EUR rate, two priced models, a small record limit.
pub const FIN_CONFIG: &str = r#"
currency = "EUR"
max_record_bytes = 65536
[rates]
"USD/EUR" = "0.5"
[prices.openai."gpt-4o"]
currency = "USD"
input_per_million = "2.50"
output_per_million = "10"
[prices.anthropic."claude"]
currency = "EUR"
input_per_million = "3"
output_per_million = "15"
"#;

pub struct TestHub {
    pub app: App,
    pub _dir: Option<tempfile::TempDir>,
}

impl TestHub {
    pub async fn new(backend: Backend) -> Self {
        let (url, dir) = fresh_database(backend).await;
        let mut config = HubConfig::with_database("fin", &url).expect("config");
        config.modules.insert(
            "fin".into(),
            toml::from_str(FIN_CONFIG).expect("fin config"),
        );
        let app = App::build(config, Arc::new(SpelledTokens), fin_hub::modules())
            .await
            .expect("hub starts");
        let hub = Self { app, _dir: dir };
        hub.domains(&["finance", "infotech"]).await;
        hub
    }

    pub fn ctx(&self) -> &hub_core::Ctx {
        self.app.hub.ctx()
    }

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

    /// Uploads `csv` to `/api/v1/fin/imports?<query>`.
    pub async fn upload(&self, query: &str, token: &str, csv: impl Into<Body>) -> Res {
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/fin/imports?{query}"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "text/csv")
            .body(csv.into())
            .unwrap();
        self.send(req).await
    }

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

    /// How many outbox events of `kind` (`<resource>.<action>`) were written.
    pub async fn outbox_count(&self, kind: &str) -> u64 {
        use hub_core::outbox::model;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        model::Entity::find()
            .filter(model::Column::EventType.eq(format!("hubmesh.{kind}")))
            .count(&self.ctx().db)
            .await
            .expect("count outbox rows")
    }

    /// The outbox events of `kind`, oldest first, as their data.
    pub async fn outbox(&self, kind: &str) -> Vec<Value> {
        use hub_core::outbox::model;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        model::Entity::find()
            .filter(model::Column::EventType.eq(format!("hubmesh.{kind}")))
            .order_by_asc(model::Column::Id)
            .all(&self.ctx().db)
            .await
            .expect("outbox rows")
            .into_iter()
            .map(|r| serde_json::from_str(&r.data).expect("event data is JSON"))
            .collect()
    }

    /// The alert `key` as `GET /api/v1/alerts?status=all` lists it.
    pub async fn alert(&self, key: &str) -> Option<Value> {
        let page = self
            .get("/api/v1/alerts?status=all&limit=500", ADMIN)
            .await
            .expect(200)
            .json;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .cloned()
    }
}

/// How long tests wait for post-commit handlers, which run in the background.
pub const WAIT: Duration = Duration::from_secs(10);

/// A writer limited to the finance domain.
pub const FINANCE: &str = "sub=fina;roles=fin:write;domains=finance;kind=agent";
pub const READER: &str = "sub=rita;roles=hub:read;kind=human";

/// Declares a test that runs once on SQLite and once on PostgreSQL.
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
