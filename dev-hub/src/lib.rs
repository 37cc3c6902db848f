//! The dev hub: topics, workplans, workstreams, tasks with dependencies and claims, decisions
//! and notes; workplan documents in and out; what is next and what is blocked; and the alerts
//! of fin's budget pressure and runway signals.

pub mod decision;
pub mod document;
pub mod fin_signal;
pub mod note;
pub mod scope;
pub mod summary;
pub mod task;
pub mod topic;
pub mod workplan;
pub mod workstream;

use std::time::Duration;

use hub_core::Hub;
use hub_core::mcp::McpTool;
use hub_core::module::{HubBuilder, HubModule, MigratorRef, ModuleError, ModuleManifest};
use hub_core::progress::viability::{VIABILITY, ViabilityAlert};
use utoipa_axum::router::OpenApiRouter;

/// The hub's short name: in events, subjects, role names and default ports.
pub const NAME: &str = "dev";

/// How often lapsed claims are ended.
const CLAIM_SWEEP: Duration = Duration::from_secs(15);

/// The dev module: its migrations, routes under `/api/v1/dev/`, tools, the claim sweep and the
/// consumers of fin's signals.
pub struct DevModule;

impl HubModule for DevModule {
    fn manifest(&self) -> ModuleManifest {
        ModuleManifest {
            id: NAME.into(),
            name: "dev hub".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Topics, workplans, workstreams, tasks, decisions and notes".into(),
            consumes: vec![fin_signal::PRESSURE.into(), VIABILITY.into()],
            produces: Vec::new(),
            config_schema: None,
        }
    }

    fn migrator(&self) -> Option<MigratorRef> {
        Some(MigratorRef::of::<migrations::dev::Migrator>())
    }

    fn register(&self, hub: &mut HubBuilder) -> Result<(), ModuleError> {
        hub.routes(routes())?;
        for tool in tools() {
            hub.tool(tool);
        }
        hub.on_bus(
            "fin-pressure",
            fin_signal::PRESSURE,
            fin_signal::bus::Pressure,
        );
        hub.on_bus("fin-viability", VIABILITY, ViabilityAlert);
        hub.job("claim-expiry", |ctx, token| async move {
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    _ = tokio::time::sleep(CLAIM_SWEEP) => {
                        if let Err(e) = task::claim::expire_claims(&ctx).await {
                            tracing::warn!(error = %e, "claim sweep failed");
                        }
                    }
                }
            }
        });
        Ok(())
    }
}

/// Every dev route.
pub fn routes() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .merge(topic::api::router())
        .merge(document::api::router())
        .merge(workplan::api::router())
        .merge(task::api::router())
        .merge(decision::api::router())
        .merge(note::api::router())
        .merge(summary::api::router())
}

/// The dev MCP tools; they call the same service fns as the routes.
pub fn tools() -> Vec<McpTool> {
    [
        workplan::mcp::tools(),
        document::mcp::tools(),
        task::mcp::tools(),
        decision::mcp::tools(),
        summary::mcp::tools(),
    ]
    .concat()
}

/// The modules this hub runs on top of hub-core.
pub fn modules() -> Vec<Box<dyn HubModule>> {
    vec![Box::new(DevModule)]
}
