//! MCP presence tools: `heartbeat` and `list_agents`, in every profile.

use schemars::JsonSchema;
use serde::Deserialize;

use super::api::{Agent, HeartbeatBody};
use super::service;
use crate::api::page::Page;
use crate::auth::Access;
use crate::error::HubError;
use crate::mcp::{McpTool, ToolCall, page};

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "heartbeat",
            "Tell the hub you are alive, optionally with a status line and metadata; \
             agents that stop beating count as offline after the presence timeout.",
            Access::Read,
            heartbeat,
        )
        .in_every_profile(),
        McpTool::new(
            "list_agents",
            "The agents this hub knows, with when they were last seen and whether they are online.",
            Access::Read,
            list_agents,
        )
        .in_every_profile(),
    ]
}

async fn heartbeat(call: ToolCall, args: HeartbeatBody) -> Result<Agent, HubError> {
    let beat = service::Heartbeat {
        status: args.status,
        metadata: args.metadata,
    };
    let timeout = call.hub.config().presence_timeout;
    Ok(service::heartbeat(call.ctx(), &call.who, beat, timeout)
        .await?
        .into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAgentsArgs {
    /// Only online (true) or only offline (false) agents; all when absent.
    pub online: Option<bool>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn list_agents(call: ToolCall, args: ListAgentsArgs) -> Result<Page<Agent>, HubError> {
    let page = page(args.limit, &args.cursor)?;
    let timeout = call.hub.config().presence_timeout;
    let res = service::list(call.ctx(), &call.who, args.online, timeout, &page).await?;
    Ok(res.map(Agent::from))
}
