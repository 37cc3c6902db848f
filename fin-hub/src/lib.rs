//! The fin hub: budgets, commitments, spend and token spend, burn rate and runway, with the
//! alerts and cross-hub signals that warn the other hubs before money runs out.

pub mod balance;
pub mod budget;
mod bulk;
pub mod burn;
pub mod commitment;
pub mod config;
pub mod import;
pub mod money;
pub mod runway;
pub mod signal;
pub mod spend;
pub mod token_spend;

use std::sync::Arc;

use axum::Extension;
use hub_core::Hub;
use hub_core::mcp::McpTool;
use hub_core::module::{HubBuilder, HubModule, MigratorRef, ModuleError, ModuleManifest};
use utoipa_axum::router::OpenApiRouter;

use crate::config::FinConfig;

/// The hub's short name: in events, subjects, role names and default ports.
pub const NAME: &str = "fin";

/// The fin module: its migrations, routes under `/api/v1/fin/`, and the watch over its changes.
pub struct FinModule;

impl HubModule for FinModule {
    fn manifest(&self) -> ModuleManifest {
        ModuleManifest {
            id: NAME.into(),
            name: "fin hub".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Budgets, commitments, spend and token spend, burn rate and runway".into(),
            consumes: Vec::new(),
            produces: vec![
                signal::PRESSURE.into(),
                signal::COST.into(),
                signal::VIABILITY.into(),
            ],
            config_schema: None,
        }
    }

    fn migrator(&self) -> Option<MigratorRef> {
        Some(MigratorRef::of::<migrations::fin::Migrator>())
    }

    fn register(&self, hub: &mut HubBuilder) -> Result<(), ModuleError> {
        let cfg = FinConfig::from_toml(hub.config().modules.get(NAME))
            .map_err(|e| ModuleError(format!("modules.fin: {e}")))?;
        let cfg = Arc::new(cfg);
        hub.routes(routes(cfg.clone()))?;
        for tool in tools(&cfg) {
            hub.tool(tool);
        }
        hub.on_event("watch", signal::watch::Watch::new(cfg));
        Ok(())
    }
}

/// The fin MCP tools; they call the same service fns as the routes.
pub fn tools(cfg: &Arc<FinConfig>) -> Vec<McpTool> {
    [
        budget::mcp::tools(cfg),
        commitment::mcp::tools(),
        token_spend::mcp::tools(cfg),
        burn::mcp::tools(cfg),
        runway::mcp::tools(cfg),
        spend::mcp::tools(cfg),
        import::mcp::tools(cfg),
    ]
    .concat()
}

/// Every fin route, with the module's settings available to the handlers.
pub fn routes(cfg: Arc<FinConfig>) -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .merge(budget::api::router())
        .merge(commitment::api::router())
        .merge(spend::api::router())
        .merge(token_spend::api::router())
        .merge(balance::api::router())
        .merge(burn::api::router())
        .merge(runway::api::router())
        .merge(import::api::router())
        .layer(Extension(cfg))
}

/// The modules this hub runs on top of hub-core.
pub fn modules() -> Vec<Box<dyn hub_core::module::HubModule>> {
    vec![Box::new(FinModule)]
}
