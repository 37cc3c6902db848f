//! MCP tool: `get_cost_by_service`.

use std::sync::Arc;

use hub_core::HubError;
use hub_core::api::page::Page;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall, page};
use schemars::JsonSchema;
use serde::Deserialize;

use super::service::{self, CostLine, CostQuery, CostsBy};
use crate::config::FinConfig;

pub fn tools(cfg: &Arc<FinConfig>) -> Vec<McpTool> {
    let cfg = cfg.clone();
    vec![McpTool::new(
        "get_cost_by_service",
        "A month's cost per service (minor units, converted to one currency), ordered by service id.",
        Access::Read,
        move |call, args| get_cost_by_service(call, cfg.clone(), args),
    )]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostArgs {
    /// The month, `YYYY-MM` (default: the current one).
    pub period: Option<String>,
    /// Only this domain's spend.
    pub domain: Option<String>,
    /// Report currency, ISO 4217 (default: the hub's).
    pub currency: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn get_cost_by_service(
    call: ToolCall,
    cfg: Arc<FinConfig>,
    args: CostArgs,
) -> Result<Page<CostLine>, HubError> {
    let req = page(args.limit, &args.cursor)?;
    let q = CostQuery {
        period: args.period,
        domain: args.domain,
        currency: args.currency,
    };
    service::costs(call.ctx(), &call.who, &cfg, CostsBy::Service, &q, &req).await
}
