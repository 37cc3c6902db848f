//! MCP tool: `get_dev_summary`.

use hub_core::HubError;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall};
use schemars::JsonSchema;
use serde::Deserialize;

use super::service::{self, DevSummary};

pub fn tools() -> Vec<McpTool> {
    vec![McpTool::new(
        "get_dev_summary",
        "The dev state of a domain (or of every domain you may see): workplans and tasks by status, \
         blocked and claimed tasks, decisions and open alerts.",
        Access::Read,
        get_dev_summary,
    )]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryArgs {
    pub domain: Option<String>,
}

async fn get_dev_summary(call: ToolCall, a: SummaryArgs) -> Result<DevSummary, HubError> {
    service::summary(call.ctx(), &call.who, a.domain.as_deref()).await
}
