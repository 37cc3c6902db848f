//! MCP tools: `list_tasks`, `get_task`, `create_task`, `update_task_status`, `set_task_dependencies`,
//! `claim_task`, `release_task`, `get_next_tasks`, `get_blocked_tasks`.

use hub_core::HubError;
use hub_core::api::page::Page;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall, page};
use schemars::JsonSchema;
use serde::Deserialize;

use super::api::{BlockedTask, Task};
use super::claim;
use super::model::{Priority, TaskStatus};
use super::query::{self, TaskScope};
use super::service::{self, NewTask, TaskFilter};

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "list_tasks",
            "List tasks by id, filtered by workplan, domain, status (todo, in_progress, wait, done, \
             cancel) and assignee.",
            Access::Read,
            list_tasks,
        ),
        McpTool::new(
            "get_task",
            "One task with its dependencies and claim.",
            Access::Read,
            get_task,
        ),
        McpTool::new(
            "create_task",
            "Create a task in a workplan; the id is the workplan's next `…-Tnn` unless given. \
             Dependencies name existing tasks.",
            Access::Write,
            create_task,
        ),
        McpTool::new(
            "update_task_status",
            "Move a task to todo, in_progress, wait, done or cancel. A task cannot be done while a \
             task it depends on is open (the error names them); a task claimed by another agent \
             cannot be moved. Every change is recorded as a progress event.",
            Access::Write,
            update_task_status,
        ),
        McpTool::new(
            "set_task_dependencies",
            "Replace the tasks a task depends on; unknown tasks and dependency cycles are refused.",
            Access::Write,
            set_task_dependencies,
        ),
        McpTool::new(
            "claim_task",
            "Claim a task before working on it, for a lease (default 900 s); claim again to renew. \
             If another agent holds it, the error names the holder: pick another task.",
            Access::Write,
            claim_task,
        ),
        McpTool::new(
            "release_task",
            "Give up your claim on a task so another agent can take it.",
            Access::Write,
            release_task,
        ),
        McpTool::new(
            "get_next_tasks",
            "What to work on next: todo tasks nobody has claimed whose dependencies are all done, \
             highest priority first.",
            Access::Read,
            get_next_tasks,
        ),
        McpTool::new(
            "get_blocked_tasks",
            "Open tasks waiting for open dependencies, with the ids they wait for.",
            Access::Read,
            get_blocked_tasks,
        ),
    ]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTasksArgs {
    pub workplan: Option<String>,
    pub domain: Option<String>,
    pub status: Option<TaskStatus>,
    pub assignee: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn list_tasks(call: ToolCall, args: ListTasksArgs) -> Result<Page<Task>, HubError> {
    let filter = TaskFilter {
        workplan: args.workplan,
        domain: args.domain,
        status: args.status,
        assignee: args.assignee,
    };
    let rows = service::list(
        call.ctx(),
        &call.who,
        &filter,
        &page(args.limit, &args.cursor)?,
    )
    .await?;
    Ok(rows.map(Task::from))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskArgs {
    /// The task id, e.g. `CUST-WP-0025-T03`.
    pub id: String,
}

async fn get_task(call: ToolCall, args: TaskArgs) -> Result<Task, HubError> {
    Ok(service::get(call.ctx(), &call.who, &args.id).await?.into())
}

async fn release_task(call: ToolCall, args: TaskArgs) -> Result<Task, HubError> {
    Ok(claim::release(call.ctx(), &call.who, &args.id)
        .await?
        .into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskArgs {
    pub workplan: String,
    /// `<workplan>-Tnn`; the next free one when absent.
    pub id: Option<String>,
    pub title: String,
    pub body: Option<String>,
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    pub assignee: Option<String>,
    /// The section (phase) heading.
    pub phase: Option<String>,
    pub workstream: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
}

async fn create_task(call: ToolCall, a: CreateTaskArgs) -> Result<Task, HubError> {
    let new = NewTask {
        id: a.id,
        workplan: a.workplan,
        title: a.title,
        body: a.body,
        status: a.status,
        priority: a.priority,
        assignee: a.assignee,
        phase: a.phase,
        workstream: a.workstream,
        depends_on: a.depends_on,
    };
    Ok(service::create(call.ctx(), &call.who, new).await?.into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusArgs {
    pub id: String,
    pub status: TaskStatus,
    /// Why, recorded with the progress event.
    pub note: Option<String>,
}

async fn update_task_status(call: ToolCall, a: StatusArgs) -> Result<Task, HubError> {
    let task =
        service::set_status(call.ctx(), &call.who, &a.id, a.status, a.note.as_deref()).await?;
    Ok(task.into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependenciesArgs {
    pub id: String,
    pub depends_on: Vec<String>,
}

async fn set_task_dependencies(call: ToolCall, a: DependenciesArgs) -> Result<Task, HubError> {
    Ok(
        service::set_dependencies(call.ctx(), &call.who, &a.id, a.depends_on)
            .await?
            .into(),
    )
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimArgs {
    pub id: String,
    /// Lease in seconds, 1..=86400 (default 900).
    pub lease_seconds: Option<i64>,
}

async fn claim_task(call: ToolCall, a: ClaimArgs) -> Result<Task, HubError> {
    Ok(claim::claim(call.ctx(), &call.who, &a.id, a.lease_seconds)
        .await?
        .into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NextArgs {
    pub workplan: Option<String>,
    pub domain: Option<String>,
    /// 1..=100, default 10.
    pub limit: Option<u64>,
}

async fn get_next_tasks(call: ToolCall, a: NextArgs) -> Result<Vec<Task>, HubError> {
    let scope = TaskScope {
        workplan: a.workplan,
        domain: a.domain,
    };
    let rows = query::next(call.ctx(), &call.who, &scope, a.limit.unwrap_or(10)).await?;
    Ok(rows.into_iter().map(Task::from).collect())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockedArgs {
    pub workplan: Option<String>,
    pub domain: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn get_blocked_tasks(call: ToolCall, a: BlockedArgs) -> Result<Page<BlockedTask>, HubError> {
    let scope = TaskScope {
        workplan: a.workplan,
        domain: a.domain,
    };
    let rows = query::blocked(call.ctx(), &call.who, &scope, &page(a.limit, &a.cursor)?).await?;
    Ok(rows.map(BlockedTask::from))
}
