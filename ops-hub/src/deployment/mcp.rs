//! MCP tool of deployments: `record_deployment`.

use hub_core::HubError;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall};

use super::api::{Deployment, RecordDeployment};
use super::service;

pub fn tools() -> Vec<McpTool> {
    vec![McpTool::new(
        "record_deployment",
        "Record that a version of an inventory service was deployed, with its outcome \
         (`succeeded`, `failed`, `rolled_back`); you are recorded as the actor.",
        Access::Write,
        record_deployment,
    )]
}

async fn record_deployment(call: ToolCall, args: RecordDeployment) -> Result<Deployment, HubError> {
    Ok(service::record(call.ctx(), &call.who, args.into())
        .await?
        .into())
}
