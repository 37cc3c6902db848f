//! MCP tool of costs: `get_service_costs`.

use hub_core::HubError;
use hub_core::api::page::Page;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall, page};
use schemars::JsonSchema;
use serde::Deserialize;

use super::api::Cost;
use super::service::{self, CostFilter};

pub fn tools() -> Vec<McpTool> {
    vec![McpTool::new(
        "get_service_costs",
        "Cost per service and period (YYYY-MM) as the fin hub attributed it, in minor units of its currency.",
        Access::Read,
        get_service_costs,
    )]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostArgs {
    /// Only this service's costs.
    pub service: Option<String>,
    /// Only this period (`YYYY-MM`).
    pub period: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn get_service_costs(call: ToolCall, args: CostArgs) -> Result<Page<Cost>, HubError> {
    let filter = CostFilter {
        service_id: args.service,
        period: args.period,
    };
    let got = service::list(
        call.ctx(),
        &call.who,
        &filter,
        &page(args.limit, &args.cursor)?,
    )
    .await?;
    Ok(got.map(Cost::from))
}
