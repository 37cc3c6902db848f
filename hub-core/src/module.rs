//! The module API: how a domain hub (or an optional module) plugs into hub-core.
//!
//! A module declares a manifest, may bring its own migrations (tracked in its own migrations
//! table), and registers routes, MCP tools and resources, post-commit event handlers and
//! background jobs on a [`HubBuilder`]. A module that fails to start is reported with state `error` while the rest of
//! the hub runs. This file is an API boundary: a change here is a change to every hub.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::bus::inbox::{BusHandler, Subscription};
use crate::config::HubConfig;
use crate::ctx::Ctx;
use crate::error::HubError;
use crate::hub::Hub;
use crate::mcp::{McpResource, McpTool};
use crate::outbox::Event;

/// What a module is and what it exchanges with the federation.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ModuleManifest {
    /// Short id, also the module's route prefix: `/api/v1/<id>/…`.
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    /// Bus subjects the module consumes.
    pub consumes: Vec<String>,
    /// Bus subjects the module produces.
    pub produces: Vec<String>,
    /// JSON Schema of the module's configuration, if it has any.
    pub config_schema: Option<serde_json::Value>,
}

/// A module's migrator, type-erased so that modules can be trait objects.
#[derive(Clone, Copy)]
pub struct MigratorRef {
    up: for<'a> fn(&'a DatabaseConnection) -> BoxFuture<'a, Result<(), DbErr>>,
}

impl MigratorRef {
    /// Wraps a sea-orm migrator; it must name its own `migration_table_name`.
    pub fn of<M: MigratorTrait + 'static>() -> Self {
        Self {
            up: |db| Box::pin(M::up(db, None)),
        }
    }

    pub async fn up(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        (self.up)(db).await
    }
}

/// Why a module could not start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ModuleError(pub String);

/// The constructor of a hub's module list, as hub binaries and the mesh launcher pass it.
pub type ModuleSet = fn() -> Vec<Box<dyn HubModule>>;

/// A domain hub or optional module.
pub trait HubModule: Send + Sync + 'static {
    fn manifest(&self) -> ModuleManifest;

    /// The module's own migrations, applied at start after the core ones.
    fn migrator(&self) -> Option<MigratorRef> {
        None
    }

    /// Adds routes, MCP tools, event handlers and jobs. On error nothing it added is used.
    fn register(&self, hub: &mut HubBuilder) -> Result<(), ModuleError>;
}

/// Reacts to committed events of the hub. Runs after commit: a failure is logged and retried
/// with backoff, and never blocks or undoes the write that caused the event.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Whether this handler wants `event` (by default all).
    fn accepts(&self, _event: &Event) -> bool {
        true
    }

    async fn handle(&self, ctx: &Ctx, event: &Event) -> Result<(), HubError>;
}

/// A background job: runs until the token is cancelled.
pub type Job = Box<dyn FnOnce(Ctx, CancellationToken) -> BoxFuture<'static, ()> + Send>;

/// What a module registers; collected per module and used only if `register` succeeds.
pub struct HubBuilder {
    ctx: Ctx,
    config: HubConfig,
    module_id: String,
    prefix: String,
    pub(crate) routes: OpenApiRouter<Hub>,
    pub(crate) handlers: Vec<(String, Arc<dyn EventHandler>)>,
    pub(crate) jobs: Vec<(String, Job)>,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) tools: Vec<McpTool>,
    pub(crate) resources: Vec<McpResource>,
}

impl HubBuilder {
    pub(crate) fn new(ctx: Ctx, config: HubConfig, module_id: &str) -> Self {
        Self {
            ctx,
            config,
            module_id: module_id.to_owned(),
            prefix: format!("/api/v1/{module_id}/"),
            routes: OpenApiRouter::new(),
            handlers: Vec::new(),
            jobs: Vec::new(),
            subscriptions: Vec::new(),
            tools: Vec::new(),
            resources: Vec::new(),
        }
    }

    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// Adds routes; every path must lie under the module's prefix `/api/v1/<id>/`.
    pub fn routes(&mut self, routes: OpenApiRouter<Hub>) -> Result<(), ModuleError> {
        if let Some(path) = routes
            .get_openapi()
            .paths
            .paths
            .keys()
            .find(|p| !p.starts_with(&self.prefix))
        {
            return Err(ModuleError(format!(
                "route {path} is outside the module prefix {}",
                self.prefix
            )));
        }
        self.routes = std::mem::take(&mut self.routes).merge(routes);
        Ok(())
    }

    /// Adds an MCP tool. It is listed in `tools/list` beside the core tools, in profile `all`,
    /// in the profile named by the module id and in any profile it names itself. Names are
    /// snake_case verbs and must not collide with another tool of the hub (the module then fails
    /// to start). The tool fn calls the module's service fns, which check permissions.
    pub fn tool(&mut self, tool: McpTool) {
        self.tools.push(tool.profile(&self.module_id));
    }

    /// Adds a read-only MCP resource (`hub://<module id>/…` by convention).
    pub fn resource(&mut self, resource: McpResource) {
        self.resources.push(resource);
    }

    /// Adds a post-commit event handler.
    pub fn on_event(&mut self, name: &str, handler: impl EventHandler) {
        self.handlers.push((name.to_owned(), Arc::new(handler)));
    }

    /// Subscribes `handler` to the bus subjects matching `filter` (NATS wildcards), e.g.
    /// `hubmesh.evt.fin.budget.*` or `hubmesh.sig.fin.pressure`. The subscription is durable
    /// (named `<hub>-<module>-<name>`): events published while the hub is down arrive after it
    /// starts, and each is applied exactly once (see [`crate::bus::inbox`]).
    pub fn on_bus(&mut self, name: &str, filter: &str, handler: impl BusHandler) {
        self.subscriptions.push(Subscription {
            durable: durable_name(&[&self.ctx.hub, &self.module_id, name]),
            filter: filter.to_owned(),
            handler: Arc::new(handler),
        });
    }

    /// Adds a background job, started with the hub and cancelled at shutdown.
    pub fn job<F, Fut>(&mut self, name: &str, job: F)
    where
        F: FnOnce(Ctx, CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.jobs.push((
            name.to_owned(),
            Box::new(move |ctx, token| Box::pin(job(ctx, token))),
        ));
    }
}

/// A durable consumer name from `parts`: characters NATS does not allow there become `_`.
pub fn durable_name(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| {
            p.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A module's state as `GET /api/v1/modules` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModuleState {
    Running,
    Error,
    Disabled,
}

/// A module and how it is doing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModuleStatus {
    #[serde(flatten)]
    pub manifest: ModuleManifest,
    pub state: ModuleState,
    /// Why the module is in state `error`.
    pub error: Option<String>,
}
