//! MCP tools over the federation views: `list_hubs` and `get_federation_alerts`.

use schemars::JsonSchema;
use serde::Deserialize;

use super::api::{FederationAlert, HubList};
use super::service::{self, Openness};
use crate::api::page::Page;
use crate::auth::Access;
use crate::error::HubError;
use crate::mcp::{McpTool, NoArgs, ToolCall, page};

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "list_hubs",
            "The live hubs of the federation: name, version, last heartbeat, modules, MCP tools, \
             subjects and URLs of each.",
            Access::Read,
            list_hubs,
        )
        .in_every_profile(),
        McpTool::new(
            "get_federation_alerts",
            "Every hub's risks and alerts in their latest state, by hub, kind and key; \
             `state` narrows to `open` or `closed`.",
            Access::Read,
            get_federation_alerts,
        )
        .in_every_profile(),
    ]
}

async fn list_hubs(call: ToolCall, _: NoArgs) -> Result<HubList, HubError> {
    let items = service::list_hubs(call.ctx(), &call.who).await?;
    Ok(HubList { items })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertsArgs {
    /// `open` (open or acknowledged) or `closed` (mitigated or resolved); both if absent.
    pub state: Option<Openness>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn get_federation_alerts(
    call: ToolCall,
    args: AlertsArgs,
) -> Result<Page<FederationAlert>, HubError> {
    let page = page(args.limit, &args.cursor)?;
    let res = service::list_alerts(call.ctx(), &call.who, args.state, &page).await?;
    Ok(res.map(FederationAlert::from))
}
