//! The ops hub: service inventory, deployments, migration runs, evidence, outcome signals,
//! probes, cutover readiness, and cost per service and the runway alert from the fin hub.

pub mod config;
pub mod cost;
pub mod deployment;
pub mod evidence;
pub mod fin_signal;
pub mod inventory;
pub mod migration_run;
pub mod outcome;
pub mod probe;
pub mod readiness;

use std::sync::Arc;

use axum::Extension;
use hub_core::Hub;
use hub_core::mcp::McpTool;
use hub_core::module::{HubBuilder, HubModule, MigratorRef, ModuleError, ModuleManifest};
use hub_core::progress::viability::{VIABILITY, ViabilityAlert};
use utoipa_axum::router::OpenApiRouter;

use crate::config::OpsConfig;

/// The hub's short name: in events, subjects, role names and default ports.
pub const NAME: &str = "ops";

/// The ops module: its migrations, routes under `/api/v1/ops/`, MCP tools, the probe job and
/// the consumers of fin's signals.
pub struct OpsModule;

impl HubModule for OpsModule {
    fn manifest(&self) -> ModuleManifest {
        ModuleManifest {
            id: NAME.into(),
            name: "ops hub".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Service inventory, deployments, migration runs, evidence, probes, \
                          cutover readiness and cost per service"
                .into(),
            consumes: vec![fin_signal::COST.into(), VIABILITY.into()],
            produces: Vec::new(),
            config_schema: None,
        }
    }

    fn migrator(&self) -> Option<MigratorRef> {
        Some(MigratorRef::of::<migrations::ops::Migrator>())
    }

    fn register(&self, hub: &mut HubBuilder) -> Result<(), ModuleError> {
        let cfg = OpsConfig::from_toml(hub.config().modules.get(NAME))
            .map_err(|e| ModuleError(format!("modules.ops: {e}")))?;
        let cfg = Arc::new(cfg);
        hub.routes(routes(cfg.clone()))?;
        for tool in tools(&cfg) {
            hub.tool(tool);
        }
        hub.on_bus("fin-cost", fin_signal::COST, fin_signal::bus::Costs);
        hub.on_bus("fin-viability", VIABILITY, ViabilityAlert);
        if cfg.probe.enabled {
            let probe = cfg.probe.clone();
            hub.job("probe", move |ctx, stop| probe::run(ctx, probe, stop));
        }
        Ok(())
    }
}

/// The ops MCP tools; they call the same service fns as the routes.
pub fn tools(cfg: &Arc<OpsConfig>) -> Vec<McpTool> {
    [
        inventory::mcp::tools(),
        deployment::mcp::tools(),
        evidence::mcp::tools(),
        migration_run::mcp::tools(),
        readiness::mcp::tools(cfg),
        cost::mcp::tools(),
    ]
    .concat()
}

/// Every ops route, with the module's settings available to the handlers.
pub fn routes(cfg: Arc<OpsConfig>) -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .merge(inventory::api::router())
        .merge(deployment::api::router())
        .merge(migration_run::api::router())
        .merge(evidence::api::router())
        .merge(outcome::api::router())
        .merge(readiness::api::router())
        .merge(cost::api::router())
        .layer(Extension(cfg))
}

/// The modules this hub runs on top of hub-core.
pub fn modules() -> Vec<Box<dyn HubModule>> {
    vec![Box::new(OpsModule)]
}
