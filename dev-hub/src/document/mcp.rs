//! MCP tools: `import_workplan`, `export_workplan`.

use hub_core::HubError;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::service::{self, ImportReport};
use crate::workplan::mcp::WorkplanArgs;

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "import_workplan",
            "Import a workplan markdown document: YAML front matter (id, title, status, owner, domain, \
             topic, …), `## Phase …` sections, `### T01 — title` tasks each followed by a ```task block \
             (id, status, priority, assignee, depends_on, …) and prose, and `| Decision | Choice | \
             Rationale |` tables. Creates the workplan or syncs it, and reports what changed; \
             `dry_run` only reports. Problems come back with line numbers and nothing is written.",
            Access::Write,
            import_workplan,
        ),
        McpTool::new(
            "export_workplan",
            "A workplan as a markdown document in the format import_workplan reads.",
            Access::Read,
            export_workplan,
        ),
    ]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportArgs {
    /// The whole markdown document (at most 4 MiB).
    pub document: String,
    /// Only report what would change.
    #[serde(default)]
    pub dry_run: bool,
}

async fn import_workplan(call: ToolCall, args: ImportArgs) -> Result<ImportReport, HubError> {
    service::import(call.ctx(), &call.who, &args.document, args.dry_run).await
}

#[derive(Debug, Serialize)]
struct Exported {
    id: String,
    document: String,
}

async fn export_workplan(call: ToolCall, args: WorkplanArgs) -> Result<impl Serialize, HubError> {
    let document = service::export(call.ctx(), &call.who, &args.id).await?;
    Ok(Exported {
        id: args.id,
        document,
    })
}
