//! MCP tool: `get_burn_rate`.

use std::sync::Arc;

use hub_core::HubError;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall};
use schemars::JsonSchema;
use serde::Deserialize;

use super::calc::Burn;
use super::service::{self, BurnQuery};
use crate::config::FinConfig;
use crate::money::parse_day;

pub fn tools(cfg: &Arc<FinConfig>) -> Vec<McpTool> {
    let cfg = cfg.clone();
    vec![McpTool::new(
        "get_burn_rate",
        "Burn rate of one domain or of all you may see: actual spend per month, commitments, the \
         trailing average and the projected spend of the current and a coming month (minor units).",
        Access::Read,
        move |call, args| get_burn_rate(call, cfg.clone(), args),
    )]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BurnArgs {
    /// One domain's slug (default: all you may see).
    pub domain: Option<String>,
    /// Report currency, ISO 4217 (default: the hub's).
    pub currency: Option<String>,
    /// Months of history, 1..=36 (default 6).
    pub months: Option<u32>,
    /// Report date, `YYYY-MM-DD` (default today).
    pub as_of: Option<String>,
}

async fn get_burn_rate(
    call: ToolCall,
    cfg: Arc<FinConfig>,
    args: BurnArgs,
) -> Result<Burn, HubError> {
    let q = BurnQuery {
        domain: args.domain,
        currency: args.currency,
        months: args.months,
        as_of: args
            .as_of
            .as_deref()
            .map(|d| parse_day(d, "as_of"))
            .transpose()?,
    };
    service::burn(call.ctx(), &call.who, &cfg, q).await
}
