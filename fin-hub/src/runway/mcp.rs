//! MCP tool: `get_runway`.

use std::sync::Arc;

use hub_core::HubError;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall};
use schemars::JsonSchema;
use serde::Deserialize;

use super::calc::Runway;
use super::service::{self, RunwayQuery};
use crate::config::FinConfig;
use crate::money::parse_day;

pub fn tools(cfg: &Arc<FinConfig>) -> Vec<McpTool> {
    let cfg = cfg.clone();
    vec![McpTool::new(
        "get_runway",
        "Months until the organisation's cash runs out at the projected burn, the run-out date, \
         and whether that is under the alert threshold.",
        Access::Read,
        move |call, args| get_runway(call, cfg.clone(), args),
    )]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunwayArgs {
    /// Report currency, ISO 4217 (default: the hub's).
    pub currency: Option<String>,
    /// Report date, `YYYY-MM-DD` (default today).
    pub as_of: Option<String>,
}

async fn get_runway(
    call: ToolCall,
    cfg: Arc<FinConfig>,
    args: RunwayArgs,
) -> Result<Runway, HubError> {
    let q = RunwayQuery {
        currency: args.currency,
        as_of: args
            .as_of
            .as_deref()
            .map(|d| parse_day(d, "as_of"))
            .transpose()?,
    };
    service::runway(call.ctx(), &call.who, &cfg, q).await
}
