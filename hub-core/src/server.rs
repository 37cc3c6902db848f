//! Assembles a hub from its config, verifier and modules, and serves it.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::api;
use crate::api::metrics::Metrics;
use crate::auth::TokenVerifier;
use crate::bus::Bus;
use crate::config::HubConfig;
use crate::ctx::Ctx;
use crate::federation::registry::{self, HubManifest, ModuleEntry};
use crate::hub::Hub;
use crate::mcp::Catalog;
use crate::module::{EventHandler, HubBuilder, HubModule, ModuleState, ModuleStatus};

/// Why a hub could not start at all (a module's failure is not one: it is reported, not fatal).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database {url}: {source}")]
    Database { url: String, source: sea_orm::DbErr },
    #[error("core migrations: {0}")]
    Migrate(sea_orm::DbErr),
    #[error("openapi document: {0}")]
    OpenApi(String),
    #[error("bus: {0}")]
    Bus(#[from] crate::bus::BusError),
}

/// A built hub: its state and router, with its handlers and jobs running until shutdown.
pub struct App {
    pub hub: Hub,
    pub router: Router,
    shutdown: CancellationToken,
    /// The modules' jobs: `serve` waits for them after cancelling them, so a job can finish
    /// its last write (the probe job its batch of evidence) before the process exits.
    jobs: TaskTracker,
}

impl App {
    /// Connects the database and the bus of `config` (NATS if `nats_url` is set, else a bus of
    /// its own), applies migrations, registers the modules and starts their handlers and jobs.
    /// A module that fails is listed with state `error`; the hub still starts.
    pub async fn build(
        config: HubConfig,
        verifier: Arc<dyn TokenVerifier>,
        modules: Vec<Box<dyn HubModule>>,
    ) -> Result<Self, StartError> {
        let bus = crate::bus::for_config(&config).await?;
        Self::build_on(config, verifier, modules, bus).await
    }

    /// Like [`App::build`] on a given bus: the hubs of one process share an in-process bus.
    pub async fn build_on(
        config: HubConfig,
        verifier: Arc<dyn TokenVerifier>,
        modules: Vec<Box<dyn HubModule>>,
        bus: Arc<dyn Bus>,
    ) -> Result<Self, StartError> {
        let unreachable = |source| StartError::Database {
            url: redact_url(&config.database_url),
            source,
        };
        let db = crate::db::connect(&config.database_url)
            .await
            .map_err(unreachable)?;
        crate::db::migrate_core(&db)
            .await
            .map_err(StartError::Migrate)?;
        let writer = crate::db::connect_writer(&config.database_url)
            .await
            .map_err(unreachable)?;
        let checkpointer = crate::db::connect_checkpointer(&config.database_url)
            .await
            .map_err(unreachable)?;
        let mut ctx = Ctx::new(db, &config.name, bus);
        if let Some(writer) = writer {
            ctx = ctx.with_writer_connection(writer);
        }
        ctx.inline_reads = crate::db::InlineReads::for_url(&config.database_url).map(Arc::new);
        ctx.request_timeout = config.nats.request_timeout;
        ctx.outbox_retention = config.nats.outbox_retention;
        ctx.service_tokens = crate::auth::service_tokens_for(&config);
        let shutdown = CancellationToken::new();
        let jobs = TaskTracker::new();
        tokio::spawn(crate::bus::relay::run(ctx.clone(), shutdown.child_token()));
        if let (Some(db), Some(wal)) = (checkpointer, ctx.wal()) {
            tokio::spawn(crate::db::checkpoint::run(db, wal, shutdown.child_token()));
        }

        let mut routes = api::core_routes();
        let mut catalog = crate::mcp::core_catalog();
        let mut statuses = Vec::new();
        // Every hub takes the messages and receipts other hubs address to it.
        let fed_messages = crate::message::bus::subscription(&config.name);
        let mut consumes = vec![fed_messages.filter.clone()];
        crate::bus::inbox::spawn(ctx.clone(), fed_messages, shutdown.child_token());
        // And answers capability requests routed to it, taking back the status of those it routed.
        crate::capability::bus::serve(ctx.clone(), shutdown.child_token());
        let cap_status = crate::capability::bus::subscription(&config.name);
        consumes.push(cap_status.filter.clone());
        crate::bus::inbox::spawn(ctx.clone(), cap_status, shutdown.child_token());
        // And keeps every hub's risks and alerts in its federation view.
        for sub in crate::federation::bus::subscriptions(&config.name) {
            consumes.push(sub.filter.clone());
            crate::bus::inbox::spawn(ctx.clone(), sub, shutdown.child_token());
        }
        for module in &modules {
            let manifest = module.manifest();
            let disabled = config.disabled_modules.contains(&manifest.id);
            let (state, error) = if disabled {
                (ModuleState::Disabled, None)
            } else {
                match start_module(
                    module.as_ref(),
                    &ctx,
                    &config,
                    &shutdown,
                    &jobs,
                    &mut catalog,
                )
                .await
                {
                    Ok((module_routes, filters)) => {
                        routes = routes.merge(module_routes);
                        consumes.extend(filters);
                        (ModuleState::Running, None)
                    }
                    Err(e) => {
                        tracing::error!(module = %manifest.id, error = %e, "module failed to start");
                        (ModuleState::Error, Some(e))
                    }
                }
            };
            statuses.push(ModuleStatus {
                manifest,
                state,
                error,
            });
        }

        registry::spawn(
            ctx.clone(),
            manifest(&config, &statuses, consumes, catalog.tool_names()),
            shutdown.child_token(),
        );
        let (router, doc) = routes.split_for_parts();
        let openapi_json = doc
            .to_pretty_json()
            .map_err(|e| StartError::OpenApi(e.to_string()))?;
        let hub = Hub::new(
            ctx,
            config.clone(),
            verifier,
            statuses,
            Metrics::new(),
            openapi_json,
            catalog,
        );
        let router = router
            .merge(crate::mcp::http::router(&hub, shutdown.child_token()))
            .layer(axum::middleware::from_fn_with_state(
                hub.clone(),
                api::metrics::track,
            ))
            .layer(DefaultBodyLimit::max(config.body_limit_bytes))
            .fallback(fallback)
            .with_state(hub.clone());
        Ok(Self {
            hub,
            router,
            shutdown,
            jobs,
        })
    }

