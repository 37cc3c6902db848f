//! The module API: migrations, routes, post-commit handlers, jobs, and failure isolation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::State;
use hub_core::module::{
    EventHandler, HubBuilder, HubModule, MigratorRef, ModuleError, ModuleManifest,
};
use hub_core::outbox::Event;
use hub_core::{Ctx, Hub, HubError};
use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::prelude::*;
use serde_json::json;
use tokio::sync::Notify;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::support::{ADMIN, Backend, TestHub};

fn manifest(id: &str) -> ModuleManifest {
    ModuleManifest {
        id: id.into(),
        name: format!("{id} module"),
        version: "0.0.1".into(),
        ..Default::default()
    }
}

/// A module with its own migrations and one route.
struct Notes;

#[derive(DeriveMigrationName)]
struct CreateNotes;

#[async_trait]
impl MigrationTrait for CreateNotes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("notes_items")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .to_owned(),
            )
            .await
    }
}

struct NotesMigrator;

impl MigratorTrait for NotesMigrator {
    fn migration_table_name() -> DynIden {
        "notes_migrations".into_iden()
    }
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateNotes)]
    }
}

/// Counts the module's rows: proves its migration ran and its route is served.
#[utoipa::path(get, path = "/api/v1/notes/count", responses((status = 200, body = u64)))]
async fn notes_count(State(hub): State<Hub>) -> Result<axum::Json<i64>, HubError> {
    let db = &hub.ctx().db;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM notes_items",
        ))
        .await?;
    Ok(axum::Json(
        row.and_then(|r| r.try_get::<i64>("", "n").ok())
            .unwrap_or(-1),
    ))
}

impl HubModule for Notes {
    fn manifest(&self) -> ModuleManifest {
        manifest("notes")
    }
    fn migrator(&self) -> Option<MigratorRef> {
        Some(MigratorRef::of::<NotesMigrator>())
    }
    fn register(&self, hub: &mut HubBuilder) -> Result<(), ModuleError> {
        hub.routes(OpenApiRouter::new().routes(routes!(notes_count)))
    }
}

/// A module whose start fails.
struct Broken;

impl HubModule for Broken {
    fn manifest(&self) -> ModuleManifest {
        manifest("broken")
    }
    fn register(&self, _hub: &mut HubBuilder) -> Result<(), ModuleError> {
        Err(ModuleError("cannot reach its licence server".into()))
    }
}

/// A module that tries to put a route outside its prefix.
struct Trespasser;

impl HubModule for Trespasser {
    fn manifest(&self) -> ModuleManifest {
        manifest("trespasser")
    }
    fn register(&self, hub: &mut HubBuilder) -> Result<(), ModuleError> {
        #[utoipa::path(get, path = "/api/v1/domains/mine", responses((status = 200)))]
        async fn steal() {}
        hub.routes(OpenApiRouter::new().routes(routes!(steal)))
    }
}

#[tokio::test]
async fn a_failing_module_is_listed_as_error_while_the_hub_serves() {
    let hub = TestHub::with_modules(
        Backend::Sqlite,
        "dev",
        vec![Box::new(Notes), Box::new(Broken), Box::new(Trespasser)],
    )
    .await;
    let modules = hub.get("/api/v1/modules", ADMIN).await.expect(200).json;
    let state = |id: &str| {
        modules["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(state("notes")["state"], "running");
    assert_eq!(state("broken")["state"], "error");
    assert!(
        state("broken")["error"]
            .as_str()
            .unwrap()
            .contains("licence server")
    );
    assert_eq!(state("trespasser")["state"], "error");
    assert!(
        state("trespasser")["error"]
            .as_str()
            .unwrap()
            .contains("outside the module prefix")
    );

    hub.post(
        "/api/v1/domains",
        ADMIN,
        json!({"slug": "finance", "name": "Finance"}),
    )
    .await
    .expect(201);
    assert_eq!(
        hub.get("/api/v1/notes/count", ADMIN).await.expect(200).json,
        0
    );
    hub.get("/api/v1/domains/mine", ADMIN).await.problem(404);
    let doc = hub.get("/api/v1/openapi.json", ADMIN).await.json;
    assert!(doc["paths"]["/api/v1/notes/count"].is_object());
}

/// A post-commit handler that fails its first `fail_first` calls.
struct Flaky {
    calls: Arc<AtomicU32>,
    fail_first: u32,
    done: Arc<Notify>,
}

#[async_trait]
impl EventHandler for Flaky {
    fn accepts(&self, event: &Event) -> bool {
        event.kind() == "domain.created"
    }
    async fn handle(&self, _ctx: &Ctx, _event: &Event) -> Result<(), HubError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= self.fail_first {
            return Err(HubError::Internal(format!("flaky failure {n}")));
        }
        self.done.notify_one();
        Ok(())
    }
}

struct FlakyModule {
    calls: Arc<AtomicU32>,
    done: Arc<Notify>,
}

impl HubModule for FlakyModule {
    fn manifest(&self) -> ModuleManifest {
        manifest("flaky")
    }
    fn register(&self, hub: &mut HubBuilder) -> Result<(), ModuleError> {
        hub.on_event(
            "flaky",
            Flaky {
                calls: self.calls.clone(),
                fail_first: 2,
                done: self.done.clone(),
            },
        );
        Ok(())
    }
}

#[tokio::test]
async fn a_failing_event_handler_is_retried_after_commit_and_never_blocks_the_write() {
    let calls = Arc::new(AtomicU32::new(0));
    let done = Arc::new(Notify::new());
    let module = FlakyModule {
        calls: calls.clone(),
        done: done.clone(),
    };
    let hub = TestHub::with_modules(Backend::Sqlite, "dev", vec![Box::new(module)]).await;

    hub.post(
        "/api/v1/domains",
        ADMIN,
        json!({"slug": "finance", "name": "Finance"}),
    )
    .await
    .expect(201);
    // The write is committed and visible whatever the handler does.
    hub.get("/api/v1/domains/finance", ADMIN).await.expect(200);
    tokio::time::timeout(Duration::from_secs(10), done.notified())
        .await
        .expect("handler succeeds after retries");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "two failures, then one success"
    );
}

