//! MCP tool of evidence: `record_evidence`.

use hub_core::HubError;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall};

use super::api::{Evidence, RecordEvidence};
use super::service;

pub fn tools() -> Vec<McpTool> {
    vec![McpTool::new(
        "record_evidence",
        "Record evidence (kind `smoke`, `probe`, `migration`, `review`…) with status pass/fail/pending \
         about a service, deployment or migration run. Never include secrets: values that look like \
         keys, tokens or passwords are refused.",
        Access::Write,
        record_evidence,
    )]
}

async fn record_evidence(call: ToolCall, args: RecordEvidence) -> Result<Evidence, HubError> {
    Ok(service::record(call.ctx(), &call.who, args.into())
        .await?
        .into())
}