    /// Serves on `listener` until `stop` is cancelled, then drains in-flight requests and waits
    /// for the jobs to end.
    pub async fn serve(
        self,
        listener: TcpListener,
        stop: CancellationToken,
    ) -> std::io::Result<()> {
        let router = self.router.clone();
        // Cancelling `shutdown` also closes open MCP streams, which would hold the drain open.
        let shutdown = self.shutdown.clone();
        // No Nagle delay: an answer written in parts (an MCP SSE stream: headers, the event, the
        // last chunk) otherwise waits for the client's delayed ACK before its last part, about
        // 40 ms per call on a kept-alive connection.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY on a connection");
            }
        });
        // A made service shares one route table among connections; serving the `Router` itself
        // would copy the whole table for every new connection.
        let result = axum::serve(listener, router.into_make_service())
            .with_graceful_shutdown(async move {
                stop.cancelled().await;
                shutdown.cancel();
            })
            .await;
        self.shutdown.cancel();
        self.jobs.close();
        self.jobs.wait().await;
        result
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn fallback() -> crate::error::HubError {
    crate::error::HubError::NotFound {
        resource: "route",
        id: "this path".into(),
    }
}

/// Applies the core migrations and those of every module, for `migrate` commands.
pub async fn migrate(config: &HubConfig, modules: &[Box<dyn HubModule>]) -> Result<(), StartError> {
    let db = crate::db::connect(&config.database_url)
        .await
        .map_err(|source| StartError::Database {
            url: redact_url(&config.database_url),
            source,
        })?;
    crate::db::migrate_core(&db)
        .await
        .map_err(StartError::Migrate)?;
    for module in modules {
        if let Some(m) = module.migrator() {
            m.up(&db).await.map_err(StartError::Migrate)?;
        }
    }
    Ok(())
}