/// A module with a background job that records each run.
struct Ticker {
    runs: Arc<AtomicU32>,
    started: Arc<Notify>,
}

impl HubModule for Ticker {
    fn manifest(&self) -> ModuleManifest {
        manifest("ticker")
    }
    fn register(&self, hub: &mut HubBuilder) -> Result<(), ModuleError> {
        let (runs, started) = (self.runs.clone(), self.started.clone());
        hub.job("tick", move |_ctx, stop| async move {
            runs.fetch_add(1, Ordering::SeqCst);
            started.notify_one();
            stop.cancelled().await;
            // Some last work after the stop, as a job's final write would be.
            tokio::time::sleep(Duration::from_millis(50)).await;
            runs.fetch_add(100, Ordering::SeqCst);
        });
        Ok(())
    }
}

/// A hub whose `Ticker` job has started, and the job's run counter.
async fn ticking_hub() -> (TestHub, Arc<AtomicU32>) {
    let runs = Arc::new(AtomicU32::new(0));
    let started = Arc::new(Notify::new());
    let hub = TestHub::with_modules(
        Backend::Sqlite,
        "dev",
        vec![Box::new(Ticker {
            runs: runs.clone(),
            started: started.clone(),
        })],
    )
    .await;
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .expect("job started");
    (hub, runs)
}

#[tokio::test]
async fn jobs_start_with_the_hub_and_stop_with_it() {
    let (hub, runs) = ticking_hub().await;
    drop(hub);
    tokio::time::timeout(Duration::from_secs(10), async {
        while runs.load(Ordering::SeqCst) != 101 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("job saw the shutdown");
}

#[tokio::test]
async fn serve_returns_once_the_jobs_have_ended() {
    let (hub, runs) = ticking_hub().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    stop.cancel();
    let TestHub { app, .. } = hub;
    app.serve(listener, stop).await.unwrap();
    assert_eq!(
        runs.load(Ordering::SeqCst),
        101,
        "the job finished its last work before serve returned"
    );
}

#[tokio::test]
async fn a_disabled_module_is_listed_and_not_started_and_its_data_stays() {
    let (url, _dir) = crate::support::fresh_database(Backend::Sqlite).await;
    let config = hub_core::config::HubConfig::with_database("dev", &url).unwrap();
    let app = hub_core::server::App::build(
        config.clone(),
        Arc::new(crate::support::SpelledTokens),
        vec![Box::new(Notes)],
    )
    .await
    .unwrap();
    app.hub
        .ctx()
        .db
        .execute_unprepared("INSERT INTO notes_items (id) VALUES (1)")
        .await
        .unwrap();
    drop(app);

    let disabled = hub_core::config::HubConfig {
        disabled_modules: vec!["notes".into()],
        ..config.clone()
    };
    let hub = TestHub {
        app: hub_core::server::App::build(
            disabled,
            Arc::new(crate::support::SpelledTokens),
            vec![Box::new(Notes)],
        )
        .await
        .unwrap(),
        url: url.clone(),
        _dir: None,
    };
    let modules = hub.get("/api/v1/modules", ADMIN).await.expect(200).json;
    assert_eq!(modules["items"][0]["state"], "disabled");
    hub.get("/api/v1/notes/count", ADMIN).await.problem(404);
    drop(hub);

    let again = TestHub {
        app: hub_core::server::App::build(
            config,
            Arc::new(crate::support::SpelledTokens),
            vec![Box::new(Notes)],
        )
        .await
        .unwrap(),
        url: url.clone(),
        _dir: None,
    };
    assert_eq!(
        again
            .get("/api/v1/notes/count", ADMIN)
            .await
            .expect(200)
            .json,
        1
    );
}
