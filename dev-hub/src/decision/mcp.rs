//! MCP tools: `record_decision`, `list_decisions`.

use hub_core::HubError;
use hub_core::api::page::Page;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall, page};
use schemars::JsonSchema;
use serde::Deserialize;

use super::api::Decision;
use super::model::DecisionStatus;
use super::service::{self, DecisionFilter, NewDecision};

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "record_decision",
            "Record a decision: its title, the choice made and why, linked to a workplan (whose \
             domain it takes; titles are unique per workplan) or to a domain, and to tasks.",
            Access::Write,
            record_decision,
        ),
        McpTool::new(
            "list_decisions",
            "List decisions newest first, optionally of one domain or workplan.",
            Access::Read,
            list_decisions,
        ),
    ]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDecisionArgs {
    pub title: String,
    pub choice: String,
    #[serde(default)]
    pub rationale: String,
    /// Default `proposed`.
    pub status: Option<DecisionStatus>,
    pub workplan: Option<String>,
    /// Required without a workplan.
    pub domain: Option<String>,
    /// Ids of the tasks the decision is about.
    #[serde(default)]
    pub tasks: Vec<String>,
}

async fn record_decision(call: ToolCall, a: RecordDecisionArgs) -> Result<Decision, HubError> {
    let new = NewDecision {
        title: a.title,
        choice: a.choice,
        rationale: a.rationale,
        status: a.status,
        workplan: a.workplan,
        domain: a.domain,
        tasks: a.tasks,
    };
    Ok(service::record(call.ctx(), &call.who, new).await?.into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDecisionsArgs {
    pub domain: Option<String>,
    pub workplan: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn list_decisions(call: ToolCall, a: ListDecisionsArgs) -> Result<Page<Decision>, HubError> {
    let filter = DecisionFilter {
        domain: a.domain,
        workplan: a.workplan,
    };
    let rows = service::list(call.ctx(), &call.who, &filter, &page(a.limit, &a.cursor)?).await?;
    Ok(rows.map(Decision::from))
}
