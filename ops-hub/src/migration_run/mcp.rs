//! MCP tools of migration runs: `start_migration_run`, `finish_migration_run`.

use hub_core::HubError;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall};
use schemars::JsonSchema;
use serde::Deserialize;

use super::api::{MigrationRun, StartRun};
use super::model::RunStatus;
use super::service;

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "start_migration_run",
            "Start a migration run for an inventory service: data moves from `source` to `target`, \
             `expected` records. Returns the run id for `finish_migration_run`.",
            Access::Write,
            start_migration_run,
        ),
        McpTool::new(
            "finish_migration_run",
            "Finish a running migration run as `complete` or `aborted` with the migrated and failed counts. \
             Cutover readiness needs the latest run complete with 0 failed.",
            Access::Write,
            finish_migration_run,
        ),
    ]
}

async fn start_migration_run(call: ToolCall, args: StartRun) -> Result<MigrationRun, HubError> {
    Ok(service::start(call.ctx(), &call.who, args.into())
        .await?
        .into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishArgs {
    /// The run id.
    pub id: String,
    /// `complete` or `aborted`.
    pub status: RunStatus,
    pub migrated: i64,
    pub failed: i64,
}

async fn finish_migration_run(call: ToolCall, args: FinishArgs) -> Result<MigrationRun, HubError> {
    let fin = service::FinishRun {
        status: args.status,
        migrated: args.migrated,
        failed: args.failed,
    };
    Ok(service::finish(call.ctx(), &call.who, &args.id, fin)
        .await?
        .into())
}
