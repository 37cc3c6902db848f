//! MCP tools over the federation views: `list_hubs`.

use super::api::HubList;
use super::service;
use crate::auth::Access;
use crate::error::HubError;
use crate::mcp::{McpTool, NoArgs, ToolCall};

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
    ]
}

async fn list_hubs(call: ToolCall, _: NoArgs) -> Result<HubList, HubError> {
    let items = service::list_hubs(call.ctx(), &call.who).await?;
    Ok(HubList { items })
}
