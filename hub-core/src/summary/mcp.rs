//! MCP orientation tools over the summaries, in every profile, and `hub://state-summary`.

use schemars::JsonSchema;
use serde::Deserialize;

use super::api::{DomainSummary, StateSummary};
use super::service;
use crate::auth::Access;
use crate::error::HubError;
use crate::mcp::{McpResource, McpTool, NoArgs, ToolCall};

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "get_state_summary",
            "The hub at a glance: domains, counts of messages, open capability requests, repos, services, \
             open risks and alerts, your unread messages, agents online and module states.",
            Access::Read,
            get_state_summary,
        )
        .in_every_profile(),
        McpTool::new(
            "get_domain_summary",
            "One domain with the counts of its messages, open capability requests, repos, services, \
             open risks and alerts.",
            Access::Read,
            get_domain_summary,
        )
        .in_every_profile(),
    ]
}

pub fn resources() -> Vec<McpResource> {
    vec![McpResource::new(
        "hub://state-summary",
        "state-summary",
        "The hub at a glance, as get_state_summary returns it.",
        |call: ToolCall| get_state_summary(call, NoArgs {}),
    )]
}

async fn get_state_summary(call: ToolCall, _: NoArgs) -> Result<StateSummary, HubError> {
    let timeout = call.hub.config().presence_timeout;
    let s = service::state_summary(call.ctx(), &call.who, timeout, call.hub.modules()).await?;
    Ok(s.into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainArgs {
    /// The domain's slug (see list_domains).
    pub domain: String,
}

async fn get_domain_summary(call: ToolCall, args: DomainArgs) -> Result<DomainSummary, HubError> {
    Ok(service::domain_summary(call.ctx(), &call.who, &args.domain)
        .await?
        .into())
}
