//! MCP tools: `list_workplans`, `get_workplan`.

use hub_core::HubError;
use hub_core::api::page::Page;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall, page};
use schemars::JsonSchema;
use serde::Deserialize;

use super::api::{Workplan, WorkplanFull};
use super::model::WorkplanStatus;
use super::service::{self, WorkplanFilter};

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "list_workplans",
            "List workplans (plans of work such as `CUST-WP-0025`) by id, optionally of one domain, \
             status (draft, active, done, archived) or topic; each with the open fin alerts \
             (budget pressure) of its domain.",
            Access::Read,
            list_workplans,
        ),
        McpTool::new(
            "get_workplan",
            "One workplan with its text, its sections, its workstreams, its progress by phase \
             (done/total) and the open fin alerts (budget pressure) of its domain.",
            Access::Read,
            get_workplan,
        ),
    ]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListWorkplansArgs {
    pub domain: Option<String>,
    pub status: Option<WorkplanStatus>,
    pub topic: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn list_workplans(
    call: ToolCall,
    args: ListWorkplansArgs,
) -> Result<Page<Workplan>, HubError> {
    let filter = WorkplanFilter {
        domain: args.domain,
        status: args.status,
        topic: args.topic,
    };
    let rows = service::list(
        call.ctx(),
        &call.who,
        &filter,
        &page(args.limit, &args.cursor)?,
    )
    .await?;
    Ok(rows.map(Workplan::from))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkplanArgs {
    /// The workplan id, e.g. `CUST-WP-0025`.
    pub id: String,
}

async fn get_workplan(call: ToolCall, args: WorkplanArgs) -> Result<WorkplanFull, HubError> {
    Ok(service::detail(call.ctx(), &call.who, &args.id)
        .await?
        .into())
}
