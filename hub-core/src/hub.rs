//! `Hub`: the state every handler gets — the service context plus what the edges need.

use std::sync::Arc;

use crate::api::metrics::Metrics;
use crate::auth::TokenVerifier;
use crate::config::HubConfig;
use crate::ctx::Ctx;
use crate::mcp::Catalog;
use crate::module::ModuleStatus;

/// Shared state of one running hub; cheap to clone.
#[derive(Clone)]
pub struct Hub(Arc<HubInner>);

struct HubInner {
    ctx: Ctx,
    config: HubConfig,
    verifier: Arc<dyn TokenVerifier>,
    modules: Vec<ModuleStatus>,
    metrics: Metrics,
    openapi_json: String,
    mcp: Catalog,
}

impl Hub {
    pub(crate) fn new(
        ctx: Ctx,
        config: HubConfig,
        verifier: Arc<dyn TokenVerifier>,
        modules: Vec<ModuleStatus>,
        metrics: Metrics,
        openapi_json: String,
        mcp: Catalog,
    ) -> Self {
        Self(Arc::new(HubInner {
            ctx,
            config,
            verifier,
            modules,
            metrics,
            openapi_json,
            mcp,
        }))
    }

    pub fn ctx(&self) -> &Ctx {
        &self.0.ctx
    }

    /// The hub's short name (`dev`, `ops`, `fin`).
    pub fn name(&self) -> &str {
        &self.0.config.name
    }

    pub fn config(&self) -> &HubConfig {
        &self.0.config
    }

    pub fn verifier(&self) -> &dyn TokenVerifier {
        self.0.verifier.as_ref()
    }

    pub fn modules(&self) -> &[ModuleStatus] {
        &self.0.modules
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    pub(crate) fn openapi_json(&self) -> &str {
        &self.0.openapi_json
    }

    /// The hub's MCP tools and resources: core plus its modules'.
    pub fn mcp_catalog(&self) -> &Catalog {
        &self.0.mcp
    }
}