/// Runs a module's migrations and registration; on success adds its MCP tools to `catalog` and
/// starts its handlers and jobs.
async fn start_module(
    module: &dyn HubModule,
    ctx: &Ctx,
    config: &HubConfig,
    shutdown: &CancellationToken,
    jobs: &TaskTracker,
    catalog: &mut Catalog,
) -> Result<(utoipa_axum::router::OpenApiRouter<Hub>, Vec<String>), String> {
    let manifest = module.manifest();
    if let Some(migrator) = module.migrator() {
        migrator
            .up(&ctx.db)
            .await
            .map_err(|e| format!("migrations: {e}"))?;
    }
    let mut builder = HubBuilder::new(ctx.clone(), config.clone(), &manifest.id);
    module.register(&mut builder).map_err(|e| e.to_string())?;
    let mut with_module = catalog.clone();
    with_module
        .add(builder.tools)
        .and_then(|()| with_module.add_resources(builder.resources))
        .map_err(|e| format!("mcp: {e}"))?;
    *catalog = with_module;
    for (name, handler) in builder.handlers {
        spawn_handler(
            format!("{}/{name}", manifest.id),
            handler,
            ctx.clone(),
            shutdown.clone(),
        );
    }
    let filters = builder
        .subscriptions
        .iter()
        .map(|s| s.filter.clone())
        .collect();
    for sub in builder.subscriptions {
        crate::bus::inbox::spawn(ctx.clone(), sub, shutdown.child_token());
    }
    for (name, job) in builder.jobs {
        let span = format!("{}/{name}", manifest.id);
        let fut = job(ctx.clone(), shutdown.child_token());
        jobs.spawn(async move {
            fut.await;
            tracing::debug!(job = %span, "job ended");
        });
    }
    Ok((builder.routes, filters))
}

/// What this hub announces in the registry.
fn manifest(
    config: &HubConfig,
    statuses: &[ModuleStatus],
    mut consumes: Vec<String>,
    mcp_tools: Vec<String>,
) -> HubManifest {
    let running = || statuses.iter().filter(|s| s.state == ModuleState::Running);
    consumes.extend(running().flat_map(|s| s.manifest.consumes.clone()));
    let mut produces = vec![format!("hubmesh.evt.{}.>", config.name)];
    produces.extend(running().flat_map(|s| s.manifest.produces.clone()));
    for list in [&mut consumes, &mut produces] {
        list.sort();
        list.dedup();
    }
    let now = chrono::Utc::now();
    HubManifest {
        name: config.name.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        modules: statuses
            .iter()
            .map(|s| ModuleEntry {
                id: s.manifest.id.clone(),
                version: s.manifest.version.clone(),
                state: serde_json::to_value(&s.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            })
            .collect(),
        mcp_tools,
        consumes,
        produces,
        rest_url: format!("{}/api/v1", config.public_url),
        mcp_url: format!("{}/mcp", config.public_url),
        audience: config.oidc.audience.clone(),
        started_at: now,
        heartbeat_at: now,
        ttl_secs: config.nats.registry_ttl.as_secs(),
    }
}

/// Attempts per event before a handler gives up on it, and the first retry delay (doubling).
const HANDLER_ATTEMPTS: u32 = 5;
const HANDLER_BACKOFF: Duration = Duration::from_millis(50);

fn spawn_handler(
    name: String,
    handler: Arc<dyn EventHandler>,
    ctx: Ctx,
    shutdown: CancellationToken,
) {
    let mut events = ctx.subscribe_committed();
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                _ = shutdown.cancelled() => return,
                e = events.recv() => match e { Some(e) => e, None => return },
            };
            if !handler.accepts(&event) {
                continue;
            }
            let mut delay = HANDLER_BACKOFF;
            for attempt in 1..=HANDLER_ATTEMPTS {
                match handler.handle(&ctx, &event).await {
                    Ok(()) => break,
                    Err(e) if attempt < HANDLER_ATTEMPTS => {
                        tracing::warn!(handler = %name, event = %event.id, attempt, error = %e, "event handler failed; retrying");
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            _ = tokio::time::sleep(delay) => {}
                        }
                        delay *= 2;
                    }
                    Err(e) => {
                        tracing::error!(handler = %name, event = %event.id, error = %e, "event handler failed; giving up")
                    }
                }
            }
        }
    });
}

/// A database URL safe to log: the password replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
